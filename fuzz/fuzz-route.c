/* fuzz-route.c - libFuzzer harness: the route matcher on raw paths, with
 * the first byte choosing the method. */
#include <stdint.h>
#include <stddef.h>

#include "app.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_match m;
	enum match r;

	if (size < 1)
		return 0;
	r = route_match((enum method)(data[0] % METHOD__MAX),
	    (const char *)data + 1, size - 1, &m);
	/* A match must name a real route. */
	if (r == MATCH_FOUND && (unsigned)m.route >= ROUTE__MAX)
		__builtin_trap();
	return 0;
}
