/*
 * tp.h - throughput tests: N packets of S bytes, download and/or upload,
 * every packet timed and recorded.  The store functions (store_tp.c) keep
 * tests and transfers in MySQL, always filtered by the owner; the pure
 * statistics (tpstats.c) turn transfer records into rates.
 */
#ifndef PINGOO_TP_H
#define PINGOO_TP_H

#include <stddef.h>
#include <stdint.h>

#include "latency.h"
#include "pingoo.h"

struct pingoo_store;

/* A transfer's direction; a test has one or both (a bit mask of 1 << dir). */
enum pingoo_tp_dir {
	PINGOO_TP_DOWNLOAD = 0,
	PINGOO_TP_UPLOAD,
	PINGOO_TP__DIRS
};
#define PINGOO_TP_MASK(d)	(1u << (d))
#define PINGOO_TP_BOTH		(PINGOO_TP_MASK(PINGOO_TP_DOWNLOAD) | \
				    PINGOO_TP_MASK(PINGOO_TP_UPLOAD))

enum pingoo_tp_state {
	PINGOO_TP_INCOMPLETE = 0,
	PINGOO_TP_COMPLETE,
	PINGOO_TP_ABORTED,
	PINGOO_TP__STATES
};

enum pingoo_tp_status {
	PINGOO_TP_STARTED = 0,	/* claimed, bytes moving (or the worker died) */
	PINGOO_TP_OK,
	PINGOO_TP_FAILED,
	PINGOO_TP__STATUSES
};

/* A test as stored.  client is malloc'd (serialized JSON) or NULL. */
struct pingoo_tp_test {
	uint64_t		 id;
	unsigned		 dirs;		/* PINGOO_TP_MASK bits */
	int			 simultaneous;	/* both directions at once */
	uint32_t		 packets;	/* per direction */
	uint64_t		 packet_size;
	enum pingoo_tp_state	 state;
	char			*client;
	int64_t			 created_at;
	int64_t			 finished_at;	/* -1 while incomplete */
};

/* One packet moved (or being moved).  Client stamps are -1 until reported. */
struct pingoo_tp_xfer {
	enum pingoo_tp_dir	 dir;
	uint32_t		 seq;
	enum pingoo_tp_status	 status;
	uint64_t		 bytes;
	int64_t			 server_started_at;
	int64_t			 server_finished_at;	/* -1 until recorded */
	int64_t			 client_sent_at;
	int64_t			 client_first_byte_at;	/* downloads only */
	int64_t			 client_received_at;
};

/* A client's report of its own stamps for one transfer;
 * client_first_byte_at is -1 for an upload. */
struct pingoo_tp_report {
	enum pingoo_tp_dir	 dir;
	uint32_t		 seq;
	int64_t			 client_sent_at;
	int64_t			 client_first_byte_at;
	int64_t			 client_received_at;
};

/* Where a figure is measured: where the bytes arrive, or where they left. */
enum pingoo_tp_side {
	PINGOO_TP_RECEIVER = 0,
	PINGOO_TP_SENDER
};

/*
 * Per-direction summary (docs/api.md).  Fields set to -1 are "null".  The
 * headline figures are the receiver's, over the ok transfers it timed
 * (a download's once the client reported it): elapsed from the first byte
 * of the first to the last byte of the last, their bytes over it, and the
 * per-packet rates.  The sender's figures are kept apart, named so.
 */
struct pingoo_tp_summary {
	uint32_t	 packets;	/* the test's packets per direction */
	uint32_t	 received;	/* transfers with status ok */
	uint32_t	 failed;
	uint64_t	 bytes;		/* bytes of ok transfers */
	uint32_t	 reported;	/* ok transfers the client reported */
	int		 report_missing; /* a download's receiver figures
					  * wait for reports */
	int64_t		 elapsed_us;
	int64_t		 bits_per_second;
	int64_t		 packet_bps_min;
	int64_t		 packet_bps_median;
	int64_t		 packet_bps_p90;
	int64_t		 packet_bps_max;
	int64_t		 sender_elapsed_us;
	int64_t		 sender_bits_per_second;
};

/* tpstats.c: names and pure functions, no I/O. */
const char	*pingoo_tp_dir_name(enum pingoo_tp_dir);
/* "download", "upload" or "both" for a mask; NULL for anything else. */
const char	*pingoo_tp_dirs_name(unsigned dirs);
/* The mask of "download", "upload" or "both"; 0 when s is none of them. */
unsigned	 pingoo_tp_dirs_parse(const char *s);
/* PINGOO_OK and *dir for "download"/"upload"; PINGOO_ERR_INVAL otherwise. */
enum pingoo_err	 pingoo_tp_dir_parse(const char *s, enum pingoo_tp_dir *dir);
const char	*pingoo_tp_state_name(enum pingoo_tp_state);
const char	*pingoo_tp_status_name(enum pingoo_tp_status);
/* The interval [*start, *end] in which side saw an ok transfer's bytes,
 * and its length in µs; -1 when that side has not timed it (not ok, not
 * reported, or no end stamp). */
int64_t		 pingoo_tp_span(const struct pingoo_tp_xfer *,
		    enum pingoo_tp_side, int64_t *start, int64_t *end);
/* The length of that interval alone. */
int64_t		 pingoo_tp_duration_us(const struct pingoo_tp_xfer *,
		    enum pingoo_tp_side);
/* bytes * 8 per second over duration_us, rounded; -1 when duration <= 0. */
int64_t		 pingoo_tp_bps(uint64_t bytes, int64_t duration_us);
/*
 * Summarizes the transfers of direction dir among xf[0..n) (any order, other
 * directions ignored) for a test of `packets` per direction.  Each side's
 * rates are over the ok transfers it timed; with none, its rates and
 * elapsed time are -1.  The median is pingoo_median's (an even count's is
 * the mean of the two middle values, rounded half up for these positive
 * rates); p90 is the nearest-rank percentile.  Packets too short for the
 * clock (0 µs) count in bytes and elapsed_us but have no per-packet rate.
 * PINGOO_ERR_NOMEM on allocation failure, with *out untouched.
 */
enum pingoo_err	 pingoo_tp_summarize(const struct pingoo_tp_xfer *xf, size_t n,
		    enum pingoo_tp_dir dir, uint32_t packets,
		    struct pingoo_tp_summary *out);

/* store_tp.c: every call is filtered by user; another user's test is
 * PINGOO_ERR_NOTFOUND exactly like a missing one. */
/* Frees what a test owns (client), not the struct. */
void		 pingoo_tp_test_clear(struct pingoo_tp_test *);
/* Creates an incomplete test from t (dirs, packets, packet_size, client);
 * fills t->id, state and created_at. */
enum pingoo_err	 pingoo_tp_create(struct pingoo_store *, uint64_t user,
		    struct pingoo_tp_test *t);
/* Reads test id into *t (caller clears it). */
enum pingoo_err	 pingoo_tp_get(struct pingoo_store *, uint64_t user,
		    uint64_t id, struct pingoo_tp_test *t);
/*
 * Claims packet (dir, seq) of test id before a byte moves: the transfer row
 * is inserted as "started" (stamped now_us) and committed.  Refusals, in
 * this order, with f filled: NOTFOUND (no such test for this user), STATE
 * (not incomplete), RANGE (the test has no such direction, or seq >=
 * packets), CONFLICT (already claimed: duplicate_packet).  On success *t is
 * the test (caller clears it).
 */
enum pingoo_err	 pingoo_tp_claim(struct pingoo_store *, uint64_t user,
		    uint64_t id, enum pingoo_tp_dir dir, uint32_t seq,
		    int64_t now_us, struct pingoo_tp_test *t,
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
 * began before before_us (its worker died); *n gets how many. */
enum pingoo_err	 pingoo_tp_sweep(struct pingoo_store *, int64_t before_us,
		    uint64_t *n);
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
 * outcome no worker recorded (its transfer `started`, or failed by the
 * sweep) settles it ok with packet_size bytes, and completes the test when
 * that was its last packet.
 */
enum pingoo_err	 pingoo_tp_report(struct pingoo_store *, uint64_t user,
		    uint64_t id, const struct pingoo_tp_report *rp, size_t n,
		    size_t *bad, struct pingoo_fault *f);
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

/*
 * Latency probes (store_probe.c): echoes a test carries, seq 0 to
 * PINGOO_TP_MAX_PROBES - 1, each in one phase.  Stamps are -1 when absent:
 * t1 and t2 for a probe the client reported lost before the server saw it,
 * t3 for one without an answer.
 */
#define PINGOO_TP_MAX_PROBES 4096
struct pingoo_tp_probe {
	uint32_t		 seq;
	enum pingoo_phase	 phase;
	int64_t			 t0, t1, t2, t3;
};
/* A client's account of one probe: t3 -1 when no answer came (lost); the
 * server's stamps t1, t2 set (has_stamps) only when they came back with a
 * valid signature. */
struct pingoo_probe_receipt {
	uint32_t		 seq;
	enum pingoo_phase	 phase;
	int64_t			 t0, t3;
	int			 has_stamps;
	int64_t			 t1, t2;
};
/* Every probe of test id (owner checked by the caller), by seq; *out
 * malloc'd (caller frees, NULL when there is none). */
enum pingoo_err	 pingoo_tp_probes(struct pingoo_store *, uint64_t id,
		    struct pingoo_tp_probe **out, size_t *n);
/* Writes echoed probes (queued samples with probe set; t3 unused) in
 * multi-row statements like pingoo_ping_record_batch: a row already there
 * or of a test that is gone is skipped.  *written gets the rows inserted. */
struct pingoo_queued_sample;
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
/* The latency summary of probes p[0..n): answered ones count with their
 * RTT; an unanswered one counts as lost once the client said so (no
 * server stamps) or the test is finished, and not at all before. */
enum pingoo_err	 pingoo_tp_latency(const struct pingoo_tp_probe *p, size_t n,
		    int finished, struct pingoo_latency_summary *out);

#endif
