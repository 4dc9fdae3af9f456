/*
 * http.c - one request's parts: copy what is needed out of the FastCGI
 * parameters, read a capped JSON body, finish early, log one line.  The
 * route (route.c) drives these; nothing here dispatches.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <json.h>

#include "app.h"

/* Depth of JSON bodies: our deepest is {"receipts":[{...}]}. */
#define JSON_DEPTH 8

static void
copy_param(FCGX_Request *f, const char *name, char *dst, size_t cap)
{
	const char *v = FCGX_GetParam(name, f->envp);

	snprintf(dst, cap, "%s", v != NULL ? v : "");
}

static const char *const method_names[] = {
	[METHOD_GET] =		"GET",
	[METHOD_POST] =		"POST",
	[METHOD_PUT] =		"PUT",
	[METHOD_DELETE] =	"DELETE",
	[METHOD_OPTIONS] =	"OPTIONS",
	[METHOD_HEAD] =		"HEAD",
	[METHOD_PATCH] =	"PATCH",
	[METHOD_OTHER] =	"OTHER",
};
PINGOO_TABLE_CHECK(method_names, METHOD__MAX);

/* Any method but the named ones is METHOD_OTHER, which no request names. */
enum method
method_parse(const char *s)
{
	int i = pingoo_name_find(method_names, METHOD_OTHER, s, strlen(s));

	return i >= 0 ? (enum method)i : METHOD_OTHER;
}

const char *
method_text(enum method m)
{
	return pingoo_name_of(method_names, METHOD__MAX, (int)m);
}

/* Content-Length: digits only, as pingoo_parse_uint takes them; -1 when
 * absent or empty (unknown), -2 for anything else (malformed). */
static int64_t
parse_length(const char *s)
{
	uint64_t v;

	if (s == NULL || *s == '\0')
		return -1;
	if (pingoo_parse_uint(s, strlen(s), INT64_MAX, &v) != PINGOO_OK) {
		if (strcmp(s, "0") == 0)
			return 0;
		return -2;	/* malformed */
	}
	return (int64_t)v;
}

/*
 * Splits a REQUEST_URI into its path and its query string (without the '?').
 * Returns -1 when either does not fit its buffer, with both left empty:
 * nothing is cut, as a cut query string reads as another, valid one
 * ("limit=101" cut to "limit=1", a repeated parameter cut off), and the
 * caller refuses the request whole.
 */
int
req_split_uri(const char *uri, char *path, size_t pathcap, size_t *pathlen,
    char *query, size_t querycap)
{
	const char *q = strchr(uri, '?');
	size_t n = q != NULL ? (size_t)(q - uri) : strlen(uri);
	size_t qn = q != NULL ? strlen(q + 1) : 0;

	path[0] = '\0';
	query[0] = '\0';
	*pathlen = 0;
	if (n >= pathcap || qn >= querycap)
		return -1;
	memcpy(path, uri, n);
	path[n] = '\0';
	*pathlen = n;
	memcpy(query, q != NULL ? q + 1 : "", qn);
	query[qn] = '\0';
	return 0;
}

void
req_init(struct req *r, FCGX_Request *f, struct worker *w)
{
	const char *uri;

	/* The arrival stamp comes first: everything after is server time. */
	memset(r, 0, sizeof(*r));
	r->arrived_at = pingoo_now_us();
	r->mono_start = pingoo_mono_us();
	r->fcgx = f;
	r->w = w;
	r->cfg = w->cfg;
	r->store = w->store;
	r->route_name = "-";
	r->content_length = -1;

	copy_param(f, "REQUEST_METHOD", r->method_name, sizeof(r->method_name));
	r->method = method_parse(r->method_name);
	if ((uri = FCGX_GetParam("REQUEST_URI", f->envp)) == NULL)
		uri = "";
	/* Too long: route_dispatch answers 414 before anything else. */
	r->uri_too_long = req_split_uri(uri, r->path, sizeof(r->path),
	    &r->pathlen, r->query, sizeof(r->query)) < 0;
	copy_param(f, "CONTENT_TYPE", r->content_type, sizeof(r->content_type));
	copy_param(f, "HTTP_ORIGIN", r->origin, sizeof(r->origin));
	r->content_length = parse_length(FCGX_GetParam("CONTENT_LENGTH",
	    f->envp));
}

void
req_free(struct req *r)
{
	pingoo_input_clear(&r->in);
	if (r->body != NULL)
		json_object_put(r->body);
	r->body = NULL;
}

static int
is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (strncasecmp(ct, want, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int
req_read_json(struct req *r)
{
	struct pingoo_fault f;
	size_t cap = r->cfg->max_body, len = 0;
	char *buf = NULL;
	int n, rc = -1;

	if (!is_json_type(r->content_type)) {
		reply_error(r, 415, "unsupported_media_type", NULL,
		    "send the body as application/json");
		return -1;
	}
	if (r->content_length == -2) {
		reply_error(r, 400, "invalid_json", NULL,
		    "malformed Content-Length");
		return -1;
	}
	/* Refuse before reading: an oversize body never enters memory. */
	if (r->content_length > (int64_t)cap) {
		reply_error(r, 413, "body_too_large", NULL,
		    "request body exceeds max_body (%zu bytes)", cap);
		return -1;
	}
	/* A declared length needs no more room than itself (and one byte to
	 * see a body longer than declared): most bodies are tiny. */
	if (r->content_length >= 0)
		cap = (size_t)r->content_length;
	if ((buf = malloc(cap + 1)) == NULL) {
		reply_err(r, PINGOO_ERR_NOMEM);
		return -1;
	}
	/* Chunked uploads have no length: read to EOF, one byte past cap. */
	while (len <= cap) {
		n = FCGX_GetStr(buf + len, (int)(cap + 1 - len), r->fcgx->in);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (FCGX_GetError(r->fcgx->in) != 0) {
		reply_error(r, 400, "invalid_json", NULL,
		    "the request body could not be read");
		goto out;
	}
	if (len > cap && r->content_length < 0) {
		reply_error(r, 413, "body_too_large", NULL,
		    "request body exceeds max_body (%zu bytes)", cap);
		goto out;
	}
	if (r->content_length >= 0 && (int64_t)len != r->content_length) {
		reply_error(r, 400, "invalid_json", NULL, "the request body is "
		    "%s than its Content-Length", (int64_t)len < r->content_length ?
		    "shorter" : "longer");
		goto out;
	}
	if (len == 0) {
		reply_error(r, 400, "invalid_json", NULL,
		    "a JSON object is required");
		goto out;
	}
	if (pingoo_json_parse(buf, len, JSON_DEPTH, &r->body, &f) !=
	    PINGOO_OK) {
		f.code = f.code != NULL ? f.code : "invalid_json";
		reply_fault(r, &f);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* How long the rest of a body is read for before the answer goes out, and
 * how long one read may wait.  What nginx has finished sending is already in
 * the socket and reads at memory speed; a longer wait means nginx is still
 * sending, so it will not keep the connection and closing it is safe. */
#define DRAIN_MS	100
#define DRAIN_WAIT_US	20000

static void
recv_timeout(int fd, long us)
{
	struct timeval tv = { us / 1000000, us % 1000000 };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/*
 * Reads what is left of the request body, so the connection ends clean.
 * libfcgi does not: the next request on a kept connection would begin with
 * the last one's STDIN records, which libfcgi takes for a protocol error
 * and closes the connection, and nginx sends a POST that meets that close
 * into a 502 (it retries only idempotent requests).  A request answered
 * before its body was read (401, 404, a 503 while the database is away)
 * left such a connection.  A body that cannot be read to its end in time
 * ends the connection after the answer instead.
 */
static void
drain_body(struct req *r)
{
	FCGX_Stream *in = r->fcgx->in;
	char buf[8192];
	size_t have;
	int64_t until;

	if (in == NULL || FCGX_HasSeenEOF(in) || FCGX_GetError(in) != 0)
		return;
	/* A body may still be on its way (a GET's empty one is already
	 * here): the wait must not hold the process's echoes up. */
	if (r->content_length > 0 || r->content_length == -2)
		active_leave(r->w);
	until = pingoo_mono_us() + DRAIN_MS * 1000;
	recv_timeout(r->fcgx->ipcFd, DRAIN_WAIT_US);
	/* What libfcgi holds is taken whole; otherwise one byte, which costs
	 * at most one read(): a trickling client cannot stretch a call. */
	while (!FCGX_HasSeenEOF(in) && FCGX_GetError(in) == 0 &&
	    pingoo_mono_us() < until) {
		have = (size_t)(in->stop - in->rdNext);
		(void)FCGX_GetStr(buf, have == 0 ? 1 :
		    (int)(have < sizeof(buf) ? have : sizeof(buf)), in);
	}
	recv_timeout(r->fcgx->ipcFd, 0);
	if (!FCGX_HasSeenEOF(in))
		r->fcgx->keepConnection = 0;
}

void
req_finish(struct req *r)
{
	if (r->finished)
		return;
	drain_body(r);
	FCGX_Finish_r(r->fcgx);
	r->finished = 1;
}

/* One line per request, never the query string or headers, which may carry
 * a token.  The line joins its thread's pending lines: 32 threads each
 * appending a line per request to one file cost about 10 us of worker CPU
 * per echo under load, where formatting and writing one line alone take
 * 2 us. */
void
req_log(const struct req *r)
{
	struct worker *w = r->w;
	char line[512], when[32];
	struct tm tm;
	time_t t = (time_t)(r->arrived_at / 1000000);
	int n;

	if (!r->cfg->log_requests)
		return;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%06lldZ pingoo[%d] %s %s %d %lldus\n",
	    when, (long long)(r->arrived_at % 1000000), w->pid,
	    r->method_name[0] != '\0' ? r->method_name : "-", r->route_name,
	    r->status, (long long)(pingoo_mono_us() - r->mono_start));
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (w->loglen + (size_t)n > sizeof(w->log))
		log_flush(w);
	memcpy(w->log + w->loglen, line, (size_t)n);
	w->loglen += (size_t)n;
}

void
log_flush(struct worker *w)
{
	if (w->loglen > 0)
		(void)!write(STDERR_FILENO, w->log, w->loglen);
	w->loglen = 0;
}
