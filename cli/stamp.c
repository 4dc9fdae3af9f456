/*
 * stamp.c - the client's stamps: microseconds since the Unix epoch read
 * from the monotonic clock, anchored once to the wall clock (as the SDK's
 * performance.timeOrigin + performance.now()).  A wall-clock step during a
 * test moves no stamp, so a sample's t3 is never before its t0.
 */
#include "core/core.h"
#include "cli.h"

static int64_t	anchor;

/* Ties the monotonic clock to the wall clock; call once, before any stamp. */
void
cli_stamp_init(void)
{
	anchor = pingoo_now_us() - pingoo_mono_us();
}

int64_t
cli_stamp(void)
{
	return anchor + pingoo_mono_us();
}
