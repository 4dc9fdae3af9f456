/*
 * background.c - what each worker process does besides answering: the
 * thread that writes echoed samples (and throughput tests' latency
 * probes) to MySQL in batches, after their answers are out, and the sweep
 * that records failed the packets a dead worker left `started`; and the
 * thread that copies the revoked tokens MySQL holds into memory shared by
 * the host's processes.  It owns the table of live tests, the queue of
 * echoed samples the ping and probe handlers use, and the table of
 * revoked tokens every authenticated route consults.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth/auth.h"
#include "core/core.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store/store.h"

/* Live tests one host keeps in memory; older ones reload from MySQL. */
#define PINGTAB_SLOTS 4096
/* Echoed samples waiting for the writer, per process. */
#define QUEUE_CAP 65536
/* What the writer takes at once; lib/store/ping.c splits it into statements. */
#define WRITE_BATCH 256
/* Under load the writer would wake for every sample or two and send a
 * statement for each, a MySQL round trip per echo; it lets this long pass
 * after a short take so that the next statement carries more rows.  It is
 * after the answer: no measured interval contains it, and receipts wait
 * for rows in flight. */
#define GATHER_MS 2
/* ... and keeps waiting while samples come, up to this long: fewer, fuller
 * statements, which cost MariaDB less CPU per sample (docs/performance.md). */
#define GATHER_MAX_MS 8
/* How long a stopping writer keeps retrying a database that is down. */
#define DRAIN_MS 10000

/*
 * Revoked tokens (lib/shm/revtab.c): 32 bytes an entry, 2.5 MiB a host.
 * Shared memory rather than a query per request: looking a token up there
 * takes 0.09 us (bench/micro, a half-full table), against 0.18 us for the
 * cached token check itself and 140 us or more for one MySQL primary-key
 * read (docs/deployment.md), which the echo may not spend.
 * 65,536 tokens is far more than are revoked within a token's lifetime
 * (jwt_ttl, an hour by default) at any plausible rate of logouts; past
 * that the table fails closed, user by user (revtab.c).
 */
#define REVOKED_TOKENS	65536
#define REVOKED_USERS	16384
/* How often the host's processes, taking turns, read the revocations made
 * since the last read: what a revocation made through another host waits,
 * at most, besides the query itself.  A request's own host has it at
 * once (background_revoke_*).  Four small indexed reads a second; two
 * pools on one database saw another's logout after 16-253 ms (median
 * 105, sanitizer build), well inside the second promised. */
#define REVOKE_POLL_US	250000
/* How far back each read looks past the previous one's start: a row is
 * stamped (revoked_at, the revoking host's clock) before its transaction
 * commits, and on Galera is applied on this node later still; the hosts'
 * clocks are kept within this by NTP (docs/deployment.md).  Rows read
 * twice change nothing. */
#define REVOKE_MARGIN_US 5000000
/* A host that has not read the revocations for this long (its database
 * is away) cannot tell a revoked token from a good one: it refuses every
 * token, 503, rather than honor one revoked elsewhere.  The promise is
 * that a revocation reaches every host within a second. */
#define REVOKE_STALE_US	1000000
/* How often each process frees the expired entries of the shared table,
 * and the first one deletes the expired rows from MySQL. */
#define REVOKE_PRUNE_US	(60 * 1000000LL)
#define REVOKE_PURGE_BATCH 1000

static struct pingoo_pingtab *tab;
static struct pingoo_revtab *revtab;
static const struct pingoo_config *config;
static pthread_t revoker;
static int revoker_running;
static volatile int revoker_stop;
static struct pingoo_sampleq *queue;
static pthread_t writer;
static int writer_running;
/* Set by the writer while MySQL refuses its writes: the echo then answers
 * 503 rather than acknowledge a sample it cannot keep. */
static volatile int db_down;
/* Each worker process's db_down, in memory shared by the host's workers
 * (mapped before the fork, indexed by the worker's index): the echo of
 * every process answers 503 while any writer waits, and a receipt whose
 * sample waits in another process's writer is told to come back rather
 * than that its echo was never recorded.  A replaced worker starts its
 * slot afresh. */
#define DOWN_SLOTS 1024
static int *down_slots;
static int nworkers;		/* the pool's processes, 1 at least */
/* This worker process's index (background_start's): the first runs the
 * retention. */
static int worker;

int
background_init(const struct pingoo_config *cfg)
{
	uint32_t max = (uint32_t)cfg->ping_max_count;

	/* Throughput tests' probes share the table (lib/shm/shm.h's key). */
	if (max < PINGOO_TP_MAX_PROBES)
		max = PINGOO_TP_MAX_PROBES;
	tab = pingoo_pingtab_new(PINGTAB_SLOTS, max);
	revtab = pingoo_revtab_new(REVOKED_TOKENS, REVOKED_USERS);
	config = cfg;
	nworkers = cfg->processes > 0 ? cfg->processes : 1;
	down_slots = pingoo_shm_map(DOWN_SLOTS * sizeof(int));
	return tab != NULL && revtab != NULL && down_slots != NULL ? 0 : -1;
}

/* Says whether this process's writer waits for a database that refuses
 * its writes. */
static void
set_down(int down)
{
	db_down = down;
	if (down_slots != NULL)
		__atomic_store_n(&down_slots[worker % DOWN_SLOTS], down,
		    __ATOMIC_RELAXED);
}

/* 1 when the writer of any worker process of this host waits. */
static int
any_down(void)
{
	int i;

	if (db_down)
		return 1;
	if (down_slots == NULL)
		return 0;
	/* Worker indexes are below the pool's processes. */
	for (i = 0; i < nworkers && i < DOWN_SLOTS; i++)
		if (__atomic_load_n(&down_slots[i], __ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* Some rows were skipped: forget the tests that are gone (their user was
 * deleted), so their next echo reloads and answers 404. */
static void
forget_gone(struct pingoo_store *st, const struct pingoo_queued_sample *v,
    size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && v[j].test_id != v[i].test_id; j++)
			;
		if (j == i && pingoo_ping_exists(st, v[i].test_id) ==
		    PINGOO_ERR_NOTFOUND)
			pingoo_pingtab_forget(tab, v[i].test_id);
	}
}

/* Writes a batch sorted by cmp_queued: ping samples first, then probes.
 * *written counts the ping samples written, *nping how many there were. */
static enum pingoo_err
record(struct pingoo_store *st, const struct pingoo_queued_sample *v,
    size_t n, uint64_t *written, size_t *nping)
{
	uint64_t probes;
	size_t k;
	enum pingoo_err e;

	for (k = 0; k < n && !v[k].probe; k++)
		;
	*nping = k;
	*written = 0;
	if (k > 0 && (e = pingoo_ping_record_batch(st, v, k, written)) !=
	    PINGOO_OK)
		return e;
	if (k < n)
		return pingoo_tp_probe_record_batch(st, v + k, n - k, &probes);
	return PINGOO_OK;
}

/* Writes one batch until it is in MySQL; gives up only when stopping and
 * the database has refused it for DRAIN_MS.  The store retries a failed
 * statement; this loop waits, for as long as it takes, for a database that
 * is away or refuses writes (read-only, a full disk, a table it may not
 * write): every sample in the batch was acknowledged, so none is dropped,
 * and while it waits the echo answers 503 instead of acknowledging more. */
static void
write_batch(struct pingoo_store *st, const struct pingoo_queued_sample *v,
    size_t n)
{
	uint64_t written;
	size_t nping;
	long waited = 0;
	enum pingoo_err e;

	for (;;) {
		if ((e = record(st, v, n, &written, &nping)) == PINGOO_OK) {
			pingoo_metrics_add(PINGOO_M_SAMPLES, written);
			if (db_down)
				fprintf(stderr, "pingoo: database back; "
				    "echo samples are written again\n");
			set_down(0);
			if (written < nping)
				forget_gone(st, v, nping);
			return;
		}
		if (pingoo_store_retryable(st) && !pingoo_store_unreachable(st)) {
			/* Still a deadlock's victim after the store's own
			 * retries: nothing was kept; the batch goes again
			 * after a pause. */
			pingoo_sleep_ms(2);
			continue;
		}
		if (!db_down)
			fprintf(stderr, "pingoo: %zu echo samples wait for the "
			    "database, which %s (%s)\n", n,
			    pingoo_store_unreachable(st) ? "is away" :
			    "refuses them", pingoo_store_errmsg(st));
		set_down(1);
		if (pingoo_sampleq_stopped(queue) && waited >= DRAIN_MS) {
			fprintf(stderr, "pingoo: stopping with %zu echo samples "
			    "unwritten; their receipts can still bring them\n", n);
			return;
		}
		pingoo_sleep_ms(200);
		waited += 200;
	}
}

static int
cmp_queued(const void *a, const void *b)
{
	const struct pingoo_queued_sample *x = a, *y = b;

	if (x->probe != y->probe)
		return x->probe - y->probe;
	if (x->test_id != y->test_id)
		return x->test_id < y->test_id ? -1 : 1;
	return (x->s.seq > y->s.seq) - (x->s.seq < y->s.seq);
}

/* How often each worker process looks for packets left `started`. */
#define SWEEP_EVERY_US (60 * 1000000LL)

/*
 * Called by the writer thread on every turn; sweeps at start
 * (a replaced worker cleans up after the one that died) and then once a
 * minute.  Several processes and hosts sweeping the same rows is harmless.
 */
static void
sweep_tick(struct pingoo_store *st, const struct pingoo_config *cfg)
{
	static int64_t next;
	int64_t now = pingoo_now_us(), mono = pingoo_mono_us();
	uint64_t n;

	if (next != 0 && mono < next)
		return;
	next = mono + SWEEP_EVERY_US;
	if (pingoo_tp_sweep(st, now - (int64_t)cfg->tp_stale_after * 1000000,
	    &n) != PINGOO_OK)
		next = mono + 1000000;	/* database away: try again soon */
	else if (n > 0)
		fprintf(stderr, "pingoo: %" PRIu64 " packets left started by a "
		    "dead worker recorded failed (or ok: a download its client "
		    "reported whole)\n", n);
}

/*
 * The retention: tests older than retention_days are removed a small
 * batch at a time (lib/store/data.c), one step per turn of the writer, so the
 * echo's samples keep being written between the steps.  Only the first
 * worker process runs it.  Returns 1 while a pass has more to remove.
 */
static int
retention_tick(struct pingoo_store *st, const struct pingoo_config *cfg)
{
	static int64_t next;
	static int running;
	int64_t mono = pingoo_mono_us(), before;
	struct pingoo_expired gone;
	int more = 0;

	if (cfg->retention_days == 0 || worker != 0)
		return 0;
	if (!running && next != 0 && mono < next)
		return 0;
	before = pingoo_now_us() - (int64_t)cfg->retention_days * 86400 *
	    1000000;
	if (pingoo_retention_step(st, before, cfg->retention_batch, &more,
	    &gone) != PINGOO_OK)
		more = 0;	/* the database is away: next pass */
	/* This host's live table forgets it; another host's finds it gone
	 * at its next write (forget_gone). */
	if (gone.id != 0)
		pingoo_pingtab_forget(tab, gone.tp ? PINGOO_PINGTAB_TP(gone.id) :
		    gone.id);
	running = more;
	if (!more)
		next = mono + (int64_t)cfg->retention_every * 1000000;
	return more;
}

/* DELETE /api/v1/tests leaves what it could not delete within its answer
 * to the first worker process's background thread, which takes a running
 * deletion whose progress is older than DELETION_STALLED_US (the request
 * wrote it last, or a host that had it went away) and writes its progress
 * every DELETION_WRITE_US.  Each turn deletes for DELETION_STEP_US only,
 * between the writes of echoed samples. */
#define DELETION_STALLED_US	(5 * 1000000LL)
#define DELETION_WRITE_US	(1 * 1000000LL)
#define DELETION_STEP_US	20000
#define DELETION_BATCH		500

static struct {
	uint64_t	user;		/* 0: none taken */
	uint64_t	ping, tp;	/* deleted since the last write */
	int64_t		written;	/* monotonic µs of the last write */
	int64_t		next_look;
} del;

/* Takes a deletion to carry on, if one waits; 1 when it took one. */
static int
deletion_take(struct pingoo_store *st, int64_t mono)
{
	int64_t now = pingoo_now_us();
	uint64_t user;
	int taken = 0;

	if (mono < del.next_look)
		return 0;
	del.next_look = mono + DELETION_WRITE_US;
	if (pingoo_deletion_stalled(st, now - DELETION_STALLED_US, &user) !=
	    PINGOO_OK || user == 0 ||
	    pingoo_deletion_claim(st, user, now - DELETION_STALLED_US, now,
	    &taken) != PINGOO_OK || !taken)
		return 0;
	del.user = user;
	del.ping = del.tp = 0;
	del.written = mono;
	return 1;
}

/*
 * Called by the writer thread on every turn, in the first worker process
 * only: a step of the deletion it carries on.  1 while it has one.
 */
static int
deletion_tick(struct pingoo_store *st)
{
	int64_t mono = pingoo_mono_us();
	uint64_t ping, tp;
	int done;
	enum pingoo_err e;

	if (worker != 0 || (del.user == 0 && !deletion_take(st, mono)))
		return 0;
	e = pingoo_tests_delete_some(st, del.user, DELETION_BATCH,
	    mono + DELETION_STEP_US, &ping, &tp, &done);
	/* The tests it counted are gone, a failure or not. */
	del.ping += ping;
	del.tp += tp;
	if (e != PINGOO_OK) {
		fprintf(stderr, "pingoo: deleting the tests of user %" PRIu64
		    " paused (%s); taken up again once it is stale\n",
		    del.user, pingoo_store_errmsg(st));
		(void)pingoo_deletion_progress(st, del.user, del.ping, del.tp,
		    0, pingoo_now_us());
		del.user = 0;
		return 0;
	}
	if (done || pingoo_mono_us() - del.written >= DELETION_WRITE_US) {
		if (pingoo_deletion_progress(st, del.user, del.ping, del.tp,
		    done, pingoo_now_us()) != PINGOO_OK) {
			del.user = 0;
			return 0;
		}
		del.ping = del.tp = 0;
		del.written = pingoo_mono_us();
	}
	if (done)
		del.user = 0;
	return 1;
}

/*
 * After a short take (n samples in v), waits GATHER_MS at a time, for at
 * most GATHER_MAX_MS, while samples keep coming and the take is still
 * short; returns how many it added.  An echo alone waits GATHER_MS, as
 * nothing follows it.
 */
static size_t
gather(struct pingoo_queued_sample *v, size_t n)
{
	size_t got, added = 0;
	int waited;

	for (waited = 0; n > 0 && n + added < WRITE_BATCH / 4 &&
	    waited < GATHER_MAX_MS && !pingoo_sampleq_stopped(queue);
	    waited += GATHER_MS) {
		pingoo_sleep_ms(GATHER_MS);
		got = pingoo_sampleq_pop(queue, v + n + added,
		    WRITE_BATCH - n - added, 0);
		added += got;
		if (got == 0)
			break;
	}
	return added;
}

/* The packets moving in this process: a slot each, taken under a lock at a
 * packet's start and end; the bytes' progress is a relaxed store. */
#define MOVING_SLOTS	1024
static struct moving {
	int		used;
	uint64_t	test_id;
	int		dir;
	uint32_t	seq;
	int64_t		touched;	/* monotonic µs bytes last moved */
	int64_t		written;	/* monotonic µs of the last stamp */
} moving[MOVING_SLOTS];
static pthread_mutex_t moving_lock = PTHREAD_MUTEX_INITIALIZER;

int
background_moving_add(uint64_t test_id, int dir, uint32_t seq, int64_t mono)
{
	int i;

	pthread_mutex_lock(&moving_lock);
	for (i = 0; i < MOVING_SLOTS && moving[i].used; i++)
		;
	if (i < MOVING_SLOTS) {
		moving[i].used = 1;
		moving[i].test_id = test_id;
		moving[i].dir = dir;
		moving[i].seq = seq;
		moving[i].touched = moving[i].written = mono;
	}
	pthread_mutex_unlock(&moving_lock);
	return i < MOVING_SLOTS ? i : -1;
}

void
background_moving_touch(int slot, int64_t mono)
{
	if (slot >= 0)
		__atomic_store_n(&moving[slot].touched, mono, __ATOMIC_RELAXED);
}

void
background_moving_del(int slot)
{
	if (slot < 0)
		return;
	pthread_mutex_lock(&moving_lock);
	moving[slot].used = 0;
	pthread_mutex_unlock(&moving_lock);
}

/*
 * Called by the writer thread on every turn: stamps in MySQL the progress
 * of each packet of this process whose bytes moved since its last stamp,
 * once per PINGOO_TP_PROGRESS_EVERY_US, out of every measured interval.
 */
static void
progress_tick(struct pingoo_store *st)
{
	struct moving m[32];
	int64_t mono = pingoo_mono_us();
	size_t n = 0, k;
	int i;

	pthread_mutex_lock(&moving_lock);
	for (i = 0; i < MOVING_SLOTS && n < sizeof(m) / sizeof(m[0]); i++)
		if (moving[i].used && mono - moving[i].written >=
		    PINGOO_TP_PROGRESS_EVERY_US &&
		    __atomic_load_n(&moving[i].touched, __ATOMIC_RELAXED) >
		    moving[i].written) {
			moving[i].written = mono;
			m[n++] = moving[i];
		}
	pthread_mutex_unlock(&moving_lock);
	for (k = 0; k < n; k++)
		(void)pingoo_tp_progress(st, m[k].test_id,
		    (enum pingoo_tp_dir)m[k].dir, m[k].seq, pingoo_now_us());
}

static void *
writer_main(void *arg)
{
	const struct pingoo_config *cfg = arg;
	struct pingoo_queued_sample *v;
	struct pingoo_store *st;
	size_t n;
	int busy;

	pingoo_store_thread_init();
	st = pingoo_store_new(cfg, 0);
	v = calloc(WRITE_BATCH, sizeof(*v));
	if (st == NULL || v == NULL) {
		fprintf(stderr, "pingoo: the sample writer has no memory\n");
		abort();
	}
	for (;;) {
		sweep_tick(st, cfg);
		progress_tick(st);
		busy = retention_tick(st, cfg) | deletion_tick(st);
		n = pingoo_sampleq_pop(queue, v, WRITE_BATCH, busy ? 0 : 200);
		n += gather(v, n);
		metrics_queue_depth(pingoo_sampleq_len(queue) + n);
		if (n > 1)
			qsort(v, n, sizeof(*v), cmp_queued);
		if (n > 0)
			write_batch(st, v, n);
		else if (pingoo_sampleq_stopped(queue))
			break;
		else if (db_down && pingoo_store_check(st) == PINGOO_OK)
			set_down(0);	/* idle, and the database is back */
	}
	free(v);
	pingoo_store_free(st);
	pingoo_store_thread_end();
	return NULL;
}

/* ---- revoked tokens ------------------------------------------------------ */

struct poll_state {
	const struct pingoo_config	*cfg;
	int64_t				 now_s;
	uint64_t			 rows, full;
};

/* One revocation read from MySQL into the shared table. */
static enum pingoo_err
revocation_in(const struct pingoo_revocation *r, void *arg)
{
	struct poll_state *p = arg;
	int64_t until = r->expires_at + p->cfg->jwt_leeway;
	uint64_t hash[2];
	enum pingoo_revtab_put put;

	p->rows++;
	if (r->user_wide)
		put = pingoo_revtab_user(revtab, r->user_id, r->iat, until,
		    p->now_s);
	else if (pingoo_token_jti_hash(r->jti, hash) == PINGOO_OK)
		put = pingoo_revtab_token(revtab, hash, r->user_id, r->iat,
		    until, p->now_s);
	else	/* no token can carry that jti: the user's floor, then */
		put = pingoo_revtab_user(revtab, r->user_id, r->iat, until,
		    p->now_s);
	if (put != PINGOO_REVTAB_STORED)
		p->full++;
	return PINGOO_OK;
}

/* Reads the revocations made since the last read (all of them, the first
 * time) into the shared table; 0, or -1 when the database failed. */
static int
revoke_poll(struct pingoo_store *st, const struct pingoo_config *cfg)
{
	struct poll_state p = { cfg, 0, 0, 0 };
	int64_t since = pingoo_revtab_since(revtab), start = pingoo_now_us();
	uint64_t full_tokens, full_users;

	p.now_s = start / 1000000;
	if (pingoo_revocations(st, since < 0 ? 0 : since - REVOKE_MARGIN_US,
	    p.now_s - cfg->jwt_leeway, revocation_in, &p) != PINGOO_OK)
		return -1;
	pingoo_revtab_polled(revtab, start, pingoo_mono_us());
	if (p.full > 0) {
		pingoo_revtab_overflows(revtab, &full_tokens, &full_users);
		fprintf(stderr, "pingoo: the table of revoked tokens is full: "
		    "%" PRIu64 " revocations refuse their users' older tokens "
		    "too (%" PRIu64 " tokens, %" PRIu64 " users so far)\n",
		    p.full, full_tokens, full_users);
	}
	return 0;
}

/* Once a minute in each process: expired entries leave the shared table;
 * the first process also deletes expired rows from MySQL, a batch at a
 * time.  A row goes a minute after the latest exp of what it refuses (and
 * jwt_leeway), when no host can still need it. */
static void
revoke_prune(struct pingoo_store *st, const struct pingoo_config *cfg)
{
	static int64_t next;
	int64_t mono = pingoo_mono_us(), now_s = pingoo_now_us() / 1000000;
	uint64_t n;

	if (next != 0 && mono < next)
		return;
	next = mono + REVOKE_PRUNE_US;
	pingoo_revtab_prune(revtab, now_s - cfg->jwt_leeway, NULL, NULL);
	if (worker == 0)
		while (pingoo_revocations_purge(st, now_s - cfg->jwt_leeway - 60,
		    REVOKE_PURGE_BATCH, &n) == PINGOO_OK &&
		    n >= REVOKE_PURGE_BATCH && !revoker_stop)
			;
}

/*
 * The revocations' own thread, apart from the writer: the writer may wait
 * minutes for a database that refuses its writes, and the revocations must
 * keep coming while the database can still be read.  The host's processes
 * take turns (pingoo_revtab_claim_poll): one read every REVOKE_POLL_US,
 * another process's when this one is slow.
 */
static void *
revoker_main(void *arg)
{
	const struct pingoo_config *cfg = arg;
	struct pingoo_store *st;

	pingoo_store_thread_init();
	if ((st = pingoo_store_new(cfg, 0)) == NULL) {
		fprintf(stderr, "pingoo: the revocation reader has no memory\n");
		abort();
	}
	while (!revoker_stop) {
		if (pingoo_revtab_claim_poll(revtab, pingoo_mono_us(),
		    REVOKE_POLL_US))
			(void)revoke_poll(st, cfg);
		revoke_prune(st, cfg);
		pingoo_sleep_ms(20);
	}
	pingoo_store_free(st);
	pingoo_store_thread_end();
	return NULL;
}

/* A new host's first read, before its threads serve: a token asked about
 * a moment after the start gets an answer, not a 503.  Replaced workers
 * find the table read already.  A database that is away leaves it to the
 * revocation thread (and tokens refused until then). */
static void
revoke_first(const struct pingoo_config *cfg)
{
	struct pingoo_store *st;

	if (pingoo_revtab_since(revtab) >= 0)
		return;
	pingoo_store_thread_init();
	if ((st = pingoo_store_new(cfg, 0)) != NULL) {
		if (revoke_poll(st, cfg) != 0)
			fprintf(stderr, "pingoo: the revoked tokens cannot be "
			    "read (%s): tokens are refused until they are\n",
			    pingoo_store_errmsg(st));
		pingoo_store_free(st);
	}
	pingoo_store_thread_end();
}

enum token_state
background_token_state(const struct pingoo_token_info *t)
{
	int64_t at = revtab != NULL ? pingoo_revtab_polled_at(revtab) : 0;

	if (at == 0 || pingoo_mono_us() - at > REVOKE_STALE_US)
		return TOKEN_UNCHECKED;
	return pingoo_revtab_revoked(revtab, t->jti_hash, t->user_id,
	    t->iat) ? TOKEN_REVOKED : TOKEN_GOOD;
}

void
background_revoke_token(const struct pingoo_token_info *t)
{
	if (revtab == NULL)
		return;
	(void)pingoo_revtab_token(revtab, t->jti_hash, t->user_id, t->iat,
	    t->exp + config->jwt_leeway, pingoo_now_us() / 1000000);
}

void
background_revoke_user(uint64_t user_id, int64_t now_us)
{
	int64_t floor, expires_at;

	if (revtab == NULL)
		return;
	pingoo_revoke_user_times(config, now_us, &floor, &expires_at);
	(void)pingoo_revtab_user(revtab, user_id, floor,
	    expires_at + config->jwt_leeway, now_us / 1000000);
}

int64_t
background_token_floor(uint64_t user_id)
{
	if (revtab == NULL)
		return INT64_MAX;
	return pingoo_revtab_floor(revtab, user_id);
}

/* ---- the process's threads ----------------------------------------------- */

int
background_start(const struct pingoo_config *cfg, int index)
{
	worker = index;
	set_down(0);
	/* Each worker maps the whole shared table at start, so its RSS does
	 * not grow by a page whenever a test lands in a slot it never read. */
	pingoo_pingtab_prefault(tab);
	pingoo_revtab_prefault(revtab);
	revoke_first(cfg);
	if ((queue = pingoo_sampleq_new(QUEUE_CAP)) == NULL ||
	    pthread_create(&writer, NULL, writer_main, (void *)(uintptr_t)cfg)
	    != 0)
		return -1;
	writer_running = 1;
	revoker_stop = 0;
	if (pthread_create(&revoker, NULL, revoker_main,
	    (void *)(uintptr_t)cfg) != 0)
		return -1;
	revoker_running = 1;
	return 0;
}

void
background_stop(void)
{
	if (revoker_running) {
		revoker_stop = 1;
		pthread_join(revoker, NULL);
		revoker_running = 0;
	}
	if (!writer_running)
		return;
	pingoo_sampleq_stop(queue);
	pthread_join(writer, NULL);
	writer_running = 0;
	pingoo_sampleq_free(queue);
	queue = NULL;
}

struct pingoo_pingtab *
background_pingtab(void)
{
	return tab;
}

int
background_accepts(void)
{
	return !any_down() && pingoo_sampleq_len(queue) < QUEUE_CAP - 1024;
}

int
background_push(const struct pingoo_queued_sample *q)
{
	return pingoo_sampleq_push(queue, q);
}

void
background_refused(void)
{
	set_down(1);
}

