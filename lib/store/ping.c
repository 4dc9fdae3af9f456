/*
 * ping.c - ping tests and samples in MySQL.  The statements that find a
 * test (PS_GET, PS_GET_LOCK, PS_LIST) or end it (PS_FINISH) name its owner
 * too.  The others name the test by id alone and need not: the samples'
 * (PS_SAMPLES, PS_INSERT_FULL, PS_RECEIPT) and PS_SUMMARY run under the
 * owner's PS_GET_LOCK in the same transaction or after the caller's
 * pingoo_ping_get; the echo's batches write samples the echo claimed for
 * their owner in the live table; PS_EXISTS, of any owner, only tells the
 * writer that a test is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "core/core.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store_int.h"

enum ping_sql {
	PS_CREATE,
	PS_GET,
	PS_GET_LOCK,
	PS_SAMPLES,
	PS_INSERT_FULL,
	PS_RECEIPT,
	PS_FINISH,
	PS_SUMMARY,
	PS_LIST,
	PS_EXISTS,
	PS_BATCH_1,	/* multi-row echo writes: 1, 2, 4 ... 64 rows */
	PS_BATCH_2,
	PS_BATCH_4,
	PS_BATCH_8,
	PS_BATCH_16,
	PS_BATCH_32,
	PS_BATCH_64,
	PS__MAX
};

/* A test with its summary, which has a row of its own once the test ended
 * (so that ending a test never grows the test's row). */
#define TEST_COLS "t.id, t.user_id, t.state, t.count, t.interval_ms, " \
	"t.client, t.created_at, t.closed_at, s.summary"
#define TEST_FROM "ping_tests t LEFT JOIN ping_summaries s ON s.test_id = t.id"

/*
 * The multi-row echo writes.  INSERT IGNORE: a row whose receipt got there
 * first (it carried the stamps back) is a duplicate, and a row of a test
 * deleted meanwhile fails its foreign key; both are skipped rather than
 * failing the batch.  The values were validated by the echo and its claim
 * in the live table.
 */
#define BATCH_HEAD "INSERT IGNORE INTO ping_samples (test_id, seq, " \
	"client_sent_at, server_received_at, server_sent_at) VALUES "
#define ROWS_1	"(?,?,?,?,?)"
#define ROWS_2	ROWS_1 "," ROWS_1
#define ROWS_4	ROWS_2 "," ROWS_2
#define ROWS_8	ROWS_4 "," ROWS_4
#define ROWS_16	ROWS_8 "," ROWS_8
#define ROWS_32	ROWS_16 "," ROWS_16
#define ROWS_64	ROWS_32 "," ROWS_32

static const char *const sql[] = {
	[PS_CREATE] =
	"INSERT INTO ping_tests (user_id, state, count, interval_ms, client, "
	"created_at) VALUES (?, 'incomplete', ?, ?, ?, ?)",
	[PS_GET] =
	"SELECT " TEST_COLS " FROM " TEST_FROM " WHERE t.id = ? AND "
	"t.user_id = ?",
	[PS_GET_LOCK] =
	"SELECT " TEST_COLS " FROM " TEST_FROM " WHERE t.id = ? AND "
	"t.user_id = ? FOR UPDATE",
	[PS_SAMPLES] =
	"SELECT seq, client_sent_at, server_received_at, server_sent_at, "
	"client_received_at FROM ping_samples WHERE test_id = ? ORDER BY seq",
	[PS_INSERT_FULL] =
	"INSERT INTO ping_samples (test_id, seq, client_sent_at, "
	"server_received_at, server_sent_at, client_received_at) "
	"VALUES (?, ?, ?, ?, ?, ?)",
	[PS_RECEIPT] =
	"UPDATE ping_samples SET client_received_at = ? WHERE test_id = ? "
	"AND seq = ? AND client_received_at IS NULL",
	[PS_FINISH] =
	"UPDATE ping_tests SET state = 'complete', closed_at = ? "
	"WHERE id = ? AND user_id = ?",
	[PS_SUMMARY] =
	"INSERT INTO ping_summaries (test_id, summary) VALUES (?, ?)",
	[PS_LIST] =
	"SELECT " TEST_COLS " FROM " TEST_FROM " WHERE t.user_id = ? AND "
	"t.id < ? ORDER BY t.id DESC LIMIT ?",
	[PS_EXISTS] =
	"SELECT id FROM ping_tests WHERE id = ?",
	[PS_BATCH_1] =
	BATCH_HEAD ROWS_1,
	[PS_BATCH_2] =
	BATCH_HEAD ROWS_2,
	[PS_BATCH_4] =
	BATCH_HEAD ROWS_4,
	[PS_BATCH_8] =
	BATCH_HEAD ROWS_8,
	[PS_BATCH_16] =
	BATCH_HEAD ROWS_16,
	[PS_BATCH_32] =
	BATCH_HEAD ROWS_32,
	[PS_BATCH_64] =
	BATCH_HEAD ROWS_64,
};
PINGOO_SQL_TABLE_CHECK(sql, PS__MAX);

const struct pingoo_sql_table pingoo_sql_ping = { sql, PS__MAX };

/* Rows per multi-row statement, largest first, and their statements: a
 * batch of n rows takes one statement per bit of n (below 64), so the
 * short batches of a busy writer (4 rows on average at 64 connections)
 * need few round trips; with only 1, 4, 16 and 64, 7 rows took 4. */
static const size_t batch_rows[] = { 64, 32, 16, 8, 4, 2, 1 };
static const int batch_idx[] = { PS_BATCH_64, PS_BATCH_32, PS_BATCH_16,
    PS_BATCH_8, PS_BATCH_4, PS_BATCH_2, PS_BATCH_1 };
#define BATCH_MAX 64
#define BATCH_COLS 5

/* The output row of the three test SELECTs.  The client's description
 * has a buffer of its own, as large as max_client_bytes' ceiling: one
 * stored at the configured limit reads back whole, never cut. */
struct test_row {
	struct pingoo_ping_test	 t;
	uint32_t		 count;
	int32_t			 interval;
	char			 state[16], *client, summary[4096];
	unsigned long		 statelen, clientlen, summarylen;
	char			 statenull, intervalnull, clientnull;
	char			 closednull, summarynull;
	MYSQL_BIND		 out[9];
	int			 found;
	enum pingoo_err		(*cb)(const struct pingoo_ping_test *, void *);
	void			*arg;
};

static void
test_row_free(struct test_row *r)
{
	free(r->client);
	r->client = NULL;
}

static enum pingoo_err
test_row_bind(struct test_row *r)
{
	memset(r, 0, sizeof(*r));
	if ((r->client = malloc(PINGOO_STORE_CLIENT_CAP)) == NULL)
		return PINGOO_ERR_NOMEM;
	pingoo_bind_u64(&r->out[0], &r->t.id);
	pingoo_bind_u64(&r->out[1], &r->t.user_id);
	pingoo_bind_strout(&r->out[2], r->state, sizeof(r->state),
	    &r->statelen, &r->statenull);
	pingoo_bind_i32(&r->out[3], (int32_t *)&r->count);
	r->out[3].is_unsigned = 1;
	pingoo_bind_i32(&r->out[4], &r->interval);
	r->out[4].is_null = (my_bool *)&r->intervalnull;
	pingoo_bind_strout(&r->out[5], r->client, PINGOO_STORE_CLIENT_CAP,
	    &r->clientlen, &r->clientnull);
	pingoo_bind_i64(&r->out[6], &r->t.created_at);
	pingoo_bind_i64out(&r->out[7], &r->t.closed_at, &r->closednull);
	pingoo_bind_strout(&r->out[8], r->summary, sizeof(r->summary),
	    &r->summarylen, &r->summarynull);
	return PINGOO_OK;
}

/* Completes r->t from the fetched buffers (its state read by
 * test_row_found); strings are malloc'd copies. */
static enum pingoo_err
test_row_take(struct test_row *r, struct pingoo_ping_test *t)
{
	*t = r->t;
	t->count = r->count;
	t->interval_ms = r->intervalnull ? -1 : r->interval;
	t->closed_at = r->closednull ? 0 : r->t.closed_at;
	t->client = NULL;
	t->summary = NULL;
	if ((!r->clientnull && (t->client = strdup(r->client)) == NULL) ||
	    (!r->summarynull && (t->summary = strdup(r->summary)) == NULL)) {
		pingoo_ping_test_clear(t);
		return PINGOO_ERR_NOMEM;
	}
	return PINGOO_OK;
}

static enum pingoo_err
test_row_found(void *arg)
{
	struct test_row *r = arg;
	struct pingoo_ping_test t;
	enum pingoo_err e;

	r->found = 1;
	/* A state this build does not know refuses the row (name.c). */
	if (pingoo_ping_state_parse(r->state, &r->t.state) != PINGOO_OK)
		return pingoo_store_bad_name("ping_tests.state", r->state);
	if (r->cb == NULL)
		return PINGOO_OK;
	if ((e = test_row_take(r, &t)) != PINGOO_OK)
		return e;
	e = r->cb(&t, r->arg);
	pingoo_ping_test_clear(&t);
	return e;
}

/* The copy of client is made before the INSERT: once the row is
 * committed, nothing is left that can fail. */
enum pingoo_err
pingoo_ping_create(struct pingoo_store *s, uint64_t user_id, uint32_t count,
    int32_t interval_ms, const char *client, struct pingoo_ping_test *t)
{
	MYSQL_BIND in[5];
	unsigned long clen = client != NULL ? strlen(client) : 0;
	int64_t now = pingoo_now_us();
	int32_t c = (int32_t)count;
	enum pingoo_err e;

	memset(t, 0, sizeof(*t));
	if (client != NULL && (t->client = strdup(client)) == NULL)
		return PINGOO_ERR_NOMEM;
	pingoo_bind_u64(&in[0], &user_id);
	pingoo_bind_i32(&in[1], &c);
	pingoo_bind_i32(&in[2], &interval_ms);
	if (interval_ms < 0)
		in[2].buffer_type = MYSQL_TYPE_NULL;
	pingoo_bind_str(&in[3], client, &clen);
	pingoo_bind_i64(&in[4], &now);
	e = pingoo_store_run(s, PINGOO_SQL_PING, PS_CREATE, in, NULL, NULL,
	    NULL, NULL, &t->id);
	if (e != PINGOO_OK) {
		pingoo_ping_test_clear(t);
		return e;
	}
	t->user_id = user_id;
	t->state = PING_INCOMPLETE;
	t->count = count;
	t->interval_ms = interval_ms;
	t->created_at = now;
	return PINGOO_OK;
}

static enum pingoo_err
get_test(struct pingoo_store *s, int idx, uint64_t user_id, uint64_t id,
    struct pingoo_ping_test *t)
{
	struct test_row r;
	MYSQL_BIND in[2];
	enum pingoo_err e;

	memset(t, 0, sizeof(*t));
	if ((e = test_row_bind(&r)) != PINGOO_OK)
		goto out;
	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_u64(&in[1], &user_id);
	e = pingoo_store_run(s, PINGOO_SQL_PING, idx, in, r.out,
	    test_row_found, &r, NULL, NULL);
	if (e != PINGOO_OK)
		goto out;
	if (!r.found) {
		e = PINGOO_ERR_NOTFOUND;
		goto out;
	}
	e = test_row_take(&r, t);
out:
	test_row_free(&r);
	return e;
}

enum pingoo_err
pingoo_ping_get(struct pingoo_store *s, uint64_t user_id, uint64_t id,
    struct pingoo_ping_test *t)
{
	return get_test(s, PS_GET, user_id, id, t);
}

/* Growing array of samples, filled row by row. */
struct sample_rows {
	struct pingoo_sample	 cur;
	char			 t3null;
	struct pingoo_sample	*v;
	size_t			 n, cap;
	MYSQL_BIND		 out[5];
};

static enum pingoo_err
sample_row(void *arg)
{
	struct sample_rows *r = arg;
	struct pingoo_sample *nv, *x;

	if ((nv = pingoo_store_grow(r->v, r->n, &r->cap, sizeof(*nv))) == NULL)
		return PINGOO_ERR_NOMEM;
	r->v = nv;
	x = &r->v[r->n++];
	*x = r->cur;
	x->has_t3 = !r->t3null;
	if (r->t3null)
		x->t3 = 0;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_ping_samples(struct pingoo_store *s, uint64_t test_id,
    struct pingoo_sample **out, size_t *n)
{
	struct sample_rows r;
	MYSQL_BIND in[1];
	enum pingoo_err e;

	memset(&r, 0, sizeof(r));
	pingoo_bind_i32(&r.out[0], (int32_t *)&r.cur.seq);
	r.out[0].is_unsigned = 1;
	pingoo_bind_i64(&r.out[1], &r.cur.t0);
	pingoo_bind_i64(&r.out[2], &r.cur.t1);
	pingoo_bind_i64(&r.out[3], &r.cur.t2);
	pingoo_bind_i64out(&r.out[4], &r.cur.t3, &r.t3null);
	pingoo_bind_u64(&in[0], &test_id);
	e = pingoo_store_run(s, PINGOO_SQL_PING, PS_SAMPLES, in, r.out,
	    sample_row, &r, NULL, NULL);
	*out = e == PINGOO_OK ? r.v : NULL;
	*n = e == PINGOO_OK ? r.n : 0;
	if (e != PINGOO_OK)
		free(r.v);
	return e;
}

/* One multi-row statement of k rows from v. */
static enum pingoo_err
batch_one(struct pingoo_store *s, int k, const struct pingoo_queued_sample *v,
    uint64_t *written)
{
	MYSQL_BIND in[BATCH_MAX * BATCH_COLS];
	int32_t seq[BATCH_MAX];
	int64_t t0[BATCH_MAX], t1[BATCH_MAX], t2[BATCH_MAX];
	uint64_t id[BATCH_MAX], n = 0;
	size_t i, rows = batch_rows[k];
	enum pingoo_err e;

	for (i = 0; i < rows; i++) {
		id[i] = v[i].test_id;
		seq[i] = (int32_t)v[i].s.seq;
		t0[i] = v[i].s.t0;
		t1[i] = v[i].s.t1;
		t2[i] = v[i].s.t2;
		pingoo_bind_u64(&in[i * BATCH_COLS + 0], &id[i]);
		pingoo_bind_i32(&in[i * BATCH_COLS + 1], &seq[i]);
		pingoo_bind_i64(&in[i * BATCH_COLS + 2], &t0[i]);
		pingoo_bind_i64(&in[i * BATCH_COLS + 3], &t1[i]);
		pingoo_bind_i64(&in[i * BATCH_COLS + 4], &t2[i]);
	}
	e = pingoo_store_run(s, PINGOO_SQL_PING, batch_idx[k],
	    in, NULL, NULL, NULL, &n, NULL);
	*written += n;
	return e;
}

enum pingoo_err
pingoo_ping_record_batch(struct pingoo_store *s,
    const struct pingoo_queued_sample *v, size_t n, uint64_t *written)
{
	enum pingoo_err e;
	size_t k;
	int tries;

	*written = 0;
	/* Each statement commits on its own: no lock is held from one to the
	 * next, so a receipt's transaction (test row, then its samples) cannot
	 * wait in a cycle with this one.  INSERT IGNORE makes a retry after a
	 * partial failure harmless. */
	for (k = 0; k < sizeof(batch_rows) / sizeof(batch_rows[0]) && n > 0;
	    k++)
		while (n >= batch_rows[k]) {
			tries = 0;
			/* A deadlock's victim kept nothing: the same again.
			 * A database that is away is the writer's to wait for. */
			while ((e = batch_one(s, (int)k, v, written)) ==
			    PINGOO_ERR_DB && !pingoo_store_unreachable(s) &&
			    pingoo_store_again(s, e, &tries))
				;
			if (e != PINGOO_OK)
				return e;
			v += batch_rows[k];
			n -= batch_rows[k];
		}
	return PINGOO_OK;
}

static enum pingoo_err
found_row(void *arg)
{
	*(int *)arg = 1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_ping_exists(struct pingoo_store *s, uint64_t test_id)
{
	MYSQL_BIND in[1], out[1];
	uint64_t got;
	int found = 0;
	enum pingoo_err e;

	pingoo_bind_u64(&in[0], &test_id);
	pingoo_bind_u64(&out[0], &got);
	e = pingoo_store_run(s, PINGOO_SQL_PING, PS_EXISTS, in,
	    out, found_row, &found, NULL, NULL);
	if (e == PINGOO_OK && !found)
		return PINGOO_ERR_NOTFOUND;
	return e;
}

enum pingoo_err
pingoo_ping_list(struct pingoo_store *s, uint64_t user_id, uint64_t before,
    int limit, enum pingoo_err (*cb)(const struct pingoo_ping_test *, void *),
    void *arg)
{
	struct test_row r;
	MYSQL_BIND in[3];
	uint64_t b = before == 0 ? UINT64_MAX : before;
	int32_t lim = limit;
	enum pingoo_err e;

	if ((e = test_row_bind(&r)) != PINGOO_OK)
		goto out;
	r.cb = cb;
	r.arg = arg;
	pingoo_bind_u64(&in[0], &user_id);
	pingoo_bind_u64(&in[1], &b);
	pingoo_bind_i32(&in[2], &lim);
	e = pingoo_store_run(s, PINGOO_SQL_PING, PS_LIST, in,
	    r.out, test_row_found, &r, NULL, NULL);
out:
	test_row_free(&r);
	return e;
}

/* Marks the test complete and stores its final summary (in a txn). */
static enum pingoo_err
finish(struct pingoo_store *s, const struct pingoo_ping_test *t,
    const struct pingoo_sample *v, size_t n)
{
	struct pingoo_ping_summary sum;
	struct json_object *o;
	MYSQL_BIND in[4];
	const char *text;
	unsigned long len;
	int64_t now = pingoo_now_us();
	uint64_t id = t->id, uid = t->user_id;
	enum pingoo_err e;

	if ((e = pingoo_ping_summarize(v, n, t->count, 1, &sum)) != PINGOO_OK)
		return e;
	o = pingoo_ping_summary_json(&sum);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	pingoo_bind_i64(&in[0], &now);
	pingoo_bind_u64(&in[1], &id);
	pingoo_bind_u64(&in[2], &uid);
	e = pingoo_store_run(s, PINGOO_SQL_PING, PS_FINISH,
	    in, NULL, NULL, NULL, NULL, NULL);
	if (e == PINGOO_OK) {
		pingoo_bind_u64(&in[0], &id);
		pingoo_bind_str(&in[1], text, &len);
		e = pingoo_store_run(s, PINGOO_SQL_PING, PS_SUMMARY,
		    in, NULL, NULL, NULL, NULL, NULL);
		/* The summary is there already: another transaction finished
		 * the test and committed after this one read it incomplete.
		 * The row lock taken with that read holds only on its own
		 * Galera node, so a close on one node and a close or the last
		 * receipts on another can both get here.  Tried again, this
		 * one finds the test complete. */
		if (e == PINGOO_ERR_CONFLICT)
			e = pingoo_store_lost_race(s);
	}
	json_object_put(o);
	return e;
}

/* The sample of seq in v (sorted by seq), or NULL. */
static struct pingoo_sample *
find_sample(struct pingoo_sample *v, size_t n, uint32_t seq)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].seq == seq)
			return &v[mid];
		if (v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static enum pingoo_err
insert_full(struct pingoo_store *s, uint64_t test_id,
    const struct pingoo_receipt *r)
{
	MYSQL_BIND in[6];
	int32_t seq = (int32_t)r->seq;
	int64_t t0 = r->t0, t1 = r->t1, t2 = r->t2, t3 = r->t3;

	pingoo_bind_u64(&in[0], &test_id);
	pingoo_bind_i32(&in[1], &seq);
	pingoo_bind_i64(&in[2], &t0);
	pingoo_bind_i64(&in[3], &t1);
	pingoo_bind_i64(&in[4], &t2);
	pingoo_bind_i64(&in[5], &t3);
	return pingoo_store_run(s, PINGOO_SQL_PING, PS_INSERT_FULL, in, NULL,
	    NULL, NULL, NULL, NULL);
}

static enum pingoo_err
set_receipt(struct pingoo_store *s, uint64_t test_id,
    const struct pingoo_receipt *r)
{
	MYSQL_BIND in[3];
	int32_t seq = (int32_t)r->seq;
	int64_t t3 = r->t3;
	uint64_t n = 0;
	enum pingoo_err e;

	pingoo_bind_i64(&in[0], &t3);
	pingoo_bind_u64(&in[1], &test_id);
	pingoo_bind_i32(&in[2], &seq);
	e = pingoo_store_run(s, PINGOO_SQL_PING, PS_RECEIPT,
	    in, NULL, NULL, NULL, &n, NULL);
	if (e == PINGOO_OK && n != 1)
		return PINGOO_ERR_CONFLICT;
	return e;
}

/*
 * Checks one receipt against the samples in memory (v, sorted, with room
 * for one more: a sample brought back with its stamps is appended).
 * Updates v so later receipts of the batch and the summary see it.
 */
static enum pingoo_err
check_receipt(const struct pingoo_ping_test *t, struct pingoo_sample *v,
    size_t *n, const struct pingoo_receipt *r, size_t i,
    int (*in_flight)(void *, uint32_t), void *arg, struct pingoo_fault *f)
{
	struct pingoo_sample *x;
	char field[48];

	snprintf(field, sizeof(field), "receipts[%zu].seq", i);
	if (r->seq >= t->count)
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    field, "seq must be below the test's count (%u)", t->count);
	if ((x = find_sample(v, *n, r->seq)) == NULL) {
		if (!r->has_stamps && in_flight != NULL &&
		    in_flight(arg, r->seq))
			return pingoo_fault_set(f, PINGOO_ERR_CONFLICT,
			    PINGOO_RECEIPT_IN_FLIGHT, field, "retry");
		if (!r->has_stamps)
			return pingoo_fault_set(f, PINGOO_ERR_RANGE,
			    "not_echoed", field,
			    "sample %u was never echoed", r->seq);
		x = &v[(*n)++];
		x->seq = r->seq;
		x->t0 = r->t0;
		x->t1 = r->t1;
		x->t2 = r->t2;
		x->has_t3 = 0;
		/* Keep v sorted for find_sample. */
		while (x > v && x[-1].seq > x->seq) {
			struct pingoo_sample tmp = x[-1];
			x[-1] = *x;
			*x = tmp;
			x--;
		}
	}
	if (x->has_t3)
		return pingoo_fault_set(f, PINGOO_ERR_CONFLICT, "duplicate_seq",
		    field, "sample %u already has its receipt", r->seq);
	if (r->t3 < x->t0) {
		snprintf(field, sizeof(field), "receipts[%zu].client_received_at",
		    i);
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "out_of_range",
		    field, "client_received_at is before client_sent_at");
	}
	x->t3 = r->t3;
	x->has_t3 = 1;
	return PINGOO_OK;
}

/* Writes one checked receipt: the full row when the echo's own write is
 * missing, else just t3. */
static enum pingoo_err
apply_receipt(struct pingoo_store *s, uint64_t test_id,
    const struct pingoo_receipt *r, int existed)
{
	enum pingoo_err e;

	if (existed)
		return set_receipt(s, test_id, r);
	e = insert_full(s, test_id, r);
	if (e == PINGOO_ERR_CONFLICT)	/* the echo's write just landed */
		e = set_receipt(s, test_id, r);
	return e;
}

/*
 * Starts a transaction holding the owner's test row: receipts and close of
 * one test then run one after the other.  On failure nothing is held, t is
 * cleared and f says why.
 */
static enum pingoo_err
begin_locked(struct pingoo_store *s, uint64_t user_id, uint64_t test_id,
    struct pingoo_ping_test *t, struct pingoo_fault *f)
{
	enum pingoo_err e;

	memset(t, 0, sizeof(*t));
	if ((e = pingoo_store_begin(s)) != PINGOO_OK)
		return pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
	if ((e = get_test(s, PS_GET_LOCK, user_id, test_id, t)) != PINGOO_OK) {
		pingoo_store_rollback(s);
		pingoo_ping_test_clear(t);
		return pingoo_fault_set(f, e, NULL, NULL, e ==
		    PINGOO_ERR_NOTFOUND ? "no such test" : "database unavailable");
	}
	return PINGOO_OK;
}

/* Ends begin_locked's transaction: commits when e is PINGOO_OK (f says
 * why a commit failed), else rolls back; clears t.  Returns the outcome. */
static enum pingoo_err
end_locked(struct pingoo_store *s, enum pingoo_err e,
    struct pingoo_ping_test *t, struct pingoo_fault *f)
{
	if (e == PINGOO_OK && (e = pingoo_store_commit(s)) != PINGOO_OK)
		pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
	if (e != PINGOO_OK)
		pingoo_store_rollback(s);
	pingoo_ping_test_clear(t);
	return e;
}

/* One attempt at the receipts transaction. */
static enum pingoo_err
receipts_once(struct pingoo_store *s, uint64_t user_id,
    uint64_t test_id, const struct pingoo_receipt *rs, size_t nr,
    int (*in_flight)(void *, uint32_t), void *arg, int64_t *received,
    enum ping_state *state, struct pingoo_fault *f)
{
	struct pingoo_ping_test t;
	struct pingoo_sample *v = NULL, *grown;
	unsigned char *existed = NULL;
	size_t n = 0, i, k;
	int64_t got = 0;
	enum pingoo_err e;

	if ((e = begin_locked(s, user_id, test_id, &t, f)) != PINGOO_OK)
		return e;
	if (t.state != PING_INCOMPLETE) {
		e = pingoo_fault_set(f, PINGOO_ERR_STATE, "invalid_state", NULL,
		    "the test is %s", pingoo_ping_state_name(t.state));
		goto out;
	}
	if ((e = pingoo_ping_samples(s, test_id, &v, &n)) != PINGOO_OK) {
		pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
		goto out;
	}
	/* Room for every receipt to add its sample; remember which existed. */
	if ((grown = realloc(v, (n + nr + 1) * sizeof(*v))) == NULL ||
	    (existed = calloc(nr, 1)) == NULL) {
		if (grown != NULL)
			v = grown;
		e = pingoo_fault_set(f, PINGOO_ERR_NOMEM, NULL, NULL, "no memory");
		goto out;
	}
	v = grown;
	for (i = 0; i < nr; i++) {
		existed[i] = find_sample(v, n, rs[i].seq) != NULL;
		if ((e = check_receipt(&t, v, &n, &rs[i], i, in_flight, arg,
		    f)) != PINGOO_OK)
			goto out;
	}
	for (i = 0; i < nr; i++)
		if ((e = apply_receipt(s, test_id, &rs[i], existed[i])) !=
		    PINGOO_OK) {
			pingoo_fault_set(f, e == PINGOO_ERR_CONFLICT ?
			    PINGOO_ERR_CONFLICT : PINGOO_ERR_DB, e ==
			    PINGOO_ERR_CONFLICT ? "duplicate_seq" : NULL, NULL,
			    "the receipt could not be recorded");
			goto out;
		}
	for (k = 0; k < n; k++)
		got += v[k].has_t3;
	*state = PING_INCOMPLETE;
	if (got == (int64_t)t.count) {
		if ((e = finish(s, &t, v, n)) != PINGOO_OK) {
			pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
			goto out;
		}
		*state = PING_COMPLETE;
	}
	*received = got;
out:
	e = end_locked(s, e, &t, f);
	free(existed);
	free(v);
	return e;
}

enum pingoo_err
pingoo_ping_receipts(struct pingoo_store *s, uint64_t user_id,
    uint64_t test_id, const struct pingoo_receipt *rs, size_t nr,
    int (*in_flight)(void *, uint32_t), void *arg, int64_t *received,
    enum ping_state *state, struct pingoo_fault *f)
{
	enum pingoo_err e;
	int tries = 0;

	do {
		memset(f, 0, sizeof(*f));
		e = receipts_once(s, user_id, test_id, rs, nr, in_flight, arg,
		    received, state, f);
	} while (pingoo_store_again(s, e, &tries));
	if (e == PINGOO_OK && *state == PING_COMPLETE)
		pingoo_metrics_add(PINGOO_M_PING_COMPLETED, 1);
	return e;
}

/* One attempt at the close transaction. */
static enum pingoo_err
close_once(struct pingoo_store *s, uint64_t user_id, uint64_t test_id,
    int *closed, struct pingoo_fault *f)
{
	struct pingoo_ping_test t;
	struct pingoo_sample *v = NULL;
	size_t n = 0;
	enum pingoo_err e;

	if ((e = begin_locked(s, user_id, test_id, &t, f)) != PINGOO_OK)
		return e;
	if (t.state == PING_ABORTED) {
		e = pingoo_fault_set(f, PINGOO_ERR_STATE, "invalid_state", NULL,
		    "the test was aborted");
		goto out;
	}
	if (t.state == PING_INCOMPLETE) {
		if ((e = pingoo_ping_samples(s, test_id, &v, &n)) != PINGOO_OK ||
		    (e = finish(s, &t, v, n)) != PINGOO_OK) {
			pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
			goto out;
		}
		*closed = 1;
	}
out:
	e = end_locked(s, e, &t, f);
	free(v);
	return e;
}

enum pingoo_err
pingoo_ping_close(struct pingoo_store *s, uint64_t user_id, uint64_t test_id,
    struct pingoo_fault *f)
{
	enum pingoo_err e;
	int tries = 0, closed;

	do {
		memset(f, 0, sizeof(*f));
		closed = 0;
		e = close_once(s, user_id, test_id, &closed, f);
	} while (pingoo_store_again(s, e, &tries));
	if (e == PINGOO_OK && closed)
		pingoo_metrics_add(PINGOO_M_PING_COMPLETED, 1);
	return e;
}
