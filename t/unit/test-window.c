/* test-window.c - the headline window of time-bounded throughput tests. */
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "measure/measure.h"
#include "../tap.h"

/* An ok upload of bytes the server read from start to end (µs). */
static struct pingoo_tp_xfer
up(uint32_t seq, uint64_t bytes, int64_t start, int64_t end)
{
	struct pingoo_tp_xfer x;

	memset(&x, 0, sizeof(x));
	x.dir = PINGOO_TP_UPLOAD;
	x.seq = seq;
	x.status = PINGOO_TP_OK;
	x.bytes = bytes;
	x.server_started_at = start;
	x.server_finished_at = end;
	x.client_sent_at = x.client_first_byte_at = x.client_received_at = -1;
	return x;
}

static void
test_grace(void)
{
	ok(pingoo_tp_grace_us(1000) == 200000 &&
	    pingoo_tp_grace_us(10000) == 2000000 &&
	    pingoo_tp_grace_us(60000) == 2000000,
	    "the grace is a fifth of the duration, at most 2 s");
}

/* A steady 1 MB/s in packets of 250 ms over 10 s, after a first second
 * at a quarter of the rate: the ramp stays out of the headline. */
static void
test_ramp_excluded(void)
{
	struct pingoo_tp_xfer x[64];
	struct pingoo_tp_window w;
	size_t n = 0;
	int64_t t;

	x[n++] = up(0, 250000, 0, 1000000);
	for (t = 1000000; t < 10000000; t += 250000, n++)
		x[n] = up((uint32_t)n, 250000, t, t + 250000);
	pingoo_tp_window(x, n, PINGOO_TP_UPLOAD, 10000, &w);
	ok(w.start_at == 2000000 && w.end_at == 10000000,
	    "the window runs from the grace's end to the first end after the "
	    "last start");
	ok(w.bits_per_second == 8000000,
	    "the headline is the steady rate, not the ramp's");
}

/* Two streams; one falls idle early, the other runs on: the window ends
 * when the first stream ends after the last start. */
static void
test_tail_excluded(void)
{
	struct pingoo_tp_xfer x[4];
	struct pingoo_tp_window w;

	x[0] = up(0, 500000, 0, 5000000);
	x[1] = up(1, 500000, 0, 5000000);
	x[2] = up(2, 500000, 5000000, 10000000);	/* last start */
	x[3] = up(3, 1000000, 5000000, 15000000);	/* runs on alone */
	pingoo_tp_window(x, 4, PINGOO_TP_UPLOAD, 10000, &w);
	ok(w.end_at == 10000000, "the window ends at the first end after the "
	    "last start");
	/* 8 s inside: packets 0, 1 give 3/5 each, 2 all, 3 half. */
	ok(w.bytes == 300000 + 300000 + 500000 + 500000 &&
	    w.bits_per_second == 1600000,
	    "each packet counts for the part of it inside the window");
}

/* A stall inside the window stays in: the bytes are spread over it. */
static void
test_stall_kept(void)
{
	struct pingoo_tp_xfer x[3];
	struct pingoo_tp_window w;

	x[0] = up(0, 1000000, 0, 2000000);
	x[1] = up(1, 1000000, 2000000, 6000000);	/* stalled 2 s */
	x[2] = up(2, 1000000, 6000000, 8000000);
	pingoo_tp_window(x, 3, PINGOO_TP_UPLOAD, 10000, &w);
	ok(w.start_at == 2000000 && w.end_at == 8000000 &&
	    w.bits_per_second == 2666667,
	    "a stall inside the window lowers the headline");
}

static void
test_short_and_empty(void)
{
	struct pingoo_tp_xfer x[2];
	struct pingoo_tp_window w;

	x[0] = up(0, 1000000, 0, 1000000);
	x[1] = up(1, 1000000, 1000000, 2000000);
	pingoo_tp_window(x, 2, PINGOO_TP_UPLOAD, 10000, &w);
	ok(w.start_at == 0 && w.end_at == 2000000 &&
	    w.bits_per_second == 8000000,
	    "a test cut shorter than twice its grace counts its whole span");
	x[0].status = PINGOO_TP_FAILED;
	x[1].dir = PINGOO_TP_DOWNLOAD;
	pingoo_tp_window(x, 2, PINGOO_TP_UPLOAD, 10000, &w);
	ok(w.start_at == -1 && w.end_at == -1 && w.bytes == -1 &&
	    w.bits_per_second == -1 && w.grace_us == 2000000,
	    "with no packet timed by the receiver the window is null");
}

static void
test_time_up(void)
{
	struct pingoo_tp_test t;

	memset(&t, 0, sizeof(t));
	t.started_at[PINGOO_TP_DOWNLOAD] = 5000000;
	t.started_at[PINGOO_TP_UPLOAD] = -1;
	ok(pingoo_tp_time_up_at(&t, PINGOO_TP_DOWNLOAD) == -1,
	    "an N x S test has no time up");
	t.duration_ms = 10000;
	ok(pingoo_tp_time_up_at(&t, PINGOO_TP_DOWNLOAD) == 15000000 &&
	    pingoo_tp_time_up_at(&t, PINGOO_TP_UPLOAD) == -1,
	    "a direction's time is up duration_ms after its start, and "
	    "unknown before it starts");
}

int
main(void)
{
	test_grace();
	test_ramp_excluded();
	test_tail_excluded();
	test_stall_kept();
	test_short_and_empty();
	test_time_up();
	return tap_done();
}
