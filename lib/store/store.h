/*
 * store.h - the only way into MySQL, for everything outside the store.
 * One struct pingoo_store per thread owns one connection and its prepared
 * statements; the functions of store.c, user.c, ping.c, tp.c, probe.c,
 * data.c, revoke.c and migrate.c run them.  No MySQL type appears here:
 * the SQL and
 * its bindings stay behind store_int.h.  Every read and write of a test
 * is filtered by its owner unless its comment says otherwise; another
 * user's test is PINGOO_ERR_NOTFOUND exactly like a missing one.
 */
#ifndef PINGOO_STORE_H
#define PINGOO_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/core.h"
#include "measure/measure.h"

struct pingoo_store;
struct pingoo_queued_sample;

/* store.c */
/* Once per process, before any thread opens a store; and at its end. */
enum pingoo_err		 pingoo_store_library_init(void);
void			 pingoo_store_library_end(void);
/* Once in each thread that uses a store, first and last. */
void			 pingoo_store_thread_init(void);
void			 pingoo_store_thread_end(void);
/* Allocates a store; connects lazily.  `migrate` selects the migration
 * account.  NULL when out of memory.  The config must outlive the store. */
struct pingoo_store	*pingoo_store_new(const struct pingoo_config *, int migrate);
void			 pingoo_store_free(struct pingoo_store *);
/* Connects if needed and checks the server answers (health). */
enum pingoo_err		 pingoo_store_check(struct pingoo_store *);
/* The last database error, for logs only (never sent to clients). */
const char		*pingoo_store_errmsg(const struct pingoo_store *);
/* After a PINGOO_ERR_DB: 1 when the connection is gone (retry later), 0
 * when the server refused the statement itself (retrying cannot help). */
int			 pingoo_store_unreachable(const struct pingoo_store *);
/* After a PINGOO_ERR_DB: 1 when the same work is worth doing again — the
 * connection was lost, or InnoDB chose this transaction as a deadlock's
 * victim or timed out a lock wait (it rolled back; nothing was done). */
int			 pingoo_store_retryable(const struct pingoo_store *);

/* user.c */
struct pingoo_user {
	uint64_t	id;
	char		name[65];
	int64_t		created_at;	/* µs since epoch */
};
enum pingoo_err	pingoo_user_add(struct pingoo_store *, const char *name,
		    const char *hash, uint64_t *id);
/* hash may be NULL when not wanted. */
enum pingoo_err	pingoo_user_by_name(struct pingoo_store *, const char *name,
		    struct pingoo_user *, char hash[PINGOO_HASH_MAX]);
enum pingoo_err	pingoo_user_by_id(struct pingoo_store *, uint64_t id,
		    struct pingoo_user *);
/* A new password revokes every token of the user (as a logout-all), and
 * so does a deletion: in the same transaction. */
enum pingoo_err	pingoo_user_passwd(struct pingoo_store *, const char *name,
		    const char *hash);
enum pingoo_err	pingoo_user_del(struct pingoo_store *, const char *name);
/* Calls cb for each user in name order; a non-OK return stops the walk. */
enum pingoo_err	pingoo_user_each(struct pingoo_store *,
		    enum pingoo_err (*cb)(const struct pingoo_user *, void *),
		    void *arg);

/* ping.c */
/* Inserts a new incomplete test and fills *t (t->client a copy, freed by
 * pingoo_ping_test_clear).  On error nothing was inserted and *t owns
 * nothing. */
enum pingoo_err	 pingoo_ping_create(struct pingoo_store *, uint64_t user_id,
		    uint32_t count, int32_t interval_ms, const char *client,
		    struct pingoo_ping_test *);
/* Owner-filtered; NOTFOUND for another user's test. */
enum pingoo_err	 pingoo_ping_get(struct pingoo_store *, uint64_t user_id,
		    uint64_t id, struct pingoo_ping_test *);
/* Every sample of the test in seq order; *out malloc'd (caller frees). */
enum pingoo_err	 pingoo_ping_samples(struct pingoo_store *, uint64_t test_id,
		    struct pingoo_sample **out, size_t *n);
/* Writes echoed samples (without t3) in multi-row statements, each its
 * own transaction; a row already there (its receipt came first) or of a
 * test that is gone is skipped, so the same samples may be written again
 * after a failure.  Pass them sorted by test id and seq: statements then
 * take their locks in one order.  A statement chosen as a deadlock's
 * victim is tried again, up to PINGOO_STORE_RETRIES times in all.
 * *written gets the rows inserted. */
enum pingoo_err	 pingoo_ping_record_batch(struct pingoo_store *,
		    const struct pingoo_queued_sample *, size_t n,
		    uint64_t *written);
/* PINGOO_OK when the test exists (any owner), NOTFOUND when gone. */
enum pingoo_err	 pingoo_ping_exists(struct pingoo_store *, uint64_t test_id);
/* Newest first, ids below `before` (0 = from the top), at most limit. */
enum pingoo_err	 pingoo_ping_list(struct pingoo_store *, uint64_t user_id,
		    uint64_t before, int limit,
		    enum pingoo_err (*cb)(const struct pingoo_ping_test *, void *),
		    void *arg);

/*
 * Applies a batch of receipts in one transaction, all or nothing; a
 * transaction rolled back by a deadlock or a lost connection is tried
 * again, up to PINGOO_STORE_RETRIES times in all.  On a refusal, fault
 * names receipts[i].field.  *received and *state give the test after the
 * batch.  `in_flight(arg, seq)` says whether a sample missing from MySQL
 * was echoed moments ago (its write may still be on its way): then the
 * error is PINGOO_ERR_CONFLICT with the code PINGOO_RECEIPT_IN_FLIGHT and
 * the caller may wait and call again.
 */
enum pingoo_err	 pingoo_ping_receipts(struct pingoo_store *, uint64_t user_id,
		    uint64_t test_id, const struct pingoo_receipt *, size_t n,
		    int (*in_flight)(void *, uint32_t), void *arg,
		    int64_t *received, enum ping_state *state,
		    struct pingoo_fault *);
/* The fault code of a receipt whose echo is still being written: retry. */
#define PINGOO_RECEIPT_IN_FLIGHT "in_flight"
/* Ends the test (complete); its summary JSON is stored.  STATE when it
 * was aborted.  Retried like pingoo_ping_receipts. */
enum pingoo_err	 pingoo_ping_close(struct pingoo_store *, uint64_t user_id,
		    uint64_t test_id, struct pingoo_fault *);

/* tp.c */
/* Creates an incomplete test from t (dirs, packets, packet_size, client);
 * fills t->id, state and created_at. */
enum pingoo_err	 pingoo_tp_create(struct pingoo_store *, uint64_t user,
		    struct pingoo_tp_test *t);
/* Reads test id into *t (caller clears it). */
enum pingoo_err	 pingoo_tp_get(struct pingoo_store *, uint64_t user,
		    uint64_t id, struct pingoo_tp_test *t);
/*
 * Claims packet (dir, seq) of test id before a byte moves: the transfer row
 * is inserted as "started" (stamped now_us) and committed; the first claim
 * of a time-bounded test's direction starts its clock.  bytes is the size
 * the client asked for (0: none).  Refusals, in this order, with f filled:
 * NOTFOUND (no such test for this user), STATE (not incomplete), RANGE (the
 * test has no such direction, seq >= packets or tp_max_packets when timed,
 * or bytes other than an N x S test's packet_size), INVAL invalid_query (a
 * timed download without bytes or packet_size), STATE time_up (the
 * direction's time is up), CONFLICT (already claimed: duplicate_packet).
 * On success *t is the test (caller clears it).
 */
enum pingoo_err	 pingoo_tp_claim(struct pingoo_store *, uint64_t user,
		    uint64_t id, enum pingoo_tp_dir dir, uint32_t seq,
		    uint64_t bytes, int64_t now_us, struct pingoo_tp_test *t,
		    struct pingoo_fault *f);
/*
 * Records how a claimed transfer of test t ended (status, bytes, server
 * stamps in x), committed on its own; then, when it ended ok, marks the test
 * complete if every packet of every direction is ok.  *completed is 1 when
 * this call did so, 0 when it did not, -1 when that check failed on the
 * database (the outcome stands; the test's next report completes it,
 * pingoo_tp_report).  A packet already settled ok by the client's report
 * keeps ok and gets the stamps; STATE when the outcome was recorded
 * already.
 */
enum pingoo_err	 pingoo_tp_record(struct pingoo_store *, uint64_t user,
		    const struct pingoo_tp_test *t,
		    const struct pingoo_tp_xfer *x, int *completed);
/* Records failed, with no end stamp, every transfer still `started` that
 * began before before_us and whose worker has not moved its bytes since
 * (its worker died, or the packet stalled); *n gets how many. */
enum pingoo_err	 pingoo_tp_sweep(struct pingoo_store *, int64_t before_us,
		    uint64_t *n);
/* How often a worker moving a packet's bytes says so (pingoo_tp_progress):
 * far below tp_stale_after's least value (60 s), so a packet still moving
 * is never taken by the sweep. */
#define PINGOO_TP_PROGRESS_EVERY_US (10 * 1000000LL)
/* Stamps now_us as the last time the worker moved the bytes of transfer
 * (id, dir, seq) while it is `started`. */
enum pingoo_err	 pingoo_tp_progress(struct pingoo_store *, uint64_t id,
		    enum pingoo_tp_dir dir, uint32_t seq, int64_t now_us);
/* Every transfer of test id (owner already checked by the caller with
 * pingoo_tp_get), ordered by direction then seq.  *xf is malloc'd (caller
 * frees, NULL when there is none). */
enum pingoo_err	 pingoo_tp_transfers(struct pingoo_store *, uint64_t id,
		    struct pingoo_tp_xfer **xf, size_t *n);
/*
 * Applies reports rp[0..n) all or nothing, in one transaction.  A refusal
 * names the report's index in *bad and fills f: NOTFOUND (no such test),
 * RANGE "not_transferred" (no transfer of that packet), CONFLICT
 * "duplicate_packet" (already reported).  The report of a download whose
 * worker is gone without recording it (failed by the sweep, or `started`
 * before stale_before_us and not moved since: now less tp_stale_after)
 * settles it ok with packet_size bytes, and completes the test when that
 * was its last packet; a download whose worker may still be sending is
 * left to that worker (or to the sweep, which settles it should the
 * worker die).
 */
enum pingoo_err	 pingoo_tp_report(struct pingoo_store *, uint64_t user,
		    uint64_t id, const struct pingoo_tp_report *rp, size_t n,
		    int64_t stale_before_us, size_t *bad,
		    struct pingoo_fault *f);
/* Completes time-bounded test id when its time is up in every direction
 * and no packet of it is moving (its client stopped early and never
 * closed it); *completed says whether this call did. */
enum pingoo_err	 pingoo_tp_end_if_over(struct pingoo_store *, uint64_t user,
		    uint64_t id, int *completed);
/* Ends an incomplete time-bounded test as complete (packets still moving
 * are recorded as they end).  Refusals fill f: NOTFOUND; STATE for an
 * N x S test or one no longer incomplete. */
enum pingoo_err	 pingoo_tp_close(struct pingoo_store *, uint64_t user,
		    uint64_t id, int64_t now_us, struct pingoo_fault *f);
/* Ends an incomplete test as aborted.  STATE when it is not incomplete. */
enum pingoo_err	 pingoo_tp_abort(struct pingoo_store *, uint64_t user,
		    uint64_t id, int64_t now_us);
/*
 * The user's tests with id < before (0 = from the newest), newest first,
 * at most max of them into t[0..*n) (caller clears each).
 */
enum pingoo_err	 pingoo_tp_list(struct pingoo_store *, uint64_t user,
		    uint64_t before, size_t max, struct pingoo_tp_test *t,
		    size_t *n);

/* probe.c */
/* Every probe of test id (owner checked by the caller), by seq; *out
 * malloc'd (caller frees, NULL when there is none). */
enum pingoo_err	 pingoo_tp_probes(struct pingoo_store *, uint64_t id,
		    struct pingoo_tp_probe **out, size_t *n);
/* Writes echoed probes (queued samples with probe set; t3 unused) in
 * multi-row statements like pingoo_ping_record_batch: a row already there
 * or of a test that is gone is skipped.  *written gets the rows inserted. */
enum pingoo_err	 pingoo_tp_probe_record_batch(struct pingoo_store *,
		    const struct pingoo_queued_sample *, size_t n,
		    uint64_t *written);
/*
 * Applies a batch of probe receipts in one transaction, all or nothing, in
 * any state of the test (the last probes answer after the last packet).
 * A receipt adds t3 to an echoed probe; brings back, with its signed
 * stamps, one whose write failed; or, with t3 -1, records as lost a probe
 * the server never answered.  Refusals fill f and name the item in *bad:
 * NOTFOUND (no such test for this user), CONFLICT "duplicate_seq" (a
 * receipt came already), RANGE "not_echoed" (an answer claimed for a probe
 * the server has no trace of), CONFLICT PINGOO_RECEIPT_IN_FLIGHT when
 * in_flight(arg, seq) says its echo is still being written (wait, call
 * again).
 */
enum pingoo_err	 pingoo_tp_probe_receipts(struct pingoo_store *,
		    uint64_t user, uint64_t id,
		    const struct pingoo_probe_receipt *, size_t n,
		    int (*in_flight)(void *, uint32_t), void *arg, size_t *bad,
		    struct pingoo_fault *f);

/* data.c: a user's data as a whole (lib/export/export.h's types). */
struct pingoo_export_query;
struct pingoo_export_rec;
struct pingoo_agg;
/* Calls each(rec, arg) for every test of user in the query, each test's
 * record before its items (samples by seq; transfers by direction, then
 * seq), ping tests first; rows are streamed from MySQL, never held.  A
 * non-OK return from each stops it and is returned.  *tests and *records
 * count what was handed over (on success). */
enum pingoo_err	pingoo_export(struct pingoo_store *, uint64_t user,
		    const struct pingoo_export_query *,
		    enum pingoo_err (*each)(const struct pingoo_export_rec *,
		    void *), void *arg, uint64_t *tests, uint64_t *records);
/* The groups of user's tests in the query, in key order (no key first);
 * *out is malloc'd (the caller frees it), NULL with *n 0 when none. */
enum pingoo_err	pingoo_aggregates(struct pingoo_store *, uint64_t user,
		    const struct pingoo_export_query *, struct pingoo_agg **out,
		    size_t *n);
/* Deletes user's test id, a throughput test when tp, with its items;
 * PINGOO_ERR_NOTFOUND when user has no such test. */
enum pingoo_err	pingoo_test_delete(struct pingoo_store *, uint64_t user,
		    int tp, uint64_t id);
/* Deletes tests of user, oldest first, the items of each in deletes of at
 * most batch rows, each committed on its own, until none is left (*done
 * set) or the monotonic clock reaches until_mono (checked between tests);
 * counts the tests that went. */
enum pingoo_err	pingoo_tests_delete_some(struct pingoo_store *, uint64_t user,
		    int batch, int64_t until_mono, uint64_t *ping, uint64_t *tp,
		    int *done);

/* deletion.c: the progress of deleting every test of a user, readable from
 * any host while it goes on in the background. */
struct pingoo_deletion {
	int		done;		/* 0 while running */
	uint64_t	ping, tp;	/* tests deleted so far */
	int64_t		started_at, updated_at;
	int64_t		finished_at;	/* -1 while running */
};
/* Starts (or starts again) user's deletion, counts at 0. */
enum pingoo_err	pingoo_deletion_start(struct pingoo_store *, uint64_t user,
		    int64_t now);
/* Adds ping and tp tests to the counts of user's running deletion, and
 * ends it when done. */
enum pingoo_err	pingoo_deletion_progress(struct pingoo_store *, uint64_t user,
		    uint64_t ping, uint64_t tp, int done, int64_t now);
/* NOTFOUND when user never asked for one. */
enum pingoo_err	pingoo_deletion_get(struct pingoo_store *, uint64_t user,
		    struct pingoo_deletion *);
/* The user of the running deletion whose progress is oldest and older
 * than before (its worker went away); 0 when none. */
enum pingoo_err	pingoo_deletion_stalled(struct pingoo_store *, int64_t before,
		    uint64_t *user);
/* Takes user's running deletion when its progress is still older than
 * before, stamping it now: *taken is 1 for exactly one taker. */
enum pingoo_err	pingoo_deletion_claim(struct pingoo_store *, uint64_t user,
		    int64_t before, int64_t now, int *taken);
/* A test the retention removed: its id, a throughput test's when tp. */
struct pingoo_expired {
	uint64_t	id;		/* 0: none went */
	int		tp;
};
/* One step of the retention: takes the oldest ping test created before
 * `before`, of any user, or when there is none the oldest such throughput
 * test, and removes a batch of its items (at most batch rows a statement:
 * a throughput test's transfers, then its probes) or, once it has none,
 * its row, in one to three statements each committed on its own.  A test
 * still incomplete is taken only when none of its items has a stamp at or
 * after `before` (its client left it): a test still running is never
 * removed under its client.  *more is 1 when it found such a test (call
 * again), 0 when none is left; *gone names the test when its row went. */
enum pingoo_err	pingoo_retention_step(struct pingoo_store *, int64_t before,
		    int batch, int *more, struct pingoo_expired *gone);

/* revoke.c: revoked tokens (schema 011).  Times in seconds since the epoch
 * but revoked_at (µs).  expires_at is the latest exp of a token a row
 * refuses: past it (and jwt_leeway) the row refuses nothing. */
struct pingoo_revocation {
	int		user_wide;	/* 0: one token (jti); 1: user_id's */
	char		jti[PINGOO_JTI_MAX + 1];
	uint64_t	user_id;
	int64_t		iat;		/* the token's; user-wide: the floor,
					 * every token with iat <= it refused */
	int64_t		expires_at;
	int64_t		revoked_at;
};
/* Revokes the token t names (a logout); again is harmless. */
enum pingoo_err	pingoo_revoke_token(struct pingoo_store *,
		    const struct pingoo_token_info *t, int64_t now_us);
/* Revokes every token of user_id issued up to now (logout-all); runs in
 * the caller's transaction when one is open. */
enum pingoo_err	pingoo_revoke_user(struct pingoo_store *, uint64_t user_id,
		    int64_t now_us);
/* The floor and expires_at a user-wide revocation at now_us gets. */
void		pingoo_revoke_user_times(const struct pingoo_config *,
		    int64_t now_us, int64_t *floor, int64_t *expires_at);
/* user_id's floor: a token of theirs whose iat is not after it is
 * refused; INT64_MIN when none. */
enum pingoo_err	pingoo_revoked_floor(struct pingoo_store *, uint64_t user_id,
		    int64_t *floor);
/* Calls each for every revocation with revoked_at >= since_us whose
 * expires_at >= alive_s, the tokens' first; streamed, constant memory. */
enum pingoo_err	pingoo_revocations(struct pingoo_store *, int64_t since_us,
		    int64_t alive_s,
		    enum pingoo_err (*each)(const struct pingoo_revocation *,
		    void *), void *arg);
/* Deletes up to batch rows of each table whose expires_at is before
 * before_s; *n counts them. */
enum pingoo_err	pingoo_revocations_purge(struct pingoo_store *,
		    int64_t before_s, int batch, uint64_t *n);

/* migrate.c */
#define PINGOO_MIGRATIONS_MAX	256
struct pingoo_migrations {
	char	*name[PINGOO_MIGRATIONS_MAX];
	size_t	 n;
};
/* Lists dir's migration files (NNN_words.sql) in the order they apply.
 * copy duplicates each name (strdup when NULL).  On success m holds m->n
 * names the caller frees with pingoo_migrations_free; on error m holds
 * none and f says why: CONFIG when two files have one number. */
enum pingoo_err	pingoo_migrations_list(struct pingoo_migrations *m,
		    const char *dir, char *(*copy)(const char *),
		    struct pingoo_fault *);
void		pingoo_migrations_free(struct pingoo_migrations *);
/* Applies every NNN_*.sql in dir not yet recorded in schema_migrations, in
 * order, each recorded after it succeeds.  Nothing is applied when the
 * folder cannot be listed whole; a file that fails stops the run before
 * any later one.  log(arg, name) is called per
 * applied file.  Idempotent. */
enum pingoo_err	pingoo_migrate(struct pingoo_store *, const char *dir,
		    void (*log)(void *, const char *), void *arg,
		    struct pingoo_fault *);

#endif
