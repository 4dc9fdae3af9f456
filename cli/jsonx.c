/* jsonx.c - reading the server's JSON and printing its figures for people. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <json-c/json.h>

#include "config.h"
#include "cli.h"

/* The member key of o, or NULL (absent, null, or o not an object). */
struct json_object *
cli_jget(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* An integer member, or dflt when it is absent, null or not an integer. */
int64_t
cli_jint(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object	*v = cli_jget(o, key);

	if (!json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

/* A string member (owned by o), or NULL. */
const char *
cli_jstr(struct json_object *o, const char *key)
{
	struct json_object	*v = cli_jget(o, key);

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* o as compact JSON text, owned by o: what every request body is. */
const char *
cli_jtext(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

/* The answer exactly as the server sent it, as one line of stdout. */
void
cli_print_json(const struct cli_resp *r)
{
	fwrite(r->body, 1, r->len, stdout);
	if (r->len == 0 || r->body[r->len - 1] != '\n')
		putchar('\n');
}

/* A duration in µs as milliseconds ("4.210"), or "-" when it is null. */
void
cli_fmt_us(char *buf, size_t sz, struct json_object *o, const char *key)
{
	struct json_object	*v = cli_jget(o, key);

	if (json_object_is_type(v, json_type_int))
		snprintf(buf, sz, "%.3f",
		    (double)json_object_get_int64(v) / 1000.0);
	else
		snprintf(buf, sz, "-");
}

/* A rate in bits per second, with the unit that keeps it readable. */
void
cli_fmt_bps(char *buf, size_t sz, double bps)
{
	if (bps < 0)
		snprintf(buf, sz, "-");
	else if (bps >= 1e9)
		snprintf(buf, sz, "%.2f Gbit/s", bps / 1e9);
	else if (bps >= 1e6)
		snprintf(buf, sz, "%.2f Mbit/s", bps / 1e6);
	else if (bps >= 1e3)
		snprintf(buf, sz, "%.2f kbit/s", bps / 1e3);
	else
		snprintf(buf, sz, "%.0f bit/s", bps);
}

/*
 * How the client describes itself in the tests it creates (docs/api.md,
 * "Client description").
 */
struct json_object *
cli_client_json(void)
{
	struct json_object	*o;
	struct utsname		 u;
	char			 os[sizeof(u.sysname) +
			    sizeof(u.release) + 2];

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "platform", json_object_new_string("cli"));
	json_object_object_add(o, "app_version",
	    json_object_new_string("pingoo/" PACKAGE_VERSION));
	if (uname(&u) == 0) {
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
		json_object_object_add(o, "os", json_object_new_string(os));
	}
	return o;
}
