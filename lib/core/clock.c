/* clock.c - the two clocks: wall-clock stamps and monotonic durations. */
#include <time.h>

#include "core/core.h"

static int64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these two clocks on Linux. */
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Microseconds since the Unix epoch: comparable with a client's clock. */
int64_t
pingoo_now_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

/* Microseconds of a clock that never jumps: for durations only. */
int64_t
pingoo_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

void
pingoo_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
