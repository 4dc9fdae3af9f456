/*
 * window.c - the headline of a time-bounded throughput test: the rate the
 * receiver saw once the ramp was over, while every stream was busy.
 */
#include <stddef.h>
#include <stdint.h>

#include "measure/measure.h"

#define GRACE_MAX_US	2000000

int64_t
pingoo_tp_grace_us(uint32_t duration_ms)
{
	int64_t g = (int64_t)duration_ms * 1000 / 5;

	return g < GRACE_MAX_US ? g : GRACE_MAX_US;
}

int64_t
pingoo_tp_time_up_at(const struct pingoo_tp_test *t, enum pingoo_tp_dir dir)
{
	if (t->duration_ms == 0 || (unsigned)dir >= PINGOO_TP__DIRS ||
	    t->started_at[dir] < 0)
		return -1;
	return t->started_at[dir] + (int64_t)t->duration_ms * 1000;
}

/* The bytes of a packet [s, e] of b bytes that fall inside [w0, w1]. */
static double
inside(int64_t s, int64_t e, uint64_t b, int64_t w0, int64_t w1)
{
	int64_t lo = s > w0 ? s : w0, hi = e < w1 ? e : w1;

	if (e == s)
		return s >= w0 && s < w1 ? (double)b : 0;
	if (hi <= lo)
		return 0;
	return (double)b * (double)(hi - lo) / (double)(e - s);
}

/* First start, last start and last end of the packets the receiver timed;
 * 0 when it timed none. */
static int
extent(const struct pingoo_tp_xfer *xf, size_t n, enum pingoo_tp_dir dir,
    int64_t *first, int64_t *last_start, int64_t *last_end)
{
	int64_t s, e;
	size_t i;
	int any = 0;

	for (i = 0; i < n; i++) {
		if (xf[i].dir != dir ||
		    pingoo_tp_span(&xf[i], PINGOO_TP_RECEIVER, &s, &e) < 0)
			continue;
		if (!any || s < *first)
			*first = s;
		if (!any || s > *last_start)
			*last_start = s;
		if (!any || e > *last_end)
			*last_end = e;
		any = 1;
	}
	return any;
}

/* The first end after t among the packets the receiver timed (a packet
 * that ended at t, the one before it on a single stream, does not count:
 * its stream went straight on). */
static int64_t
first_end_after(const struct pingoo_tp_xfer *xf, size_t n,
    enum pingoo_tp_dir dir, int64_t t, int64_t none)
{
	int64_t s, e, best = none;
	size_t i;

	for (i = 0; i < n; i++)
		if (xf[i].dir == dir &&
		    pingoo_tp_span(&xf[i], PINGOO_TP_RECEIVER, &s, &e) >= 0 &&
		    e > t && e < best)
			best = e;
	return best;
}

void
pingoo_tp_window(const struct pingoo_tp_xfer *xf, size_t n,
    enum pingoo_tp_dir dir, uint32_t duration_ms, struct pingoo_tp_window *out)
{
	int64_t first = -1, last_start = -1, last_end = -1, s, e;
	double bytes = 0;
	size_t i;

	out->grace_us = pingoo_tp_grace_us(duration_ms);
	out->start_at = out->end_at = out->bytes = out->bits_per_second = -1;
	if (!extent(xf, n, dir, &first, &last_start, &last_end))
		return;
	out->start_at = first + out->grace_us;
	out->end_at = first_end_after(xf, n, dir, last_start, last_end);
	if (out->end_at - out->start_at < out->grace_us) {
		out->start_at = first;
		out->end_at = last_end;
	}
	for (i = 0; i < n; i++)
		if (xf[i].dir == dir &&
		    pingoo_tp_span(&xf[i], PINGOO_TP_RECEIVER, &s, &e) >= 0)
			bytes += inside(s, e, xf[i].bytes, out->start_at,
			    out->end_at);
	out->bytes = (int64_t)(bytes + 0.5);
	out->bits_per_second = pingoo_tp_bps((uint64_t)out->bytes,
	    out->end_at - out->start_at);
}

int
pingoo_tp_time_over(const struct pingoo_tp_test *t, int64_t now)
{
	int64_t up;
	int d;

	if (t->duration_ms == 0)
		return 0;
	for (d = 0; d < PINGOO_TP__DIRS; d++) {
		if (!(t->dirs & PINGOO_TP_MASK(d)))
			continue;
		up = pingoo_tp_time_up_at(t, (enum pingoo_tp_dir)d);
		if (up < 0 || now < up)
			return 0;
	}
	return 1;
}
