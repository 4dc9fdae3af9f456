/*
 * tpstats.c - pure functions of throughput tests: the names of directions,
 * states and statuses, and the rates derived from transfer records.
 */
#include <stdlib.h>
#include <string.h>

#include "measure/measure.h"
#include "core/core.h"

static const char *const dir_names[] = {
	[PINGOO_TP_DOWNLOAD] =	"download",
	[PINGOO_TP_UPLOAD] =	"upload",
};
PINGOO_TABLE_CHECK(dir_names, PINGOO_TP__DIRS);

static const char *const state_names[] = {
	[PINGOO_TP_INCOMPLETE] =	"incomplete",
	[PINGOO_TP_COMPLETE] =		"complete",
	[PINGOO_TP_ABORTED] =		"aborted",
};
PINGOO_TABLE_CHECK(state_names, PINGOO_TP__STATES);

static const char *const status_names[] = {
	[PINGOO_TP_STARTED] =	"started",
	[PINGOO_TP_OK] =	"ok",
	[PINGOO_TP_FAILED] =	"failed",
};
PINGOO_TABLE_CHECK(status_names, PINGOO_TP__STATUSES);

const char *
pingoo_tp_dir_name(enum pingoo_tp_dir d)
{
	return pingoo_name_of(dir_names, PINGOO_TP__DIRS, (int)d);
}

const char *
pingoo_tp_dirs_name(unsigned dirs)
{
	if (dirs == PINGOO_TP_BOTH)
		return "both";
	if (dirs == PINGOO_TP_MASK(PINGOO_TP_DOWNLOAD))
		return pingoo_tp_dir_name(PINGOO_TP_DOWNLOAD);
	if (dirs == PINGOO_TP_MASK(PINGOO_TP_UPLOAD))
		return pingoo_tp_dir_name(PINGOO_TP_UPLOAD);
	return NULL;
}

unsigned
pingoo_tp_dirs_parse(const char *s)
{
	enum pingoo_tp_dir d;

	if (strcmp(s, "both") == 0)
		return PINGOO_TP_BOTH;
	if (pingoo_tp_dir_parse(s, &d) == PINGOO_OK)
		return PINGOO_TP_MASK(d);
	return 0;
}

enum pingoo_err
pingoo_tp_dir_parse(const char *s, enum pingoo_tp_dir *dir)
{
	int d;

	if ((d = pingoo_name_find(dir_names, PINGOO_TP__DIRS, s, strlen(s))) <
	    0)
		return PINGOO_ERR_INVAL;
	*dir = (enum pingoo_tp_dir)d;
	return PINGOO_OK;
}

const char *
pingoo_tp_state_name(enum pingoo_tp_state s)
{
	return pingoo_name_of(state_names, PINGOO_TP__STATES, (int)s);
}

enum pingoo_err
pingoo_tp_state_parse(const char *s, enum pingoo_tp_state *state)
{
	int i;

	if ((i = pingoo_name_find(state_names, PINGOO_TP__STATES, s,
	    strlen(s))) < 0)
		return PINGOO_ERR_INVAL;
	*state = (enum pingoo_tp_state)i;
	return PINGOO_OK;
}

const char *
pingoo_tp_status_name(enum pingoo_tp_status s)
{
	return pingoo_name_of(status_names, PINGOO_TP__STATUSES, (int)s);
}

enum pingoo_err
pingoo_tp_status_parse(const char *s, enum pingoo_tp_status *status)
{
	int i;

	if ((i = pingoo_name_find(status_names, PINGOO_TP__STATUSES, s,
	    strlen(s))) < 0)
		return PINGOO_ERR_INVAL;
	*status = (enum pingoo_tp_status)i;
	return PINGOO_OK;
}

void
pingoo_tp_test_clear(struct pingoo_tp_test *t)
{
	free(t->client);
	t->client = NULL;
}

/*
 * The interval a side saw a transfer's bytes in.  The receiver: for an
 * upload the server's first and last byte read, for a download the client's
 * first byte (the response's head) and last byte.  The sender: for a
 * download the server's first and last byte written, for an upload the
 * client's request sent to answer received.  Only ok transfers have one.
 */
int64_t
pingoo_tp_span(const struct pingoo_tp_xfer *x, enum pingoo_tp_side side,
    int64_t *start, int64_t *end)
{
	int server = (x->dir == PINGOO_TP_UPLOAD) == (side == PINGOO_TP_RECEIVER);

	if (server) {
		*start = x->server_started_at;
		*end = x->server_finished_at;
	} else {
		*start = x->dir == PINGOO_TP_DOWNLOAD ? x->client_first_byte_at :
		    x->client_sent_at;
		*end = x->client_received_at;
	}
	if (x->status != PINGOO_TP_OK || *start < 0 || *end < *start)
		return -1;
	return *end - *start;
}

int64_t
pingoo_tp_duration_us(const struct pingoo_tp_xfer *x,
    enum pingoo_tp_side side)
{
	int64_t start, end;

	return pingoo_tp_span(x, side, &start, &end);
}

int64_t
pingoo_tp_bps(uint64_t bytes, int64_t duration_us)
{
	/* In floating point: bytes * 8e6 overflows 64 bits past ~1 TiB. */
	if (duration_us <= 0)
		return -1;
	return (int64_t)((double)bytes * 8e6 / (double)duration_us + 0.5);
}

/* Fills the per-packet rate fields from rates[0..n), sorting it. */
static void
rate_spread(int64_t *rates, size_t n, struct pingoo_tp_summary *s)
{
	size_t rank;

	if (n == 0)
		return;
	pingoo_sort_i64(rates, n);
	s->packet_bps_min = rates[0];
	s->packet_bps_max = rates[n - 1];
	s->packet_bps_median = pingoo_median(rates, n);
	/* Nearest rank: the smallest value with at least 90% at or below. */
	rank = (n * 9 + 9) / 10;
	s->packet_bps_p90 = rates[rank - 1];
}

/* Elapsed time, rate and per-packet rates of one side's view. */
struct view {
	int64_t		 first, last;
	uint64_t	 bytes;		/* of the transfers this side timed */
	int64_t		*rates;		/* NULL: none wanted */
	size_t		 nrates;
};

/* Adds transfer x to side's view v when that side timed it. */
static void
view_add(struct view *v, const struct pingoo_tp_xfer *x,
    enum pingoo_tp_side side)
{
	int64_t start, end, dur, bps;

	if ((dur = pingoo_tp_span(x, side, &start, &end)) < 0)
		return;
	v->bytes += x->bytes;
	if (v->first < 0 || start < v->first)
		v->first = start;
	if (end > v->last)
		v->last = end;
	if (v->rates != NULL && (bps = pingoo_tp_bps(x->bytes, dur)) >= 0)
		v->rates[v->nrates++] = bps;
}

/* elapsed and rate from a view; both -1 when it timed nothing. */
static void
view_end(const struct view *v, int64_t *elapsed, int64_t *bps)
{
	*elapsed = *bps = -1;
	if (v->first < 0)
		return;
	*elapsed = v->last - v->first;
	*bps = pingoo_tp_bps(v->bytes, *elapsed);
}

enum pingoo_err
pingoo_tp_summarize(const struct pingoo_tp_xfer *xf, size_t n,
    enum pingoo_tp_dir dir, uint32_t packets, struct pingoo_tp_summary *out)
{
	struct pingoo_tp_summary s;
	struct view rv = { -1, -1, 0, NULL, 0 }, sv = { -1, -1, 0, NULL, 0 };
	size_t i;

	if ((rv.rates = calloc(n > 0 ? n : 1, sizeof(*rv.rates))) == NULL)
		return PINGOO_ERR_NOMEM;
	memset(&s, 0, sizeof(s));
	s.packets = packets;
	s.packet_bps_min = s.packet_bps_median = -1;
	s.packet_bps_p90 = s.packet_bps_max = -1;
	for (i = 0; i < n; i++) {
		if (xf[i].dir != dir)
			continue;
		if (xf[i].status == PINGOO_TP_FAILED)
			s.failed++;
		if (xf[i].status != PINGOO_TP_OK)
			continue;
		s.received++;
		s.bytes += xf[i].bytes;
		if (xf[i].client_received_at >= 0)
			s.reported++;
		view_add(&rv, &xf[i], PINGOO_TP_RECEIVER);
		view_add(&sv, &xf[i], PINGOO_TP_SENDER);
	}
	/* A download's receiver is the client: its figures wait for reports. */
	s.report_missing = dir == PINGOO_TP_DOWNLOAD && s.reported < s.received;
	view_end(&rv, &s.elapsed_us, &s.bits_per_second);
	view_end(&sv, &s.sender_elapsed_us, &s.sender_bits_per_second);
	rate_spread(rv.rates, rv.nrates, &s);
	free(rv.rates);
	*out = s;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_tp_latency(const struct pingoo_tp_probe *p, size_t n, int finished,
    struct pingoo_latency_summary *out)
{
	struct pingoo_probe_rtt *v;
	size_t i, k = 0;
	enum pingoo_err e;

	if ((v = calloc(n > 0 ? n : 1, sizeof(*v))) == NULL)
		return PINGOO_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		/* Echoed, no receipt yet, the test still running: pending. */
		if (p[i].t3 < 0 && p[i].t1 >= 0 && !finished)
			continue;
		v[k].phase = p[i].phase;
		v[k++].rtt_us = p[i].t3 < 0 ? -1 : p[i].t3 - p[i].t0;
	}
	e = pingoo_latency_summarize(v, k, out);
	free(v);
	return e;
}
