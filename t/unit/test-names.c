/* test-names.c - the one lookup between an enum and its names
 * (lib/core/name.c), its policy for what has no name, and a walk of every
 * enum of lib/ that is named: each value has a name of its own, which
 * reads back as that value (designated initializers leave a gap NULL). */
#include <string.h>

#include "core/core.h"
#include "../tap.h"

static const char *const abc[] = { [0] = "alpha", [2] = "gamma",
    [3] = "" };

static void
test_helper(void)
{
	ok(strcmp(pingoo_name_of(abc, 4, 0), "alpha") == 0 &&
	    strcmp(pingoo_name_of(abc, 4, 2), "gamma") == 0,
	    "a value's name is its slot");
	ok(pingoo_name_of(abc, 4, 1) == NULL &&
	    pingoo_name_of(abc, 4, 3) == NULL,
	    "an empty slot (a gap, or \"\") has no name: NULL");
	ok(pingoo_name_of(abc, 4, -1) == NULL &&
	    pingoo_name_of(abc, 4, 4) == NULL &&
	    pingoo_name_of(abc, 4, 1 << 30) == NULL &&
	    pingoo_name_of(NULL, 4, 0) == NULL,
	    "a value outside the table has no name: NULL, never a default");
	ok(pingoo_name_find(abc, 4, "gamma", 5) == 2 &&
	    pingoo_name_find(abc, 4, "alpha", 5) == 0,
	    "a name finds its value");
	ok(pingoo_name_find(abc, 4, "Gamma", 5) == -1 &&
	    pingoo_name_find(abc, 4, "gam", 3) == -1 &&
	    pingoo_name_find(abc, 4, "gammas", 6) == -1 &&
	    pingoo_name_find(abc, 4, "beta", 4) == -1,
	    "another case, a prefix, a longer word, an unknown name: -1");
	ok(pingoo_name_find(abc, 4, "", 0) == -1 &&
	    pingoo_name_find(abc, 4, NULL, 0) == -1 &&
	    pingoo_name_find(NULL, 4, "alpha", 5) == -1,
	    "the empty name (an empty slot's) and no name find nothing");
	ok(pingoo_name_find(abc, 4, "gammaXYZ", 5) == 2 &&
	    pingoo_name_find(abc, 4, "al\0pha", 6) == -1,
	    "only len bytes count, and a NUL among them is no match");
	ok(pingoo_name_find(abc, 2, "gamma", 5) == -1,
	    "names past n are not looked at");
}

/* Every error has its sentence and its code; one outside the enum is
 * said to be an internal error. */
static void
test_errors(void)
{
	int e, named = 1;

	for (e = 0; e < PINGOO_ERR__MAX; e++)
		if (pingoo_strerror((enum pingoo_err)e)[0] == '\0' ||
		    pingoo_errcode((enum pingoo_err)e)[0] == '\0') {
			diag("error %d has no sentence or code", e);
			named = 0;
		}
	ok(named, "each of the %d errors has a sentence and a code",
	    PINGOO_ERR__MAX);
	ok(strcmp(pingoo_errcode(PINGOO_ERR_DB), "database_unavailable") == 0 &&
	    strcmp(pingoo_strerror(PINGOO_ERR_NOTFOUND), "not found") == 0,
	    "errors are named by their own slot");
	ok(strcmp(pingoo_errcode(PINGOO_ERR__MAX), "internal_error") == 0 &&
	    strcmp(pingoo_strerror((enum pingoo_err)-1), "internal error")
	    == 0, "an error outside the enum is an internal error");
}

int
main(void)
{
	test_helper();
	test_errors();
	return tap_done();
}
