/* test-latency.c - latency under load: phases, grade, trimmed mean, RPM. */
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "measure/measure.h"
#include "../tap.h"

#define MS 1000

static void
test_names(void)
{
	enum pingoo_phase p;

	ok(pingoo_phase_parse("bidirectional", &p) == PINGOO_OK &&
	    p == PINGOO_PHASE_BIDIRECTIONAL &&
	    strcmp(pingoo_phase_name(PINGOO_PHASE_IDLE), "idle") == 0,
	    "phases parse and name back");
	ok(pingoo_phase_parse("Idle", &p) == PINGOO_ERR_INVAL &&
	    pingoo_phase_parse("", &p) == PINGOO_ERR_INVAL,
	    "other phase names are refused");
	ok(strcmp(pingoo_grade_name(PINGOO_GRADE_APLUS), "A+") == 0 &&
	    pingoo_grade_name(PINGOO_GRADE_NONE) == NULL,
	    "grades name as A+ .. F, none has no name");
}

static void
test_grade(void)
{
	ok(pingoo_grade_of_rise(4999) == PINGOO_GRADE_APLUS &&
	    pingoo_grade_of_rise(-20 * MS) == PINGOO_GRADE_APLUS,
	    "under 5 ms of rise (or a fall) is A+");
	ok(pingoo_grade_of_rise(5 * MS) == PINGOO_GRADE_A &&
	    pingoo_grade_of_rise(30 * MS - 1) == PINGOO_GRADE_A,
	    "5 ms up to 30 ms is A");
	ok(pingoo_grade_of_rise(30 * MS) == PINGOO_GRADE_B &&
	    pingoo_grade_of_rise(60 * MS) == PINGOO_GRADE_C &&
	    pingoo_grade_of_rise(200 * MS) == PINGOO_GRADE_D,
	    "each bound belongs to the next grade down");
	ok(pingoo_grade_of_rise(400 * MS - 1) == PINGOO_GRADE_D &&
	    pingoo_grade_of_rise(400 * MS) == PINGOO_GRADE_F,
	    "400 ms of rise and more is F");
}

/* Every grade's bound is in its slot: rising from a fall to a second of
 * rise, the grade only goes down, through every one of A+ .. F. */
static void
test_grade_walk(void)
{
	int seen[PINGOO_GRADE_NONE] = { 0 }, last = PINGOO_GRADE_APLUS, g;
	int down = 1, all = 1;
	int64_t rise;

	for (rise = -MS; rise <= 1000 * MS; rise += 100) {
		g = pingoo_grade_of_rise(rise);
		if (g < last || g >= PINGOO_GRADE_NONE) {
			down = 0;
			break;
		}
		seen[g] = 1;
		last = g;
	}
	for (g = 0; g < PINGOO_GRADE_NONE; g++)
		all &= seen[g];
	ok(down && all, "a growing rise goes through every grade, in order");
}

static void
test_trimmed_mean(void)
{
	int64_t v[40];
	int i;

	ok(pingoo_trimmed_mean(NULL, 0) == -1, "no values: no mean");
	for (i = 0; i < 19; i++)
		v[i] = i + 1;
	ok(pingoo_trimmed_mean(v, 19) == 10,
	    "under 20 values nothing is dropped (1..19: 10)");
	for (i = 0; i < 20; i++)
		v[i] = 10;
	v[19] = 1000000;
	ok(pingoo_trimmed_mean(v, 20) == 10,
	    "20 values: the worst one is dropped");
	for (i = 0; i < 40; i++)
		v[i] = i < 38 ? 3 : 900;
	ok(pingoo_trimmed_mean(v, 40) == 3, "40 values: the worst two are dropped");
	v[0] = 1;
	v[1] = 2;
	ok(pingoo_trimmed_mean(v, 2) == 2, "the mean rounds to the nearest (1.5 to 2)");
}

static void
test_summary(void)
{
	struct pingoo_probe_rtt p[16];
	struct pingoo_latency_summary s;
	size_t n = 0;
	int i;

	/* idle 3, 3, 4 ms and one lost; download 20 ms x 5; upload 46 ms x 4
	 * and 200 ms once. */
	for (i = 0; i < 3; i++)
		p[n++] = (struct pingoo_probe_rtt){ PINGOO_PHASE_IDLE,
		    (i == 2 ? 4 : 3) * MS };
	p[n++] = (struct pingoo_probe_rtt){ PINGOO_PHASE_IDLE, -1 };
	for (i = 0; i < 5; i++)
		p[n++] = (struct pingoo_probe_rtt){ PINGOO_PHASE_DOWNLOAD,
		    20 * MS };
	for (i = 0; i < 5; i++)
		p[n++] = (struct pingoo_probe_rtt){ PINGOO_PHASE_UPLOAD,
		    (i == 4 ? 200 : 46) * MS };
	ok(pingoo_latency_summarize(p, n, &s) == PINGOO_OK, "summarized");
	ok(s.phase[PINGOO_PHASE_IDLE].present &&
	    s.phase[PINGOO_PHASE_IDLE].samples == 3 &&
	    s.phase[PINGOO_PHASE_IDLE].lost == 1 &&
	    s.phase[PINGOO_PHASE_IDLE].rtt_median_us == 3 * MS,
	    "idle: 3 answered, 1 lost, median 3 ms");
	ok(!s.phase[PINGOO_PHASE_IDLE].has_rise,
	    "the idle phase has no rise");
	ok(s.phase[PINGOO_PHASE_DOWNLOAD].rise_median_us == 17 * MS &&
	    s.phase[PINGOO_PHASE_UPLOAD].rise_median_us == 43 * MS,
	    "each loaded phase rises by its median over the idle median");
	ok(s.phase[PINGOO_PHASE_UPLOAD].rtt_p90_us == 200 * MS &&
	    s.phase[PINGOO_PHASE_UPLOAD].rtt_p99_us == 200 * MS,
	    "p90 and p99 are nearest-rank");
	ok(!s.phase[PINGOO_PHASE_BIDIRECTIONAL].present,
	    "a phase without probes is absent");
	ok(s.grade == PINGOO_GRADE_B, "the largest rise (43 ms) grades B");
	/* Loaded: 20 x5, 46 x4, 200: 10 values, nothing dropped: 48.4 ms. */
	ok(s.responsiveness_rpm == 1240,
	    "RPM is 60000 ms over the loaded probes' trimmed mean (48.4 ms)");
}

static void
test_nothing_to_grade(void)
{
	struct pingoo_probe_rtt p[2] = {
		{ PINGOO_PHASE_DOWNLOAD, 10 * MS },
		{ PINGOO_PHASE_IDLE, -1 },
	};
	struct pingoo_latency_summary s;

	pingoo_latency_summarize(p, 2, &s);
	ok(s.grade == PINGOO_GRADE_NONE &&
	    !s.phase[PINGOO_PHASE_DOWNLOAD].has_rise,
	    "without an answered idle probe there is no rise and no grade");
	ok(s.responsiveness_rpm == 6000, "RPM still comes from the loaded probes");
	pingoo_latency_summarize(p + 1, 1, &s);
	ok(s.grade == PINGOO_GRADE_NONE && s.responsiveness_rpm == -1,
	    "idle only: no grade, no RPM");
	pingoo_latency_summarize(NULL, 0, &s);
	ok(s.grade == PINGOO_GRADE_NONE && !s.phase[0].present,
	    "no probes at all: nothing");
}

int
main(void)
{
	test_names();
	test_grade();
	test_grade_walk();
	test_trimmed_mean();
	test_summary();
	test_nothing_to_grade();
	return tap_done();
}
