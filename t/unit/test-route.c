/* test-route.c - the route matcher (fuzzed by fuzz/fuzz-route.c): which
 * route a method and a raw path find, and why a near miss misses. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "../tap.h"

static enum match
m(enum method meth, const char *path, struct route_match *rm)
{
	return route_match(meth, path, strlen(path), rm);
}

/*
 * Every route has its row (designated initializers leave a gap zero): a
 * pattern from the root, a handler, a real method; a JSON body has its
 * validator, as every body is read by one; a user check needs a token.
 * And each route's own path finds that route.
 */
static void
test_table(void)
{
	const struct route_def *d;
	struct route_match rm;
	char path[256], *b;
	int r, rows = 1, found = 1;

	for (r = 0; r < ROUTE__MAX; r++) {
		if ((d = route_get((enum route)r)) == NULL ||
		    d->pattern == NULL || d->pattern[0] != '/' ||
		    d->handler == NULL || d->method >= METHOD_OTHER ||
		    ((d->flags & R_JSON) && d->valid == NULL) ||
		    ((d->flags & R_USERCHECK) && !(d->flags & R_AUTH))) {
			diag("route %d's row is missing or incomplete", r);
			rows = 0;
			continue;
		}
		/* Its pattern with 7 for {id} and 3 for {seq}. */
		snprintf(path, sizeof(path), "%s", d->pattern);
		while ((b = strstr(path, "{id}")) != NULL) {
			*b = '7';
			memmove(b + 1, b + 4, strlen(b + 4) + 1);
		}
		while ((b = strstr(path, "{seq}")) != NULL) {
			*b = '3';
			memmove(b + 1, b + 5, strlen(b + 5) + 1);
		}
		if (m(d->method, path, &rm) != MATCH_FOUND ||
		    rm.route != (enum route)r) {
			diag("%s %s finds route %d, not %d",
			    method_text(d->method), path, rm.route, r);
			found = 0;
		}
	}
	ok(rows && route_get(ROUTE__MAX) == NULL, "each of the %d routes has "
	    "its row: pattern, handler, method, a validator for a JSON body",
	    ROUTE__MAX);
	ok(found, "each route's own path and method find it");
	d = route_get(ROUTE_TOKEN);
	ok(d != NULL && d->valid == pingoo_in_token && (d->flags & R_JSON) &&
	    (d->flags & R_ISSUER) && !(d->flags & R_AUTH),
	    "the token route reads its body with pingoo_in_token, on an "
	    "issuing host, without a token");
}

/* Every method has its name, which parses back; OTHER is no request's. */
static void
test_methods(void)
{
	const char *t;
	int i, named = 1;

	for (i = 0; i < METHOD__MAX; i++)
		if ((t = method_text((enum method)i)) == NULL || t[0] == '\0' ||
		    (i != METHOD_OTHER && method_parse(t) != (enum method)i)) {
			diag("method %d: %s", i, t != NULL ? t : "no name");
			named = 0;
		}
	ok(named && method_text(METHOD__MAX) == NULL, "each of the %d methods "
	    "has its name, which parses back", METHOD__MAX);
	ok(method_parse("OTHER") == METHOD_OTHER &&
	    method_parse("") == METHOD_OTHER,
	    "any other method, even one named OTHER, is METHOD_OTHER");
}

/*
 * A request URI into path and query: what fits is copied whole; a path or a
 * query one byte over its buffer is refused (414), never cut, as a cut
 * query reads as another, valid one ("limit=101" as "limit=1").
 */
static void
test_split_uri(void)
{
	char path[16], query[12], uri[64];
	size_t n = 99;

	ok(req_split_uri("/a/b?limit=5", path, sizeof(path), &n, query,
	    sizeof(query)) == 0 && strcmp(path, "/a/b") == 0 && n == 4 &&
	    strcmp(query, "limit=5") == 0, "a URI splits at its first '?'");
	ok(req_split_uri("/a/b", path, sizeof(path), &n, query,
	    sizeof(query)) == 0 && n == 4 && query[0] == '\0',
	    "no '?': an empty query");
	ok(req_split_uri("/a?x=1?y", path, sizeof(path), &n, query,
	    sizeof(query)) == 0 && strcmp(query, "x=1?y") == 0,
	    "a second '?' belongs to the query");
	/* 11 bytes of query fill a 12-byte buffer; 12 do not. */
	ok(req_split_uri("/a?limit=1011", path, sizeof(path), &n, query,
	    sizeof(query)) == 0 && strcmp(query, "limit=1011") == 0 &&
	    req_split_uri("/a?p=1&limit=1", path, sizeof(path), &n, query,
	    sizeof(query)) == 0 && strcmp(query, "p=1&limit=1") == 0,
	    "a query that just fits is copied whole");
	ok(req_split_uri("/a?p=1&limit=10", path, sizeof(path), &n, query,
	    sizeof(query)) == -1 && query[0] == '\0' && path[0] == '\0' &&
	    n == 0, "a query one byte over its buffer is refused, not cut to "
	    "p=1&limit=1");
	snprintf(uri, sizeof(uri), "/%s?a=1", "234567890abcde");
	ok(req_split_uri(uri, path, sizeof(path), &n, query,
	    sizeof(query)) == 0 && n == 15, "a path that just fits is copied");
	snprintf(uri, sizeof(uri), "/%s?a=1", "234567890abcdef");
	ok(req_split_uri(uri, path, sizeof(path), &n, query,
	    sizeof(query)) == -1 && n == 0 && path[0] == '\0',
	    "a path one byte over its buffer is refused, not cut");
}

int
main(void)
{
	struct route_match rm;

	ok(m(METHOD_GET, "/api/v1/health", &rm) == MATCH_FOUND &&
	    rm.route == ROUTE_HEALTH, "GET /api/v1/health is the health route");
	ok(m(METHOD_POST, "/api/v1/ping-tests/42/echo", &rm) == MATCH_FOUND &&
	    rm.route == ROUTE_PING_ECHO && rm.id == 42,
	    "the echo route gives its test id");
	ok(m(METHOD_GET, "/api/v1/throughput-tests/9/download/0", &rm) ==
	    MATCH_FOUND && rm.route == ROUTE_TP_DOWNLOAD && rm.id == 9 &&
	    rm.seq == 0, "a download gives its id and seq 0");
	ok(m(METHOD_GET, "/api/v1/ping-tests", &rm) == MATCH_FOUND &&
	    rm.route == ROUTE_PING_LIST && m(METHOD_POST, "/api/v1/ping-tests",
	    &rm) == MATCH_FOUND && rm.route == ROUTE_PING_CREATE,
	    "one path, two methods, two routes");
	ok(m(METHOD_DELETE, "/api/v1/ping-tests", &rm) == MATCH_NOMETHOD &&
	    rm.allow == ((1u << METHOD_GET) | (1u << METHOD_POST)),
	    "another method on a known path is 405 with the allowed ones");
	ok(m(METHOD_GET, "/api/v1/ping-tests/0", &rm) == MATCH_BADPATH &&
	    m(METHOD_GET, "/api/v1/ping-tests/01", &rm) == MATCH_BADPATH &&
	    m(METHOD_GET, "/api/v1/ping-tests/x", &rm) == MATCH_BADPATH,
	    "id 0, a leading zero and a word are bad paths (400)");
	ok(m(METHOD_GET, "/api/v1/ping-tests/9007199254740992", &rm) ==
	    MATCH_BADPATH && m(METHOD_GET, "/api/v1/ping-tests/9007199254740991",
	    &rm) == MATCH_FOUND, "ids stop at 2^53 - 1");
	ok(m(METHOD_PUT, "/api/v1/throughput-tests/1/upload/2147483648", &rm)
	    == MATCH_BADPATH && m(METHOD_PUT,
	    "/api/v1/throughput-tests/1/upload/2147483647", &rm) == MATCH_FOUND,
	    "seqs stop at 2^31 - 1");
	ok(m(METHOD_GET, "/api/v1//health", &rm) == MATCH_NOTFOUND &&
	    m(METHOD_GET, "/api/v1/health/", &rm) == MATCH_NOTFOUND &&
	    m(METHOD_GET, "/api/v1/./health", &rm) == MATCH_NOTFOUND,
	    "an empty segment, a trailing slash and a dot segment miss");
	ok(m(METHOD_GET, "/api/v1/%68ealth", &rm) == MATCH_NOTFOUND &&
	    m(METHOD_GET, "/API/v1/health", &rm) == MATCH_NOTFOUND,
	    "an encoded byte or another case misses");
	ok(m(METHOD_GET, "", &rm) == MATCH_NOTFOUND &&
	    m(METHOD_GET, "/", &rm) == MATCH_NOTFOUND,
	    "an empty path and the root miss");
	ok(route_match(METHOD_GET, "/api/v1/healthz", 14, &rm) == MATCH_FOUND,
	    "only the given length of the path counts");
	ok(m(METHOD_OTHER, "/api/v1/health", &rm) == MATCH_NOMETHOD,
	    "an unknown method on a known path is 405");
	ok(strcmp(route_name(ROUTE_PING_ECHO), "/api/v1/ping-tests/{id}/echo")
	    == 0 && strcmp(route_name(ROUTE__MAX), "-") == 0,
	    "routes are named by their pattern");
	ok(method_parse("PATCH") == METHOD_PATCH &&
	    method_parse("get") == METHOD_OTHER, "methods are matched exactly");
	test_table();
	test_methods();
	test_split_uri();
	return tap_done();
}
