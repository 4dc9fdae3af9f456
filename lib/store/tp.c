/*
 * tp.c - throughput tests and their transfers in MySQL.  The statements
 * that find a test (TP_GET, TP_GET_BRIEF, TP_GET_LOCK, TP_CLAIM, TP_ABORT,
 * TP_LIST) name its owner too, so another user's test is indistinguishable
 * from a missing one.  Eight name the test by id alone: TP_RECORD,
 * TP_LAST_CLAIMED, TP_COUNT_OK, TP_COMPLETE, TP_TRANSFERS, TP_REPORT,
 * TP_SETTLE and TP_XFER_EXISTS.  They need not name the owner: each runs
 * on a test already found for its owner, after the claim that read it
 * (pingoo_tp_record), under that owner's TP_GET_LOCK in the same
 * transaction (completion, reports) or after the caller's pingoo_tp_get
 * (pingoo_tp_transfers).  TP_SWEEP names no test.
 */
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>

#include "core/core.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store_int.h"

enum tp_sql {
	TP_CREATE,
	TP_GET,
	TP_GET_BRIEF,
	TP_GET_LOCK,
	TP_CLAIM,
	TP_RECORD,
	TP_LAST_CLAIMED,
	TP_COUNT_OK,
	TP_COMPLETE,
	TP_TRANSFERS,
	TP_REPORT,
	TP_SETTLE,
	TP_XFER_EXISTS,
	TP_ABORT,
	TP_LIST,
	TP_SWEEP,
	TP_START_DOWNLOAD,
	TP_START_UPLOAD,
	TP_COUNT_STARTED,
	TP_CLOSE,
	TP_PROGRESS,
	TP__MAX
};

#define TP_COLS "id, direction, packets, packet_size, client, state, " \
	"created_at, finished_at, simultaneous, duration_ms, " \
	"download_started_at, upload_started_at"
/* The same row without the client's description (NULL in its place), for
 * the packet path, which never shows it: its buffer is 64 KiB. */
#define TP_COLS_BRIEF "id, direction, packets, packet_size, NULL, state, " \
	"created_at, finished_at, simultaneous, duration_ms, " \
	"download_started_at, upload_started_at"

static const char *const sql[] = {
	[TP_CREATE] =
	"INSERT INTO throughput_tests (user_id, direction, packets, "
	"packet_size, client, state, created_at, simultaneous, duration_ms) "
	"VALUES (?, ?, ?, ?, ?, 'incomplete', ?, ?, NULLIF(?, 0))",
	[TP_GET] =
	"SELECT " TP_COLS " FROM throughput_tests WHERE id = ? AND user_id = ?",
	[TP_GET_BRIEF] =
	"SELECT " TP_COLS_BRIEF " FROM throughput_tests WHERE id = ? AND "
	"user_id = ?",
	/* TP_GET_LOCK: serializes the transactions that may complete a test */
	[TP_GET_LOCK] =
	"SELECT " TP_COLS_BRIEF " FROM throughput_tests WHERE id = ? AND "
	"user_id = ? FOR UPDATE",
	/* TP_CLAIM: one statement, so a test aborted meanwhile inserts nothing */
	[TP_CLAIM] =
	"INSERT INTO throughput_transfers (test_id, direction, seq, status, "
	"bytes, server_started_at) SELECT id, ?, ?, 'started', 0, ? "
	"FROM throughput_tests WHERE id = ? AND user_id = ? "
	"AND state = 'incomplete'",
	/*
	 * TP_RECORD: the worker's outcome, once.  A row without an end stamp
	 * has none yet: still started, swept, or settled ok by the client's
	 * report while this worker was writing it (then ok stays ok; the
	 * assignments run left to right, so bytes is set before status).
	 */
	[TP_RECORD] =
	"UPDATE throughput_transfers SET "
	"bytes = IF(status = 'ok', bytes, ?), "
	"status = IF(status = 'ok', 'ok', ?), "
	"server_started_at = ?, server_finished_at = ? "
	"WHERE test_id = ? AND direction = ? AND seq = ? "
	"AND server_finished_at IS NULL",
	/* TP_LAST_CLAIMED: point reads of the primary key */
	[TP_LAST_CLAIMED] =
	"SELECT COUNT(*) FROM throughput_transfers WHERE test_id = ? "
	"AND direction IN ('download', 'upload') AND seq = ?",
	[TP_COUNT_OK] =
	"SELECT COUNT(*) FROM throughput_transfers "
	"WHERE test_id = ? AND status = 'ok'",
	[TP_COMPLETE] =
	"UPDATE throughput_tests SET state = 'complete', finished_at = ? "
	"WHERE id = ? AND state = 'incomplete'",
	/* TP_TRANSFERS: ENUM columns sort by their declared order */
	[TP_TRANSFERS] =
	"SELECT direction, seq, status, bytes, server_started_at, "
	"server_finished_at, client_sent_at, client_first_byte_at, "
	"client_received_at "
	"FROM throughput_transfers WHERE test_id = ? ORDER BY direction, seq",
	[TP_REPORT] =
	"UPDATE throughput_transfers SET client_sent_at = ?, "
	"client_first_byte_at = ?, client_received_at = ? "
	"WHERE test_id = ? AND direction = ? "
	"AND seq = ? AND client_sent_at IS NULL",
	/* TP_SETTLE: a reported download whose worker is gone: failed by
	 * the sweep (no end stamp), or started and stale by the sweep's own
	 * measure.  A worker still sending keeps its packet. */
	[TP_SETTLE] =
	"UPDATE throughput_transfers SET status = 'ok', bytes = ? "
	"WHERE test_id = ? AND direction = 'download' AND seq = ? "
	"AND server_finished_at IS NULL AND (status = 'failed' OR "
	"(status = 'started' AND server_started_at < ? AND "
	"(server_progress_at IS NULL OR server_progress_at < ?)))",
	[TP_XFER_EXISTS] =
	"SELECT COUNT(*) FROM throughput_transfers "
	"WHERE test_id = ? AND direction = ? AND seq = ?",
	[TP_ABORT] =
	"UPDATE throughput_tests SET state = 'aborted', finished_at = ? "
	"WHERE id = ? AND user_id = ? AND state = 'incomplete'",
	[TP_LIST] =
	"SELECT " TP_COLS " FROM throughput_tests WHERE user_id = ? AND id < ? "
	"ORDER BY id DESC LIMIT ?",
	/* TP_SWEEP: the index of migration 004 finds these; a packet whose
	 * worker moved bytes lately is still moving.  No end stamp: the
	 * server never saw the end.  A download of an N x S test that its
	 * client reported whole is settled ok, as its report would have
	 * settled it had its worker been known gone then (the status is
	 * named in neither IF, so the order of the assignments is moot). */
	[TP_SWEEP] =
	"UPDATE throughput_transfers x JOIN throughput_tests t "
	"ON t.id = x.test_id SET "
	"x.bytes = IF(x.direction = 'download' AND x.client_received_at "
	"IS NOT NULL AND t.duration_ms IS NULL, t.packet_size, x.bytes), "
	"x.status = IF(x.direction = 'download' AND x.client_received_at "
	"IS NOT NULL AND t.duration_ms IS NULL, 'ok', 'failed') "
	"WHERE x.status = 'started' AND x.server_started_at < ? "
	"AND (x.server_progress_at IS NULL OR x.server_progress_at < ?)",
	/* TP_START_DOWNLOAD: a timed test's download clock, set once */
	[TP_START_DOWNLOAD] =
	"UPDATE throughput_tests SET download_started_at = ? WHERE id = ? "
	"AND download_started_at IS NULL",
	/* TP_START_UPLOAD */
	[TP_START_UPLOAD] =
	"UPDATE throughput_tests SET upload_started_at = ? WHERE id = ? "
	"AND upload_started_at IS NULL",
	/* TP_COUNT_STARTED: packets of the test still moving */
	[TP_COUNT_STARTED] =
	"SELECT COUNT(*) FROM throughput_transfers "
	"WHERE test_id = ? AND status = 'started'",
	/* TP_CLOSE: a timed test ends when its client says so */
	[TP_CLOSE] =
	"UPDATE throughput_tests SET state = 'complete', finished_at = ? "
	"WHERE id = ? AND user_id = ? AND state = 'incomplete' "
	"AND duration_ms IS NOT NULL",
	/* TP_PROGRESS: the worker still moves this packet's bytes */
	[TP_PROGRESS] =
	"UPDATE throughput_transfers SET server_progress_at = ? "
	"WHERE test_id = ? AND direction = ? AND seq = ? "
	"AND status = 'started'",
};
PINGOO_SQL_TABLE_CHECK(sql, TP__MAX);

const struct pingoo_sql_table pingoo_sql_tp = { sql, TP__MAX };

/* Room for the largest client description the configuration allows. */
#define CLIENT_CAP PINGOO_STORE_CLIENT_CAP

static enum pingoo_err
run(struct pingoo_store *s, enum tp_sql i, MYSQL_BIND *in, MYSQL_BIND *out,
    enum pingoo_err (*row)(void *), void *arg, uint64_t *affected,
    uint64_t *insert_id)
{
	return pingoo_store_run(s, PINGOO_SQL_TP, (int)i, in, out, row,
	    arg, affected, insert_id);
}

/* The output row of the TP_GET statements and TP_LIST.  The client's
 * description gets a buffer of its own only when the statement reads it:
 * the packet path would otherwise clear 64 KiB per packet. */
struct test_row {
	MYSQL_BIND		 out[12];
	uint64_t		 id, size;
	int32_t			 packets, simultaneous;
	int64_t			 created, finished, duration;
	int64_t			 started[PINGOO_TP__DIRS];
	char			 dir[16], state[16], noclient[1], *client;
	unsigned long		 dirlen, statelen, clientlen;
	char			 dirnull, statenull, clientnull, finnull;
	char			 durnull, startnull[PINGOO_TP__DIRS];
	struct pingoo_tp_test	*dst;		/* next test to fill */
	size_t			 n, max;
};

static void
test_row_free(struct test_row *r)
{
	if (r != NULL && r->client != r->noclient)
		free(r->client);
	free(r);
}

static struct test_row *
test_row_new(struct pingoo_tp_test *dst, size_t max, int with_client)
{
	struct test_row *r;
	size_t cap = with_client ? CLIENT_CAP : sizeof(r->noclient);

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->client = r->noclient;
	if (with_client && (r->client = calloc(1, cap)) == NULL) {
		free(r);
		return NULL;
	}
	pingoo_bind_u64(&r->out[0], &r->id);
	pingoo_bind_strout(&r->out[1], r->dir, sizeof(r->dir), &r->dirlen,
	    &r->dirnull);
	pingoo_bind_i32(&r->out[2], &r->packets);
	pingoo_bind_u64(&r->out[3], &r->size);
	pingoo_bind_strout(&r->out[4], r->client, cap, &r->clientlen,
	    &r->clientnull);
	pingoo_bind_strout(&r->out[5], r->state, sizeof(r->state),
	    &r->statelen, &r->statenull);
	pingoo_bind_i64(&r->out[6], &r->created);
	pingoo_bind_i64out(&r->out[7], &r->finished, &r->finnull);
	pingoo_bind_i32(&r->out[8], &r->simultaneous);
	pingoo_bind_i64out(&r->out[9], &r->duration, &r->durnull);
	pingoo_bind_i64out(&r->out[10], &r->started[PINGOO_TP_DOWNLOAD],
	    &r->startnull[PINGOO_TP_DOWNLOAD]);
	pingoo_bind_i64out(&r->out[11], &r->started[PINGOO_TP_UPLOAD],
	    &r->startnull[PINGOO_TP_UPLOAD]);
	r->dst = dst;
	r->max = max;
	return r;
}

static enum pingoo_err
test_row_found(void *arg)
{
	struct test_row *r = arg;
	struct pingoo_tp_test *t;
	int d;

	if (r->n >= r->max)
		return PINGOO_OK;
	t = &r->dst[r->n];
	memset(t, 0, sizeof(*t));
	/* A name this build does not know refuses the row (name.c). */
	if ((t->dirs = pingoo_tp_dirs_parse(r->dir)) == 0)
		return pingoo_store_bad_name("throughput_tests.direction",
		    r->dir);
	if (pingoo_tp_state_parse(r->state, &t->state) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_tests.state",
		    r->state);
	t->id = r->id;
	t->simultaneous = r->simultaneous != 0;
	t->packets = (uint32_t)r->packets;
	t->packet_size = r->size;
	t->created_at = r->created;
	t->finished_at = r->finnull ? -1 : r->finished;
	t->duration_ms = r->durnull ? 0 : (uint32_t)r->duration;
	for (d = 0; d < PINGOO_TP__DIRS; d++)
		t->started_at[d] = r->startnull[d] ? -1 : r->started[d];
	if (!r->clientnull && (t->client = strdup(r->client)) == NULL)
		return PINGOO_ERR_NOMEM;
	r->n++;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_tp_create(struct pingoo_store *s, uint64_t user,
    struct pingoo_tp_test *t)
{
	MYSQL_BIND in[8];
	const char *dir = pingoo_tp_dirs_name(t->dirs);
	unsigned long dlen, clen;
	int32_t packets = (int32_t)t->packets, both = t->simultaneous != 0;
	int32_t duration = (int32_t)t->duration_ms;
	int d;
	int64_t now = pingoo_now_us();
	enum pingoo_err e;

	if (dir == NULL)
		return PINGOO_ERR_INTERNAL;
	dlen = strlen(dir);
	clen = t->client != NULL ? strlen(t->client) : 0;
	pingoo_bind_u64(&in[0], &user);
	pingoo_bind_str(&in[1], dir, &dlen);
	pingoo_bind_i32(&in[2], &packets);
	pingoo_bind_u64(&in[3], &t->packet_size);
	pingoo_bind_str(&in[4], t->client, &clen);
	pingoo_bind_i64(&in[5], &now);
	pingoo_bind_i32(&in[6], &both);
	pingoo_bind_i32(&in[7], &duration);
	e = run(s, TP_CREATE, in, NULL, NULL, NULL, NULL, &t->id);
	if (e != PINGOO_OK)
		return e;
	for (d = 0; d < PINGOO_TP__DIRS; d++)
		t->started_at[d] = -1;
	t->state = PINGOO_TP_INCOMPLETE;
	t->created_at = now;
	t->finished_at = -1;
	return PINGOO_OK;
}

/* One of the TP_GET statements into *t (the client's description only
 * from TP_GET). */
static enum pingoo_err
get_test(struct pingoo_store *s, enum tp_sql which, uint64_t user,
    uint64_t id, struct pingoo_tp_test *t)
{
	struct test_row *r;
	MYSQL_BIND in[2];
	enum pingoo_err e;

	memset(t, 0, sizeof(*t));
	if ((r = test_row_new(t, 1, which == TP_GET)) == NULL)
		return PINGOO_ERR_NOMEM;
	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_u64(&in[1], &user);
	e = run(s, which, in, r->out, test_row_found, r, NULL, NULL);
	if (e == PINGOO_OK && r->n == 0)
		e = PINGOO_ERR_NOTFOUND;
	if (e != PINGOO_OK)
		pingoo_tp_test_clear(t);
	test_row_free(r);
	return e;
}

enum pingoo_err
pingoo_tp_get(struct pingoo_store *s, uint64_t user, uint64_t id,
    struct pingoo_tp_test *t)
{
	return get_test(s, TP_GET, user, id, t);
}

/* Checks a claim at now against the test; fills f on a refusal.  A
 * timed test takes seq below tp_max_packets, until its time is up. */
static enum pingoo_err
claim_check(struct pingoo_store *s, const struct pingoo_tp_test *t,
    enum pingoo_tp_dir dir, uint32_t seq, uint64_t bytes, int64_t now,
    struct pingoo_fault *f)
{
	int64_t up = pingoo_tp_time_up_at(t, dir);
	uint32_t max = (uint32_t)pingoo_store_config(s)->tp_max_packets;

	if (t->state != PINGOO_TP_INCOMPLETE)
		return pingoo_fault_set(f, PINGOO_ERR_STATE, "invalid_state",
		    NULL, "the test is %s", pingoo_tp_state_name(t->state));
	if (!(t->dirs & PINGOO_TP_MASK(dir)))
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    NULL, "this test has no %s packets",
		    pingoo_tp_dir_name(dir));
	if (t->duration_ms == 0 && seq >= t->packets)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    NULL, "seq must be below packets (%u)", t->packets);
	if (t->duration_ms > 0 && seq >= max)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    NULL, "seq must be below tp_max_packets (%u)", max);
	if (t->duration_ms == 0 && bytes != 0 && bytes != t->packet_size)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    "bytes", "an N x S test moves packet_size (%" PRIu64 ") "
		    "bytes a packet", t->packet_size);
	if (dir == PINGOO_TP_DOWNLOAD && bytes == 0 && t->packet_size == 0)
		return pingoo_fault_set(f, PINGOO_ERR_INVAL, "invalid_query",
		    "bytes", "bytes is required: this test has no packet_size");
	if (up >= 0 && now >= up)
		return pingoo_fault_set(f, PINGOO_ERR_STATE, "time_up", NULL,
		    "the test's %s time is up", pingoo_tp_dir_name(dir));
	return PINGOO_OK;
}

/* Starts the clock of a timed test's direction at its first claim; a
 * claim racing it may set it first, which moves it by microseconds. */
static enum pingoo_err
clock_start(struct pingoo_store *s, struct pingoo_tp_test *t,
    enum pingoo_tp_dir dir, int64_t now)
{
	MYSQL_BIND in[2];
	enum pingoo_err e;

	if (t->duration_ms == 0 || t->started_at[dir] >= 0)
		return PINGOO_OK;
	pingoo_bind_i64(&in[0], &now);
	pingoo_bind_u64(&in[1], &t->id);
	e = run(s, dir == PINGOO_TP_DOWNLOAD ? TP_START_DOWNLOAD :
	    TP_START_UPLOAD, in, NULL, NULL, NULL, NULL, NULL);
	if (e == PINGOO_OK)
		t->started_at[dir] = now;
	return e;
}

/* The INSERT ... SELECT of a claim; PINGOO_ERR_STATE when it inserted
 * nothing (the test stopped being incomplete after it was read). */
static enum pingoo_err
claim_insert(struct pingoo_store *s, uint64_t user, uint64_t id,
    enum pingoo_tp_dir dir, uint32_t seq, int64_t now)
{
	MYSQL_BIND in[5];
	const char *dname = pingoo_tp_dir_name(dir);
	unsigned long dlen = strlen(dname);
	int32_t sq = (int32_t)seq;
	uint64_t n = 0;
	enum pingoo_err e;

	pingoo_bind_str(&in[0], dname, &dlen);
	pingoo_bind_i32(&in[1], &sq);
	pingoo_bind_i64(&in[2], &now);
	pingoo_bind_u64(&in[3], &id);
	pingoo_bind_u64(&in[4], &user);
	e = run(s, TP_CLAIM, in, NULL, NULL, NULL, &n, NULL);
	if (e == PINGOO_OK && n == 0)
		e = PINGOO_ERR_STATE;
	return e;
}

enum pingoo_err
pingoo_tp_claim(struct pingoo_store *s, uint64_t user, uint64_t id,
    enum pingoo_tp_dir dir, uint32_t seq, uint64_t bytes, int64_t now_us,
    struct pingoo_tp_test *t, struct pingoo_fault *f)
{
	enum pingoo_err e;

	if ((e = get_test(s, TP_GET_BRIEF, user, id, t)) != PINGOO_OK) {
		if (e == PINGOO_ERR_NOTFOUND)
			pingoo_fault_set(f, e, "not_found", NULL,
			    "no such test");
		else
			pingoo_fault_set(f, e, NULL, NULL, "%s",
			    pingoo_strerror(e));
		return e;
	}
	if ((e = claim_check(s, t, dir, seq, bytes, now_us, f)) != PINGOO_OK)
		goto out;
	if ((e = clock_start(s, t, dir, now_us)) != PINGOO_OK) {
		pingoo_fault_set(f, e, NULL, NULL, "%s", pingoo_strerror(e));
		goto out;
	}
	e = claim_insert(s, user, id, dir, seq, now_us);
	if (e == PINGOO_ERR_CONFLICT)
		pingoo_fault_set(f, e, "duplicate_packet", NULL,
		    "%s packet %u was already transferred",
		    pingoo_tp_dir_name(dir), seq);
	else if (e == PINGOO_ERR_STATE)
		pingoo_fault_set(f, e, "invalid_state", NULL,
		    "the test is no longer incomplete");
	else if (e != PINGOO_OK)
		pingoo_fault_set(f, e, NULL, NULL, "%s", pingoo_strerror(e));
out:
	if (e != PINGOO_OK)
		pingoo_tp_test_clear(t);
	return e;
}

static enum pingoo_err
count_row(void *arg)
{
	(void)arg;
	return PINGOO_OK;
}

/* One COUNT(*) statement with its inputs. */
static enum pingoo_err
count(struct pingoo_store *s, enum tp_sql which, MYSQL_BIND *in, int64_t *n)
{
	MYSQL_BIND out[1];

	*n = 0;
	pingoo_bind_i64(&out[0], n);
	return run(s, which, in, out, count_row, NULL, NULL, NULL);
}

/* The UPDATE of a transfer's outcome. */
static enum pingoo_err
record_update(struct pingoo_store *s, uint64_t id,
    const struct pingoo_tp_xfer *x)
{
	MYSQL_BIND in[7];
	const char *st = pingoo_tp_status_name(x->status);
	const char *dn = pingoo_tp_dir_name(x->dir);
	unsigned long stlen = strlen(st), dlen = strlen(dn);
	uint64_t bytes = x->bytes, n = 0;
	int64_t start = x->server_started_at, end = x->server_finished_at;
	int32_t seq = (int32_t)x->seq;
	enum pingoo_err e;

	pingoo_bind_u64(&in[0], &bytes);
	pingoo_bind_str(&in[1], st, &stlen);
	pingoo_bind_i64(&in[2], &start);
	pingoo_bind_i64(&in[3], &end);
	pingoo_bind_u64(&in[4], &id);
	pingoo_bind_str(&in[5], dn, &dlen);
	pingoo_bind_i32(&in[6], &seq);
	e = run(s, TP_RECORD, in, NULL, NULL, NULL, &n, NULL);
	if (e == PINGOO_OK && n == 0)
		e = PINGOO_ERR_STATE;	/* already recorded */
	return e;
}

/*
 * Whether test t may be complete: the last packet of each of its
 * directions has been claimed.  A read or two of the primary key, where
 * the count of ok packets reads every packet of the test: counting at each
 * packet made a test of n packets cost n * n / 2 row reads, 50 million for
 * 10,000.  A client that claims in order reaches the count only for the
 * packets still in flight when it claims the last one.
 */
static enum pingoo_err
may_be_complete(struct pingoo_store *s, const struct pingoo_tp_test *t,
    int *yes)
{
	MYSQL_BIND in[2];
	uint64_t id = t->id;
	int32_t last = (int32_t)t->packets - 1;
	int64_t n;
	enum pingoo_err e;

	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_i32(&in[1], &last);
	e = count(s, TP_LAST_CLAIMED, in, &n);
	*yes = e == PINGOO_OK &&
	    n >= (t->dirs == PINGOO_TP_BOTH ? 2 : 1);
	return e;
}

/* Marks test id complete now, if it is still incomplete. */
static enum pingoo_err
mark_complete(struct pingoo_store *s, uint64_t id, int *completed)
{
	MYSQL_BIND in[2];
	uint64_t n = 0;
	int64_t now = pingoo_now_us();
	enum pingoo_err e;

	pingoo_bind_i64(&in[0], &now);
	pingoo_bind_u64(&in[1], &id);
	e = run(s, TP_COMPLETE, in, NULL, NULL, NULL, &n, NULL);
	*completed = e == PINGOO_OK && n > 0;
	return e;
}

/* Completes test t, whose row this transaction holds, when every packet
 * of each of its directions is ok: a count of the test's packets. */
static enum pingoo_err
complete_if_all_ok(struct pingoo_store *s, const struct pingoo_tp_test *t,
    int *completed)
{
	MYSQL_BIND in[1];
	uint64_t id = t->id;
	int64_t ok, want;
	enum pingoo_err e;

	want = (int64_t)t->packets * (t->dirs == PINGOO_TP_BOTH ? 2 : 1);
	pingoo_bind_u64(&in[0], &id);
	if ((e = count(s, TP_COUNT_OK, in, &ok)) != PINGOO_OK || ok < want)
		return e;
	return mark_complete(s, id, completed);
}

/* The same, counting only once the last packets are claimed. */
static enum pingoo_err
maybe_complete(struct pingoo_store *s, const struct pingoo_tp_test *t,
    int *completed)
{
	enum pingoo_err e;
	int may;

	if ((e = may_be_complete(s, t, &may)) != PINGOO_OK || !may)
		return e;
	return complete_if_all_ok(s, t, completed);
}

/*
 * Whether timed test tt may be complete at now: every direction's time
 * up.  tt was read when its packet was claimed, with that packet's own
 * clock set; a direction it saw unstarted may have started since, so the
 * test is read again, but only once the packet's own time is up (the last
 * packets of a direction, not every one).
 */
static enum pingoo_err
timed_may_be_complete(struct pingoo_store *s, uint64_t user,
    const struct pingoo_tp_test *tt, int64_t now, int *yes)
{
	struct pingoo_tp_test t;
	enum pingoo_err e;
	int d;

	*yes = 0;
	for (d = 0; d < PINGOO_TP__DIRS; d++) {
		int64_t up = pingoo_tp_time_up_at(tt, (enum pingoo_tp_dir)d);

		if (up >= 0 && now < up)
			return PINGOO_OK;
	}
	if (pingoo_tp_time_over(tt, now)) {
		*yes = 1;
		return PINGOO_OK;
	}
	if ((e = get_test(s, TP_GET_BRIEF, user, tt->id, &t)) != PINGOO_OK)
		return e;
	*yes = pingoo_tp_time_over(&t, now);
	pingoo_tp_test_clear(&t);
	return PINGOO_OK;
}

/* Completes timed test t, whose row this transaction holds, when its time
 * is up in every direction and no packet of it is still moving. */
static enum pingoo_err
timed_complete_if_done(struct pingoo_store *s, const struct pingoo_tp_test *t,
    int *completed)
{
	MYSQL_BIND in[1];
	uint64_t id = t->id;
	int64_t moving;
	enum pingoo_err e;

	if (!pingoo_tp_time_over(t, pingoo_now_us()))
		return PINGOO_OK;
	pingoo_bind_u64(&in[0], &id);
	if ((e = count(s, TP_COUNT_STARTED, in, &moving)) != PINGOO_OK ||
	    moving > 0)
		return e;
	return mark_complete(s, id, completed);
}

/* One attempt at completing test tt after one of its packets ended (ok,
 * for an N x S test). */
static enum pingoo_err
complete_once(struct pingoo_store *s, uint64_t user,
    const struct pingoo_tp_test *tt, int *completed)
{
	struct pingoo_tp_test t;
	enum pingoo_err e;
	int may;

	*completed = 0;
	/* Without a lock first: most packets end long before the last one
	 * is claimed (or the time is up), and then the test's row is not
	 * taken at all.  A claim is never undone, nor a clock stopped, so
	 * this holds under the lock too. */
	if (tt->duration_ms > 0)
		e = timed_may_be_complete(s, user, tt, pingoo_now_us(), &may);
	else
		e = may_be_complete(s, tt, &may);
	if (e != PINGOO_OK || !may)
		return e;
	if ((e = pingoo_store_begin(s)) != PINGOO_OK)
		return e;
	/* The row lock makes two last packets ending at once take turns:
	 * the second one counts once the first has committed. */
	if ((e = get_test(s, TP_GET_LOCK, user, tt->id, &t)) != PINGOO_OK)
		goto out;
	if (t.state == PINGOO_TP_INCOMPLETE && t.duration_ms > 0)
		e = timed_complete_if_done(s, &t, completed);
	else if (t.state == PINGOO_TP_INCOMPLETE)
		e = complete_if_all_ok(s, &t, completed);
	pingoo_tp_test_clear(&t);
out:
	if (e == PINGOO_OK)
		return pingoo_store_commit(s);
	pingoo_store_rollback(s);
	*completed = 0;
	return e;
}

/*
 * The outcome is one statement of its own, which locks the transfer's row
 * only.  When it held the test's row until its commit, as it did, every
 * claim of the same test (its INSERT ... SELECT reads that row with a
 * shared lock) waited for it: with 64 connections on six tests of 1 KiB
 * packets, two lock waits per packet and MariaDB at 1 ms of CPU per packet.
 * Completion cannot be missed: whichever packet's outcome commits last
 * finds every packet claimed and, under the test's lock, counts every
 * outcome committed before its own.
 */
enum pingoo_err
pingoo_tp_record(struct pingoo_store *s, uint64_t user,
    const struct pingoo_tp_test *t, const struct pingoo_tp_xfer *x,
    int *completed)
{
	enum pingoo_err e;
	int tries = 0;

	*completed = 0;
	/* The bytes have moved: worth more tries after a dropped connection
	 * or a deadlock. */
	do
		e = record_update(s, t->id, x);
	while (pingoo_store_again(s, e, &tries));
	if (e != PINGOO_OK)
		return e;
	pingoo_metrics_add(x->dir == PINGOO_TP_DOWNLOAD ?
	    (x->status == PINGOO_TP_OK ? PINGOO_M_DOWNLOAD_OK :
	    PINGOO_M_DOWNLOAD_FAILED) : (x->status == PINGOO_TP_OK ?
	    PINGOO_M_UPLOAD_OK : PINGOO_M_UPLOAD_FAILED), 1);
	/* A timed test ends with its time and its last packet, whatever
	 * became of that packet. */
	if (x->status != PINGOO_TP_OK && t->duration_ms == 0)
		return PINGOO_OK;
	tries = 0;
	do
		e = complete_once(s, user, t, completed);
	while (pingoo_store_again(s, e, &tries));
	if (e != PINGOO_OK)
		*completed = -1;	/* the outcome stands */
	else if (*completed)
		pingoo_metrics_add(PINGOO_M_TP_COMPLETED, 1);
	return PINGOO_OK;
}

/* Collects TP_TRANSFERS rows into a growing array. */
struct xfer_rows {
	MYSQL_BIND		 out[9];
	char			 dir[16], status[16];
	unsigned long		 dirlen, statuslen;
	char			 dirnull, statusnull, endnull, sentnull, firstnull,
				 recvnull;
	int32_t			 seq;
	struct pingoo_tp_xfer	 x;
	struct pingoo_tp_xfer	*v;
	size_t			 n, cap;
};

static enum pingoo_err
xfer_row_found(void *arg)
{
	struct xfer_rows *r = arg;
	struct pingoo_tp_xfer *nv, *x;

	if ((nv = pingoo_store_grow(r->v, r->n, &r->cap, sizeof(*nv))) == NULL)
		return PINGOO_ERR_NOMEM;
	r->v = nv;
	x = &r->v[r->n++];
	*x = r->x;
	if (pingoo_tp_dir_parse(r->dir, &x->dir) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_transfers.direction",
		    r->dir);
	if (pingoo_tp_status_parse(r->status, &x->status) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_transfers.status",
		    r->status);
	x->seq = (uint32_t)r->seq;
	if (r->endnull)
		x->server_finished_at = -1;
	if (r->sentnull)
		x->client_sent_at = -1;
	if (r->firstnull)
		x->client_first_byte_at = -1;
	if (r->recvnull)
		x->client_received_at = -1;
	return PINGOO_OK;
}

static void
xfer_rows_bind(struct xfer_rows *r)
{
	memset(r, 0, sizeof(*r));
	pingoo_bind_strout(&r->out[0], r->dir, sizeof(r->dir), &r->dirlen,
	    &r->dirnull);
	pingoo_bind_i32(&r->out[1], &r->seq);
	pingoo_bind_strout(&r->out[2], r->status, sizeof(r->status),
	    &r->statuslen, &r->statusnull);
	pingoo_bind_u64(&r->out[3], &r->x.bytes);
	pingoo_bind_i64(&r->out[4], &r->x.server_started_at);
	pingoo_bind_i64out(&r->out[5], &r->x.server_finished_at, &r->endnull);
	pingoo_bind_i64out(&r->out[6], &r->x.client_sent_at, &r->sentnull);
	pingoo_bind_i64out(&r->out[7], &r->x.client_first_byte_at,
	    &r->firstnull);
	pingoo_bind_i64out(&r->out[8], &r->x.client_received_at,
	    &r->recvnull);
}

enum pingoo_err
pingoo_tp_transfers(struct pingoo_store *s, uint64_t id,
    struct pingoo_tp_xfer **xf, size_t *n)
{
	struct xfer_rows r;
	MYSQL_BIND in[1];
	enum pingoo_err e;

	xfer_rows_bind(&r);
	pingoo_bind_u64(&in[0], &id);
	e = run(s, TP_TRANSFERS, in, r.out, xfer_row_found, &r, NULL, NULL);
	if (e != PINGOO_OK) {
		free(r.v);
		return e;
	}
	*xf = r.v;
	*n = r.n;
	return PINGOO_OK;
}

/*
 * A client reports a download only once it holds every byte, so its report
 * settles a packet whose worker never recorded an outcome (it died after
 * the last byte left, or MySQL was away then): ok, packet_size bytes, no
 * server end stamp.  Only once that worker is known gone, though: the
 * packet failed by the sweep, or started before stale_before_us and not
 * moved since.  A report that comes while the worker may still be sending
 * (an early or a lying client) leaves the packet to its worker's record,
 * or, should the worker die, to the sweep, which settles a reported
 * download as this would have.  *settled is set when it did.
 */
static enum pingoo_err
settle(struct pingoo_store *s, uint64_t id, uint64_t size,
    int64_t stale_before_us, const struct pingoo_tp_report *rp, int *settled)
{
	MYSQL_BIND in[5];
	int32_t seq = (int32_t)rp->seq;
	uint64_t n = 0;
	enum pingoo_err e;

	/* A timed test's download has no size known before its worker
	 * records it: a report never settles one. */
	if (rp->dir != PINGOO_TP_DOWNLOAD || size == 0)
		return PINGOO_OK;
	pingoo_bind_u64(&in[0], &size);
	pingoo_bind_u64(&in[1], &id);
	pingoo_bind_i32(&in[2], &seq);
	pingoo_bind_i64(&in[3], &stale_before_us);
	pingoo_bind_i64(&in[4], &stale_before_us);
	if ((e = run(s, TP_SETTLE, in, NULL, NULL, NULL, &n, NULL)) ==
	    PINGOO_OK && n > 0)
		*settled = 1;
	return e;
}

/* Applies one report; refusals say why in f. */
static enum pingoo_err
report_one(struct pingoo_store *s, uint64_t id,
    const struct pingoo_tp_report *rp, struct pingoo_fault *f)
{
	MYSQL_BIND in[6];
	const char *dn = pingoo_tp_dir_name(rp->dir);
	unsigned long dlen = strlen(dn);
	int64_t sent = rp->client_sent_at, first = rp->client_first_byte_at;
	int64_t recv = rp->client_received_at, found;
	char nofirst = first < 0;	/* an upload's: NULL */
	int32_t seq = (int32_t)rp->seq;
	uint64_t n = 0;
	enum pingoo_err e;

	pingoo_bind_i64(&in[0], &sent);
	pingoo_bind_i64out(&in[1], &first, &nofirst);
	pingoo_bind_i64(&in[2], &recv);
	pingoo_bind_u64(&in[3], &id);
	pingoo_bind_str(&in[4], dn, &dlen);
	pingoo_bind_i32(&in[5], &seq);
	if ((e = run(s, TP_REPORT, in, NULL, NULL, NULL, &n, NULL)) !=
	    PINGOO_OK || n > 0)
		return e;
	if ((e = count(s, TP_XFER_EXISTS, &in[3], &found)) != PINGOO_OK)
		return e;
	if (found > 0)
		return pingoo_fault_set(f, PINGOO_ERR_CONFLICT,
		    "duplicate_packet", NULL, "%s packet %u was already "
		    "reported", dn, rp->seq);
	return pingoo_fault_set(f, PINGOO_ERR_RANGE, "not_transferred", NULL,
	    "%s packet %u was never transferred", dn, rp->seq);
}

static enum pingoo_err
report_once(struct pingoo_store *s, uint64_t user, uint64_t id,
    const struct pingoo_tp_report *rp, size_t n, int64_t stale_before_us,
    size_t *bad, struct pingoo_fault *f)
{
	struct pingoo_tp_test t;
	enum pingoo_err e;
	int settled = 0, completed = 0;
	size_t i;

	*bad = n;
	if ((e = pingoo_store_begin(s)) != PINGOO_OK)
		return pingoo_fault_set(f, e, NULL, NULL, "%s",
		    pingoo_strerror(e));
	/* Locked as a record locks it: a report and the worker recording
	 * the same packet take turns, and a settled last packet completes
	 * the test exactly once. */
	if ((e = get_test(s, TP_GET_LOCK, user, id, &t)) != PINGOO_OK) {
		pingoo_fault_set(f, e, NULL, NULL, "%s",
		    e == PINGOO_ERR_NOTFOUND ? "no such test" :
		    pingoo_strerror(e));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((e = report_one(s, id, &rp[i], f)) != PINGOO_OK) {
			if (e == PINGOO_ERR_CONFLICT || e == PINGOO_ERR_RANGE)
				*bad = i;
			goto out;
		}
		if ((e = settle(s, id, t.duration_ms > 0 ? 0 : t.packet_size,
		    stale_before_us, &rp[i], &settled)) != PINGOO_OK)
			goto out;
	}
	/* Settled or not: a worker that died between a last packet's outcome
	 * and its test's completion left the test for this to complete. */
	if (t.state == PINGOO_TP_INCOMPLETE && t.duration_ms > 0)
		e = timed_complete_if_done(s, &t, &completed);
	else if (t.state == PINGOO_TP_INCOMPLETE)
		e = maybe_complete(s, &t, &completed);
	if (e != PINGOO_OK)
		goto out;
	pingoo_tp_test_clear(&t);
	if ((e = pingoo_store_commit(s)) != PINGOO_OK)
		pingoo_fault_set(f, e, NULL, NULL, "%s", pingoo_strerror(e));
	else if (completed)
		pingoo_metrics_add(PINGOO_M_TP_COMPLETED, 1);
	return e;
out:
	if (e != PINGOO_ERR_CONFLICT && e != PINGOO_ERR_RANGE &&
	    e != PINGOO_ERR_NOTFOUND)
		pingoo_fault_set(f, e, NULL, NULL, "%s", pingoo_strerror(e));
	pingoo_tp_test_clear(&t);
	pingoo_store_rollback(s);
	return e;
}

enum pingoo_err
pingoo_tp_report(struct pingoo_store *s, uint64_t user, uint64_t id,
    const struct pingoo_tp_report *rp, size_t n, int64_t stale_before_us,
    size_t *bad, struct pingoo_fault *f)
{
	enum pingoo_err e;
	int tries = 0;

	/* A deadlock's victim was rolled back whole: the batch is retried. */
	do
		e = report_once(s, user, id, rp, n, stale_before_us, bad, f);
	while (pingoo_store_again(s, e, &tries));
	return e;
}

enum pingoo_err
pingoo_tp_abort(struct pingoo_store *s, uint64_t user, uint64_t id,
    int64_t now_us)
{
	struct pingoo_tp_test t;
	MYSQL_BIND in[3];
	uint64_t n = 0;
	enum pingoo_err e;

	pingoo_bind_i64(&in[0], &now_us);
	pingoo_bind_u64(&in[1], &id);
	pingoo_bind_u64(&in[2], &user);
	if ((e = run(s, TP_ABORT, in, NULL, NULL, NULL, &n, NULL)) !=
	    PINGOO_OK || n > 0)
		return e;
	/* Nothing changed: either no such test or not incomplete. */
	if ((e = pingoo_tp_get(s, user, id, &t)) != PINGOO_OK)
		return e;
	pingoo_tp_test_clear(&t);
	return PINGOO_ERR_STATE;
}

enum pingoo_err
pingoo_tp_list(struct pingoo_store *s, uint64_t user, uint64_t before,
    size_t max, struct pingoo_tp_test *t, size_t *n)
{
	struct test_row *r;
	MYSQL_BIND in[3];
	int64_t lim = (int64_t)max;
	enum pingoo_err e;
	size_t i;

	*n = 0;
	if (before == 0)
		before = UINT64_MAX;
	if ((r = test_row_new(t, max, 1)) == NULL)
		return PINGOO_ERR_NOMEM;
	pingoo_bind_u64(&in[0], &user);
	pingoo_bind_u64(&in[1], &before);
	pingoo_bind_i64(&in[2], &lim);
	e = run(s, TP_LIST, in, r->out, test_row_found, r, NULL, NULL);
	if (e != PINGOO_OK)
		for (i = 0; i < r->n; i++)
			pingoo_tp_test_clear(&t[i]);
	else
		*n = r->n;
	test_row_free(r);
	return e;
}

/*
 * A packet stays `started` when the worker moving it dies (SIGKILL, a
 * crash): nothing else would ever end it.  Every packet started before
 * `before_us`, not finished, and whose worker has not moved its bytes
 * since (pingoo_tp_progress) is recorded failed: a packet longer than
 * tp_stale_after is still moving while its worker refreshes it.  A
 * download its client already reported whole (a report does not settle a
 * packet whose worker may still be sending) is settled ok instead.  The
 * test it belongs to stays incomplete, as for any failed packet, until the
 * client's report of a download settles it (report_one) or a later report
 * completes it.  *n gets how many.
 */
enum pingoo_err
pingoo_tp_sweep(struct pingoo_store *s, int64_t before_us, uint64_t *n)
{
	MYSQL_BIND in[2];

	*n = 0;
	pingoo_bind_i64(&in[0], &before_us);
	pingoo_bind_i64(&in[1], &before_us);
	return run(s, TP_SWEEP, in, NULL, NULL, NULL, n, NULL);
}

enum pingoo_err
pingoo_tp_progress(struct pingoo_store *s, uint64_t id,
    enum pingoo_tp_dir dir, uint32_t seq, int64_t now_us)
{
	MYSQL_BIND in[4];
	const char *dn = pingoo_tp_dir_name(dir);
	unsigned long dlen = strlen(dn);
	int32_t sq = (int32_t)seq;

	pingoo_bind_i64(&in[0], &now_us);
	pingoo_bind_u64(&in[1], &id);
	pingoo_bind_str(&in[2], dn, &dlen);
	pingoo_bind_i32(&in[3], &sq);
	return run(s, TP_PROGRESS, in, NULL, NULL, NULL, NULL, NULL);
}

enum pingoo_err
pingoo_tp_close(struct pingoo_store *s, uint64_t user, uint64_t id,
    int64_t now_us, struct pingoo_fault *f)
{
	struct pingoo_tp_test t;
	MYSQL_BIND in[3];
	uint64_t n = 0;
	enum pingoo_err e;

	pingoo_bind_i64(&in[0], &now_us);
	pingoo_bind_u64(&in[1], &id);
	pingoo_bind_u64(&in[2], &user);
	if ((e = run(s, TP_CLOSE, in, NULL, NULL, NULL, &n, NULL)) != PINGOO_OK)
		return pingoo_fault_set(f, e, NULL, NULL, "%s",
		    pingoo_strerror(e));
	if (n > 0) {
		pingoo_metrics_add(PINGOO_M_TP_COMPLETED, 1);
		return PINGOO_OK;
	}
	/* Nothing closed: say why. */
	if ((e = get_test(s, TP_GET_BRIEF, user, id, &t)) != PINGOO_OK)
		return pingoo_fault_set(f, e, e == PINGOO_ERR_NOTFOUND ?
		    "not_found" : NULL, NULL, "%s", e == PINGOO_ERR_NOTFOUND ?
		    "no such test" : pingoo_strerror(e));
	if (t.duration_ms == 0)
		pingoo_fault_set(f, PINGOO_ERR_STATE, "invalid_state", NULL,
		    "an N x S test completes with its last packet (abort "
		    "ends it early)");
	else
		pingoo_fault_set(f, PINGOO_ERR_STATE, "invalid_state", NULL,
		    "the test is %s", pingoo_tp_state_name(t.state));
	pingoo_tp_test_clear(&t);
	return PINGOO_ERR_STATE;
}

enum pingoo_err
pingoo_tp_end_if_over(struct pingoo_store *s, uint64_t user, uint64_t id,
    int *completed)
{
	struct pingoo_tp_test t;
	enum pingoo_err e;
	int tries = 0;

	do {
		*completed = 0;
		if ((e = pingoo_store_begin(s)) != PINGOO_OK)
			continue;
		if ((e = get_test(s, TP_GET_LOCK, user, id, &t)) == PINGOO_OK &&
		    t.state == PINGOO_TP_INCOMPLETE && t.duration_ms > 0)
			e = timed_complete_if_done(s, &t, completed);
		if (e == PINGOO_OK)
			pingoo_tp_test_clear(&t);
		if (e == PINGOO_OK && (e = pingoo_store_commit(s)) == PINGOO_OK)
			break;
		pingoo_store_rollback(s);
	} while (pingoo_store_again(s, e, &tries));
	if (e == PINGOO_OK && *completed)
		pingoo_metrics_add(PINGOO_M_TP_COMPLETED, 1);
	return e;
}
