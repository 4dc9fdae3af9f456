/* test-json.c - the strict JSON parser and its field readers. */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "core/core.h"
#include "input/input.h"
#include "../tap.h"

#define DEPTH 4

/* Parses a text of known length; returns the error and puts the object. */
static enum pingoo_err
parse_n(const char *s, size_t len, struct pingoo_fault *f)
{
	struct json_object *o = NULL;
	enum pingoo_err rc;

	memset(f, 0, sizeof(*f));
	rc = pingoo_json_parse(s, len, DEPTH, &o, f);
	if ((rc == PINGOO_OK) != (o != NULL))
		diag("result and object disagree");
	json_object_put(o);
	return rc;
}

#define PARSE(lit, f) parse_n((lit), sizeof(lit) - 1, (f))

static int
refused_json(enum pingoo_err rc, const struct pingoo_fault *f)
{
	return rc == PINGOO_ERR_INVAL && f->code != NULL &&
	    strcmp(f->code, "invalid_json") == 0;
}

static void
test_parse(void)
{
	struct pingoo_fault f;
	enum pingoo_err rc;

	ok(PARSE("{\"a\": 1, \"b\": [1, 2], \"c\": {\"d\": \"e\"}}", &f) ==
	    PINGOO_OK, "a plain object parses");
	ok(PARSE(" \n{}\t\r\n", &f) == PINGOO_OK,
	    "whitespace around the object is allowed");
	rc = PARSE("{\"a\":1} zzqq", &f);
	ok(refused_json(rc, &f), "trailing garbage is refused as invalid_json");
	ok(strstr(f.message, "zzqq") == NULL, "the fault does not echo the input");
	ok(refused_json(PARSE("{}{}", &f), &f), "two objects are refused");
	ok(refused_json(PARSE("{\"a\":1}\0", &f), &f),
	    "a trailing NUL byte is refused");
	ok(refused_json(PARSE("{\"a\":\"x\0y\"}", &f), &f),
	    "a NUL byte inside a string is refused");
	ok(refused_json(PARSE("{\"a\":\"x\\u0000y\"}", &f), &f),
	    "an escaped NUL character is refused");
	ok(refused_json(PARSE("[1, 2]", &f), &f), "a top-level array is refused");
	ok(refused_json(PARSE("1", &f), &f), "a top-level number is refused");
	ok(refused_json(PARSE("", &f), &f), "an empty body is refused");
	ok(refused_json(PARSE("{\"a\":1", &f), &f), "a truncated object is refused");
	ok(refused_json(PARSE("{\"a\":1,}", &f), &f), "a trailing comma is refused");
	ok(refused_json(PARSE("{'a':1}", &f), &f),
	    "single-quoted strings are refused");
	ok(refused_json(PARSE("{\"a\":NaN}", &f), &f), "NaN is refused");
	ok(refused_json(PARSE("{\"a\":Infinity}", &f), &f), "Infinity is refused");
	ok(refused_json(PARSE("{\"a\":01}", &f), &f), "a leading zero is refused");
	ok(refused_json(PARSE("{\"a\":\"x\ty\"}", &f), &f),
	    "a raw control character in a string is refused");
	ok(refused_json(PARSE("{\"a\":1 /* c */}", &f), &f), "comments are refused");
	ok(refused_json(PARSE("{\"a\":\"\\udc00x\"}", &f), &f),
	    "a lone low surrogate escape is refused");
	ok(refused_json(PARSE("{\"a\":\"\\ud800\"}", &f), &f),
	    "a high surrogate escape at the end of a string is refused");
	ok(refused_json(PARSE("{\"a\":\"\\ud800\\u0041\"}", &f), &f),
	    "a high surrogate followed by a non-surrogate is refused");
	ok(PARSE("{\"a\":\"\\ud83d\\ude00 \\u00e9\"}", &f) == PINGOO_OK,
	    "a surrogate pair and a plain escape are accepted");
}

static void
test_depth_utf8_dup(void)
{
	struct pingoo_fault f;

	ok(PARSE("{\"a\":{\"b\":{\"c\":[1]}}}", &f) == PINGOO_OK,
	    "nesting at the depth limit is accepted");
	ok(refused_json(PARSE("{\"a\":{\"b\":{\"c\":[[1]]}}}", &f), &f) &&
	    strstr(f.message, "deeper") != NULL,
	    "nesting past the depth limit is refused and says so");
	ok(PARSE("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb6\"}", &f) ==
	    PINGOO_OK, "valid multi-byte UTF-8 is accepted");
	ok(refused_json(PARSE("{\"a\":\"\xff\"}", &f), &f),
	    "a byte that is never UTF-8 is refused");
	ok(refused_json(PARSE("{\"a\":\"\xc0\x80\"}", &f), &f),
	    "an overlong encoding is refused");
	ok(refused_json(PARSE("{\"a\":\"\xed\xa0\x80\"}", &f), &f),
	    "an encoded UTF-16 surrogate is refused");
	ok(refused_json(PARSE("{\"a\":\"\xf4\x90\x80\x80\"}", &f), &f),
	    "a code point past U+10FFFF is refused");
	ok(refused_json(PARSE("{\"a\":\"\xe2\x82\"}", &f), &f),
	    "a truncated sequence is refused");
	ok(refused_json(PARSE("{\"\xc3\":1}", &f), &f),
	    "invalid UTF-8 in a key is refused");
	ok(refused_json(PARSE("{\"a\":1,\"a\":2}", &f), &f) &&
	    strstr(f.message, "duplicate") != NULL,
	    "a duplicate key is refused and says so");
	ok(refused_json(PARSE("{\"o\":{\"a\":1,\"b\":2,\"a\":3}}", &f), &f),
	    "a duplicate key in a nested object is refused");
	ok(refused_json(PARSE("{\"l\":[{\"a\":1},{\"a\":1,\"a\":1}]}", &f), &f),
	    "a duplicate key in an object inside an array is refused");
	ok(PARSE("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":\"x:y\"}]}", &f) ==
	    PINGOO_OK, "the same key in different objects is accepted");
	ok(PARSE("{\"a:b\":\"\\\":\\\\\"}", &f) == PINGOO_OK,
	    "colons and escaped quotes inside strings do not confuse the checks");
}

/* Parses lit into *o for the field-reader tests. */
static struct json_object *
obj(const char *lit)
{
	struct json_object *o = NULL;
	struct pingoo_fault f;

	if (pingoo_json_parse(lit, strlen(lit), DEPTH, &o, &f) != PINGOO_OK)
		diag("fixture does not parse: %s", f.message);
	return o;
}

static int
int_fault(const char *lit, const char *code, enum pingoo_err want)
{
	struct json_object *o = obj(lit);
	struct pingoo_fault f;
	int64_t v = 42;
	enum pingoo_err rc;
	int good;

	memset(&f, 0, sizeof(f));
	rc = pingoo_json_int(o, "n", 1, 1, 1000, &v, &f);
	good = rc == want && f.code != NULL && strcmp(f.code, code) == 0 &&
	    strcmp(f.field, "n") == 0 && v == 42;
	json_object_put(o);
	return good;
}

static void
test_int(void)
{
	struct json_object *o;
	struct pingoo_fault f;
	int64_t v = 0;

	o = obj("{\"n\": 7, \"big\": 9007199254740991, \"neg\": -3}");
	ok(pingoo_json_int(o, "n", 1, 1, 10, &v, &f) == PINGOO_OK && v == 7,
	    "an integer in range is read");
	ok(pingoo_json_int(o, "big", 1, 0, INT64_C(9007199254740991), &v, &f) ==
	    PINGOO_OK && v == INT64_C(9007199254740991),
	    "an integer of 53 bits is read exactly");
	ok(pingoo_json_int(o, "neg", 1, -5, 5, &v, &f) == PINGOO_OK && v == -3,
	    "a negative integer is read when allowed");
	v = 99;
	ok(pingoo_json_int(o, "absent", 0, 0, 10, &v, &f) == PINGOO_OK &&
	    v == 99, "an absent optional integer leaves the value alone");
	json_object_put(o);
	ok(int_fault("{}", "missing_field", PINGOO_ERR_INVAL),
	    "an absent required integer is missing_field");
	ok(int_fault("{\"n\":null}", "missing_field", PINGOO_ERR_INVAL),
	    "a null required integer is missing_field");
	ok(int_fault("{\"n\":1.0}", "invalid_field", PINGOO_ERR_INVAL),
	    "the float 1.0 is refused as an integer");
	ok(int_fault("{\"n\":1e2}", "invalid_field", PINGOO_ERR_INVAL),
	    "an exponent form is refused as an integer");
	ok(int_fault("{\"n\":\"5\"}", "invalid_field", PINGOO_ERR_INVAL),
	    "a string of digits is refused as an integer");
	ok(int_fault("{\"n\":true}", "invalid_field", PINGOO_ERR_INVAL),
	    "a boolean is refused as an integer");
	ok(int_fault("{\"n\":0}", "out_of_range", PINGOO_ERR_RANGE),
	    "an integer below the minimum is out_of_range");
	ok(int_fault("{\"n\":1001}", "out_of_range", PINGOO_ERR_RANGE),
	    "an integer above the maximum is out_of_range");
	ok(int_fault("{\"n\":99999999999999999999}", "out_of_range",
	    PINGOO_ERR_RANGE), "a 20-digit integer is refused, not clamped");
	o = obj("{\"n\":99999999999999999999,\"m\":-99999999999999999999,"
	    "\"u\":18446744073709551615}");
	ok(pingoo_json_int(o, "n", 1, INT64_MIN, INT64_MAX, &v, &f) ==
	    PINGOO_ERR_RANGE, "an overflowing integer is refused even with "
	    "the widest bounds");
	ok(pingoo_json_int(o, "m", 1, INT64_MIN, INT64_MAX, &v, &f) ==
	    PINGOO_ERR_RANGE, "a negative overflow is refused too");
	ok(pingoo_json_int(o, "u", 1, INT64_MIN, INT64_MAX, &v, &f) ==
	    PINGOO_ERR_RANGE, "an integer above INT64_MAX is refused");
	ok(strstr(f.message, "between") != NULL && strcmp(f.field, "u") == 0,
	    "the range fault names the field and its bounds");
	json_object_put(o);
}

static void
test_str_only(void)
{
	static const char *const allowed[] = { "name", "n", NULL };
	struct json_object *o;
	struct pingoo_fault f;
	const char *s = NULL;
	char lit[200];

	o = obj("{\"name\":\"abc\",\"n\":1,\"nul\":\"a\\u0001b\"}");
	ok(pingoo_json_str(o, "name", 1, 3, &s, &f) == PINGOO_OK &&
	    strcmp(s, "abc") == 0, "a string at its length limit is read");
	ok(pingoo_json_str(o, "name", 1, 2, &s, &f) == PINGOO_ERR_TOOBIG &&
	    strcmp(f.code, "limit_exceeded") == 0 &&
	    strcmp(f.field, "name") == 0,
	    "a string over its limit is limit_exceeded");
	ok(pingoo_json_str(o, "n", 1, 10, &s, &f) == PINGOO_ERR_INVAL &&
	    strcmp(f.code, "invalid_field") == 0,
	    "a number is refused where a string belongs");
	ok(pingoo_json_str(o, "x", 1, 10, &s, &f) == PINGOO_ERR_INVAL &&
	    strcmp(f.code, "missing_field") == 0,
	    "an absent required string is missing_field");
	ok(pingoo_json_only(o, allowed, &f) == PINGOO_ERR_INVAL &&
	    strcmp(f.code, "unknown_field") == 0 &&
	    strcmp(f.field, "nul") == 0,
	    "an unknown field is refused and named");
	json_object_put(o);
	o = obj("{\"name\":\"abc\",\"n\":1}");
	ok(pingoo_json_only(o, allowed, &f) == PINGOO_OK,
	    "known fields only are accepted");
	json_object_put(o);
	snprintf(lit, sizeof(lit), "{\"%s\":1}",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	o = obj(lit);
	ok(pingoo_json_only(o, allowed, &f) == PINGOO_ERR_INVAL &&
	    strlen(f.field) == 62,
	    "a long unknown field name is cut on a character boundary");
	json_object_put(o);
}

int
main(void)
{
	test_parse();
	test_depth_utf8_dup();
	test_int();
	test_str_only();
	return tap_done();
}
