/*
 * validate.c - pure validators: a string or a parsed JSON value in, a typed
 * value or a fault out.  No I/O, no globals, so each one can be fuzzed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "input/input.h"
#include "core/core.h"

#define USERNAME_MAX	64
#define PASSWORD_MIN	8
#define PASSWORD_MAX	1024
#define CLIENT_KEYS_MAX	16
#define CLIENT_KEY_MAX	32
#define CLIENT_VAL_MAX	128

static int
is_lower_digit(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * A username is 1 to 64 bytes of [a-z0-9_.-] starting with a letter or a
 * digit: safe in URLs, logs and file names, and one spelling per person.
 */
enum pingoo_err
pingoo_valid_username(const char *s, struct pingoo_fault *f)
{
	size_t i;

	if (s == NULL || !is_lower_digit((unsigned char)s[0]))
		goto bad;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= USERNAME_MAX)
			goto bad;
		if (!is_lower_digit((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			goto bad;
	}
	return PINGOO_OK;
bad:
	return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
	    "username", "username must be 1 to %d characters of a-z, 0-9, "
	    "'_', '.' or '-', starting with a letter or a digit", USERNAME_MAX);
}

/*
 * A password is 8 to 1024 bytes.  The upper bound keeps hashing cost
 * bounded; a C string cannot hold a NUL, and JSON readers refuse one.
 */
enum pingoo_err
pingoo_valid_password(const char *s, struct pingoo_fault *f)
{
	size_t len;

	len = s == NULL ? 0 : strnlen(s, PASSWORD_MAX + 1);
	if (len < PASSWORD_MIN || len > PASSWORD_MAX)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    "password", "password must be %d to %d bytes",
		    PASSWORD_MIN, PASSWORD_MAX);
	return PINGOO_OK;
}

static int
valid_client_key(const char *k)
{
	size_t i;

	for (i = 0; k[i] != '\0'; i++)
		if (i >= CLIENT_KEY_MAX ||
		    !(is_lower_digit((unsigned char)k[i]) || k[i] == '_'))
			return 0;
	return i > 0;
}

/* Checks one member of "client"; faults name it like "client.carrier". */
static enum pingoo_err
valid_client_member(const char *key, struct json_object *val,
    struct pingoo_fault *f)
{
	char field[sizeof("client.") + CLIENT_KEY_MAX];
	const char *s;
	size_t len;

	if (!valid_client_key(key))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    "client", "client keys must be 1 to %d characters of a-z, "
		    "0-9 or '_'", CLIENT_KEY_MAX);
	/* The key is short and plain now: it fits and is safe to echo. */
	snprintf(field, sizeof(field), "client.%s", key);
	if (!json_object_is_type(val, json_type_string))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    field, "%s must be a string", field);
	s = json_object_get_string(val);
	len = (size_t)json_object_get_string_len(val);
	if (len > CLIENT_VAL_MAX)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    field, "%s must be at most %d bytes", field,
		    CLIENT_VAL_MAX);
	if (strlen(s) != len)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    field, "%s must not contain a NUL character", field);
	return PINGOO_OK;
}

/* Checks every member of an object already known to be "client". */
static enum pingoo_err
valid_client_object(struct json_object *c, struct pingoo_fault *f)
{
	enum pingoo_err rc;

	if (json_object_object_length(c) > CLIENT_KEYS_MAX)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    "client", "client must have at most %d keys",
		    CLIENT_KEYS_MAX);
	json_object_object_foreach(c, key, val) {
		if ((rc = valid_client_member(key, val, f)) != PINGOO_OK)
			return rc;
	}
	return PINGOO_OK;
}

/*
 * The optional "client" member of parent (see input.h and docs/api.md).
 * Absent or null: *out = NULL.  Otherwise *out is the object serialized
 * without whitespace, at most maxbytes long, malloc'd for the caller.
 */
enum pingoo_err
pingoo_valid_client(struct json_object *parent, size_t maxbytes, char **out,
    struct pingoo_fault *f)
{
	struct json_object *c = NULL;
	const char *text;
	size_t len;
	enum pingoo_err rc;

	*out = NULL;
	if (!json_object_object_get_ex(parent, "client", &c) || c == NULL)
		return PINGOO_OK;
	if (!json_object_is_type(c, json_type_object))
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_field",
		    "client", "client must be an object of strings");
	if ((rc = valid_client_object(c, f)) != PINGOO_OK)
		return rc;
	/* No slash escaping: "app/1.2" is stored as the client sent it. */
	text = json_object_to_json_string_length(c, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_NOMEM, NULL, NULL,
		    "out of memory");
	if (len > maxbytes)
		return pingoo_fault_set(f, PINGOO_ERR_TOOBIG, "limit_exceeded",
		    "client", "client must be at most %zu bytes serialized "
		    "(max_client_bytes)", maxbytes);
	if ((*out = strdup(text)) == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_NOMEM, NULL, NULL,
		    "out of memory");
	return PINGOO_OK;
}
