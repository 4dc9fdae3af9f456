/*
 * probe.c - the latency probes of throughput tests in MySQL.  The
 * echoed probes come from the writer thread after their answers are out;
 * the client's receipts add its t3, bring back a probe whose write failed
 * (its stamps signed by the server) or record one that got no answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store_int.h"

enum probe_sql {
	PR_RECORD,
	PR_LIST,
	PR_OWNER_LOCK,
	PR_GET,
	PR_INSERT,
	PR_RECEIPT,
	PR__MAX
};

#define PROBE_COLS "seq, phase, client_sent_at, server_received_at, " \
	"server_sent_at, client_received_at"

static const char *const sql[] = {
	/* PR_RECORD: a probe's receipt (it carried the stamps back) may have
	 * come first, and its test may be gone: both are skipped.  A probe
	 * statement a row: ten a second per test is little for MySQL. */
	[PR_RECORD] =
	"INSERT IGNORE INTO throughput_probes (test_id, seq, phase, "
	"client_sent_at, server_received_at, server_sent_at) "
	"VALUES (?, ?, ?, ?, ?, ?)",
	[PR_LIST] =
	"SELECT " PROBE_COLS " FROM throughput_probes WHERE test_id = ? "
	"ORDER BY seq",
	/* PR_OWNER_LOCK: one receipts batch of a test at a time */
	[PR_OWNER_LOCK] =
	"SELECT id FROM throughput_tests WHERE id = ? AND user_id = ? "
	"FOR UPDATE",
	[PR_GET] =
	"SELECT server_received_at, client_received_at FROM throughput_probes "
	"WHERE test_id = ? AND seq = ? FOR UPDATE",
	[PR_INSERT] =
	"INSERT INTO throughput_probes (test_id, " PROBE_COLS ") "
	"VALUES (?, ?, ?, ?, ?, ?, ?)",
	[PR_RECEIPT] =
	"UPDATE throughput_probes SET client_received_at = ? "
	"WHERE test_id = ? AND seq = ? AND client_received_at IS NULL",
};
PINGOO_SQL_TABLE_CHECK(sql, PR__MAX);

const struct pingoo_sql_table pingoo_sql_probe = { sql, PR__MAX };

static enum pingoo_err
run(struct pingoo_store *s, enum probe_sql i, MYSQL_BIND *in,
    MYSQL_BIND *out, enum pingoo_err (*row)(void *), void *arg,
    uint64_t *affected)
{
	return pingoo_store_run(s, PINGOO_SQL_PROBE, (int)i, in, out, row,
	    arg, affected, NULL);
}

/* Binds phase p's name (static) as an input string. */
static void
bind_phase(MYSQL_BIND *b, enum pingoo_phase p, unsigned long *len)
{
	const char *name = pingoo_phase_name(p);

	*len = strlen(name);
	pingoo_bind_str(b, name, len);
}

enum pingoo_err
pingoo_tp_probe_record_batch(struct pingoo_store *s,
    const struct pingoo_queued_sample *v, size_t n, uint64_t *written)
{
	MYSQL_BIND in[6];
	unsigned long plen;
	uint64_t id, k;
	int32_t seq;
	int64_t t0, t1, t2;
	size_t i;
	int tries;
	enum pingoo_err e;

	*written = 0;
	for (i = 0; i < n; i++) {
		id = v[i].test_id;
		seq = (int32_t)v[i].s.seq;
		t0 = v[i].s.t0;
		t1 = v[i].s.t1;
		t2 = v[i].s.t2;
		pingoo_bind_u64(&in[0], &id);
		pingoo_bind_i32(&in[1], &seq);
		bind_phase(&in[2], (enum pingoo_phase)v[i].phase, &plen);
		pingoo_bind_i64(&in[3], &t0);
		pingoo_bind_i64(&in[4], &t1);
		pingoo_bind_i64(&in[5], &t2);
		tries = 0;
		k = 0;
		/* As the echo's writes: a deadlock's victim goes again, a
		 * database away is the writer's to wait for. */
		while ((e = run(s, PR_RECORD, in, NULL, NULL, NULL, &k)) ==
		    PINGOO_ERR_DB && !pingoo_store_unreachable(s) &&
		    pingoo_store_again(s, e, &tries))
			;
		if (e != PINGOO_OK)
			return e;
		*written += k;
	}
	return PINGOO_OK;
}

/* PR_LIST rows into a growing array. */
struct probe_rows {
	MYSQL_BIND		 out[6];
	int32_t			 seq;
	char			 phase[16];
	unsigned long		 phaselen;
	char			 phasenull, t1null, t2null, t3null;
	struct pingoo_tp_probe	 cur;
	struct pingoo_tp_probe	*v;
	size_t			 n, cap;
};

static enum pingoo_err
probe_row(void *arg)
{
	struct probe_rows *r = arg;
	struct pingoo_tp_probe *nv, *x;

	if ((nv = pingoo_store_grow(r->v, r->n, &r->cap, sizeof(*nv))) == NULL)
		return PINGOO_ERR_NOMEM;
	r->v = nv;
	x = &r->v[r->n++];
	*x = r->cur;
	x->seq = (uint32_t)r->seq;
	/* A phase this build does not know refuses the row (name.c). */
	if (pingoo_phase_parse(r->phase, &x->phase) != PINGOO_OK)
		return pingoo_store_bad_name("throughput_probes.phase",
		    r->phase);
	if (r->t1null)
		x->t1 = -1;
	if (r->t2null)
		x->t2 = -1;
	if (r->t3null)
		x->t3 = -1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_tp_probes(struct pingoo_store *s, uint64_t id,
    struct pingoo_tp_probe **out, size_t *n)
{
	struct probe_rows r;
	MYSQL_BIND in[1];
	enum pingoo_err e;

	memset(&r, 0, sizeof(r));
	pingoo_bind_i32(&r.out[0], &r.seq);
	r.out[0].is_unsigned = 1;
	pingoo_bind_strout(&r.out[1], r.phase, sizeof(r.phase), &r.phaselen,
	    &r.phasenull);
	pingoo_bind_i64(&r.out[2], &r.cur.t0);
	pingoo_bind_i64out(&r.out[3], &r.cur.t1, &r.t1null);
	pingoo_bind_i64out(&r.out[4], &r.cur.t2, &r.t2null);
	pingoo_bind_i64out(&r.out[5], &r.cur.t3, &r.t3null);
	pingoo_bind_u64(&in[0], &id);
	e = run(s, PR_LIST, in, r.out, probe_row, &r, NULL);
	if (e != PINGOO_OK) {
		free(r.v);
		r.v = NULL;
		r.n = 0;
	}
	*out = r.v;
	*n = r.n;
	return e;
}

static enum pingoo_err
found_row(void *arg)
{
	*(int *)arg = 1;
	return PINGOO_OK;
}

/* What PR_GET found of one probe. */
struct probe_seen {
	int	found;
	int	has_server;	/* echoed, not reported lost */
	int	has_t3;
};

static enum pingoo_err
probe_get(struct pingoo_store *s, uint64_t id, uint32_t seq,
    struct probe_seen *seen)
{
	MYSQL_BIND in[2], out[2];
	int64_t t1, t3;
	int32_t sq = (int32_t)seq;
	char t1null = 1, t3null = 1;
	enum pingoo_err e;

	memset(seen, 0, sizeof(*seen));
	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_i32(&in[1], &sq);
	pingoo_bind_i64out(&out[0], &t1, &t1null);
	pingoo_bind_i64out(&out[1], &t3, &t3null);
	e = run(s, PR_GET, in, out, found_row, &seen->found, NULL);
	seen->has_server = seen->found && !t1null;
	seen->has_t3 = seen->found && !t3null;
	return e;
}

/* Inserts the probe a receipt describes: its signed stamps, or none. */
static enum pingoo_err
probe_insert(struct pingoo_store *s, uint64_t id,
    const struct pingoo_probe_receipt *r)
{
	MYSQL_BIND in[7];
	unsigned long plen;
	int64_t t0 = r->t0, t1 = r->t1, t2 = r->t2, t3 = r->t3;
	int32_t seq = (int32_t)r->seq;
	char nostamps = !r->has_stamps, not3 = r->t3 < 0;

	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_i32(&in[1], &seq);
	bind_phase(&in[2], r->phase, &plen);
	pingoo_bind_i64(&in[3], &t0);
	pingoo_bind_i64out(&in[4], &t1, &nostamps);
	pingoo_bind_i64out(&in[5], &t2, &nostamps);
	pingoo_bind_i64out(&in[6], &t3, &not3);
	return run(s, PR_INSERT, in, NULL, NULL, NULL, NULL);
}

static enum pingoo_err
probe_t3(struct pingoo_store *s, uint64_t id, uint32_t seq, int64_t t3)
{
	MYSQL_BIND in[3];
	int32_t sq = (int32_t)seq;

	pingoo_bind_i64(&in[0], &t3);
	pingoo_bind_u64(&in[1], &id);
	pingoo_bind_i32(&in[2], &sq);
	return run(s, PR_RECEIPT, in, NULL, NULL, NULL, NULL);
}

/* Applies receipt r (item i) inside the transaction; f on a refusal. */
static enum pingoo_err
receipt_one(struct pingoo_store *s, uint64_t id,
    const struct pingoo_probe_receipt *r, int (*in_flight)(void *, uint32_t),
    void *arg, struct pingoo_fault *f)
{
	struct probe_seen seen;
	enum pingoo_err e;

	if ((e = probe_get(s, id, r->seq, &seen)) != PINGOO_OK)
		return pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
	if (seen.found) {
		/* Reported lost before, or answered before: once only. */
		if (seen.has_t3 || !seen.has_server)
			return pingoo_fault_set(f, PINGOO_ERR_CONFLICT,
			    "duplicate_seq", "seq", "probe %u has its receipt "
			    "already", r->seq);
		/* An echoed probe reported lost keeps its row, without t3. */
		e = r->t3 >= 0 ? probe_t3(s, id, r->seq, r->t3) : PINGOO_OK;
	} else if (r->has_stamps || (r->t3 < 0 && (in_flight == NULL ||
	    !in_flight(arg, r->seq))))
		e = probe_insert(s, id, r);
	else if (in_flight != NULL && in_flight(arg, r->seq))
		return pingoo_fault_set(f, PINGOO_ERR_CONFLICT,
		    PINGOO_RECEIPT_IN_FLIGHT, "seq", "retry");
	else
		return pingoo_fault_set(f, PINGOO_ERR_RANGE, "not_echoed", "seq",
		    "probe %u was never echoed", r->seq);
	if (e != PINGOO_OK)
		pingoo_fault_set(f, e, NULL, NULL, "the receipt could not be "
		    "recorded");
	return e;
}

/* One attempt at the receipts transaction. */
static enum pingoo_err
receipts_once(struct pingoo_store *s, uint64_t user, uint64_t id,
    const struct pingoo_probe_receipt *rs, size_t n,
    int (*in_flight)(void *, uint32_t), void *arg, size_t *bad,
    struct pingoo_fault *f)
{
	MYSQL_BIND in[2], out[1];
	uint64_t got;
	int found = 0;
	size_t i;
	enum pingoo_err e;

	*bad = n;
	if ((e = pingoo_store_begin(s)) != PINGOO_OK)
		return pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
	pingoo_bind_u64(&in[0], &id);
	pingoo_bind_u64(&in[1], &user);
	pingoo_bind_u64(&out[0], &got);
	if ((e = run(s, PR_OWNER_LOCK, in, out, found_row, &found, NULL)) !=
	    PINGOO_OK) {
		pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
		goto out;
	}
	if (!found) {
		e = pingoo_fault_set(f, PINGOO_ERR_NOTFOUND, NULL, NULL,
		    "no such test");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((e = receipt_one(s, id, &rs[i], in_flight, arg, f)) !=
		    PINGOO_OK) {
			*bad = i;
			goto out;
		}
	if ((e = pingoo_store_commit(s)) != PINGOO_OK)
		pingoo_fault_set(f, e, NULL, NULL, "database unavailable");
out:
	if (e != PINGOO_OK)
		pingoo_store_rollback(s);
	return e;
}

enum pingoo_err
pingoo_tp_probe_receipts(struct pingoo_store *s, uint64_t user, uint64_t id,
    const struct pingoo_probe_receipt *rs, size_t n,
    int (*in_flight)(void *, uint32_t), void *arg, size_t *bad,
    struct pingoo_fault *f)
{
	enum pingoo_err e;
	int tries = 0;

	do {
		memset(f, 0, sizeof(*f));
		e = receipts_once(s, user, id, rs, n, in_flight, arg, bad, f);
	} while (pingoo_store_again(s, e, &tries));
	return e;
}
