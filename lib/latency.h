/*
 * latency.h - latency under load: the probes a throughput test carries
 * (application-layer echoes, each tagged with the phase of the test it was
 * sent in), their per-phase summaries, the bufferbloat grade and the
 * responsiveness in round trips per minute.  Pure functions, no I/O.
 */
#ifndef PINGOO_LATENCY_H
#define PINGOO_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "pingoo.h"

/* When a probe was sent: before the first packet, or while packets of a
 * direction (or of both at once) were moving. */
enum pingoo_phase {
	PINGOO_PHASE_IDLE = 0,
	PINGOO_PHASE_DOWNLOAD,
	PINGOO_PHASE_UPLOAD,
	PINGOO_PHASE_BIDIRECTIONAL,
	PINGOO_PHASE__MAX
};

/* A probe's round trip as the client saw it (t3 - t0), -1 when no answer
 * reached it (lost). */
struct pingoo_probe_rtt {
	enum pingoo_phase	phase;
	int64_t			rtt_us;
};

/* One phase's figures; the rtt fields are -1 ("null") without answers. */
struct pingoo_phase_summary {
	int		present;	/* the test has probes of this phase */
	uint32_t	samples;	/* answered probes */
	uint32_t	lost;
	int64_t		rtt_median_us;
	int64_t		rtt_p90_us;
	int64_t		rtt_p99_us;
	int		has_rise;	/* a loaded phase, and an idle baseline */
	int64_t		rise_median_us;	/* median - idle median (may be < 0) */
};

/* The grades, best first; PINGOO_GRADE_NONE when there is nothing to
 * grade (no idle baseline or no loaded phase). */
enum pingoo_grade {
	PINGOO_GRADE_APLUS = 0,
	PINGOO_GRADE_A,
	PINGOO_GRADE_B,
	PINGOO_GRADE_C,
	PINGOO_GRADE_D,
	PINGOO_GRADE_F,
	PINGOO_GRADE_NONE
};

struct pingoo_latency_summary {
	struct pingoo_phase_summary phase[PINGOO_PHASE__MAX];
	enum pingoo_grade	grade;
	int64_t			responsiveness_rpm;	/* -1: no loaded probe */
};

/* "idle", "download", "upload", "bidirectional"; NULL out of range. */
const char	*pingoo_phase_name(enum pingoo_phase);
/* PINGOO_OK and *p for a phase name; PINGOO_ERR_INVAL otherwise. */
enum pingoo_err	 pingoo_phase_parse(const char *s, enum pingoo_phase *p);
/* "A+", "A", "B", "C", "D", "F"; NULL for PINGOO_GRADE_NONE. */
const char	*pingoo_grade_name(enum pingoo_grade);
/* The grade of a rise of the RTT under load: A+ under 5 ms, A under 30,
 * B under 60, C under 200, D under 400, else F. */
enum pingoo_grade pingoo_grade_of_rise(int64_t rise_us);
/*
 * The mean of sorted v[0..n) with the largest 5% left out (floor(n / 20)
 * values, so fewer than 20 values keep them all), rounded to the nearest;
 * -1 when n is 0.
 */
int64_t		 pingoo_trimmed_mean(const int64_t *sorted, size_t n);
/*
 * Summarizes probes p[0..n) (any order): per phase, the answered and lost
 * probes and the median, p90 and p99 (nearest rank) of the answered ones'
 * RTT; for each loaded phase the rise of its median over the idle median;
 * the grade of the largest rise; and the responsiveness, 60 000 ms over
 * the trimmed mean of every answered loaded probe's RTT in ms, rounded
 * (-1 when there is none, or the mean is 0).  PINGOO_ERR_NOMEM when scratch
 * memory cannot be had, with *out untouched.
 */
enum pingoo_err	 pingoo_latency_summarize(const struct pingoo_probe_rtt *p,
		    size_t n, struct pingoo_latency_summary *out);

#endif
