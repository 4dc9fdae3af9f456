/*
 * json.c - strict JSON request bodies on top of json-c, and typed field
 * readers that say which field is at fault.
 *
 * json-c's JSON_TOKENER_STRICT is not strict enough on its own (0.16,
 * measured): it accepts single-quoted strings, NaN, raw control bytes in
 * strings, overlong UTF-8 and UTF-16 surrogates even with
 * JSON_TOKENER_VALIDATE_UTF8, stops quietly at a NUL byte, and keeps the
 * last of two duplicate keys.  So the text is first scanned once here for
 * what json-c lets through, then parsed, then the tree is walked to catch
 * duplicates and non-finite numbers.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "input/input.h"
#include "core/core.h"

/* What the pre-parse scan learned about a text. */
struct scan {
	const char	*problem;	/* NULL when nothing was wrong */
	size_t		 members;	/* ':' outside strings = object members */
};

static enum pingoo_err
bad_json(struct pingoo_fault *f, const char *what)
{
	return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_json", NULL,
	    "body is not a strict JSON object: %s", what);
}

/*
 * Length of the valid UTF-8 sequence at p (RFC 3629: shortest form, no
 * surrogates, at most U+10FFFF), or 0 when it is not one.
 */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range is what rules out overlongs and
	 * surrogates (the Unicode standard's table 3-7). */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * One pass over the raw text for what json-c accepts but JSON does not.
 * It tracks strings well enough for valid JSON; on invalid JSON whatever
 * it concludes is moot because json-c refuses the text afterwards.
 */
/* The value of the \uXXXX escape at p (6 bytes), or -1. */
static long
hex4(const unsigned char *p, size_t len)
{
	long v = 0;
	int k;

	if (len < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (k = 2; k < 6; k++) {
		v <<= 4;
		if (p[k] >= '0' && p[k] <= '9')
			v |= p[k] - '0';
		else if ((p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'f')
			v |= (p[k] | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * For a \u escape at p: 0 when it is not a surrogate, 12 (the bytes to
 * skip) for a high surrogate followed by a low one, 1 for anything else.
 */
static size_t
surrogate_escape(const unsigned char *p, size_t len)
{
	long hi = hex4(p, len), lo;

	if (hi < 0xD800 || hi > 0xDFFF)
		return 0;
	if (hi >= 0xDC00)
		return 1;
	lo = hex4(p + 6, len - 6);
	return lo >= 0xDC00 && lo <= 0xDFFF ? 12 : 1;
}

static void
scan_text(const unsigned char *p, size_t len, struct scan *s)
{
	size_t i, n;
	int instr = 0;

	s->problem = NULL;
	s->members = 0;
	for (i = 0; i < len; i += n) {
		n = utf8_len(p + i, len - i);
		if (n == 0) {
			s->problem = "invalid UTF-8";
			return;
		}
		if (p[i] == '\0') {
			s->problem = "NUL byte";
			return;
		}
		if (p[i] < 0x20 && (instr ||
		    (p[i] != '\t' && p[i] != '\n' && p[i] != '\r'))) {
			s->problem = "control character";
			return;
		}
		if (instr && p[i] == '\\') {
			/* \u0000 would truncate keys and strings in json-c. */
			if (len - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0) {
				s->problem = "escaped NUL character";
				return;
			}
			/* json-c turns a lone surrogate into U+FFFD: refuse
			 * it rather than store what was not sent. */
			if (i + 1 < len && p[i + 1] == 'u' &&
			    (n = surrogate_escape(p + i,
			    len - i)) != 0) {
				if (n == 1) {
					s->problem = "unpaired surrogate escape";
					return;
				}
				continue;
			}
			if (i + 1 < len && p[i + 1] != '\0')
				n = 2;	/* the escaped byte is ASCII in JSON */
		} else if (p[i] == '"')
			instr = !instr;
		else if (!instr && p[i] == '\'') {
			s->problem = "single-quoted string";
			return;
		} else if (!instr && p[i] == ':')
			s->members++;
	}
}

/*
 * Counts object members in the tree and refuses numbers that are not
 * finite (json-c reads NaN and Infinity even in strict mode).  Recursion
 * is bounded by the tokener's depth limit.
 */
static int
walk_tree(struct json_object *o, size_t *members)
{
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o)) ? 0 : -1;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (walk_tree(json_object_array_get_idx(o, i),
			    members) == -1)
				return -1;
		return 0;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			(*members)++;
			if (walk_tree(val, members) == -1)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* Runs json-c on the whole text; *out is NULL and the fault set on error. */
static enum pingoo_err
tokenize(const char *buf, size_t len, int depth, struct json_object **out,
    struct pingoo_fault *f)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	enum pingoo_err rc = PINGOO_OK;

	/* json-c refuses a container with content at its own depth - 1:
	 * one more level makes `depth` mean "levels of nesting allowed". */
	if ((tok = json_tokener_new_ex(depth + 1)) == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_NOMEM, NULL, NULL,
		    "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (*out == NULL) {
		if (jerr == json_tokener_error_depth)
			rc = pingoo_fault_set(f, PINGOO_ERR_INVAL,
			    "invalid_json", NULL, "body is nested deeper "
			    "than %d levels", depth);
		else if (jerr == json_tokener_continue)
			rc = bad_json(f, "unexpected end of data");
		else
			rc = bad_json(f, json_tokener_error_desc(jerr));
	} else if (json_tokener_get_parse_end(tok) != len) {
		rc = bad_json(f, "trailing bytes after the object");
		json_object_put(*out);
		*out = NULL;
	}
	json_tokener_free(tok);
	return rc;
}

/*
 * Parses buf[0..len) as one JSON object (see input.h).  On error *out is
 * NULL and the fault has code "invalid_json" ("body_too_large" past
 * INT_MAX bytes) and a sentence about what is wrong; the input itself is
 * never echoed.
 */
enum pingoo_err
pingoo_json_parse(const char *buf, size_t len, int depth,
    struct json_object **out, struct pingoo_fault *f)
{
	struct json_object *o = NULL;
	struct scan s;
	size_t members = 0;
	enum pingoo_err rc;

	*out = NULL;
	if (buf == NULL || len == 0)
		return bad_json(f, "empty body");
	if (len > INT_MAX)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG,
		    "body_too_large", NULL, "body is too large");
	if (depth < 1)
		depth = 1;
	if (depth > 1000)
		depth = 1000;	/* walk_tree recurses once per level */
	scan_text((const unsigned char *)buf, len, &s);
	if (s.problem != NULL)
		return bad_json(f, s.problem);
	if ((rc = tokenize(buf, len, depth, &o, f)) != PINGOO_OK)
		return rc;
	if (!json_object_is_type(o, json_type_object))
		rc = bad_json(f, "the top level is not an object");
	else if (walk_tree(o, &members) == -1)
		rc = bad_json(f, "a number is not finite");
	else if (members != s.members)
		/* json-c merged two members of one object. */
		rc = bad_json(f, "duplicate key in an object");
	if (rc != PINGOO_OK) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return PINGOO_OK;
}

/*
 * Finds key in obj with the JSON type `type` (`what` names it for a
 * person).  PINGOO_OK with *val set when present, or with *val NULL when
 * absent or null (a JSON null means "not given") and optional; otherwise
 * the refusal: obj not an object, a required key missing, another type.
 */
static enum pingoo_err
typed_field(struct json_object *obj, const char *key, int required,
    enum json_type type, const char *what, struct json_object **val,
    struct pingoo_fault *f)
{
	*val = NULL;
	if (!json_object_is_type(obj, json_type_object))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_json",
		    NULL, "body must be a JSON object");
	if (!json_object_object_get_ex(obj, key, val) || *val == NULL) {
		*val = NULL;
		if (!required)
			return PINGOO_OK;
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "missing_field",
		    key, "%s is required", key);
	}
	if (!json_object_is_type(*val, type))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    key, "%s must be %s", key, what);
	return PINGOO_OK;
}

/*
 * Reads an integer field.  An optional field that is absent (or null)
 * leaves *out untouched and returns PINGOO_OK.  Refuses floats (even 1.0),
 * strings and booleans with "invalid_field", values outside [min,max]
 * with PINGOO_ERR_RANGE "out_of_range".  json-c clamps a literal beyond
 * 64 bits to INT64_MIN/INT64_MAX, so those two values are always refused.
 */
enum pingoo_err
pingoo_json_int(struct json_object *obj, const char *key, int required,
    int64_t min, int64_t max, int64_t *out, struct pingoo_fault *f)
{
	struct json_object *v;
	int64_t n;
	enum pingoo_err e;

	if ((e = typed_field(obj, key, required, json_type_int, "an integer",
	    &v, f)) != PINGOO_OK || v == NULL)
		return e;
	if ((n = json_object_get_int64(v)) == INT64_MAX || n == INT64_MIN ||
	    n < min || n > max)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    key, "%s must be between %lld and %lld", key,
		    (long long)min, (long long)max);
	*out = n;
	return PINGOO_OK;
}

/* Reads a boolean field; an optional one absent (or null) leaves *out
 * untouched. */
enum pingoo_err
pingoo_json_bool(struct json_object *obj, const char *key, int required,
    int *out, struct pingoo_fault *f)
{
	struct json_object *v;
	enum pingoo_err e;

	if ((e = typed_field(obj, key, required, json_type_boolean,
	    "true or false", &v, f)) != PINGOO_OK || v == NULL)
		return e;
	*out = json_object_get_boolean(v) ? 1 : 0;
	return PINGOO_OK;
}

/*
 * Reads a string field of at most maxlen bytes.  *out points into obj (it
 * lives as long as obj).  Absent optional fields leave *out untouched.
 */
enum pingoo_err
pingoo_json_str(struct json_object *obj, const char *key, int required,
    size_t maxlen, const char **out, struct pingoo_fault *f)
{
	struct json_object *v;
	const char *s;
	size_t len;
	enum pingoo_err e;

	if ((e = typed_field(obj, key, required, json_type_string, "a string",
	    &v, f)) != PINGOO_OK || v == NULL)
		return e;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > maxlen)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    key, "%s must be at most %zu bytes", key, maxlen);
	if (strlen(s) != len)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    key, "%s must not contain a NUL character", key);
	*out = s;
	return PINGOO_OK;
}

/* Length of s cut to at most max bytes without splitting a UTF-8 character. */
static int
utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

/*
 * Refuses the first key of obj that is not in the NULL-terminated list
 * with "unknown_field"; the field names it, cut to fit.
 */
enum pingoo_err
pingoo_json_only(struct json_object *obj, const char *const *keys,
    struct pingoo_fault *f)
{
	char name[sizeof(f->field)];
	size_t i;
	int n;

	if (!json_object_is_type(obj, json_type_object))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_json",
		    NULL, "body must be a JSON object");
	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (keys[i] != NULL)
			continue;
		n = utf8_prefix(key, sizeof(name) - 1);
		memcpy(name, key, (size_t)n);
		name[n] = '\0';
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "unknown_field",
		    name, "unknown field \"%s\"", name);
	}
	return PINGOO_OK;
}
