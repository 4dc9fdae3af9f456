/* test-cors.c - which origins may call the API from another site. */
#include "input/input.h"
#include "../tap.h"

int
main(void)
{
	const char *list = "https://a.example, https://b.example:8443 http://c";

	ok(pingoo_cors_allowed(list, "https://a.example"),
	    "the first origin of the list is allowed");
	ok(pingoo_cors_allowed(list, "https://b.example:8443") &&
	    pingoo_cors_allowed(list, "http://c"),
	    "origins after a comma or a space are allowed");
	ok(pingoo_cors_allowed(list, "HTTPS://A.EXAMPLE"),
	    "the comparison ignores case");
	ok(!pingoo_cors_allowed(list, "https://a.example.evil"),
	    "a longer origin sharing a prefix is refused");
	ok(!pingoo_cors_allowed(list, "https://a.exampl"),
	    "a prefix of an allowed origin is refused");
	ok(!pingoo_cors_allowed(list, "https://b.example"),
	    "the same host on another port is refused");
	ok(!pingoo_cors_allowed(list, ""), "an empty origin is refused");
	ok(!pingoo_cors_allowed("", "https://a.example"),
	    "an empty list allows nobody");
	ok(pingoo_cors_allowed("https://x *", "https://anything") &&
	    !pingoo_cors_allowed("https://x *", ""),
	    "\"*\" allows every origin but the empty one");
	ok(!pingoo_cors_allowed("https://x,**", "https://y"),
	    "\"**\" is not a wildcard");
	return tap_done();
}
