/*
 * stats.c - what the four stamps of a ping say: RTT, server time, network
 * RTT, clock offset, and the summary of a test.  Pure functions.
 *
 * Definitions (docs/api.md): percentiles are nearest-rank; the median of an
 * even count is the mean of the middle two, rounded half away from zero;
 * the standard deviation is the population one; jitter is the mean
 * absolute difference between consecutive RTTs in sequence order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "measure/measure.h"
#include "core/core.h"

int64_t
pingoo_sample_rtt(const struct pingoo_sample *s)
{
	return s->t3 - s->t0;
}

int64_t
pingoo_sample_server(const struct pingoo_sample *s)
{
	return s->t2 - s->t1;
}

int64_t
pingoo_sample_network_rtt(const struct pingoo_sample *s)
{
	return (s->t3 - s->t0) - (s->t2 - s->t1);
}

/* ((t1 - t0) + (t2 - t3)) / 2: how far the server's clock is ahead. */
int64_t
pingoo_sample_offset(const struct pingoo_sample *s)
{
	int64_t sum = (s->t1 - s->t0) + (s->t2 - s->t3);

	/* Round half away from zero, as the median does. */
	return sum >= 0 ? (sum + 1) / 2 : -((-sum + 1) / 2);
}

static int
cmp_seq(const void *a, const void *b)
{
	const struct pingoo_sample *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Fills the RTT statistics from the received samples, sorted by seq. */
static void
rtt_stats(const struct pingoo_sample *r, size_t n, int64_t *tmp,
    struct pingoo_ping_summary *out)
{
	double sum = 0, var = 0, diff = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		tmp[i] = pingoo_sample_rtt(&r[i]);
		sum += (double)tmp[i];
		if (i > 0)
			diff += fabs((double)(tmp[i] - tmp[i - 1]));
	}
	out->rtt_mean = sum / (double)n;
	for (i = 0; i < n; i++)
		var += ((double)tmp[i] - out->rtt_mean) *
		    ((double)tmp[i] - out->rtt_mean);
	out->rtt_stddev = sqrt(var / (double)n);
	out->has_jitter = n >= 2;
	out->jitter = n >= 2 ? diff / (double)(n - 1) : 0;
	pingoo_sort_i64(tmp, n);
	out->rtt_min = tmp[0];
	out->rtt_max = tmp[n - 1];
	out->rtt_median = pingoo_median(tmp, n);
	out->rtt_p90 = pingoo_percentile(tmp, n, 90);
	out->rtt_p99 = pingoo_percentile(tmp, n, 99);
}

/* Server time, network RTT and offset medians; uncertainty from the
 * smallest network RTT (the offset cannot be known better than that). */
static void
clock_stats(const struct pingoo_sample *r, size_t n, int64_t *tmp,
    struct pingoo_ping_summary *out)
{
	size_t i, best;

	for (i = 0; i < n; i++)
		tmp[i] = pingoo_sample_server(&r[i]);
	pingoo_sort_i64(tmp, n);
	out->server_median = pingoo_median(tmp, n);
	for (i = 0; i < n; i++)
		tmp[i] = pingoo_sample_network_rtt(&r[i]);
	pingoo_sort_i64(tmp, n);
	out->network_rtt_median = pingoo_median(tmp, n);
	/*
	 * The true offset lies within half a sample's network round trip of
	 * that sample's offset, whatever the asymmetry of its two legs; so the
	 * offset is the one of the sample with the smallest network RTT (the
	 * first in seq order on a tie) and the uncertainty half that RTT,
	 * rounded up, a bound rather than a typical error.  A median of the
	 * offsets has no such bound.
	 */
	best = 0;
	for (i = 1; i < n; i++)
		if (pingoo_sample_network_rtt(&r[i]) <
		    pingoo_sample_network_rtt(&r[best]))
			best = i;
	out->offset = pingoo_sample_offset(&r[best]);
	out->offset_uncertainty = tmp[0] >= 0 ? (tmp[0] + 1) / 2 : tmp[0] / 2;
}

enum pingoo_err
pingoo_ping_summarize(const struct pingoo_sample *s, size_t n, int64_t count,
    int finished, struct pingoo_ping_summary *out)
{
	struct pingoo_sample *r = NULL;
	int64_t *tmp = NULL;
	size_t i, nr = 0;
	enum pingoo_err e = PINGOO_OK;

	memset(out, 0, sizeof(*out));
	out->echoed = (int64_t)n;
	if (n > 0 && ((r = calloc(n, sizeof(*r))) == NULL ||
	    (tmp = calloc(n, sizeof(*tmp))) == NULL)) {
		e = PINGOO_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (s[i].has_t3)
			r[nr++] = s[i];
	out->received = (int64_t)nr;
	/* Finished: every planned sample without a receipt is lost. */
	out->sent = finished ? count : (int64_t)n;
	out->lost = out->sent - out->received;
	out->has_loss = out->sent > 0;
	out->loss_pct = out->sent > 0 ?
	    100.0 * (double)out->lost / (double)out->sent : 0;
	if (nr == 0)
		goto out;
	out->has_stats = 1;
	qsort(r, nr, sizeof(*r), cmp_seq);
	rtt_stats(r, nr, tmp, out);
	clock_stats(r, nr, tmp, out);
out:
	free(r);
	free(tmp);
	return e;
}

static void
add_i64(struct json_object *o, const char *k, int64_t v, int have)
{
	json_object_object_add(o, k, have ? json_object_new_int64(v) : NULL);
}

/* Rounded to the microsecond: the stamps have no finer resolution. */
static void
add_us(struct json_object *o, const char *k, double v, int have)
{
	json_object_object_add(o, k, have ?
	    json_object_new_int64((int64_t)llround(v)) : NULL);
}

struct json_object *
pingoo_ping_summary_json(const struct pingoo_ping_summary *s)
{
	struct json_object *o = json_object_new_object();
	int st = s->has_stats;

	add_i64(o, "sent", s->sent, 1);
	add_i64(o, "echoed", s->echoed, 1);
	add_i64(o, "received", s->received, 1);
	add_i64(o, "lost", s->lost, 1);
	json_object_object_add(o, "loss_pct", s->has_loss ?
	    json_object_new_double(round(s->loss_pct * 1000) / 1000) : NULL);
	add_i64(o, "rtt_min_us", s->rtt_min, st);
	add_us(o, "rtt_mean_us", s->rtt_mean, st);
	add_i64(o, "rtt_median_us", s->rtt_median, st);
	add_i64(o, "rtt_p90_us", s->rtt_p90, st);
	add_i64(o, "rtt_p99_us", s->rtt_p99, st);
	add_i64(o, "rtt_max_us", s->rtt_max, st);
	add_us(o, "rtt_stddev_us", s->rtt_stddev, st);
	add_us(o, "jitter_us", s->jitter, st && s->has_jitter);
	add_i64(o, "server_median_us", s->server_median, st);
	add_i64(o, "network_rtt_median_us", s->network_rtt_median, st);
	add_i64(o, "offset_us", s->offset, st);
	add_i64(o, "offset_uncertainty_us", s->offset_uncertainty, st);
	return o;
}

/* ---- a ping test's state, and what a test owns ---- */

static const char *const ping_state_names[] = {
	[PING_INCOMPLETE] =	"incomplete",
	[PING_COMPLETE] =	"complete",
	[PING_ABORTED] =	"aborted",
};
PINGOO_TABLE_CHECK(ping_state_names, PING__STATES);

const char *
pingoo_ping_state_name(enum ping_state s)
{
	return pingoo_name_of(ping_state_names, PING__STATES, (int)s);
}

enum pingoo_err
pingoo_ping_state_parse(const char *s, enum ping_state *state)
{
	int i;

	if ((i = pingoo_name_find(ping_state_names, PING__STATES, s,
	    strlen(s))) < 0)
		return PINGOO_ERR_INVAL;
	*state = (enum ping_state)i;
	return PINGOO_OK;
}

void
pingoo_ping_test_clear(struct pingoo_ping_test *t)
{
	free(t->client);
	free(t->summary);
	memset(t, 0, sizeof(*t));
}
