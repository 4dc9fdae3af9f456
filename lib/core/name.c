/*
 * name.c - the one lookup between an enum and its names, both ways.  Every
 * name table of lib/ (and app/'s method names) is read through these two,
 * so a value with no name has one answer (NULL) and a name with no value
 * has one answer (-1); each *_name() and *_parse() passes it on as is, in
 * its own type.
 *
 * What an unknown name then means is decided once, by where it came from:
 *   - from a request (lib/input): a 400 invalid_field naming the field;
 *   - from the database (lib/store): PINGOO_ERR_DB, logged with its column
 *     and counted as a database error (pingoo_store_bad_name); the row is
 *     refused, never mapped to a default value (a state read as
 *     'incomplete', a status as 'failed').
 * An enum value with no name is a bug upstream: the store never reads one
 * in, and the validators never make one.
 */
#include <string.h>

#include "core/core.h"

const char *
pingoo_name_of(const char *const *names, size_t n, int v)
{
	if (names == NULL || v < 0 || (size_t)v >= n || names[v] == NULL ||
	    names[v][0] == '\0')
		return NULL;
	return names[v];
}

int
pingoo_name_find(const char *const *names, size_t n, const char *s,
    size_t len)
{
	size_t i;

	if (names == NULL || s == NULL || len == 0)
		return -1;
	for (i = 0; i < n && i <= (size_t)INT32_MAX; i++)
		if (names[i] != NULL && strlen(names[i]) == len &&
		    memcmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}
