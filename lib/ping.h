/*
 * ping.h - ping tests: the four stamps, their statistics, the shared
 * table of live tests that lets the echo answer without MySQL, and the
 * store functions.
 */
#ifndef PINGOO_PING_H
#define PINGOO_PING_H

#include <stddef.h>
#include <stdint.h>

#include "pingoo.h"

struct pingoo_store;

/* One sample: t0 client sent, t1 server received, t2 server sent, t3
 * client received (has_t3 = 0 until its receipt). */
struct pingoo_sample {
	uint32_t	seq;
	int64_t		t0, t1, t2, t3;
	int		has_t3;
};

/* stats.c: derived values of one sample (valid when has_t3). */
int64_t		pingoo_sample_rtt(const struct pingoo_sample *);
int64_t		pingoo_sample_server(const struct pingoo_sample *);
int64_t		pingoo_sample_network_rtt(const struct pingoo_sample *);
int64_t		pingoo_sample_offset(const struct pingoo_sample *);

/* The summary of docs/api.md.  has_stats = 0 (all statistics null) when
 * no sample has its receipt; has_jitter needs two. */
struct pingoo_ping_summary {
	int64_t		sent, echoed, received, lost;
	double		loss_pct;
	int		has_loss;	/* lost is final or provisional */
	int		has_stats;
	int64_t		rtt_min, rtt_max, rtt_median, rtt_p90, rtt_p99;
	double		rtt_mean, rtt_stddev;
	int		has_jitter;
	double		jitter;
	int64_t		server_median, network_rtt_median;
	int64_t		offset, offset_uncertainty;
};

/* Summarizes n samples (any order) of a test of `count` samples.  When
 * finished, every sample without a receipt is lost (count - received);
 * otherwise lost is provisional: echoed - received.  Returns
 * PINGOO_ERR_NOMEM when scratch memory cannot be had. */
enum pingoo_err	pingoo_ping_summarize(const struct pingoo_sample *, size_t n,
		    int64_t count, int finished, struct pingoo_ping_summary *);
/* The summary as the JSON object of docs/api.md (a new reference). */
struct json_object *pingoo_ping_summary_json(const struct pingoo_ping_summary *);

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
/* Inserts or replaces a test; `seen` (may be NULL) lists echoed seqs. */
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

/* sign.c: the server's signature over its stamps, so a receipt can bring
 * them back.  Hex, NUL-terminated, PINGOO_SIG_LEN chars. */
#define PINGOO_SIG_LEN 32
void		pingoo_sample_sign(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id,
		    const struct pingoo_sample *, char out[PINGOO_SIG_LEN + 1]);
/* PINGOO_OK when sig matches (constant-time compare). */
enum pingoo_err	pingoo_sample_verify(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id,
		    const struct pingoo_sample *, const char *sig);

/* The table key of throughput test id's probes: the ids of ping tests and
 * throughput tests are counted apart, so the top bit keeps them apart. */
#define PINGOO_PINGTAB_TP(id)	((id) | (1ULL << 63))
/* The signature over a probe's stamps: as a sample's, its phase named too. */
enum pingoo_err	pingoo_probe_verify(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id, int phase,
		    const struct pingoo_sample *, const char *sig);
void		pingoo_probe_sign(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id, int phase,
		    const struct pingoo_sample *, char out[PINGOO_SIG_LEN + 1]);

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

/* store_ping.c */
enum ping_state { PING_INCOMPLETE, PING_COMPLETE, PING_ABORTED };
struct pingoo_ping_test {
	uint64_t	 id, user_id;
	enum ping_state	 state;
	uint32_t	 count;
	int32_t		 interval_ms;	/* -1 when not given */
	char		*client;	/* JSON text or NULL; malloc'd */
	int64_t		 created_at;
	int64_t		 closed_at;	/* 0 when open */
	char		*summary;	/* stored JSON at finish or NULL */
};
const char	*pingoo_ping_state_name(enum ping_state);
void		 pingoo_ping_test_clear(struct pingoo_ping_test *);
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

/* One receipt of a batch. */
struct pingoo_receipt {
	uint32_t	seq;
	int64_t		t3;
	int		has_stamps;	/* t0, t1, t2 and a valid sig came back */
	int64_t		t0, t1, t2;
};
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

#endif
