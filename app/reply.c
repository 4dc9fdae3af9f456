/*
 * reply.c - every answer goes out through here: one status line, the
 * common headers, and the JSON error body of docs/api.md.  A second status
 * line after the headers are out is refused, never sent.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "app.h"

const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

int
status_of(enum pingoo_err e)
{
	switch (e) {
	case PINGOO_OK:			return 200;
	case PINGOO_ERR_INVAL:		return 400;
	case PINGOO_ERR_RANGE:		return 422;
	case PINGOO_ERR_TOOBIG:		return 422;
	case PINGOO_ERR_NOTFOUND:	return 404;
	case PINGOO_ERR_CONFLICT:	return 409;
	case PINGOO_ERR_STATE:		return 409;
	case PINGOO_ERR_AUTH:		return 401;
	case PINGOO_ERR_DB:		return 503;
	default:			return 500;
	}
}

/* Adds one header line to the next reply_head. Silently drops a line that
 * does not fit: the buffer is sized for the headers this program sends. */
void
reply_header(struct req *r, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t room = sizeof(r->extra) - r->extralen;

	va_start(ap, fmt);
	n = vsnprintf(r->extra + r->extralen, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= room) {
		r->extra[r->extralen] = '\0';
		return;
	}
	r->extralen += (size_t)n;
	memcpy(r->extra + r->extralen, "\r\n", 3);
	r->extralen += 2;
}

int
reply_head(struct req *r, int status, const char *ctype, int64_t clen)
{
	char head[2048];
	int n;

	if (r->replied || r->finished)
		return -1;
	r->replied = 1;
	r->status = status;
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "Cache-Control: no-store, no-transform\r\n"
	    "X-Content-Type-Options: nosniff\r\n",
	    status, status_text(status));
	if (ctype != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Type: %s\r\n", ctype);
	if (clen >= 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Length: %lld\r\n", (long long)clen);
	if (pingoo_cors_allowed(r->cfg->cors_origins, r->origin))
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Access-Control-Allow-Origin: %s\r\n"
		    "Access-Control-Expose-Headers: Server-Timing, "
		    "X-Pingoo-Server-Started-At\r\n"
		    "Timing-Allow-Origin: %s\r\n"
		    "Vary: Origin\r\n", r->origin, r->origin);
	if ((size_t)n >= sizeof(head))
		return -1;
	if (FCGX_PutStr(head, n, r->fcgx->out) < 0 ||
	    FCGX_PutStr(r->extra, (int)r->extralen, r->fcgx->out) < 0 ||
	    FCGX_PutStr("\r\n", 2, r->fcgx->out) < 0)
		return -1;
	return 0;
}

void
reply_json_text(struct req *r, int status, const char *s, size_t len)
{
	if (reply_head(r, status, "application/json; charset=utf-8",
	    (int64_t)len) == 0)
		FCGX_PutStr(s, (int)len, r->fcgx->out);
}

void
reply_json(struct req *r, int status, struct json_object *obj)
{
	const char *s;
	size_t len;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL) {
		s = "{\"error\":{\"code\":\"internal_error\","
		    "\"message\":\"out of memory\"}}";
		len = strlen(s);
		status = 500;
	}
	if (reply_head(r, status, "application/json; charset=utf-8",
	    (int64_t)len) == 0)
		FCGX_PutStr(s, (int)len, r->fcgx->out);
}

static void
reply_error_v(struct req *r, int status, const char *code, const char *field,
    const char *msg)
{
	struct json_object *top, *err;

	top = json_object_new_object();
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	if (field != NULL && field[0] != '\0')
		json_object_object_add(err, "field",
		    json_object_new_string(field));
	json_object_object_add(top, "error", err);
	if (status == 401)
		reply_header(r, "WWW-Authenticate: Bearer realm=\"pingoo\"");
	reply_json(r, status, top);
	json_object_put(top);
}

void
reply_error(struct req *r, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_error_v(r, status, code, field, msg);
}

void
reply_fault(struct req *r, const struct pingoo_fault *f)
{
	reply_error_v(r, status_of(f->err),
	    f->code != NULL ? f->code : pingoo_errcode(f->err),
	    f->field, f->message);
}

void
reply_err(struct req *r, enum pingoo_err e)
{
	const char *msg;

	switch (e) {
	case PINGOO_ERR_DB:
		msg = "the database is unavailable; try again shortly";
		break;
	case PINGOO_ERR_NOTFOUND:
		msg = "no such test";
		break;
	case PINGOO_ERR_AUTH:
		msg = "authentication required";
		break;
	default:
		msg = pingoo_strerror(e);
		break;
	}
	if (status_of(e) == 500)
		msg = "internal error";
	reply_error_v(r, status_of(e), pingoo_errcode(e), NULL, msg);
}

/*
 * A create answers from what it knows, never from a read after its commit:
 * a read failing there would answer 503 for a test that exists, and a
 * client that retries on 503 would create a second one.  When even the
 * rendered body cannot be written (out of memory), the answer is still 201
 * with what the client needs to go on.
 */
void
reply_created(struct req *r, struct json_object *o, const char *kind,
    uint64_t id)
{
	const char *s = NULL;
	char least[128];
	size_t len = 0;
	int n;

	if (o != NULL)
		s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL) {
		n = snprintf(least, sizeof(least), "{\"id\":%" PRIu64 ",\"kind\":"
		    "\"%s\",\"state\":\"incomplete\"}", id, kind);
		s = least;
		len = n > 0 && (size_t)n < sizeof(least) ? (size_t)n : 0;
	}
	reply_json_text(r, 201, s, len);
	if (o != NULL)
		json_object_put(o);
}

void
reply_result(struct req *r, int status, struct json_object *o,
    enum pingoo_err e)
{
	if (o == NULL) {
		reply_err(r, e);
		return;
	}
	reply_json(r, status, o);
	json_object_put(o);
}

void
reply_page(struct req *r, struct json_object *tests, uint64_t last, int more)
{
	struct json_object *o = json_object_new_object();
	char cursor[24];

	snprintf(cursor, sizeof(cursor), "%llu", (unsigned long long)last);
	json_object_object_add(o, "tests", tests);
	json_object_object_add(o, "next_cursor", more && last != 0 ?
	    json_object_new_string(cursor) : NULL);
	reply_json(r, 200, o);
	json_object_put(o);
}

struct json_object *
json_i64(int64_t v)
{
	return json_object_new_int64(v);
}

struct json_object *
json_i64_or_null(int64_t v, int isnull)
{
	return isnull ? NULL : json_object_new_int64(v);
}
