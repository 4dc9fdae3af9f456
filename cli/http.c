/*
 * http.c - one exchange with the server over libcurl: TLS always verified,
 * HTTP/2 when the server offers it, the server's JSON error body turned into
 * a fault.  The packet transfers (cmd_tp.c) set up their own handles with
 * cli_easy_setup() so every request is made the same way.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "cli.h"

/* Room to spare: a test read with 10000 transfers is ~4 MiB. */
#define BODY_MAX	(256u * 1024 * 1024)
#define JSON_DEPTH	32

struct sink {
	struct cli_resp	*resp;
	size_t		 cap;
	int		 toobig;
};

/*
 * Appends len bytes to r's body (kept NUL-terminated), growing it up to max
 * bytes; *cap is the room allocated.  -1 when it would pass max or memory
 * runs out, and nothing is appended.
 */
int
cli_body_append(struct cli_resp *r, size_t *cap, const char *data,
    size_t len, size_t max)
{
	size_t	 want = r->len + len + 1, c;
	char	*p;

	if (want > max)
		return -1;
	if (want > *cap) {
		for (c = *cap ? *cap : 1024; c < want; c *= 2)
			continue;
		if ((p = realloc(r->body, c)) == NULL)
			return -1;
		r->body = p;
		*cap = c;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return 0;
}

/* True for the blank line that ends a response head, as libcurl passes it. */
int
cli_head_end(const char *data, size_t len)
{
	return (len == 2 && data[0] == '\r' && data[1] == '\n') ||
	    (len == 1 && data[0] == '\n');
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 len = size * n;

	if (cli_body_append(s->resp, &s->cap, data, len, BODY_MAX) == -1) {
		s->toobig = s->resp->len + len + 1 > BODY_MAX;
		return 0;
	}
	return len;
}

/* The blank line that ends a head: the answer's first byte has arrived. */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct cli_resp	*r = arg;
	size_t		 len = size * n;

	if (cli_head_end(data, len))
		r->head_at = cli_stamp();
	return len;
}

/* Ends a transfer at once when the user interrupts. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const int	*interruptible = arg;

	return cli_interrupted && *interruptible ? 1 : 0;
}

/*
 * Opens a connection's handle: url is the base (https only), cacert the
 * trust store ("" or NULL = libcurl's default), token the bearer token
 * ("" or NULL = none).  On error the fault says why and nothing is held.
 */
enum cli_err
cli_conn_open(struct cli_conn *c, const char *url, const char *cacert,
    const char *token, int http, struct cli_fault *f)
{
	struct curl_slist	*h;
	char			 line[4200];
	size_t			 n;

	memset(c, 0, sizeof(*c));
	if (strncmp(url, "https://", 8) != 0 || url[8] == '\0')
		return cli_fail(f, CLI_ERR_USAGE, 0, NULL,
		    "%s: the URL must start with https://", url);
	if (snprintf(c->url, sizeof(c->url), "%s", url) >= (int)sizeof(c->url))
		return cli_fail(f, CLI_ERR_USAGE, 0, NULL,
		    "the URL is too long");
	for (n = strlen(c->url); n > 8 && c->url[n - 1] == '/'; n--)
		c->url[n - 1] = '\0';
	snprintf(c->cacert, sizeof(c->cacert), "%s", cacert ? cacert : "");
	snprintf(c->token, sizeof(c->token), "%s", token ? token : "");
	c->http = http;
	c->interruptible = 1;
	if (c->token[0] != '\0') {
		snprintf(line, sizeof(line), "Authorization: Bearer %s",
		    c->token);
		if ((c->headers = curl_slist_append(NULL, line)) == NULL)
			goto nomem;
	}
	/* libcurl waits up to a second for a 100 Continue before a body. */
	if ((h = curl_slist_append(c->headers, "Expect:")) == NULL)
		goto nomem;
	c->headers = h;
	if ((c->easy = curl_easy_init()) == NULL)
		goto nomem;
	return CLI_OK;
nomem:
	cli_conn_close(c);
	return cli_nomem(f);
}

void
cli_conn_close(struct cli_conn *c)
{
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	c->easy = NULL;
	c->headers = NULL;
}

/*
 * A copy of the list h with extra at its end, the caller's to free; NULL
 * when memory runs out.  A request with a body of its own type needs one,
 * the connection's list being shared.
 */
struct curl_slist *
cli_headers_plus(const struct curl_slist *h, const char *extra)
{
	struct curl_slist	*l = NULL, *n;

	for (; h != NULL; h = h->next)
		if ((n = curl_slist_append(l, h->data)) == NULL)
			goto fail;
		else
			l = n;
	if ((n = curl_slist_append(l, extra)) != NULL)
		return n;
fail:
	curl_slist_free_all(l);
	return NULL;
}

/* The options every request of this connection has, on any handle. */
void
cli_easy_setup(struct cli_conn *c, CURL *e)
{
	if (c->cacert[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)c->http);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "pingoo/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	if (c->resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, c->resolve);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, &c->interruptible);
	/* A transfer that stalls for 30 s is a network failure, not a wait. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
}

/* A response's JSON: one object, nothing after it but space; else NULL. */
static struct json_object *
parse_json(const char *body, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 end;

	if (body == NULL || len == 0 ||
	    (tok = json_tokener_new_ex(JSON_DEPTH)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	for (; o != NULL && end < len; end++)
		if (!isspace((unsigned char)body[end])) {
			json_object_put(o);
			o = NULL;
		}
	json_tokener_free(tok);
	return o;
}

/*
 * Judges an answer: a 2xx with a JSON object puts it in *out (the caller's
 * to put) and returns CLI_OK; anything else fills f with the server's error
 * code (401 is an authentication failure, the rest a server error).
 */
enum cli_err
cli_answer(long status, const char *body, size_t len, struct json_object **out,
    struct cli_fault *f)
{
	struct json_object	*o, *e;
	const char		*code, *msg;
	enum cli_err		 err;

	*out = NULL;
	/* 204: done, nothing to say (logout). */
	if (status == 204)
		return CLI_OK;
	o = parse_json(body, len);
	if (status >= 200 && status < 300) {
		if (o == NULL)
			return cli_fail(f, CLI_ERR_SERVER, status,
			    "invalid_response",
			    "the server did not answer a JSON object");
		*out = o;
		return CLI_OK;
	}
	err = status == 401 ? CLI_ERR_AUTH : CLI_ERR_SERVER;
	if (o != NULL && json_object_object_get_ex(o, "error", &e) &&
	    (code = cli_jstr(e, "code")) != NULL) {
		msg = cli_jstr(e, "message");
		cli_fail(f, err, status, code, "%s", msg ? msg : code);
	} else if (status == 502 || status == 503)
		cli_fail(f, err, status, "service_unavailable",
		    "the server is unavailable");
	else {
		char	 c[32];

		snprintf(c, sizeof(c), "http_%ld", status);
		cli_fail(f, err, status, c, "the server answered HTTP %ld",
		    status);
	}
	json_object_put(o);
	return err;
}

/*
 * One request: method and path (under /api/v1), body JSON text or NULL,
 * timeout_ms 0 for none.  On CLI_OK r holds the answer and its JSON (free
 * with cli_resp_free); on error r holds what arrived, if anything, and f
 * says why.
 */
enum cli_err
cli_call(struct cli_conn *c, const char *method, const char *path,
    const char *body, long timeout_ms, struct cli_resp *r, struct cli_fault *f)
{
	struct sink		 sink = { r, 0, 0 };
	struct curl_slist	*jh = NULL;
	char			 url[1024], errbuf[CURL_ERROR_SIZE] = "";
	CURLcode		 rc;
	enum cli_err		 err;

	memset(r, 0, sizeof(*r));
	if (snprintf(url, sizeof(url), "%s/api/v1%s", c->url, path) >=
	    (int)sizeof(url))
		return cli_fail(f, CLI_ERR_USAGE, 0, NULL,
		    "the URL is too long");
	curl_easy_reset(c->easy);
	cli_easy_setup(c, c->easy);
	if (body != NULL) {
		/* The shared headers plus the body's type. */
		if ((jh = cli_headers_plus(c->headers, CLI_JSON_TYPE)) == NULL)
			return cli_nomem(f);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, jh);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(body));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)0);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = curl_easy_perform(c->easy);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(jh);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return cli_fail(f, CLI_ERR_INTR, 0, "interrupted",
		    "interrupted");
	if (sink.toobig)
		return cli_fail(f, CLI_ERR_SERVER, 0, "invalid_response",
		    "%s %s: the answer is larger than %u bytes", method, path,
		    BODY_MAX);
	if (rc != CURLE_OK)
		return cli_fail(f, CLI_ERR_NET, 0, "network_error",
		    "%s %s: %s", method, c->url,
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r->status);
	err = cli_answer(r->status, r->body, r->len, &r->json, f);
	return err;
}

void
cli_resp_free(struct cli_resp *r)
{
	json_object_put(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * Creates a test: POST req (whose ownership passes here, with the client's
 * description added) to path and the new test's id in *id.
 */
enum cli_err
cli_create(struct cli_conn *c, const char *path, struct json_object *req,
    int64_t *id, struct cli_fault *f)
{
	struct cli_resp	 r;
	enum cli_err	 err;

	if (req == NULL)
		return cli_nomem(f);
	json_object_object_add(req, "client", cli_client_json());
	err = cli_call(c, "POST", path, cli_jtext(req), 30000, &r, f);
	json_object_put(req);
	if (err == CLI_OK && (*id = cli_jint(r.json, "id", 0)) <= 0)
		err = cli_fail(f, CLI_ERR_SERVER, r.status, "invalid_response",
		    "the new test has no id");
	cli_resp_free(&r);
	return err;
}
