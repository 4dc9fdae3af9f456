/*
 * measure.h - what a measurement is and what it says: a ping test's four
 * stamps and their statistics, a throughput test's transfers and their
 * receiver-side rates, the latency probes a throughput test carries with
 * their per-phase summaries, bufferbloat grade and responsiveness.  The
 * records here are the ones the store keeps; every function is pure (no
 * I/O, no globals).
 */
#ifndef PINGOO_MEASURE_H
#define PINGOO_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct json_object;

/* order.c: sorting, and order statistics of sorted v[0..n) (0 when n is
 * 0). */
void		 pingoo_sort_i64(int64_t *, size_t);
/* Nearest rank: the smallest value with at least p% of v at or below it,
 * p in (0,100]. */
int64_t		 pingoo_percentile(const int64_t *sorted, size_t n, double p);
/* The middle value; of an even count, the mean of the middle two rounded
 * half away from zero (computed without overflow). */
int64_t		 pingoo_median(const int64_t *sorted, size_t n);

/* ---- ping tests ---- */

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
	int		has_loss;	/* sent > 0: loss_pct is a number */
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

enum ping_state { PING_INCOMPLETE, PING_COMPLETE, PING_ABORTED, PING__STATES };
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
/* stats.c: states are named as the store's column and the API say them;
 * NULL for a value with no name.  Parsing an unknown name is
 * PINGOO_ERR_INVAL. */
const char	*pingoo_ping_state_name(enum ping_state);
enum pingoo_err	 pingoo_ping_state_parse(const char *s, enum ping_state *);
void		 pingoo_ping_test_clear(struct pingoo_ping_test *);

/* One receipt of a batch. */
struct pingoo_receipt {
	uint32_t	seq;
	int64_t		t3;
	int		has_stamps;	/* t0, t1, t2 and a valid sig came back */
	int64_t		t0, t1, t2;
};

/* ---- latency under load (latency.c) ---- */

/* When a probe was sent: before the first packet, or while packets of a
 * direction (or of both at once) were moving. */
enum pingoo_phase {
	PINGOO_PHASE_IDLE = 0,
	PINGOO_PHASE_DOWNLOAD,
	PINGOO_PHASE_UPLOAD,
	PINGOO_PHASE_BIDIRECTIONAL,
	PINGOO_PHASE__MAX
};

/* A probe's round trip as the client saw it (t3 - t0), -1 when no answer
 * reached it (lost). */
struct pingoo_probe_rtt {
	enum pingoo_phase	phase;
	int64_t			rtt_us;
};

/* One phase's figures; the rtt fields are -1 ("null") without answers. */
struct pingoo_phase_summary {
	int		present;	/* the test has probes of this phase */
	uint32_t	samples;	/* answered probes */
	uint32_t	lost;
	int64_t		rtt_median_us;
	int64_t		rtt_p90_us;
	int64_t		rtt_p99_us;
	int		has_rise;	/* a loaded phase, and an idle baseline */
	int64_t		rise_median_us;	/* median - idle median (may be < 0) */
};

/* The grades, best first; PINGOO_GRADE_NONE when there is nothing to
 * grade (no idle baseline or no loaded phase). */
enum pingoo_grade {
	PINGOO_GRADE_APLUS = 0,
	PINGOO_GRADE_A,
	PINGOO_GRADE_B,
	PINGOO_GRADE_C,
	PINGOO_GRADE_D,
	PINGOO_GRADE_F,
	PINGOO_GRADE_NONE
};

struct pingoo_latency_summary {
	struct pingoo_phase_summary phase[PINGOO_PHASE__MAX];
	enum pingoo_grade	grade;
	int64_t			responsiveness_rpm;	/* -1: no loaded probe */
};

/* "idle", "download", "upload", "bidirectional"; NULL out of range. */
const char	*pingoo_phase_name(enum pingoo_phase);
/* PINGOO_OK and *p for a phase name; PINGOO_ERR_INVAL otherwise. */
enum pingoo_err	 pingoo_phase_parse(const char *s, enum pingoo_phase *p);
/* "A+", "A", "B", "C", "D", "F"; NULL for PINGOO_GRADE_NONE. */
const char	*pingoo_grade_name(enum pingoo_grade);
/* The grade of a rise of the RTT under load: A+ under 5 ms, A under 30,
 * B under 60, C under 200, D under 400, else F. */
enum pingoo_grade pingoo_grade_of_rise(int64_t rise_us);
/*
 * The mean of sorted v[0..n) with the largest 5% left out (floor(n / 20)
 * values, so fewer than 20 values keep them all), rounded to the nearest;
 * -1 when n is 0.
 */
int64_t		 pingoo_trimmed_mean(const int64_t *sorted, size_t n);
/*
 * Summarizes probes p[0..n) (any order): per phase, the answered and lost
 * probes and the median, p90 and p99 (nearest rank) of the answered ones'
 * RTT; for each loaded phase the rise of its median over the idle median;
 * the grade of the largest rise; and the responsiveness, 60 000 ms over
 * the trimmed mean of every answered loaded probe's RTT in ms, rounded
 * (-1 when there is none, or the mean is 0).  PINGOO_ERR_NOMEM when scratch
 * memory cannot be had, with *out untouched.
 */
enum pingoo_err	 pingoo_latency_summarize(const struct pingoo_probe_rtt *p,
		    size_t n, struct pingoo_latency_summary *out);

/* ---- throughput tests ---- */

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

/*
 * A test as stored.  client is malloc'd (serialized JSON) or NULL.  An
 * N x S test has packets and packet_size; a time-bounded one has
 * duration_ms instead of packets (0 in an N x S test), a packet_size only
 * when the client gave one (the size of a download that names none), and
 * each direction's clock starts at its first claimed packet.
 */
struct pingoo_tp_test {
	uint64_t		 id;
	unsigned		 dirs;		/* PINGOO_TP_MASK bits */
	int			 simultaneous;	/* both directions at once */
	uint32_t		 packets;	/* per direction; 0 when timed */
	uint64_t		 packet_size;	/* 0: none given (timed) */
	uint32_t		 duration_ms;	/* 0: an N x S test */
	int64_t			 started_at[PINGOO_TP__DIRS]; /* -1: not yet */
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

/*
 * The headline of a time-bounded test's direction (window.c): the bytes
 * the receiver got inside a window, over the window's length.  The window
 * opens grace_us after the direction's first byte (a fifth of the
 * duration, at most 2 s: TCP's slow start and the client's ramp of packet
 * sizes and streams stay out) and closes at the first packet end after the
 * last packet start (from then on the client's streams fall idle one by
 * one).  A packet's bytes are spread evenly over its own receiver interval
 * and counted for the part inside the window, so a stall stays in.  When
 * the window would be shorter than the grace (a test cut short), it is the
 * whole span, first byte to last.  Times are the receiver's clock; every
 * field is -1 when the receiver timed no packet.
 */
struct pingoo_tp_window {
	int64_t		 grace_us;
	int64_t		 start_at, end_at;
	int64_t		 bytes;
	int64_t		 bits_per_second;
};
/* The grace of a test of duration_ms: a fifth of it, at most 2 s. */
int64_t		 pingoo_tp_grace_us(uint32_t duration_ms);
/* The window of direction dir among the transfers xf[0..n). */
void		 pingoo_tp_window(const struct pingoo_tp_xfer *xf, size_t n,
		    enum pingoo_tp_dir dir, uint32_t duration_ms,
		    struct pingoo_tp_window *out);
/* When direction dir of test t runs out of time (server's clock, µs); -1
 * when it is not timed or has not started. */
int64_t		 pingoo_tp_time_up_at(const struct pingoo_tp_test *t,
		    enum pingoo_tp_dir dir);
/* 1 when t is timed and every one of its directions has started and run
 * out of time by now. */
int		 pingoo_tp_time_over(const struct pingoo_tp_test *t, int64_t now);

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
/* PINGOO_OK and the value of a state's or status's name; PINGOO_ERR_INVAL
 * for any other name. */
enum pingoo_err	 pingoo_tp_state_parse(const char *s, enum pingoo_tp_state *);
enum pingoo_err	 pingoo_tp_status_parse(const char *s,
		    enum pingoo_tp_status *);
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
/* Frees what a test owns (client), not the struct. */
void		 pingoo_tp_test_clear(struct pingoo_tp_test *);

/*
 * Latency probes (the store keeps them, lib/store/probe.c): echoes a test
 * carries, seq 0 to PINGOO_TP_MAX_PROBES - 1, each in one phase.  Stamps are -1 when absent:
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
/* The latency summary of probes p[0..n): answered ones count with their
 * RTT; an unanswered one counts as lost when it has no server stamps (the
 * client reported it lost before the server saw it) or the test is
 * finished, and not at all before (its answer may still come). */
enum pingoo_err	 pingoo_tp_latency(const struct pingoo_tp_probe *p, size_t n,
		    int finished, struct pingoo_latency_summary *out);

#endif
