/*
 * data.c - a user's data as a whole: the export (every test with its
 * items, streamed row by row), the aggregates over groups of tests, the
 * deletion of one test or all of a user's, and the retention pass that
 * removes tests past their age in small batches.  The statements that
 * read or delete one user's data (the export's, the aggregates',
 * DS_DELETE_*, DS_USER_*) name the owner; the retention's DS_OLD_* find
 * tests of any user, and the batch deletes and DS_*_ROW take the id of a
 * test that DS_USER_* or DS_OLD_* found.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "export/export.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store_int.h"

enum data_sql {
	DS_EXPORT_PING,
	DS_EXPORT_TP,
	DS_EXPORT_PROBE,
	/* Four of each, one per enum pingoo_group, in its order. */
	DS_AGG_PING = DS_EXPORT_PROBE + 1,
	DS_AGG_RTT = DS_AGG_PING + PINGOO_GROUP__MAX,
	DS_AGG_TP = DS_AGG_RTT + PINGOO_GROUP__MAX,
	DS_AGG_RATES = DS_AGG_TP + PINGOO_GROUP__MAX,
	DS_AGG_PROBES = DS_AGG_RATES + PINGOO_GROUP__MAX,
	DS_DELETE_PING = DS_AGG_PROBES + PINGOO_GROUP__MAX,
	DS_DELETE_TP,
	DS_USER_PING,		/* a user's first test, for deleting all */
	DS_USER_TP,
	DS_OLD_PING,		/* the oldest test past the retention */
	DS_OLD_TP,
	DS_SAMPLES_BATCH,	/* LIMITed deletes of one test's items */
	DS_TRANSFERS_BATCH,
	DS_PROBES_BATCH,
	DS_PING_ROW,		/* a test row once its items are gone */
	DS_TP_ROW,
	DS__MAX
};

#define FILTER "t.user_id = ? AND t.created_at >= ? AND t.created_at < ?"

/* The group of a test: a value of its client description, or its UTC
 * day as a day number (days since the epoch). */
#define G_NET	"JSON_VALUE(t.client, '$.network_type')"
#define G_PLAT	"JSON_VALUE(t.client, '$.platform')"
#define G_CARR	"JSON_VALUE(t.client, '$.carrier')"
#define G_DAY	"CAST(t.created_at DIV 86400000000 AS CHAR)"

/* Per group: tests, and over the complete ones the samples planned and
 * received (their loss). */
#define AGG_PING(G) "SELECT " G " AS g, COUNT(*), " \
	"SUM(IF(t.state = 'complete', t.count, 0)), " \
	"SUM(IF(t.state = 'complete', (SELECT COUNT(*) FROM ping_samples s " \
	"WHERE s.test_id = t.id AND s.client_received_at IS NOT NULL), 0)) " \
	"FROM ping_tests t WHERE " FILTER " GROUP BY g"
/* The median (the mean of the middle two) and the nearest-rank p90 of
 * every received sample's RTT in the group. */
#define AGG_RTT(G) "SELECT DISTINCT g, " \
	"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY rtt) OVER (PARTITION BY g), " \
	"PERCENTILE_DISC(0.9) WITHIN GROUP (ORDER BY rtt) OVER (PARTITION BY g) " \
	"FROM (SELECT " G " AS g, s.client_received_at - s.client_sent_at AS rtt " \
	"FROM ping_samples s JOIN ping_tests t ON t.id = s.test_id WHERE " \
	FILTER " AND s.client_received_at IS NOT NULL) x"
#define AGG_TP(G) "SELECT " G " AS g, COUNT(*) FROM throughput_tests t " \
	"WHERE " FILTER " GROUP BY g"
/* Per test and direction, what summary.<dir>.bits_per_second is made of:
 * the bytes of the ok transfers the receiver timed (the server an upload,
 * the client a download), from the first byte of the first to the last
 * byte of the last. */
#define RECV_START "IF(x.direction = 'upload', x.server_started_at, " \
	"x.client_first_byte_at)"
#define RECV_END "IF(x.direction = 'upload', x.server_finished_at, " \
	"x.client_received_at)"
#define AGG_RATES(G) "SELECT " G " AS g, x.direction, SUM(x.bytes), " \
	"MIN(" RECV_START "), MAX(" RECV_END ") " \
	"FROM throughput_transfers x JOIN throughput_tests t " \
	"ON t.id = x.test_id WHERE " FILTER " AND x.status = 'ok' AND " \
	RECV_START " IS NOT NULL AND " RECV_END " >= " RECV_START " " \
	"GROUP BY t.id, x.direction"
/* Every probe of the group's tests, a test's adjacent, with what a read
 * needs to tell a pending probe from a lost one. */
#define AGG_PROBES(G) "SELECT " G " AS g, t.id, t.state <> 'incomplete', " \
	"p.phase, p.client_sent_at, p.server_received_at, " \
	"p.client_received_at FROM throughput_probes p JOIN throughput_tests t " \
	"ON t.id = p.test_id WHERE " FILTER " ORDER BY t.id"

/* The rows of an aggregate: statement first + g groups by group g. */
#define BY_GROUP(first, AGG_SQL) \
	[(first) + PINGOO_GROUP_NETWORK_TYPE] = AGG_SQL(G_NET), \
	[(first) + PINGOO_GROUP_PLATFORM] = AGG_SQL(G_PLAT), \
	[(first) + PINGOO_GROUP_CARRIER] = AGG_SQL(G_CARR), \
	[(first) + PINGOO_GROUP_DAY] = AGG_SQL(G_DAY)

static const char *const sql[] = {
	/* DS_EXPORT_PING: a test's rows are adjacent, its samples in order. */
	[DS_EXPORT_PING] =
	"SELECT t.id, t.state, t.count, t.interval_ms, t.client, t.created_at, "
	"t.closed_at, s.seq, s.client_sent_at, s.server_received_at, "
	"s.server_sent_at, s.client_received_at FROM ping_tests t "
	"LEFT JOIN ping_samples s ON s.test_id = t.id WHERE " FILTER
	" ORDER BY t.id, s.seq",
	[DS_EXPORT_TP] =
	"SELECT t.id, t.state, t.direction, t.packets, t.packet_size, t.client, "
	"t.created_at, t.finished_at, x.direction, x.seq, x.status, x.bytes, "
	"x.server_started_at, x.server_finished_at, x.client_sent_at, "
	"x.client_first_byte_at, x.client_received_at FROM throughput_tests t "
	"LEFT JOIN throughput_transfers x ON x.test_id = t.id WHERE " FILTER
	" ORDER BY t.id, x.direction, x.seq",
	/* DS_EXPORT_PROBE: after every throughput test, by test and seq. */
	[DS_EXPORT_PROBE] =
	"SELECT t.id, p.phase, p.seq, p.client_sent_at, p.server_received_at, "
	"p.server_sent_at, p.client_received_at FROM throughput_tests t "
	"JOIN throughput_probes p ON p.test_id = t.id WHERE " FILTER
	" ORDER BY t.id, p.seq",
	BY_GROUP(DS_AGG_PING, AGG_PING),
	BY_GROUP(DS_AGG_RTT, AGG_RTT),
	BY_GROUP(DS_AGG_TP, AGG_TP),
	BY_GROUP(DS_AGG_RATES, AGG_RATES),
	BY_GROUP(DS_AGG_PROBES, AGG_PROBES),
	/* DS_DELETE_PING: samples go with it (ON DELETE CASCADE), as a
	 * throughput test's transfers and probes with it */
	[DS_DELETE_PING] =
	"DELETE FROM ping_tests WHERE id = ? AND user_id = ?",
	[DS_DELETE_TP] =
	"DELETE FROM throughput_tests WHERE id = ? AND user_id = ?",
	[DS_USER_PING] =
	"SELECT id FROM ping_tests WHERE user_id = ? ORDER BY id LIMIT 1",
	[DS_USER_TP] =
	"SELECT id FROM throughput_tests WHERE user_id = ? ORDER BY id LIMIT 1",
	/* An incomplete test is taken only once nothing has happened to it
	 * since the same moment: a test still running is its client's. */
	[DS_OLD_PING] =
	"SELECT t.id FROM ping_tests t WHERE t.created_at < ? "
	"AND (t.state <> 'incomplete' OR NOT EXISTS (SELECT 1 FROM "
	"ping_samples s WHERE s.test_id = t.id AND (s.server_received_at >= ? "
	"OR s.client_received_at >= ?))) ORDER BY t.created_at LIMIT 1",
	[DS_OLD_TP] =
	"SELECT t.id FROM throughput_tests t WHERE t.created_at < ? "
	"AND (t.state <> 'incomplete' OR (NOT EXISTS (SELECT 1 FROM "
	"throughput_transfers x WHERE x.test_id = t.id "
	"AND x.server_started_at >= ?) AND NOT EXISTS (SELECT 1 FROM "
	"throughput_probes p WHERE p.test_id = t.id "
	"AND (p.server_received_at >= ? OR p.client_sent_at >= ?)))) "
	"ORDER BY t.created_at LIMIT 1",
	[DS_SAMPLES_BATCH] =
	"DELETE FROM ping_samples WHERE test_id = ? LIMIT ?",
	[DS_TRANSFERS_BATCH] =
	"DELETE FROM throughput_transfers WHERE test_id = ? LIMIT ?",
	[DS_PROBES_BATCH] =
	"DELETE FROM throughput_probes WHERE test_id = ? LIMIT ?",
	[DS_PING_ROW] =
	"DELETE FROM ping_tests WHERE id = ?",
	[DS_TP_ROW] =
	"DELETE FROM throughput_tests WHERE id = ?",
};
PINGOO_SQL_TABLE_CHECK(sql, DS__MAX);

const struct pingoo_sql_table pingoo_sql_data = { sql, DS__MAX };

static enum pingoo_err
run(struct pingoo_store *s, int idx, MYSQL_BIND *in, MYSQL_BIND *out,
    enum pingoo_err (*row)(void *), void *arg, uint64_t *affected)
{
	return pingoo_store_run(s, PINGOO_SQL_DATA, idx, in, out, row, arg,
	    affected, NULL);
}

/* The (user, from, to) of FILTER. */
static void
bind_filter(MYSQL_BIND *in, uint64_t *user, struct pingoo_export_query *q)
{
	pingoo_bind_u64(&in[0], user);
	pingoo_bind_i64(&in[1], &q->from);
	pingoo_bind_i64(&in[2], &q->to);
}

/* ---- export ------------------------------------------------------------ */

#define CLIENT_MAX PINGOO_STORE_CLIENT_CAP	/* the largest description */

/* One joined row: a test's columns and, unless null, an item's. */
struct export_row {
	MYSQL_BIND		 out[17];
	uint64_t		 id, last_id;
	char			 state[16], tdir[16], dir[16], status[16];
	unsigned long		 statelen, tdirlen, dirlen, statuslen, clientlen;
	char			 statenull, tdirnull, dirnull, statusnull;
	char			 clientnull, intervalnull, finishednull, seqnull;
	char			 n[6];	/* the item's nullable stamps */
	int64_t			 count, interval, packets, size, created;
	int64_t			 finished, seq, bytes, v[6];
	char			*client;
	struct pingoo_export_rec rec;
	enum pingoo_err		(*emit)(const struct pingoo_export_rec *,
				    void *);
	void			*arg;
	uint64_t		 tests, records;
};

static void
bind_i64n(MYSQL_BIND *b, int64_t *v, char *isnull)
{
	pingoo_bind_i64out(b, v, isnull);
}

static void
bind_ping_row(struct export_row *r)
{
	MYSQL_BIND *o = r->out;
	int i;

	pingoo_bind_u64(&o[0], &r->id);
	pingoo_bind_strout(&o[1], r->state, sizeof(r->state), &r->statelen,
	    &r->statenull);
	bind_i64n(&o[2], &r->count, &r->n[5]);
	bind_i64n(&o[3], &r->interval, &r->intervalnull);
	pingoo_bind_strout(&o[4], r->client, CLIENT_MAX, &r->clientlen,
	    &r->clientnull);
	pingoo_bind_i64(&o[5], &r->created);
	bind_i64n(&o[6], &r->finished, &r->finishednull);
	bind_i64n(&o[7], &r->seq, &r->seqnull);
	for (i = 0; i < 4; i++)
		bind_i64n(&o[8 + i], &r->v[i], &r->n[i]);
}

static void
bind_tp_row(struct export_row *r)
{
	MYSQL_BIND *o = r->out;
	int i;

	pingoo_bind_u64(&o[0], &r->id);
	pingoo_bind_strout(&o[1], r->state, sizeof(r->state), &r->statelen,
	    &r->statenull);
	pingoo_bind_strout(&o[2], r->tdir, sizeof(r->tdir), &r->tdirlen,
	    &r->tdirnull);
	pingoo_bind_i64(&o[3], &r->packets);
	pingoo_bind_i64(&o[4], &r->size);
	pingoo_bind_strout(&o[5], r->client, CLIENT_MAX, &r->clientlen,
	    &r->clientnull);
	pingoo_bind_i64(&o[6], &r->created);
	bind_i64n(&o[7], &r->finished, &r->finishednull);
	pingoo_bind_strout(&o[8], r->dir, sizeof(r->dir), &r->dirlen,
	    &r->dirnull);
	bind_i64n(&o[9], &r->seq, &r->seqnull);
	pingoo_bind_strout(&o[10], r->status, sizeof(r->status), &r->statuslen,
	    &r->statusnull);
	bind_i64n(&o[11], &r->bytes, &r->n[5]);
	for (i = 0; i < 5; i++)
		bind_i64n(&o[12 + i], &r->v[i], &r->n[i]);
}

static void
bind_probe_row(struct export_row *r)
{
	MYSQL_BIND *o = r->out;
	int i;

	pingoo_bind_u64(&o[0], &r->id);
	pingoo_bind_strout(&o[1], r->dir, sizeof(r->dir), &r->dirlen,
	    &r->dirnull);
	pingoo_bind_i64(&o[2], &r->seq);
	for (i = 0; i < 4; i++)
		bind_i64n(&o[3 + i], &r->v[i], &r->n[i]);
}

static enum pingoo_err
emit(struct export_row *r)
{
	r->records++;
	return r->emit(&r->rec, r->arg);
}

/* A new test starts: its record first.  Its state and direction go out
 * as the database holds them, once they are known names (name.c). */
static enum pingoo_err
test_rec(struct export_row *r, enum pingoo_export_type type)
{
	struct pingoo_export_test *t = &r->rec.test;
	enum ping_state ps;
	enum pingoo_tp_state ts;

	if (type == PINGOO_EXPORT_PING_TEST ?
	    pingoo_ping_state_parse(r->state, &ps) != PINGOO_OK :
	    pingoo_tp_state_parse(r->state, &ts) != PINGOO_OK)
		return pingoo_store_bad_name(type == PINGOO_EXPORT_PING_TEST ?
		    "ping_tests.state" : "throughput_tests.state", r->state);
	if (type == PINGOO_EXPORT_TP_TEST && pingoo_tp_dirs_parse(r->tdir) == 0)
		return pingoo_store_bad_name("throughput_tests.direction",
		    r->tdir);
	memset(&r->rec, 0, sizeof(r->rec));
	r->rec.type = type;
	r->rec.test_id = r->id;
	t->state = r->state;
	t->created_at = r->created;
	t->finished_at = r->finishednull ? -1 : r->finished;
	t->client = r->clientnull ? NULL : r->client;
	if (type == PINGOO_EXPORT_PING_TEST) {
		t->count = r->count;
		t->interval_ms = r->intervalnull ? -1 : r->interval;
	} else {
		t->direction = r->tdir;
		t->packets = r->packets;
		t->packet_size = r->size;
	}
	r->last_id = r->id;
	r->tests++;
	return emit(r);
}

static enum pingoo_err
ping_row(void *arg)
{
	struct export_row *r = arg;
	struct pingoo_sample *s = &r->rec.sample;
	enum pingoo_err e;

	if (r->id != r->last_id &&
	    (e = test_rec(r, PINGOO_EXPORT_PING_TEST)) != PINGOO_OK)
		return e;
	if (r->seqnull)
		return PINGOO_OK;	/* a test with no sample */
	r->rec.type = PINGOO_EXPORT_PING_SAMPLE;
	memset(s, 0, sizeof(*s));
	s->seq = (uint32_t)r->seq;
	s->t0 = r->v[0];
	s->t1 = r->v[1];
	s->t2 = r->v[2];
	s->has_t3 = !r->n[3];
	s->t3 = r->n[3] ? 0 : r->v[3];
	return emit(r);
}

static enum pingoo_err
tp_row(void *arg)
{
	struct export_row *r = arg;
	struct pingoo_tp_xfer *x = &r->rec.xfer;
	enum pingoo_err e;

	if (r->id != r->last_id &&
	    (e = test_rec(r, PINGOO_EXPORT_TP_TEST)) != PINGOO_OK)
		return e;
	if (r->seqnull)
		return PINGOO_OK;	/* a test with no transfer */
	r->rec.type = PINGOO_EXPORT_TRANSFER;
	memset(x, 0, sizeof(*x));
	if (pingoo_tp_dir_parse(r->dir, &x->dir) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_transfers.direction",
		    r->dir);
	if (pingoo_tp_status_parse(r->status, &x->status) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_transfers.status",
		    r->status);
	x->seq = (uint32_t)r->seq;
	x->bytes = (uint64_t)r->bytes;
	x->server_started_at = r->v[0];
	x->server_finished_at = r->n[1] ? -1 : r->v[1];
	x->client_sent_at = r->n[2] ? -1 : r->v[2];
	x->client_first_byte_at = r->n[3] ? -1 : r->v[3];
	x->client_received_at = r->n[4] ? -1 : r->v[4];
	return emit(r);
}

static enum pingoo_err
probe_row(void *arg)
{
	struct export_row *r = arg;
	struct pingoo_tp_probe *p = &r->rec.probe;

	memset(&r->rec, 0, sizeof(r->rec));
	r->rec.type = PINGOO_EXPORT_PROBE;
	r->rec.test_id = r->id;
	if (pingoo_phase_parse(r->dir, &p->phase) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_probes.phase", r->dir);
	p->seq = (uint32_t)r->seq;
	p->t0 = r->v[0];
	p->t1 = r->n[1] ? -1 : r->v[1];
	p->t2 = r->n[2] ? -1 : r->v[2];
	p->t3 = r->n[3] ? -1 : r->v[3];
	return emit(r);
}

enum pingoo_err
pingoo_export(struct pingoo_store *s, uint64_t user,
    const struct pingoo_export_query *query,
    enum pingoo_err (*each)(const struct pingoo_export_rec *, void *),
    void *arg, uint64_t *tests, uint64_t *records)
{
	struct pingoo_export_query q = *query;
	struct export_row *r = NULL;
	MYSQL_BIND in[3];
	enum pingoo_err e = PINGOO_ERR_NOMEM;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->client = malloc(CLIENT_MAX)) == NULL)
		goto out;
	r->emit = each;
	r->arg = arg;
	e = PINGOO_OK;
	bind_filter(in, &user, &q);
	if (q.kinds & PINGOO_KIND_PING) {
		bind_ping_row(r);
		e = pingoo_store_stream(s, PINGOO_SQL_DATA, DS_EXPORT_PING, in,
		    r->out, ping_row, r);
	}
	if (e == PINGOO_OK && (q.kinds & PINGOO_KIND_TP)) {
		r->last_id = 0;
		bind_tp_row(r);
		e = pingoo_store_stream(s, PINGOO_SQL_DATA, DS_EXPORT_TP, in,
		    r->out, tp_row, r);
	}
	/* The probes last: a query of their own keeps each stream a plain
	 * index walk, where a union with the transfers would be sorted. */
	if (e == PINGOO_OK && (q.kinds & PINGOO_KIND_TP)) {
		bind_probe_row(r);
		e = pingoo_store_stream(s, PINGOO_SQL_DATA, DS_EXPORT_PROBE, in,
		    r->out, probe_row, r);
	}
	*tests = r->tests;
	*records = r->records;
out:
	if (r != NULL)
		free(r->client);
	free(r);
	return e;
}

/* ---- aggregates -------------------------------------------------------- */

struct rates {
	int64_t		*v;
	size_t		 n, cap;
};

/* Per group: the download and upload rates of its tests, and the rise of
 * latency under load of each test that has one. */
#define AGG_DOWN	0
#define AGG_UP		1
#define AGG_RISE	2
#define AGG_SERIES	3

struct agg_set {
	struct pingoo_agg	*g;
	struct rates		*rates;		/* AGG_SERIES per group */
	size_t			 ng, cap;
	int			 group;
	/* the row being fetched */
	MYSQL_BIND		 out[7];
	char			 key[130], dir[16];
	unsigned long		 keylen, dirlen;
	char			 keynull, dirnull, nul[4];
	int64_t			 a, b, c, d;
	uint64_t		 id;
	double			 median, p90;
	/* the probes of test pid so far, of group pg */
	struct pingoo_tp_probe	*pv;
	size_t			 pn, pcap, pg;
	uint64_t		 pid;
	int			 pfinished;
};

/* The group of the fetched key, made when new; NULL when out of memory. */
static struct pingoo_agg *
group_of(struct agg_set *a)
{
	struct pingoo_agg *g;
	struct rates *r;
	char key[sizeof(g->key)];
	time_t day;
	struct tm tm;
	size_t i;

	if (!a->keynull && a->group == PINGOO_GROUP_DAY) {
		day = (time_t)strtoll(a->key, NULL, 10) * 86400;
		gmtime_r(&day, &tm);
		strftime(key, sizeof(key), "%Y-%m-%d", &tm);
	} else
		snprintf(key, sizeof(key), "%s", a->keynull ? "" : a->key);
	for (i = 0; i < a->ng; i++)
		if (a->g[i].key_null == (a->keynull != 0) && (a->keynull ||
		    strcmp(a->g[i].key, key) == 0))
			return &a->g[i];
	if ((g = pingoo_store_grow(a->g, a->ng, &a->cap, sizeof(*g))) == NULL)
		return NULL;
	a->g = g;
	if ((r = realloc(a->rates, a->cap * AGG_SERIES * sizeof(*r))) == NULL)
		return NULL;
	a->rates = r;
	memset(&a->rates[a->ng * AGG_SERIES], 0, AGG_SERIES * sizeof(*r));
	g = &a->g[a->ng++];
	memset(g, 0, sizeof(*g));
	g->key_null = a->keynull != 0;
	memcpy(g->key, key, sizeof(g->key));
	g->rtt_median_us = g->rtt_p90_us = -1;
	g->dir[0].bps_median = g->dir[0].bps_p90 = -1;
	g->dir[1].bps_median = g->dir[1].bps_p90 = -1;
	return g;
}

static void
bind_key(struct agg_set *a)
{
	memset(a->out, 0, sizeof(a->out));
	pingoo_bind_strout(&a->out[0], a->key, sizeof(a->key), &a->keylen,
	    &a->keynull);
}

static void
bind_double(MYSQL_BIND *b, double *v, char *isnull)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_DOUBLE;
	b->buffer = v;
	b->is_null = (my_bool *)isnull;
}

static enum pingoo_err
ping_agg_row(void *arg)
{
	struct agg_set *a = arg;
	struct pingoo_agg *g;

	if ((g = group_of(a)) == NULL)
		return PINGOO_ERR_NOMEM;
	g->ping_tests = a->a;
	g->ping_planned = a->nul[1] ? 0 : a->b;
	g->ping_received = a->nul[2] ? 0 : a->c;
	return PINGOO_OK;
}

static enum pingoo_err
rtt_agg_row(void *arg)
{
	struct agg_set *a = arg;
	struct pingoo_agg *g;

	if ((g = group_of(a)) == NULL)
		return PINGOO_ERR_NOMEM;
	/* Half away from zero, as every median of the API. */
	g->rtt_median_us = a->nul[0] ? -1 : llround(a->median);
	g->rtt_p90_us = a->nul[1] ? -1 : llround(a->p90);
	return PINGOO_OK;
}

static enum pingoo_err
tp_agg_row(void *arg)
{
	struct agg_set *a = arg;
	struct pingoo_agg *g;

	if ((g = group_of(a)) == NULL)
		return PINGOO_ERR_NOMEM;
	g->tp_tests = a->a;
	return PINGOO_OK;
}

/* Appends v to series r. */
static enum pingoo_err
series_add(struct rates *r, int64_t v)
{
	int64_t *p;

	if ((p = pingoo_store_grow(r->v, r->n, &r->cap, sizeof(*p))) == NULL)
		return PINGOO_ERR_NOMEM;
	r->v = p;
	r->v[r->n++] = v;
	return PINGOO_OK;
}

static enum pingoo_err
rate_agg_row(void *arg)
{
	struct agg_set *a = arg;
	struct pingoo_agg *g;
	enum pingoo_tp_dir d;
	int64_t bps;

	if ((g = group_of(a)) == NULL)
		return PINGOO_ERR_NOMEM;
	if (pingoo_tp_dir_parse(a->dir, &d) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_transfers.direction",
		    a->dir);
	if ((bps = pingoo_tp_bps((uint64_t)a->a, a->c - a->b)) < 0)
		return PINGOO_OK;	/* too short for the clock */
	return series_add(&a->rates[(size_t)(g - a->g) * AGG_SERIES +
	    (d == PINGOO_TP_UPLOAD ? AGG_UP : AGG_DOWN)], bps);
}

/* The test whose probes were gathered: its largest rise (the one its
 * grade is from) joins its group's. */
static enum pingoo_err
probe_test_done(struct agg_set *a)
{
	struct pingoo_latency_summary ls;
	const struct pingoo_phase_summary *ph;
	int64_t worst = 0;
	int i, has = 0;
	enum pingoo_err e;

	if (a->pn == 0)
		return PINGOO_OK;
	e = pingoo_tp_latency(a->pv, a->pn, a->pfinished, &ls);
	a->pn = 0;
	if (e != PINGOO_OK)
		return e;
	for (i = 0; i < PINGOO_PHASE__MAX; i++) {
		ph = &ls.phase[i];
		if (ph->present && ph->has_rise && (!has ||
		    ph->rise_median_us > worst)) {
			worst = ph->rise_median_us;
			has = 1;
		}
	}
	if (!has)
		return PINGOO_OK;
	return series_add(&a->rates[a->pg * AGG_SERIES + AGG_RISE], worst);
}

static enum pingoo_err
probe_agg_row(void *arg)
{
	struct agg_set *a = arg;
	struct pingoo_agg *g;
	struct pingoo_tp_probe *p;
	enum pingoo_err e;

	if (a->pn > 0 && a->id != a->pid &&
	    (e = probe_test_done(a)) != PINGOO_OK)
		return e;
	if ((g = group_of(a)) == NULL)
		return PINGOO_ERR_NOMEM;
	if ((p = pingoo_store_grow(a->pv, a->pn, &a->pcap, sizeof(*p))) ==
	    NULL)
		return PINGOO_ERR_NOMEM;
	a->pv = p;
	p = &a->pv[a->pn++];
	memset(p, 0, sizeof(*p));
	if (pingoo_phase_parse(a->dir, &p->phase) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_probes.phase", a->dir);
	p->t0 = a->b;
	p->t1 = p->t2 = a->nul[1] ? -1 : a->c;
	p->t3 = a->nul[2] ? -1 : a->d;
	a->pid = a->id;
	a->pg = (size_t)(g - a->g);
	a->pfinished = a->a != 0;
	return PINGOO_OK;
}

static enum pingoo_err
agg_run(struct pingoo_store *s, int idx, uint64_t user,
    struct pingoo_export_query *q, struct agg_set *a,
    enum pingoo_err (*row)(void *))
{
	MYSQL_BIND in[3];

	bind_filter(in, &user, q);
	return run(s, idx + q->group, in, a->out, row, a, NULL);
}

/* Fills each group's rate figures from its tests' rates, and its loaded
 * latency from its tests' rises. */
static void
agg_rates(struct agg_set *a)
{
	struct rates *r;
	size_t i, d;

	for (i = 0; i < a->ng; i++) {
		r = &a->rates[i * AGG_SERIES + AGG_RISE];
		if (r->n > 0) {
			pingoo_sort_i64(r->v, r->n);
			a->g[i].has_rise = 1;
			a->g[i].rise_median_us = pingoo_median(r->v, r->n);
		}
		for (d = AGG_DOWN; d <= AGG_UP; d++) {
			r = &a->rates[i * AGG_SERIES + d];
			a->g[i].dir[d].tests = (int64_t)r->n;
			if (r->n == 0)
				continue;
			pingoo_sort_i64(r->v, r->n);
			a->g[i].dir[d].bps_median = pingoo_median(r->v, r->n);
			a->g[i].dir[d].bps_p90 = pingoo_percentile(r->v, r->n,
			    90);
		}
	}
}

static int
cmp_agg(const void *x, const void *y)
{
	const struct pingoo_agg *a = x, *b = y;

	if (a->key_null || b->key_null)
		return b->key_null - a->key_null;
	return strcmp(a->key, b->key);
}

enum pingoo_err
pingoo_aggregates(struct pingoo_store *s, uint64_t user,
    const struct pingoo_export_query *query, struct pingoo_agg **out,
    size_t *n)
{
	struct pingoo_export_query q = *query;
	struct agg_set a;
	enum pingoo_err e = PINGOO_OK;
	size_t i;

	*out = NULL;
	*n = 0;
	if (q.group < 0 || q.group >= PINGOO_GROUP__MAX)
		return PINGOO_ERR_INTERNAL;
	memset(&a, 0, sizeof(a));
	a.group = q.group;
	if (q.kinds & PINGOO_KIND_PING) {
		bind_key(&a);
		pingoo_bind_i64(&a.out[1], &a.a);
		pingoo_bind_i64out(&a.out[2], &a.b, &a.nul[1]);
		pingoo_bind_i64out(&a.out[3], &a.c, &a.nul[2]);
		e = agg_run(s, DS_AGG_PING, user, &q, &a, ping_agg_row);
		if (e == PINGOO_OK) {
			bind_key(&a);
			bind_double(&a.out[1], &a.median, &a.nul[0]);
			bind_double(&a.out[2], &a.p90, &a.nul[1]);
			e = agg_run(s, DS_AGG_RTT, user, &q, &a, rtt_agg_row);
		}
	}
	if (e == PINGOO_OK && (q.kinds & PINGOO_KIND_TP)) {
		bind_key(&a);
		pingoo_bind_i64(&a.out[1], &a.a);
		e = agg_run(s, DS_AGG_TP, user, &q, &a, tp_agg_row);
		if (e == PINGOO_OK) {
			bind_key(&a);
			pingoo_bind_strout(&a.out[1], a.dir, sizeof(a.dir),
			    &a.dirlen, &a.dirnull);
			pingoo_bind_i64(&a.out[2], &a.a);
			pingoo_bind_i64(&a.out[3], &a.b);
			pingoo_bind_i64(&a.out[4], &a.c);
			e = agg_run(s, DS_AGG_RATES, user, &q, &a, rate_agg_row);
		}
		if (e == PINGOO_OK) {
			bind_key(&a);
			pingoo_bind_u64(&a.out[1], &a.id);
			pingoo_bind_i64(&a.out[2], &a.a);
			pingoo_bind_strout(&a.out[3], a.dir, sizeof(a.dir),
			    &a.dirlen, &a.dirnull);
			pingoo_bind_i64(&a.out[4], &a.b);
			pingoo_bind_i64out(&a.out[5], &a.c, &a.nul[1]);
			pingoo_bind_i64out(&a.out[6], &a.d, &a.nul[2]);
			e = agg_run(s, DS_AGG_PROBES, user, &q, &a,
			    probe_agg_row);
			if (e == PINGOO_OK)
				e = probe_test_done(&a);
		}
	}
	if (e == PINGOO_OK) {
		agg_rates(&a);
		/* The rates are no longer needed and the order is by key. */
		qsort(a.g, a.ng, sizeof(*a.g), cmp_agg);
	}
	for (i = 0; i < a.ng * AGG_SERIES; i++)
		free(a.rates[i].v);
	free(a.rates);
	free(a.pv);
	if (e != PINGOO_OK) {
		free(a.g);
		return e;
	}
	*out = a.g;
	*n = a.ng;
	return PINGOO_OK;
}

/* ---- deletion and retention ---------------------------------------------- */

enum pingoo_err
pingoo_test_delete(struct pingoo_store *s, uint64_t user, int tp, uint64_t id)
{
	MYSQL_BIND in[2];
	uint64_t n = 0;
	enum pingoo_err e;

	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_u64(&in[1], &user);
	if ((e = run(s, tp ? DS_DELETE_TP : DS_DELETE_PING, in, NULL, NULL,
	    NULL, &n)) != PINGOO_OK)
		return e;
	if (n == 0)
		return PINGOO_ERR_NOTFOUND;
	pingoo_metrics_add(tp ? PINGOO_M_TP_DELETED : PINGOO_M_PING_DELETED, 1);
	return PINGOO_OK;
}

struct id_row {
	MYSQL_BIND	out[1];
	uint64_t	id;
	int		found;
};

static enum pingoo_err
id_found(void *arg)
{
	((struct id_row *)arg)->found = 1;
	return PINGOO_OK;
}

/* The id of the first test a statement finds (by user or by age); 0 when
 * none. */
static enum pingoo_err
first_test(struct pingoo_store *s, int idx, MYSQL_BIND *in, uint64_t *id)
{
	struct id_row r;
	enum pingoo_err e;

	memset(&r, 0, sizeof(r));
	pingoo_bind_u64(&r.out[0], &r.id);
	e = run(s, idx, in, r.out, id_found, &r, NULL);
	*id = e == PINGOO_OK && r.found ? r.id : 0;
	return e;
}

/*
 * Removes one batch of test id's items (at most `batch` rows a statement,
 * each committed on its own: a throughput test's transfers, then, when
 * fewer were left, its probes); once none are left, the test's row.
 * *gone says the test itself went.
 */
static enum pingoo_err
remove_step(struct pingoo_store *s, int tp, uint64_t id, int batch, int *gone)
{
	MYSQL_BIND in[2];
	uint64_t n = 0;
	int32_t lim = batch;
	enum pingoo_err e;

	*gone = 0;
	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_i32(&in[1], &lim);
	if ((e = run(s, tp ? DS_TRANSFERS_BATCH : DS_SAMPLES_BATCH, in, NULL,
	    NULL, NULL, &n)) != PINGOO_OK || n >= (uint64_t)batch)
		return e;
	if (tp && ((e = run(s, DS_PROBES_BATCH, in, NULL, NULL, NULL, &n)) !=
	    PINGOO_OK || n >= (uint64_t)batch))
		return e;
	if ((e = run(s, tp ? DS_TP_ROW : DS_PING_ROW, in, NULL, NULL, NULL,
	    &n)) != PINGOO_OK)
		return e;
	*gone = 1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_tests_delete_some(struct pingoo_store *s, uint64_t user, int batch,
    int64_t until_mono, uint64_t *ping, uint64_t *tp, int *done)
{
	MYSQL_BIND in[1];
	uint64_t id;
	enum pingoo_err e;
	int k, gone;

	*ping = *tp = 0;
	*done = 0;
	pingoo_bind_u64(&in[0], &user);
	for (k = 0; k < 2; k++)
		for (;;) {
			/* Between tests, so every test counted is gone whole. */
			if (pingoo_mono_us() >= until_mono)
				return PINGOO_OK;
			if ((e = first_test(s, k ? DS_USER_TP : DS_USER_PING, in,
			    &id)) != PINGOO_OK)
				return e;
			if (id == 0)
				break;
			do {
				if ((e = remove_step(s, k, id, batch, &gone)) !=
				    PINGOO_OK)
					return e;
			} while (!gone);
			(*(k ? tp : ping))++;
			pingoo_metrics_add(k ? PINGOO_M_TP_DELETED :
			    PINGOO_M_PING_DELETED, 1);
		}
	*done = 1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_retention_step(struct pingoo_store *s, int64_t before, int batch,
    int *more, struct pingoo_expired *gone_test)
{
	MYSQL_BIND in[4];
	uint64_t id;
	enum pingoo_err e;
	int k, i, gone;

	*more = 0;
	gone_test->id = 0;
	for (i = 0; i < 4; i++)
		pingoo_bind_i64(&in[i], &before);
	for (k = 0; k < 2; k++) {
		if ((e = first_test(s, k ? DS_OLD_TP : DS_OLD_PING, in, &id)) !=
		    PINGOO_OK)
			return e;
		if (id == 0)
			continue;
		if ((e = remove_step(s, k, id, batch, &gone)) != PINGOO_OK)
			return e;
		if (gone) {
			pingoo_metrics_add(k ? PINGOO_M_TP_EXPIRED :
			    PINGOO_M_PING_EXPIRED, 1);
			gone_test->id = id;
			gone_test->tp = k;
		}
		*more = 1;
		return PINGOO_OK;
	}
	return PINGOO_OK;
}
