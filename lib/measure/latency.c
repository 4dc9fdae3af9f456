/*
 * latency.c - per-phase summaries of a throughput test's latency probes,
 * the bufferbloat grade and the responsiveness (RPM).
 */
#include <stdlib.h>
#include <string.h>

#include "measure/measure.h"
#include "core/core.h"

static const char *const phase_names[] = {
	[PINGOO_PHASE_IDLE] =		"idle",
	[PINGOO_PHASE_DOWNLOAD] =	"download",
	[PINGOO_PHASE_UPLOAD] =		"upload",
	[PINGOO_PHASE_BIDIRECTIONAL] =	"bidirectional",
};
PINGOO_TABLE_CHECK(phase_names, PINGOO_PHASE__MAX);

/* PINGOO_GRADE_NONE has no name. */
static const char *const grade_names[] = {
	[PINGOO_GRADE_APLUS] =	"A+",
	[PINGOO_GRADE_A] =	"A",
	[PINGOO_GRADE_B] =	"B",
	[PINGOO_GRADE_C] =	"C",
	[PINGOO_GRADE_D] =	"D",
	[PINGOO_GRADE_F] =	"F",
};
PINGOO_TABLE_CHECK(grade_names, PINGOO_GRADE_NONE);

/* The upper bound (exclusive) of each grade's rise, in µs; F has none. */
static const int64_t grade_below_us[] = {
	[PINGOO_GRADE_APLUS] =	5000,
	[PINGOO_GRADE_A] =	30000,
	[PINGOO_GRADE_B] =	60000,
	[PINGOO_GRADE_C] =	200000,
	[PINGOO_GRADE_D] =	400000,
};
PINGOO_TABLE_CHECK(grade_below_us, PINGOO_GRADE_F);

const char *
pingoo_phase_name(enum pingoo_phase p)
{
	return pingoo_name_of(phase_names, PINGOO_PHASE__MAX, (int)p);
}

enum pingoo_err
pingoo_phase_parse(const char *s, enum pingoo_phase *p)
{
	int i;

	if ((i = pingoo_name_find(phase_names, PINGOO_PHASE__MAX, s,
	    strlen(s))) < 0)
		return PINGOO_ERR_INVAL;
	*p = (enum pingoo_phase)i;
	return PINGOO_OK;
}

const char *
pingoo_grade_name(enum pingoo_grade g)
{
	return pingoo_name_of(grade_names, PINGOO_GRADE_NONE, (int)g);
}

enum pingoo_grade
pingoo_grade_of_rise(int64_t rise_us)
{
	int g;

	for (g = 0; g < PINGOO_GRADE_F; g++)
		if (rise_us < grade_below_us[g])
			return (enum pingoo_grade)g;
	return PINGOO_GRADE_F;
}

int64_t
pingoo_trimmed_mean(const int64_t *v, size_t n)
{
	size_t keep = n - n / 20, i;
	double sum = 0;

	if (n == 0)
		return -1;
	for (i = 0; i < keep; i++)
		sum += (double)v[i];
	return (int64_t)(sum / (double)keep + 0.5);
}

/* The answered RTTs of phase ph among p[0..n) into v, sorted; their
 * count.  Lost probes are counted in s. */
static size_t
phase_rtts(const struct pingoo_probe_rtt *p, size_t n, enum pingoo_phase ph,
    int64_t *v, struct pingoo_phase_summary *s)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (p[i].phase != ph)
			continue;
		s->present = 1;
		if (p[i].rtt_us < 0)
			s->lost++;
		else
			v[k++] = p[i].rtt_us;
	}
	pingoo_sort_i64(v, k);
	return k;
}

static void
phase_stats(const int64_t *v, size_t k, struct pingoo_phase_summary *s)
{
	s->samples = (uint32_t)k;
	s->rtt_median_us = s->rtt_p90_us = s->rtt_p99_us = -1;
	if (k == 0)
		return;
	s->rtt_median_us = pingoo_median(v, k);
	s->rtt_p90_us = pingoo_percentile(v, k, 90);
	s->rtt_p99_us = pingoo_percentile(v, k, 99);
}

/* RPM from every answered loaded probe: 60 000 ms over the trimmed mean
 * of their RTT, in µs here: 60e6 µs / mean µs. */
static int64_t
responsiveness(const struct pingoo_probe_rtt *p, size_t n, int64_t *v)
{
	size_t i, k = 0;
	int64_t mean;

	for (i = 0; i < n; i++)
		if (p[i].phase != PINGOO_PHASE_IDLE && p[i].rtt_us >= 0)
			v[k++] = p[i].rtt_us;
	pingoo_sort_i64(v, k);
	if ((mean = pingoo_trimmed_mean(v, k)) <= 0)
		return -1;
	return (int64_t)(60e6 / (double)mean + 0.5);
}

enum pingoo_err
pingoo_latency_summarize(const struct pingoo_probe_rtt *p, size_t n,
    struct pingoo_latency_summary *out)
{
	struct pingoo_latency_summary s;
	struct pingoo_phase_summary *ph, *idle;
	int64_t *v, worst = 0;
	int i, graded = 0;

	if ((v = calloc(n > 0 ? n : 1, sizeof(*v))) == NULL)
		return PINGOO_ERR_NOMEM;
	memset(&s, 0, sizeof(s));
	for (i = 0; i < PINGOO_PHASE__MAX; i++)
		phase_stats(v, phase_rtts(p, n, (enum pingoo_phase)i, v,
		    &s.phase[i]), &s.phase[i]);
	idle = &s.phase[PINGOO_PHASE_IDLE];
	for (i = PINGOO_PHASE_IDLE + 1; i < PINGOO_PHASE__MAX; i++) {
		ph = &s.phase[i];
		if (idle->samples == 0 || ph->samples == 0)
			continue;
		ph->has_rise = 1;
		ph->rise_median_us = ph->rtt_median_us - idle->rtt_median_us;
		if (!graded || ph->rise_median_us > worst)
			worst = ph->rise_median_us;
		graded = 1;
	}
	/* A loaded median below the idle one is no rise: A+. */
	s.grade = graded ? pingoo_grade_of_rise(worst) : PINGOO_GRADE_NONE;
	s.responsiveness_rpm = responsiveness(p, n, v);
	free(v);
	*out = s;
	return PINGOO_OK;
}
