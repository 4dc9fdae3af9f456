/* number.c - decimal integers from text: ids, sequence numbers, limits. */
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define ID_MAX		((UINT64_C(1) << 53) - 1)	/* exact in a JS number */

/*
 * Parses s[0..len) (not NUL-terminated) as a decimal integer <= max: digits
 * only, no sign, no spaces, no leading zero except "0" itself.
 * PINGOO_ERR_INVAL for bad syntax, PINGOO_ERR_RANGE above max; *out is
 * untouched on error.
 */
enum pingoo_err
pingoo_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;

	if (s == NULL || len == 0 || (s[0] == '0' && len > 1))
		return PINGOO_ERR_INVAL;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return PINGOO_ERR_INVAL;
	for (i = 0; i < len; i++) {
		d = (uint64_t)(s[i] - '0');
		/* v * 10 + d <= max, without overflowing on the way. */
		if (d > max || v > (max - d) / 10)
			return PINGOO_ERR_RANGE;
		v = v * 10 + d;
	}
	*out = v;
	return PINGOO_OK;
}

/*
 * Parses an object id: 1..2^53-1, the integers a JavaScript client holds
 * exactly.  Same syntax and errors as pingoo_parse_uint; 0 is out of range.
 */
enum pingoo_err
pingoo_parse_id(const char *s, size_t len, uint64_t *out)
{
	uint64_t v;
	enum pingoo_err rc;

	if ((rc = pingoo_parse_uint(s, len, ID_MAX, &v)) != PINGOO_OK)
		return rc;
	if (v == 0)
		return PINGOO_ERR_RANGE;
	*out = v;
	return PINGOO_OK;
}
