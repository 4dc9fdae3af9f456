/*
 * shm.h - the state of one host's worker processes: shared by them and
 * mapped before the supervisor forks, the table of live tests that lets an
 * echo answer without MySQL, the revoked tokens that let every route
 * refuse one without MySQL, and the server's counters; and, in each
 * process's own memory, the queue of echoed samples on their way to MySQL.
 */
#ifndef PINGOO_SHM_H
#define PINGOO_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"
#include "measure/measure.h"

/* map.c: len bytes of zeroed memory every process forked after the call
 * shares; NULL when the mapping fails.  prefault reads each page now, so
 * its memory is counted once at start rather than page by page. */
void		*pingoo_shm_map(size_t len);
void		 pingoo_shm_prefault(const void *base, size_t len);

/* pingtab.c: live ping tests in memory shared by every worker process
 * (mapped before fork), so an echo checks its sequence number without a
 * database round trip.  MySQL stays the truth: a miss reloads from it. */
enum pingtab_result {
	PINGTAB_OK,		/* claimed: this seq was not echoed before */
	PINGTAB_MISS,		/* test not in the table: load it */
	PINGTAB_DUP,		/* seq already echoed */
	PINGTAB_RANGE,		/* seq >= count */
	PINGTAB_CLOSED,		/* test not incomplete */
	PINGTAB_NOTOWNER	/* another user's test */
};
struct pingoo_pingtab;
/* Maps a table of `slots` tests of at most max_count samples each; map it
 * before fork() to share it.  NULL when either is 0, when out of memory or
 * when the mapping fails.  Any number may be made; free each with
 * pingoo_pingtab_free (unmaps it; children keep their own mapping). */
struct pingoo_pingtab	*pingoo_pingtab_new(size_t slots, uint32_t max_count);
void			 pingoo_pingtab_free(struct pingoo_pingtab *);
/* Maps every page of the table into this process now (a read of each), so
 * that its memory is counted once at start rather than page by page as
 * tests land in new slots. */
void			 pingoo_pingtab_prefault(struct pingoo_pingtab *);
/* Inserts or replaces a test; `seen` (may be NULL) lists echoed seqs.
 * PINGOO_ERR_RANGE, with nothing put, when test_id is 0 or count is above
 * the table's max_count. */
enum pingoo_err		 pingoo_pingtab_put(struct pingoo_pingtab *,
			    uint64_t test_id, uint64_t user_id, uint32_t count,
			    int closed, const uint32_t *seen, size_t nseen);
/* The same, the echoed seqs read from n records `stride` bytes apart, seq
 * pointing at the first one's (a sample's or a probe's seq member). */
enum pingoo_err		 pingoo_pingtab_put_items(struct pingoo_pingtab *,
			    uint64_t test_id, uint64_t user_id, uint32_t count,
			    int closed, const uint32_t *seq, size_t n,
			    size_t stride);
enum pingtab_result	 pingoo_pingtab_claim(struct pingoo_pingtab *,
			    uint64_t test_id, uint64_t user_id, uint32_t seq);
/* 1 when seq was claimed (echoed) in the table, 0 otherwise or unknown. */
int			 pingoo_pingtab_claimed(struct pingoo_pingtab *,
			    uint64_t test_id, uint32_t seq);
void			 pingoo_pingtab_close(struct pingoo_pingtab *,
			    uint64_t test_id);
/* Drops a test (gone from MySQL): its next echo reloads and finds out. */
void			 pingoo_pingtab_forget(struct pingoo_pingtab *,
			    uint64_t test_id);

/* The table key of throughput test id's probes: the ids of ping tests and
 * throughput tests are counted apart, so the top bit keeps them apart. */
#define PINGOO_PINGTAB_TP(id)	((id) | (1ULL << 63))

/* revtab.c: revoked tokens in memory shared by every worker process (mapped
 * before fork), so that every route, the echo included, refuses a revoked
 * token without a database round trip.  MySQL stays the truth: each
 * process's background thread copies its revocations in.  Fixed size: a
 * revocation that finds no room raises its user's floor instead, and one
 * whose user finds no room the table's floor (see revtab.c): a revocation
 * is never dropped, at worst it refuses more tokens than it names.  Times
 * are seconds since the epoch; `until` is when an entry refuses nothing
 * any more (every token it names has expired) and may go. */
enum pingoo_revtab_put {
	PINGOO_REVTAB_STORED,		/* as asked */
	PINGOO_REVTAB_FLOOR_USER,	/* no room: the user's floor went up */
	PINGOO_REVTAB_FLOOR_ALL		/* no room: the table's floor went up */
};
struct pingoo_revtab;
/* Maps room for ntokens revoked tokens and nusers user floors (each at
 * least 16); NULL when out of memory or when the mapping fails. */
struct pingoo_revtab	*pingoo_revtab_new(size_t ntokens, size_t nusers);
void			 pingoo_revtab_free(struct pingoo_revtab *);
/* The bytes mapped. */
size_t			 pingoo_revtab_bytes(const struct pingoo_revtab *);
void			 pingoo_revtab_prefault(struct pingoo_revtab *);
/* A revoked token: hash is its jti's (struct pingoo_token_info's
 * jti_hash), user_id and iat its claims, for when there is no room. */
enum pingoo_revtab_put	 pingoo_revtab_token(struct pingoo_revtab *,
			    const uint64_t hash[2], uint64_t user_id,
			    int64_t iat, int64_t until, int64_t now_s);
/* Every token of user_id issued at or before floor is refused. */
enum pingoo_revtab_put	 pingoo_revtab_user(struct pingoo_revtab *,
			    uint64_t user_id, int64_t floor, int64_t until,
			    int64_t now_s);
/* 1 when the token of these claims is revoked (or a slot it needs is
 * stuck mid-write: fail closed), 0 when it is not. */
int			 pingoo_revtab_revoked(struct pingoo_revtab *,
			    const uint64_t hash[2], uint64_t user_id,
			    int64_t iat);
/* The newest iat refused for user_id by its floor or the table's
 * (INT64_MIN when none; INT64_MAX when unreadable): a new token of the
 * user must be issued after it. */
int64_t			 pingoo_revtab_floor(struct pingoo_revtab *,
			    uint64_t user_id);
/* Frees the entries whose until is before now_s; counts those left. */
void			 pingoo_revtab_prune(struct pingoo_revtab *,
			    int64_t now_s, size_t *tokens, size_t *users);
/* The host's processes poll in turn: 1 when this caller is to poll now
 * (the last claim is every_us old), 0 when another has it. */
int			 pingoo_revtab_claim_poll(struct pingoo_revtab *,
			    int64_t mono_us, int64_t every_us);
/* A poll succeeded: it started at since_us (wall clock) and ended at
 * mono_us (monotonic); the table counts as loaded from then on. */
void			 pingoo_revtab_polled(struct pingoo_revtab *,
			    int64_t since_us, int64_t mono_us);
/* The start of the newest successful poll, -1 before the first (or after a
 * writer died mid-write: then everything is read again). */
int64_t			 pingoo_revtab_since(struct pingoo_revtab *);
/* The monotonic end of the newest successful poll, 0 before the first. */
int64_t			 pingoo_revtab_polled_at(struct pingoo_revtab *);
/* How many revocations found no room: tokens that raised a user's floor,
 * user floors that raised the table's. */
void			 pingoo_revtab_overflows(struct pingoo_revtab *,
			    uint64_t *tokens, uint64_t *users);

/* sampleq.c: echoed samples on their way to MySQL, and the latency probes
 * of throughput tests (probe 1: test_id is a throughput test's, phase an
 * enum pingoo_phase), which are echoes too. */
struct pingoo_queued_sample {
	uint64_t		test_id;
	struct pingoo_sample	s;
	int			probe;
	int			phase;
};
struct pingoo_sampleq;
struct pingoo_sampleq	*pingoo_sampleq_new(size_t cap);
void			 pingoo_sampleq_free(struct pingoo_sampleq *);
/* 0, or -1 when the queue is full or stopped (nothing queued). */
int			 pingoo_sampleq_push(struct pingoo_sampleq *,
			    const struct pingoo_queued_sample *);
/* Takes up to max samples, waiting up to wait_ms for the first; 0 on a
 * timeout, or once stopped and empty. */
size_t			 pingoo_sampleq_pop(struct pingoo_sampleq *,
			    struct pingoo_queued_sample *, size_t max, int wait_ms);
size_t			 pingoo_sampleq_len(struct pingoo_sampleq *);
/* No more pushes; pop drains what is left. */
void			 pingoo_sampleq_stop(struct pingoo_sampleq *);
int			 pingoo_sampleq_stopped(struct pingoo_sampleq *);

/* The plain counters; metrics.c names each family. */
enum pingoo_counter {
	PINGOO_M_PING_CREATED,
	PINGOO_M_TP_CREATED,
	PINGOO_M_PING_COMPLETED,
	PINGOO_M_TP_COMPLETED,
	PINGOO_M_SAMPLES,		/* ping samples written */
	PINGOO_M_DOWNLOAD_OK,		/* packets recorded, by direction */
	PINGOO_M_DOWNLOAD_FAILED,	/* and outcome */
	PINGOO_M_UPLOAD_OK,
	PINGOO_M_UPLOAD_FAILED,
	PINGOO_M_DB_ERRORS,		/* statements the server refused or lost */
	PINGOO_M_DB_RECONNECTS,		/* connections made again after a loss */
	PINGOO_M_WORKERS_REPLACED,
	PINGOO_M_PING_DELETED,		/* tests deleted by their user */
	PINGOO_M_TP_DELETED,
	PINGOO_M_PING_EXPIRED,		/* tests removed by the retention */
	PINGOO_M_TP_EXPIRED,
	PINGOO_M__COUNTERS
};

/* The latency histogram's upper bounds, in µs (then +Inf). */
#define PINGOO_M_BUCKETS 15

struct pingoo_metrics;

/* Maps a table for `routes` routes and `slots` worker processes (the
 * queue-depth gauge has one slot each).  NULL when either is 0, when out
 * of memory or when the mapping fails. */
struct pingoo_metrics	*pingoo_metrics_new(size_t routes, size_t slots);
void			 pingoo_metrics_free(struct pingoo_metrics *);
/* Makes m the table pingoo_metrics_add counts into in this process (the
 * store counts its errors there); NULL stops the counting. */
void			 pingoo_metrics_use(struct pingoo_metrics *m);
/* Adds n to a counter of the table in use; nothing when there is none. */
void			 pingoo_metrics_add(enum pingoo_counter, uint64_t n);
/* One request answered: its route index, HTTP status and duration. */
void			 pingoo_metrics_request(struct pingoo_metrics *,
			    size_t route, int status, int64_t duration_us);
/* Sets a worker process's slot of the echo writer's queue depth. */
void			 pingoo_metrics_queue(struct pingoo_metrics *,
			    size_t slot, uint64_t depth);
/* Writes the exposition (text format 0.0.4) to fp; route_name[i] labels
 * route i.  Returns 0, or -1 when fp failed. */
int			 pingoo_metrics_write(const struct pingoo_metrics *,
			    const char *const *route_name, FILE *fp);

#endif
