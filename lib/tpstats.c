/*
 * tpstats.c - pure functions of throughput tests: the names of directions,
 * states and statuses, and the rates derived from transfer records.
 */
#include <stdlib.h>
#include <string.h>

#include "tp.h"

static const char *const dir_names[PINGOO_TP__DIRS] = {
	"download",	/* PINGOO_TP_DOWNLOAD */
	"upload",	/* PINGOO_TP_UPLOAD */
};

static const char *const state_names[PINGOO_TP__STATES] = {
	"incomplete",	/* PINGOO_TP_INCOMPLETE */
	"complete",	/* PINGOO_TP_COMPLETE */
	"aborted",	/* PINGOO_TP_ABORTED */
};

static const char *const status_names[PINGOO_TP__STATUSES] = {
	"started",	/* PINGOO_TP_STARTED */
	"ok",		/* PINGOO_TP_OK */
	"failed",	/* PINGOO_TP_FAILED */
};

const char *
pingoo_tp_dir_name(enum pingoo_tp_dir d)
{
	return (unsigned)d < PINGOO_TP__DIRS ? dir_names[d] : NULL;
}

const char *
pingoo_tp_dirs_name(unsigned dirs)
{
	if (dirs == PINGOO_TP_BOTH)
		return "both";
	if (dirs == PINGOO_TP_MASK(PINGOO_TP_DOWNLOAD))
		return dir_names[PINGOO_TP_DOWNLOAD];
	if (dirs == PINGOO_TP_MASK(PINGOO_TP_UPLOAD))
		return dir_names[PINGOO_TP_UPLOAD];
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

	for (d = 0; d < PINGOO_TP__DIRS; d++)
		if (strcmp(s, dir_names[d]) == 0) {
			*dir = (enum pingoo_tp_dir)d;
			return PINGOO_OK;
		}
	return PINGOO_ERR_INVAL;
}

const char *
pingoo_tp_state_name(enum pingoo_tp_state s)
{
	return (unsigned)s < PINGOO_TP__STATES ? state_names[s] : "unknown";
}

const char *
pingoo_tp_status_name(enum pingoo_tp_status s)
{
	return (unsigned)s < PINGOO_TP__STATUSES ? status_names[s] : "unknown";
}

int64_t
pingoo_tp_duration_us(const struct pingoo_tp_xfer *x)
{
	if (x->status != PINGOO_TP_OK || x->server_finished_at < 0 ||
	    x->server_finished_at < x->server_started_at)
		return -1;
	return x->server_finished_at - x->server_started_at;
}

int64_t
pingoo_tp_client_duration_us(const struct pingoo_tp_xfer *x)
{
	if (x->status != PINGOO_TP_OK || x->client_sent_at < 0 ||
	    x->client_received_at < x->client_sent_at)
		return -1;
	return x->client_received_at - x->client_sent_at;
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

/* Adds one ok transfer to the totals; its rate, when it has one, to rates. */
static void
add_ok(const struct pingoo_tp_xfer *x, struct pingoo_tp_summary *s,
    int64_t *first, int64_t *last, int64_t *rates, size_t *nrates)
{
	int64_t bps;

	s->received++;
	s->bytes += x->bytes;
	if (*first < 0 || x->server_started_at < *first)
		*first = x->server_started_at;
	if (x->server_finished_at > *last)
		*last = x->server_finished_at;
	if ((bps = pingoo_tp_bps(x->bytes, pingoo_tp_duration_us(x))) >= 0)
		rates[(*nrates)++] = bps;
}

/* The client's aggregate over the ok transfers it reported. */
static void
client_view(const struct pingoo_tp_xfer *xf, size_t n, enum pingoo_tp_dir dir,
    struct pingoo_tp_summary *s)
{
	int64_t first = -1, last = -1;
	size_t i;

	s->client_bytes = 0;
	s->client_elapsed_us = s->client_bits_per_second = -1;
	for (i = 0; i < n; i++) {
		if (xf[i].dir != dir || pingoo_tp_client_duration_us(&xf[i]) < 0)
			continue;
		s->client_bytes += xf[i].bytes;
		if (first < 0 || xf[i].client_sent_at < first)
			first = xf[i].client_sent_at;
		if (xf[i].client_received_at > last)
			last = xf[i].client_received_at;
	}
	if (first < 0)
		return;
	s->client_elapsed_us = last - first;
	s->client_bits_per_second = pingoo_tp_bps(s->client_bytes,
	    s->client_elapsed_us);
}

enum pingoo_err
pingoo_tp_summarize(const struct pingoo_tp_xfer *xf, size_t n,
    enum pingoo_tp_dir dir, uint32_t packets, struct pingoo_tp_summary *out)
{
	struct pingoo_tp_summary s;
	int64_t *rates, first = -1, last = -1;
	size_t i, nrates = 0;

	if ((rates = calloc(n > 0 ? n : 1, sizeof(*rates))) == NULL)
		return PINGOO_ERR_NOMEM;
	memset(&s, 0, sizeof(s));
	s.packets = packets;
	s.elapsed_us = s.bits_per_second = -1;
	s.packet_bps_min = s.packet_bps_median = -1;
	s.packet_bps_p90 = s.packet_bps_max = -1;
	for (i = 0; i < n; i++) {
		if (xf[i].dir != dir)
			continue;
		if (xf[i].status == PINGOO_TP_FAILED)
			s.failed++;
		else if (pingoo_tp_duration_us(&xf[i]) >= 0)
			add_ok(&xf[i], &s, &first, &last, rates, &nrates);
	}
	if (s.received > 0) {
		s.elapsed_us = last - first;
		s.bits_per_second = pingoo_tp_bps(s.bytes, s.elapsed_us);
	}
	client_view(xf, n, dir, &s);
	rate_spread(rates, nrates, &s);
	free(rates);
	*out = s;
	return PINGOO_OK;
}
