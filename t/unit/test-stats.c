/* test-stats.c - ping statistics on hand-computed cases. */
#include <string.h>

#include "core/core.h"
#include "measure/measure.h"
#include "../tap.h"

static struct pingoo_sample
S(uint32_t seq, int64_t t0, int64_t t1, int64_t t2, int64_t t3, int has)
{
	struct pingoo_sample s = { seq, t0, t1, t2, t3, has };
	return s;
}

static void
none(void)
{
	struct pingoo_ping_summary m;

	ok(pingoo_ping_summarize(NULL, 0, 10, 0, &m) == PINGOO_OK,
	    "zero samples summarize");
	ok(m.sent == 0 && m.received == 0 && !m.has_stats,
	    "zero samples of a running test: nothing sent, no statistics");
	pingoo_ping_summarize(NULL, 0, 10, 1, &m);
	ok(m.sent == 10 && m.lost == 10 && m.loss_pct == 100.0,
	    "a finished test with no samples lost all of its count");
}

static void
one(void)
{
	/* t0=1000 t1=1500 t2=1520 t3=2100: rtt 1100, server 20, net 1080,
	 * offset ((500)+(-580))/2 = -40 */
	struct pingoo_sample s = S(0, 1000, 1500, 1520, 2100, 1);
	struct pingoo_ping_summary m;

	ok(pingoo_sample_rtt(&s) == 1100, "rtt is t3 - t0");
	ok(pingoo_sample_server(&s) == 20, "server time is t2 - t1");
	ok(pingoo_sample_network_rtt(&s) == 1080,
	    "network rtt is rtt minus server time");
	ok(pingoo_sample_offset(&s) == -40,
	    "offset is ((t1 - t0) + (t2 - t3)) / 2");
	pingoo_ping_summarize(&s, 1, 1, 1, &m);
	ok(m.has_stats && m.rtt_min == 1100 && m.rtt_max == 1100 &&
	    m.rtt_median == 1100 && m.rtt_p90 == 1100 && m.rtt_p99 == 1100,
	    "one sample: every rtt statistic is that sample");
	ok(m.rtt_stddev == 0 && !m.has_jitter,
	    "one sample: no spread and no jitter");
	ok(m.offset == -40 && m.offset_uncertainty == 540,
	    "one sample: offset and half its network rtt as uncertainty");
	ok(m.lost == 0 && m.loss_pct == 0, "one sample received, none lost");
}

static void
two_unsorted(void)
{
	/* rtts 300 (seq 1) and 100 (seq 0): given in reverse order. */
	struct pingoo_sample v[2] = {
		S(1, 2000, 2050, 2060, 2300, 1),
		S(0, 1000, 1040, 1050, 1100, 1),
	};
	struct pingoo_ping_summary m;

	pingoo_ping_summarize(v, 2, 2, 1, &m);
	ok(m.rtt_min == 100 && m.rtt_max == 300,
	    "two unsorted samples: min and max");
	ok(m.rtt_median == 200 && m.rtt_mean == 200,
	    "two samples: median is the mean of the middle two");
	ok(m.rtt_p90 == 300 && m.rtt_p99 == 300,
	    "two samples: nearest-rank p90 and p99 are the larger");
	ok(m.rtt_stddev == 100, "two samples: population stddev");
	ok(m.has_jitter && m.jitter == 200,
	    "two samples: jitter is the absolute difference");
	/* server 10 and 10; network 90 and 290 */
	ok(m.server_median == 10 && m.network_rtt_median == 190,
	    "server and network medians");
	ok(m.offset_uncertainty == 45,
	    "uncertainty is half the smallest network rtt");
}

static void
lost_and_equal(void)
{
	struct pingoo_sample v[4] = {
		S(0, 0, 5, 6, 50, 1),
		S(1, 100, 105, 106, 150, 1),
		S(2, 200, 205, 206, 0, 0),
		S(3, 300, 305, 306, 350, 1),
	};
	struct pingoo_ping_summary m;

	pingoo_ping_summarize(v, 4, 5, 0, &m);
	ok(m.sent == 4 && m.received == 3 && m.lost == 1,
	    "running test: lost is provisional, echoed minus received");
	ok(m.rtt_min == 50 && m.rtt_max == 50 && m.rtt_stddev == 0 &&
	    m.jitter == 0, "equal rtts: no spread, no jitter");
	pingoo_ping_summarize(v, 4, 5, 1, &m);
	ok(m.sent == 5 && m.lost == 2 && m.loss_pct == 40.0,
	    "finished test: every sample without a receipt is lost");
	v[0].has_t3 = v[1].has_t3 = v[3].has_t3 = 0;
	pingoo_ping_summarize(v, 4, 4, 1, &m);
	ok(!m.has_stats && m.lost == 4, "all lost: no statistics");
}

static void
percentiles(void)
{
	int64_t v[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	int64_t odd[3] = { -5, 0, 7 };
	int64_t neg[2] = { -3, -2 };
	int64_t mixed[3] = { 0, 1, 1 };
	int64_t whole[2] = { 3, 5 };
	int64_t big[2] = { INT64_MAX - 1, INT64_MAX };
	int64_t low[2] = { INT64_MIN, INT64_MIN + 1 };

	ok(pingoo_percentile(v, 10, 90) == 9, "p90 of 1..10 is 9");
	ok(pingoo_percentile(v, 10, 99) == 10, "p99 of 1..10 is 10");
	ok(pingoo_percentile(v, 10, 50) == 5, "p50 of 1..10 is 5");
	ok(pingoo_median(v, 10) == 6, "median of 1..10 (5.5) rounds to 6");
	ok(pingoo_median(odd, 3) == 0, "median of an odd count is the middle");
	ok(pingoo_median(neg, 2) == -3,
	    "median -2.5 rounds half away from zero");
	ok(pingoo_median(mixed, 2) == 1 && pingoo_median(mixed + 1, 2) == 1,
	    "medians 0.5 and 1 of mixed signs round as they should");
	ok(pingoo_median(whole, 2) == 4, "an exact mean is not rounded");
	ok(pingoo_median(big, 2) == INT64_MAX,
	    "the mean of two huge values does not overflow");
	ok(pingoo_median(low, 2) == INT64_MIN,
	    "nor does the mean of two huge negative values");
	ok(pingoo_median(v, 0) == 0 && pingoo_percentile(v, 0, 50) == 0,
	    "no values: median and percentile are 0");
}

/*
 * The offset is the one of the sample with the smallest network RTT.  A:
 * a slow way out (offset 495, network RTT 1010); B: symmetric and quick
 * (offset 0, network RTT 100); C: slow out again (offset 445, 910).  The
 * median of the offsets (445) would lie outside B's bound of +-50.
 */
static void
offset_of_quickest(void)
{
	struct pingoo_sample v[3] = {
		S(0, 0, 1000, 1010, 1020, 1),
		S(1, 2000, 2050, 2060, 2110, 1),
		S(2, 3000, 3900, 3910, 3920, 1),
	};
	struct pingoo_ping_summary m;

	pingoo_ping_summarize(v, 3, 3, 1, &m);
	ok(m.offset == 0 && m.offset_uncertainty == 50,
	    "the offset is the quickest sample's, within half its network rtt");
	v[1] = S(1, 2000, 2050, 2060, 2111, 1);
	pingoo_ping_summarize(v, 3, 3, 1, &m);
	ok(m.offset_uncertainty == 51,
	    "half an odd network rtt is rounded up, so the bound holds");
}

int
main(void)
{
	none();
	one();
	two_unsorted();
	lost_and_equal();
	offset_of_quickest();
	percentiles();
	return tap_done();
}
