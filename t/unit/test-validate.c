/* test-validate.c - usernames, passwords, ids and the client object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/core.h"
#include "input/input.h"
#include "../tap.h"

/* A string of max letters is valid, one of max + 1 refused. */
static void
at_limit(enum pingoo_err (*valid)(const char *, struct pingoo_fault *),
    size_t max, const char *what)
{
	char *s = malloc(max + 2);

	memset(s, 'a', max + 1);
	s[max] = '\0';
	ok(valid(s, NULL) == PINGOO_OK, "a %zu-byte %s is valid", max, what);
	s[max] = 'a';
	s[max + 1] = '\0';
	ok(valid(s, NULL) == PINGOO_ERR_INVAL, "a %zu-byte %s is refused",
	    max + 1, what);
	free(s);
}

/* Usernames and whether each is valid. */
static const struct {
	const char	*name;
	enum pingoo_err	 want;
	const char	*sentence;
} usernames[] = {
	{ "alice", PINGOO_OK, "a plain lower-case username is valid" },
	{ "0bob_x.y-z", PINGOO_OK,
	    "digits, '_', '.' and '-' are valid after a leading digit" },
	{ "", PINGOO_ERR_INVAL, "an empty username is refused" },
	{ "Alice", PINGOO_ERR_INVAL, "upper case is refused" },
	{ "_alice", PINGOO_ERR_INVAL, "a leading '_' is refused" },
	{ ".alice", PINGOO_ERR_INVAL, "a leading '.' is refused" },
	{ "al ice", PINGOO_ERR_INVAL, "a space is refused" },
	{ "al/ice", PINGOO_ERR_INVAL, "a slash is refused" },
	{ "caf\xc3\xa9", PINGOO_ERR_INVAL, "non-ASCII letters are refused" },
};

static void
test_username(void)
{
	size_t i;

	for (i = 0; i < sizeof(usernames) / sizeof(usernames[0]); i++)
		ok(pingoo_valid_username(usernames[i].name, NULL) ==
		    usernames[i].want, "%s", usernames[i].sentence);
	at_limit(pingoo_valid_username, 64, "username");
}

static void
test_password(void)
{
	struct pingoo_fault f;

	ok(pingoo_valid_password("12345678", NULL) == PINGOO_OK,
	    "an 8-byte password is valid");
	ok(pingoo_valid_password("1234567", &f) == PINGOO_ERR_INVAL &&
	    strcmp(f.field, "password") == 0,
	    "a 7-byte password is refused and the fault names the field");
	at_limit(pingoo_valid_password, 1024, "password");
}

/* Parses the NUL-terminated s as an id. */
static enum pingoo_err
id(const char *s, uint64_t *v)
{
	return pingoo_parse_id(s, strlen(s), v);
}

static void
test_ids(void)
{
	uint64_t v = 0;
	char buf[4] = { '4', '2', '7', '9' };

	ok(id("1", &v) == PINGOO_OK && v == 1, "\"1\" is a valid id");
	ok(id("9007199254740991", &v) == PINGOO_OK &&
	    v == UINT64_C(9007199254740991), "2^53-1 is a valid id");
	v = 5;
	ok(id("0", &v) != PINGOO_OK && v == 5, "\"0\" is refused");
	ok(id("01", &v) == PINGOO_ERR_INVAL, "a leading zero is refused");
	ok(id("-1", &v) == PINGOO_ERR_INVAL, "a minus sign is refused");
	ok(id("+1", &v) == PINGOO_ERR_INVAL, "a plus sign is refused");
	ok(id(" 1", &v) == PINGOO_ERR_INVAL && id("1 ", &v) == PINGOO_ERR_INVAL,
	    "spaces are refused");
	ok(id("9007199254740992", &v) == PINGOO_ERR_RANGE, "2^53 is refused");
	ok(id("18446744073709551616", &v) == PINGOO_ERR_RANGE &&
	    id("99999999999999999999", &v) == PINGOO_ERR_RANGE,
	    "20-digit numbers are refused without overflow");
	ok(id("1234567890123456789012345", &v) == PINGOO_ERR_RANGE,
	    "a 25-digit number is refused");
	ok(id("", &v) == PINGOO_ERR_INVAL, "an empty id is refused");
	ok(id("12a", &v) == PINGOO_ERR_INVAL && id("0x10", &v) ==
	    PINGOO_ERR_INVAL, "letters are refused");
	ok(pingoo_parse_id(buf, 2, &v) == PINGOO_OK && v == 42,
	    "the length bounds an input that is not NUL-terminated");
	ok(pingoo_parse_uint("0", 1, 10, &v) == PINGOO_OK && v == 0,
	    "\"0\" is a valid unsigned integer");
	ok(pingoo_parse_uint("10", 2, 10, &v) == PINGOO_OK && v == 10 &&
	    pingoo_parse_uint("11", 2, 10, &v) == PINGOO_ERR_RANGE,
	    "an unsigned integer is bounded by its maximum");
	ok(pingoo_parse_uint("18446744073709551615", 20, UINT64_MAX, &v) ==
	    PINGOO_OK && v == UINT64_MAX &&
	    pingoo_parse_uint("18446744073709551616", 20, UINT64_MAX, &v) ==
	    PINGOO_ERR_RANGE, "UINT64_MAX is read and one more is refused");
}

/* Runs pingoo_valid_client on the "client" of a JSON text. */
static enum pingoo_err
client(const char *lit, size_t max, char **out, struct pingoo_fault *f)
{
	struct json_object *o = NULL;
	enum pingoo_err rc;

	memset(f, 0, sizeof(*f));
	*out = NULL;
	if (pingoo_json_parse(lit, strlen(lit), 4, &o, f) != PINGOO_OK) {
		diag("fixture does not parse: %s", f->message);
		return PINGOO_ERR_INTERNAL;
	}
	rc = pingoo_valid_client(o, max, out, f);
	json_object_put(o);
	return rc;
}

static void
test_client(void)
{
	struct pingoo_fault f;
	char *out = NULL, lit[2048];
	size_t n;
	int i;

	ok(client("{\"count\":1}", 1024, &out, &f) == PINGOO_OK && out == NULL,
	    "an absent client gives NULL");
	ok(client("{\"client\":null}", 1024, &out, &f) == PINGOO_OK &&
	    out == NULL, "a null client gives NULL");
	ok(client("{\"client\": {\"platform\": \"web\", \"app_version\": "
	    "\"sdk/1.0\"}}", 1024, &out, &f) == PINGOO_OK && out != NULL &&
	    strcmp(out, "{\"platform\":\"web\",\"app_version\":\"sdk/1.0\"}") == 0,
	    "a valid client is serialized without whitespace");
	free(out);
	ok(client("{\"client\":{}}", 1024, &out, &f) == PINGOO_OK &&
	    out != NULL && strcmp(out, "{}") == 0, "an empty client is kept");
	free(out);
	ok(client("{\"client\":\"web\"}", 1024, &out, &f) == PINGOO_ERR_INVAL &&
	    strcmp(f.field, "client") == 0, "a client that is not an object "
	    "is refused");
	ok(client("{\"client\":{\"carrier\":5}}", 1024, &out, &f) ==
	    PINGOO_ERR_INVAL && strcmp(f.field, "client.carrier") == 0,
	    "a number value is refused and its field is client.carrier");
	ok(client("{\"client\":{\"os\":{\"a\":\"b\"}}}", 1024, &out, &f) ==
	    PINGOO_ERR_INVAL, "a nested object value is refused");
	ok(client("{\"client\":{\"Platform\":\"x\"}}", 1024, &out, &f) ==
	    PINGOO_ERR_INVAL, "an upper-case key is refused");
	ok(client("{\"client\":{\"\":\"x\"}}", 1024, &out, &f) ==
	    PINGOO_ERR_INVAL, "an empty key is refused");
	ok(client("{\"client\":{\"a23456789012345678901234567890123\":\"x\"}}",
	    1024, &out, &f) == PINGOO_ERR_INVAL, "a 33-character key is refused");
	ok(client("{\"client\":{\"a2345678901234567890123456789012\":\"x\"}}",
	    1024, &out, &f) == PINGOO_OK, "a 32-character key is accepted");
	free(out);
	n = (size_t)snprintf(lit, sizeof(lit), "{\"client\":{\"device\":\"");
	memset(lit + n, 'd', 129);
	snprintf(lit + n + 129, sizeof(lit) - n - 129, "\"}}");
	ok(client(lit, 1024, &out, &f) == PINGOO_ERR_TOOBIG &&
	    strcmp(f.field, "client.device") == 0,
	    "a 129-byte value is limit_exceeded on its field");
	n = (size_t)snprintf(lit, sizeof(lit), "{\"client\":{");
	for (i = 0; i < 17; i++)
		n += (size_t)snprintf(lit + n, sizeof(lit) - n, "%s\"k%d\":\"v\"",
		    i ? "," : "", i);
	snprintf(lit + n, sizeof(lit) - n, "}}");
	ok(client(lit, 1024, &out, &f) == PINGOO_ERR_TOOBIG,
	    "a client with 17 keys is refused");
	ok(client("{\"client\":{\"platform\":\"web\"}}", 10, &out, &f) ==
	    PINGOO_ERR_TOOBIG && strstr(f.message, "max_client_bytes") != NULL,
	    "a client longer than max_client_bytes is refused, naming the limit");
}

int
main(void)
{
	test_username();
	test_password();
	test_ids();
	test_client();
	return tap_done();
}
