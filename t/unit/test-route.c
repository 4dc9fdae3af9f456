/* test-route.c - the route matcher (fuzzed by fuzz/fuzz-route.c): which
 * route a method and a raw path find, and why a near miss misses. */
#include <string.h>

#include "app.h"
#include "../tap.h"

static enum match
m(enum method meth, const char *path, struct route_match *rm)
{
	return route_match(meth, path, strlen(path), rm);
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
	return tap_done();
}
