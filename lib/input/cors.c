/*
 * cors.c - whether a page from another origin may call the API: the
 * decision alone, with no HTTP in it (app/ writes the headers).
 */
#include <string.h>
#include <strings.h>

#include "input/input.h"

int
pingoo_cors_allowed(const char *allowed, const char *origin)
{
	const char *p = allowed, *e;
	size_t olen = strlen(origin);

	if (olen == 0)
		return 0;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		e = p;
		while (*e != '\0' && *e != ' ' && *e != ',')
			e++;
		if (e > p && (((size_t)(e - p) == olen &&
		    strncasecmp(p, origin, olen) == 0) ||
		    (e - p == 1 && *p == '*')))
			return 1;
		p = e;
	}
	return 0;
}
