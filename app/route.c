/*
 * route.c - the route table (method + path pattern -> validator and
 * handler), the matcher, and the life of one request (serve_request):
 * authenticate, read and validate the input, call the handler.  The
 * matcher is a pure function of (method, path) so it can be fuzzed; paths
 * are matched raw, segment by segment: an empty segment (double slash), a
 * dot segment or an encoded byte never matches.
 */
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "app.h"

/* The echo and the probes have no R_USERCHECK: they answer without MySQL
 * (h_ping.c, h_probe.c); a deleted user's tests are gone with them and the
 * echo's write finds nothing to write into.  Packet routes skip it too:
 * their claim of the packet is filtered by the owner, so a deleted user's
 * test is simply not found (404), one database round trip fewer per
 * packet.  Every route that takes a JSON body names its validator. */
static const struct route_def routes[] = {
	[ROUTE_HEALTH] = { METHOD_GET, "/api/v1/health", h_health, 0, NULL },
	[ROUTE_TOKEN] = { METHOD_POST, "/api/v1/auth/token", h_token, R_JSON | R_ISSUER, pingoo_in_token },
	[ROUTE_ME] = { METHOD_GET, "/api/v1/me", h_me, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_PING_CREATE] = { METHOD_POST, "/api/v1/ping-tests", h_ping_create, R_AUTH | R_USERCHECK | R_JSON, pingoo_in_ping_create },
	[ROUTE_PING_LIST] = { METHOD_GET, "/api/v1/ping-tests", h_ping_list, R_AUTH | R_USERCHECK, pingoo_in_page },
	[ROUTE_PING_ECHO] = { METHOD_POST, "/api/v1/ping-tests/{id}/echo", h_ping_echo, R_AUTH | R_JSON | R_QUICK, pingoo_in_echo },
	[ROUTE_PING_RECEIPTS] = { METHOD_POST, "/api/v1/ping-tests/{id}/receipts", h_ping_receipts, R_AUTH | R_USERCHECK | R_JSON, pingoo_in_receipts },
	[ROUTE_PING_CLOSE] = { METHOD_POST, "/api/v1/ping-tests/{id}/close", h_ping_close, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_PING_GET] = { METHOD_GET, "/api/v1/ping-tests/{id}", h_ping_get, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_TP_CREATE] = { METHOD_POST, "/api/v1/throughput-tests", h_tp_create, R_AUTH | R_USERCHECK | R_JSON, pingoo_in_tp_create },
	[ROUTE_TP_LIST] = { METHOD_GET, "/api/v1/throughput-tests", h_tp_list, R_AUTH | R_USERCHECK, pingoo_in_page },
	[ROUTE_TP_DOWNLOAD] = { METHOD_GET, "/api/v1/throughput-tests/{id}/download/{seq}", h_tp_download, R_AUTH, pingoo_in_tp_packet },
	[ROUTE_TP_UPLOAD] = { METHOD_PUT, "/api/v1/throughput-tests/{id}/upload/{seq}", h_tp_upload, R_AUTH, NULL },
	[ROUTE_TP_REPORTS] = { METHOD_POST, "/api/v1/throughput-tests/{id}/reports", h_tp_reports, R_AUTH | R_USERCHECK | R_JSON, pingoo_in_reports },
	[ROUTE_TP_ABORT] = { METHOD_POST, "/api/v1/throughput-tests/{id}/abort", h_tp_abort, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_TP_GET] = { METHOD_GET, "/api/v1/throughput-tests/{id}", h_tp_get, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_TP_PROBE] = { METHOD_POST, "/api/v1/throughput-tests/{id}/probes", h_tp_probe, R_AUTH | R_JSON | R_QUICK, pingoo_in_probe },
	[ROUTE_TP_PROBE_RECEIPTS] = { METHOD_POST, "/api/v1/throughput-tests/{id}/probe-receipts", h_tp_probe_receipts, R_AUTH | R_USERCHECK | R_JSON, pingoo_in_probe_receipts },
	/* nginx lets only metrics_allow read it */
	[ROUTE_METRICS] = { METHOD_GET, "/metrics", h_metrics, R_QUICK, NULL },
	[ROUTE_EXPORT_CSV] = { METHOD_GET, "/api/v1/export/tests.csv", h_export, R_AUTH | R_USERCHECK, pingoo_in_export },
	[ROUTE_EXPORT_NDJSON] = { METHOD_GET, "/api/v1/export/tests.ndjson", h_export, R_AUTH | R_USERCHECK, pingoo_in_export },
	[ROUTE_AGGREGATES] = { METHOD_GET, "/api/v1/export/aggregates", h_aggregates, R_AUTH | R_USERCHECK, pingoo_in_aggregates },
	[ROUTE_PING_DELETE] = { METHOD_DELETE, "/api/v1/ping-tests/{id}", h_test_delete, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_TP_DELETE] = { METHOD_DELETE, "/api/v1/throughput-tests/{id}", h_test_delete, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_TESTS_DELETE] = { METHOD_DELETE, "/api/v1/tests", h_tests_delete, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_JWKS] = { METHOD_GET, "/.well-known/jwks.json", h_jwks, R_QUICK, NULL },
	[ROUTE_TP_CLOSE] = { METHOD_POST, "/api/v1/throughput-tests/{id}/close", h_tp_close, R_AUTH | R_USERCHECK, NULL },
	[ROUTE_TESTS_DELETION] = { METHOD_GET, "/api/v1/tests/deletion", h_tests_deletion, R_AUTH | R_USERCHECK, NULL },
	/* The token's own claims say what to revoke: no user lookup. */
	[ROUTE_LOGOUT] = { METHOD_POST, "/api/v1/auth/logout", h_logout, R_AUTH, NULL },
	[ROUTE_LOGOUT_ALL] = { METHOD_POST, "/api/v1/auth/logout-all", h_logout_all, R_AUTH, NULL },
};
PINGOO_TABLE_CHECK(routes, ROUTE__MAX);

const struct route_def *
route_get(enum route r)
{
	return (unsigned)r < ROUTE__MAX ? &routes[r] : NULL;
}

const char *
route_name(enum route r)
{
	if ((unsigned)r >= ROUTE__MAX)
		return "-";
	return routes[r].pattern;
}

/* Upper bound on a sequence number in a path; the handlers check the
 * test's own count. */
#define SEQ_MAX 0x7fffffffULL

/*
 * Matches one pattern against path[0..len).  Fills id/seq.  Returns 1 on a
 * match, 2 when every literal segment matches but a number does not parse
 * (a bad id: 400, not 404), 0 otherwise.  Both sides are walked segment by
 * segment.
 */
static int
pattern_match(const char *pat, const char *path, size_t len,
    struct route_match *m)
{
	size_t pi = 0, i = 0, plen = strlen(pat), ps, pe, s, e;
	uint64_t v;
	int badnum = 0;

	while (pi < plen && i < len) {
		if (pat[pi] != '/' || path[i] != '/')
			return 0;
		ps = ++pi;
		while (pi < plen && pat[pi] != '/')
			pi++;
		pe = pi;
		s = ++i;
		while (i < len && path[i] != '/')
			i++;
		e = i;
		if (e == s)
			return 0;	/* empty segment */
		if (pe - ps == 4 && memcmp(pat + ps, "{id}", 4) == 0) {
			if (pingoo_parse_id(path + s, e - s, &v) != PINGOO_OK)
				badnum = 1;
			m->id = v;
		} else if (pe - ps == 5 && memcmp(pat + ps, "{seq}", 5) == 0) {
			if (pingoo_parse_uint(path + s, e - s, SEQ_MAX, &v)
			    != PINGOO_OK)
				badnum = 1;
			m->seq = v;
		} else if (pe - ps != e - s || memcmp(pat + ps, path + s,
		    e - s) != 0)
			return 0;
	}
	if (pi != plen || i != len)
		return 0;
	return badnum ? 2 : 1;
}

enum match
route_match(enum method meth, const char *path, size_t len,
    struct route_match *m)
{
	struct route_match tmp;
	unsigned allow = 0;
	int r, k, found = 0, badnum = 0;

	memset(m, 0, sizeof(*m));
	for (r = 0; r < ROUTE__MAX; r++) {
		if (routes[r].handler == NULL)
			continue;
		memset(&tmp, 0, sizeof(tmp));
		if ((k = pattern_match(routes[r].pattern, path, len, &tmp)) == 0)
			continue;
		if (k == 2) {
			badnum = 1;
			continue;
		}
		allow |= 1u << routes[r].method;
		if (routes[r].method == meth && !found) {
			found = 1;
			*m = tmp;
			m->route = (enum route)r;
		}
	}
	m->allow = allow;
	if (found)
		return MATCH_FOUND;
	if (allow != 0)
		return MATCH_NOMETHOD;
	return badnum ? MATCH_BADPATH : MATCH_NOTFOUND;
}

static void
allow_list(unsigned allow, char *buf, size_t cap)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < METHOD_OTHER; i++)
		if (allow & (1u << i))
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0,
			    "%s%s", n > 0 ? ", " : "", method_text((enum method)i));
}

/* OPTIONS on a known path: the CORS preflight. */
static void
preflight(struct req *r)
{
	char allow[128];

	if (!pingoo_cors_allowed(r->cfg->cors_origins, r->origin)) {
		reply_error(r, 403, "origin_not_allowed", NULL,
		    "this origin may not call the API");
		return;
	}
	allow_list(r->m.allow | (1u << METHOD_OPTIONS), allow, sizeof(allow));
	reply_header(r, "Access-Control-Allow-Methods: %s", allow);
	reply_header(r, "Access-Control-Allow-Headers: Authorization, "
	    "Content-Type");
	reply_header(r, "Access-Control-Max-Age: 600");
	reply_head(r, 204, NULL, -1);
}

/* Runs the route's validator; replies its refusal and returns -1. */
static int
validate(struct req *r, pingoo_validator valid)
{
	const struct pingoo_input_src src = { .cfg = r->cfg, .body = r->body,
	    .query = r->query, .test_id = r->m.id, .user_id = r->user_id };
	struct pingoo_fault f;

	if (valid(&src, &r->in, &f) == PINGOO_OK)
		return 0;
	reply_fault(r, &f);
	return -1;
}

static void
route_dispatch(struct req *r)
{
	const struct route_def *d;
	enum match mt;
	char allow[128];

	/* Before anything reads the path or the query: neither was cut, both
	 * are empty. */
	if (r->uri_too_long) {
		reply_error(r, 414, "uri_too_long", NULL, "the request URI is "
		    "too long: the path takes up to %zu bytes and the query "
		    "string up to %zu", sizeof(r->path) - 1,
		    sizeof(r->query) - 1);
		return;
	}
	mt = route_match(r->method, r->path, r->pathlen, &r->m);
	if (r->method == METHOD_OPTIONS && mt != MATCH_NOTFOUND &&
	    mt != MATCH_BADPATH) {
		r->route_name = "preflight";
		r->preflight = 1;
		preflight(r);
		return;
	}
	if (mt == MATCH_NOTFOUND) {
		reply_error(r, 404, "not_found", NULL, "no such route");
		return;
	}
	if (mt == MATCH_BADPATH) {
		reply_error(r, 400, "invalid_path", NULL, "an id or sequence "
		    "number in the path is not a decimal number in range");
		return;
	}
	if (mt == MATCH_NOMETHOD) {
		allow_list(r->m.allow, allow, sizeof(allow));
		reply_header(r, "Allow: %s", allow);
		reply_error(r, 405, "method_not_allowed", NULL,
		    "this route does not take %s; allowed: %s",
		    r->method_name, allow);
		return;
	}
	d = &routes[r->m.route];
	r->route_name = d->pattern;
	if (!(d->flags & R_QUICK))
		active_leave(r->w);
	if ((d->flags & R_AUTH) &&
	    auth_require(r, (d->flags & R_USERCHECK) != 0) < 0)
		return;
	if ((d->flags & R_JSON) && req_read_json(r) < 0)
		return;
	if ((d->flags & R_ISSUER) && auth_issuer(r) < 0)
		return;
	if (d->valid != NULL && validate(r, d->valid) < 0)
		return;
	d->handler(r);
	if (!r->replied) {
		/* A handler that forgot to answer is a bug, not a hang. */
		reply_error(r, 500, "internal_error", NULL, "no reply");
	}
}

void
serve_request(struct worker *w, FCGX_Request *f)
{
	struct req r;

	req_init(&r, f, w);
	route_dispatch(&r);
	req_finish(&r);
	metrics_request(&r);
	req_log(&r);
	req_free(&r);
}
