/*
 * cmd_tp.c - pingoo throughput: a throughput test run as the SDK runs it.
 * Without -n, -s or -P the test is time-bounded: each direction moves
 * packets for -t seconds (10 by default) over streams that double, from
 * one up to TB_STREAMS, while the receiver's rate grows, each packet sized
 * to last about PACKET_US at the rate its stream's last one arrived at.
 * With them it is an N x S test: PACKETS of SIZE bytes over STREAMS.
 *
 * Every stream has a connection of its own on one libcurl multi handle,
 * opened before the first packet, and starts its next packet as soon as
 * its last one ends; "both" moves the download, then the upload, or both
 * at once with -B.
 * Each download is stamped when it is sent (client_sent_at), when its head
 * arrives (client_first_byte_at) and when its last byte arrives
 * (client_received_at); only whole packets are reported, in batches sent
 * on the same multi handle so a report never stalls a transfer; a failure
 * or an interruption aborts the test; a time-bounded one is closed once
 * its time is up and its last packets have ended; the test is then read
 * as stored.  Latency probes
 * (probe.c) go beside the packets unless -N, from a thread of their own,
 * so they never pace them: idle ones first, then the phase of each
 * direction.
 *
 * Its length is the multi loop's: slots, lanes, completions and the
 * progress bar share the state of one struct tp.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/core.h"
#include "cli.h"

#define REPORT_BATCH	10
#define REPORT_TRIES	5	/* sends of a batch refused with 503 */
#define STREAMS_MAX	64	/* -P */
#define ERRBODY_MAX	65536
#define IDLE_PROBES	10
#define PROBE_EVERY_MS	100
#define OCTET_TYPE	"Content-Type: application/octet-stream"
#define POLL_MS		25	/* the longest wait for libcurl */

/* A time-bounded test (docs/api.md, "Time-bounded tests"). */
#define DURATION_S	10	/* -t's default */
#define DURATION_MAX_S	60
#define TB_STREAMS	16	/* a direction's most streams */
#define PACKET_US	250000	/* how long a packet is sized to last */
#define PACKET_MIN	65536LL
#define PACKET_MAX	(32LL * 1024 * 1024)
#define GROWTH_MAX	8	/* a packet's size over its stream's last */
#define TICK_US		250000	/* the ramp's window */
#define RAMP_GAIN	1.10	/* the growth that doubles the streams */
#define GRACE_MAX_US	2000000
#define SEQ_LIMIT	10000	/* seqs of a direction: 0..9999 */

/* The receiver's bytes, by BUCKET_US of this client's clock. */
#define BUCKET_US	10000
#define RING		512	/* 5.12 s of buckets */
#define RATE_US		1000000	/* the bar's running rate */
#define BAR_WIDTH	20

/* The interruptible flag of the reports' transfers. */
static int	never;

enum xkind { X_IDLE, X_DOWNLOAD, X_UPLOAD, X_REPORT };

struct lane;

/* One slot of the multi handle: a packet or a batch of reports in flight. */
struct xfer {
	struct tp	*tp;
	struct lane	*lane;		/* a packet's */
	CURL		*e;
	enum xkind	 kind;
	long		 seq;
	long long	 size;		/* the packet's bytes */
	/* The next packet of this stream (time-bounded); 0 = the lane's. */
	long long	 next_size;
	/* Sent, head arrived, last byte (or answer) arrived. */
	int64_t		 t0, t1, t3;
	curl_off_t	 bytes;		/* body bytes of a download */
	/* An answer or an error body, never a packet. */
	struct cli_resp	 resp;
	size_t		 cap;
	char		*report;	/* the report's JSON text */
	char		 errbuf[CURL_ERROR_SIZE];
};

/*
 * One direction's packets under way: its streams (slots), its clock, the
 * ramp of its streams and the bytes its receiver took, by BUCKET_US of
 * this client's clock.
 */
struct lane {
	enum xkind	 dir;
	struct xfer	*slot;		/* its first slot */
	long		 streams;	/* slots in use */
	long		 next_seq, done;
	int64_t		 start;		/* first packet sent */
	int64_t		 deadline;	/* start + duration */
	int		 over;		/* the server said time_up */
	int		 ramping;
	int64_t		 changed_at;	/* streams last doubled */
	double		 ref_bps;	/* the rate they doubled at */
	long long	 size;		/* a new stream's first packet */
	long long	 got[RING];	/* bytes received in a bucket */
	int64_t		 got_at[RING];	/* the bucket in each */
};

struct tp {
	struct cli_conn	*c;
	CURLM		*m;
	int64_t		 id;
	char		 base[64];	/* /throughput-tests/ID */
	const char	*direction;	/* download, upload or both */
	long		 duration_ms;	/* 0: an N x S test */
	int64_t		 grace_us;	/* the ramp's time at most */
	long		 packets;
	long long	 size;
	/* A direction's streams; the most of a time-bounded one. */
	long		 streams;
	int		 nxs;		/* -n, -s or -P given */
	unsigned char	*payload;	/* an upload's bytes */
	long long	 payload_len;
	struct curl_slist *uheaders;	/* auth + octet-stream */
	struct curl_slist *jheaders;	/* auth + JSON */
	/* The streams, of each direction with -B. */
	struct xfer	 slot[2 * STREAMS_MAX];
	int		 simultaneous;	/* -B: both at once */
	struct xfer	 rep;		/* the report batch in flight */
	struct json_object *pending;	/* reports not yet sent */
	int		 rep_tries;	/* 503s for the batch in rep */
	/* Monotonic µs to send the batch again; 0 = no. */
	int64_t		 rep_again_at;
	/* The directions under way: lane[0], and lane[1] with -B. */
	struct lane	 lane[2];
	int		 nlanes;
	int64_t		 last_draw;
	FILE		*bar;		/* the bar's stream, or NULL */
	int		 quiet;		/* -q */
	int		 lines;		/* a plain line per packet */
	struct cli_fault fault;		/* the first failure */
	int		 failed;
	int		 probing;	/* probes beside the packets */
	struct cli_probes probes;
};

static const char *
dirname_of(enum xkind k)
{
	if (k == X_DOWNLOAD)
		return "download";
	return k == X_UPLOAD ? "upload" : "bidirectional";
}

/* The slots in use: streams, of each direction when both move at once. */
static long
nslots(const struct tp *t)
{
	return t->streams * (t->simultaneous ? 2 : 1);
}

static int
fail(struct tp *t, enum cli_err err, long status, const char *code,
    const char *msg)
{
	if (!t->failed) {
		cli_fail(&t->fault, err, status, code, "%s", msg);
		t->failed = 1;
	}
	return -1;
}

/* bytes over us microseconds in bits per second; -1 (unknown) for no time. */
static double
rate_of(long long bytes, int64_t us)
{
	return us > 0 ? (double)bytes * 8e6 / (double)us : -1;
}

/* Bytes the lane's receiver took at the stamp at. */
static void
got(struct lane *l, int64_t at, long long bytes)
{
	int64_t	 b = at / BUCKET_US;
	long	 i = (long)(b % RING);

	/* Older than the ring: no rate reaches back that far. */
	if (l->got_at[i] > b)
		return;
	if (l->got_at[i] != b) {
		l->got_at[i] = b;
		l->got[i] = 0;
	}
	l->got[i] += bytes;
}

/*
 * An upload's bytes, spread evenly over the time the server took to read
 * them, as its headline counts them; that time is placed to end when the
 * answer arrived here, since the two clocks are not the same.
 */
static void
got_spread(struct lane *l, int64_t from, int64_t to, long long bytes)
{
	int64_t	 a, end, span = to - from;

	if (span <= 0) {
		got(l, to, bytes);
		return;
	}
	a = from;
	if (to - a > (int64_t)RING * BUCKET_US)
		a = to - (int64_t)RING * BUCKET_US;
	for (; a < to; a = end) {
		end = (a / BUCKET_US + 1) * BUCKET_US;
		if (end > to)
			end = to;
		got(l, a, (long long)((double)bytes * (double)(end - a) /
		    (double)span));
	}
}

/*
 * The receiver's rate over the whole buckets in [from, to); -1 when none is
 * or the ring no longer holds them.
 */
static double
lane_rate(const struct lane *l, int64_t from, int64_t to, int64_t now)
{
	int64_t		 b, b0 = (from + BUCKET_US - 1) / BUCKET_US;
	int64_t		 b1 = to / BUCKET_US;
	long long	 sum = 0;

	if (b1 <= b0 || now / BUCKET_US - b0 >= RING)
		return -1;
	for (b = b0; b < b1; b++)
		if (l->got_at[b % RING] == b)
			sum += l->got[b % RING];
	return (double)sum * 8e6 / (double)((b1 - b0) * BUCKET_US);
}

/*
 * Until when the lane's received bytes are all known: now for downloads,
 * counted as they arrive; for uploads the send of the oldest one still
 * moving, since the server tells an upload's bytes in its answer only.
 */
static int64_t
horizon(const struct lane *l, int64_t now)
{
	int64_t	 h = now;
	long	 i;

	if (l->dir == X_DOWNLOAD)
		return now;
	for (i = 0; i < l->streams; i++)
		if (l->slot[i].kind == l->dir && l->slot[i].t0 < h)
			h = l->slot[i].t0;
	return h;
}

/* The receiver's rate over the last RATE_US known in full; -1: unknown. */
static double
recent_rate(const struct lane *l, int64_t now)
{
	int64_t	 h = horizon(l, now), from = h - RATE_US;

	if (l->start == 0)
		return -1;
	if (from < l->start)
		from = l->start;
	return lane_rate(l, from, h, now);
}

/*
 * The ramp of a time-bounded lane.  Once a window of TICK_US after the
 * streams last changed (or the first packet started) is known in full, its
 * rate is judged against the rate they changed at (none, the first time):
 * RAMP_GAIN of it or more doubles them, less ends the ramp.  TB_STREAMS
 * streams end it too, and so does the grace: the server leaves that much
 * of the start out of the headline, and past it the streams must move as
 * they will to the end.
 */
static void
ramp(struct tp *t, struct lane *l, int64_t now)
{
	int64_t	 h;
	double	 r;

	if (!l->ramping || l->start == 0)
		return;
	if (now >= l->start + t->grace_us || l->streams >= TB_STREAMS) {
		l->ramping = 0;
		return;
	}
	h = horizon(l, now);
	if (h < l->changed_at + TICK_US ||
	    (r = lane_rate(l, h - TICK_US, h, now)) < 0)
		return;
	/* Nothing has arrived yet: no rate to grow from. */
	if (r <= 0 && l->ref_bps <= 0)
		return;
	if (r < l->ref_bps * RAMP_GAIN) {
		l->ramping = 0;
		return;
	}
	l->ref_bps = r;
	l->streams = l->streams * 2 > TB_STREAMS ? TB_STREAMS :
	    l->streams * 2;
	l->changed_at = now;
}

/*
 * A time-bounded stream's next packet: long enough to last PACKET_US at
 * the rate its last one arrived at the receiver, at most GROWTH_MAX times
 * that one, within PACKET_MIN..PACKET_MAX.  A packet too short for the
 * clock has no rate, and the next grows all it may.  A stream the ramp
 * adds starts at the size chosen last.
 */
static void
resize(struct lane *l, struct xfer *x, double bps)
{
	double	 want = (double)x->size * GROWTH_MAX;

	if (bps > 0 && bps * PACKET_US / 8e6 < want)
		want = bps * PACKET_US / 8e6;
	if (want < PACKET_MIN)
		want = PACKET_MIN;
	if (want > PACKET_MAX)
		want = PACKET_MAX;
	x->next_size = (long long)want;
	l->size = x->next_size;
}

/*
 * A download's bytes are counted, never kept; the last one is stamped as
 * it arrives.  A byte past the packet's size ends the transfer: the packet
 * is not what was asked for.
 */
static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n;
	long		 status = 0;
	int64_t		 now;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	/* An upload's or a report's answer, or an error: kept to be judged. */
	if (x->kind != X_DOWNLOAD || status != 200) {
		if (cli_body_append(&x->resp, &x->cap, data, len,
		    ERRBODY_MAX) == -1)
			return 0;
		return len;
	}
	now = cli_stamp();
	x->bytes += (curl_off_t)len;
	got(x->lane, now, (long long)len);
	if (x->bytes > x->size)
		return 0;
	if (x->bytes == x->size)
		x->t3 = now;
	return len;
}

/* The end of a final head: a download's first byte, an upload's answer. */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n;
	long		 status = 0;
	int64_t		 now;

	if (!cli_head_end(data, len))
		return len;
	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200)
		return len;
	now = cli_stamp();
	x->t1 = now;
	if (x->kind == X_UPLOAD)
		x->t3 = now;
	return len;
}

/* An upload's packet or a report's JSON, as the body of x's request. */
static void
set_body(struct tp *t, struct xfer *x)
{
	if (x->kind == X_UPLOAD) {
		curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, t->uheaders);
		curl_easy_setopt(x->e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, t->payload);
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)x->size);
	} else if (x->kind == X_REPORT) {
		/* What was measured is kept: no interruption cuts a report. */
		curl_easy_setopt(x->e, CURLOPT_XFERINFODATA, &never);
		curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, t->jheaders);
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, x->report);
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(x->report));
	}
}

/* The URL of x's request. */
static void
url_of(const struct tp *t, const struct xfer *x, char *url, size_t sz)
{
	if (x->kind == X_REPORT)
		snprintf(url, sz, "%s/api/v1%s/reports", t->c->url, t->base);
	else if (x->kind == X_DOWNLOAD && t->duration_ms > 0)
		/* A time-bounded download's size is the client's. */
		snprintf(url, sz, "%s/api/v1%s/download/%ld?bytes=%lld",
		    t->c->url, t->base, x->seq, x->size);
	else
		snprintf(url, sz, "%s/api/v1%s/%s/%ld", t->c->url, t->base,
		    dirname_of(x->kind), x->seq);
}

/*
 * Starts one request on a slot: kind, seq (packets, of x->size bytes) or
 * the report text.
 */
static int
start(struct tp *t, struct xfer *x, enum xkind kind, long seq)
{
	char	 url[1024];

	curl_easy_reset(x->e);
	cli_easy_setup(t->c, x->e);
	x->kind = kind;
	x->seq = seq;
	x->t0 = x->t1 = x->t3 = 0;
	x->bytes = 0;
	x->resp.len = 0;
	x->errbuf[0] = '\0';
	url_of(t, x, url, sizeof(url));
	curl_easy_setopt(x->e, CURLOPT_URL, url);
	curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->e, CURLOPT_HEADERDATA, x);
	set_body(t, x);
	x->t0 = cli_stamp();
	if (curl_multi_add_handle(t->m, x->e) != CURLM_OK) {
		x->kind = X_IDLE;
		return fail(t, CLI_ERR_LOCAL, 0, NULL,
		    "libcurl refused a transfer");
	}
	return 0;
}

/*
 * Sends the next batch of reports when none is in flight (all: even a
 * short one).
 */
static int
send_reports(struct tp *t, int all)
{
	struct json_object	*req, *batch;
	size_t			 n, i;

	if (t->rep.kind != X_IDLE)
		return 0;
	if (t->rep_again_at > 0) {
		if (pingoo_mono_us() < t->rep_again_at)
			return 0;
		t->rep_again_at = 0;
		return start(t, &t->rep, X_REPORT, 0);
	}
	n = json_object_array_length(t->pending);
	if (n == 0 || (!all && n < REPORT_BATCH))
		return 0;
	t->rep_tries = 0;
	if ((req = json_object_new_object()) == NULL ||
	    (batch = json_object_new_array()) == NULL) {
		json_object_put(req);
		return fail(t, CLI_ERR_LOCAL, 0, NULL, "out of memory");
	}
	for (i = 0; i < n && i < REPORT_BATCH; i++)
		json_object_array_add(batch, json_object_get(
		    json_object_array_get_idx(t->pending, i)));
	json_object_array_del_idx(t->pending, 0, i);
	json_object_object_add(req, "packets", batch);
	free(t->rep.report);
	t->rep.report = strdup(cli_jtext(req));
	json_object_put(req);
	if (t->rep.report == NULL)
		return fail(t, CLI_ERR_LOCAL, 0, NULL, "out of memory");
	return start(t, &t->rep, X_REPORT, 0);
}

/* The report of a whole packet, queued for the next batch. */
static int
queue_report(struct tp *t, const struct xfer *x)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return fail(t, CLI_ERR_LOCAL, 0, NULL, "out of memory");
	json_object_object_add(o, "direction",
	    json_object_new_string(dirname_of(x->kind)));
	json_object_object_add(o, "seq", json_object_new_int64(x->seq));
	json_object_object_add(o, "client_sent_at",
	    json_object_new_int64(x->t0));
	if (x->kind == X_DOWNLOAD)
		json_object_object_add(o, "client_first_byte_at",
		    json_object_new_int64(x->t1));
	json_object_object_add(o, "client_received_at",
	    json_object_new_int64(x->t3));
	if (json_object_array_add(t->pending, o) != 0) {
		json_object_put(o);
		return fail(t, CLI_ERR_LOCAL, 0, NULL, "out of memory");
	}
	return 0;
}

/* A lane's share gone: of its time, or of its packets. */
static double
progress(const struct tp *t, const struct lane *l, int64_t now)
{
	double	 p;

	if (t->duration_ms == 0)
		return (double)l->done / (double)t->packets;
	if (l->start == 0)
		return 0;
	p = (double)(now - l->start) / ((double)t->duration_ms * 1000.0);
	return p > 1 ? 1 : p;
}

/* How far the first lane is: seconds of its time, or packets of all. */
static void
fmt_done(const struct tp *t, int64_t now, char *buf, size_t sz)
{
	const struct lane	*l = &t->lane[0];
	double			 of = t->duration_ms / 1000.0, s = 0;

	if (t->duration_ms == 0) {
		snprintf(buf, sz, "%ld/%ld", l->done + (t->nlanes > 1 ?
		    t->lane[1].done : 0), t->packets * t->nlanes);
		return;
	}
	if (l->start > 0)
		s = (double)(now - l->start) / 1e6;
	snprintf(buf, sz, "%.1f/%g s", s < of ? s : of, of);
}

/*
 * The progress bar, redrawn at most ten times a second (and at the end):
 * the direction, how far it is, its streams and the receiver's rate over
 * the last second known in full.
 */
static void
draw(struct tp *t, int force)
{
	char		 bar[BAR_WIDTH + 1], done[32], rate[2][32];
	int64_t		 now = cli_stamp();
	const struct lane *l = t->lane;
	long		 fill;
	int		 k;

	if (t->bar == NULL || (!force && now - t->last_draw < 100000))
		return;
	t->last_draw = now;
	fill = (long)(progress(t, l, now) * BAR_WIDTH);
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(BAR_WIDTH - fill));
	bar[BAR_WIDTH] = '\0';
	fmt_done(t, now, done, sizeof(done));
	for (k = 0; k < t->nlanes; k++)
		cli_fmt_bps(rate[k], sizeof(rate[k]),
		    recent_rate(&t->lane[k], now));
	/* \033[K: the end of a longer line drawn before is wiped. */
	if (t->nlanes == 2)
		fprintf(t->bar, "\rboth [%s] %s  %ld+%ld streams  %s down, "
		    "%s up\033[K", bar, done, l[0].streams, l[1].streams,
		    rate[0], rate[1]);
	else
		fprintf(t->bar, "\r%-8s [%s] %s  %ld stream%s  %s\033[K",
		    dirname_of(l->dir), bar, done, l->streams,
		    l->streams == 1 ? "" : "s", rate[0]);
	fflush(t->bar);
}

/* A plain line for one packet: the receiver's time and rate. */
static void
line(const struct tp *t, const struct xfer *x, struct json_object *answer)
{
	char	 rate[32];
	int64_t	 us;

	if (!t->lines)
		return;
	if (x->kind == X_DOWNLOAD) {
		us = x->t3 - x->t1;
		cli_fmt_bps(rate, sizeof(rate), rate_of(x->bytes, us));
		printf("download seq=%ld bytes=%lld time=%.3f ms rate=%s\n",
		    x->seq, (long long)x->bytes, (double)us / 1000.0, rate);
	} else {
		us = cli_jint(answer, "duration_us", -1);
		cli_fmt_bps(rate, sizeof(rate),
		    (double)cli_jint(answer, "bits_per_second", -1));
		printf("upload seq=%ld bytes=%lld time=%.3f ms rate=%s "
		    "(server)\n", x->seq, x->size, (double)us / 1000.0, rate);
	}
	fflush(stdout);
}

/*
 * libcurl passes the blank line that ends a head to on_header(); should a
 * version not, libcurl's own time to the first byte stands in for it.
 */
static void
first_byte_fallback(struct xfer *x)
{
	curl_off_t	 us = 0;

	curl_easy_getinfo(x->e, CURLINFO_STARTTRANSFER_TIME_T, &us);
	x->t1 = x->t0 + (int64_t)us;
	if (x->t1 > x->t3)
		x->t1 = x->t3;
}

/*
 * A batch of reports the server could not take for now (503) is sent again,
 * up to REPORT_TRIES times, as docs/api.md asks of a client that wants
 * every delivered packet counted.  A batch is taken whole or not at all,
 * so a repeat refused as duplicate_packet was taken the time before.
 * True when f is dealt with that way.
 */
static int
report_again(struct tp *t, const struct cli_fault *f)
{
	if (f->status == 409 && strcmp(f->code, "duplicate_packet") == 0 &&
	    t->rep_tries > 0)
		return 1;
	if (f->status != 503 || t->rep_tries >= REPORT_TRIES)
		return 0;
	t->rep_tries++;
	t->rep_again_at = pingoo_mono_us() + 200000 * (int64_t)t->rep_tries;
	return 1;
}

/*
 * Judges a finished request: 0 when it did what it was for (the server's
 * JSON answer, if any, in *answer); 1 for a packet refused because its
 * direction's time is up, which ends its stream and is no failure; else
 * -1 with t failed.
 */
static int
judge(struct tp *t, struct xfer *x, CURLcode rc, struct json_object **answer)
{
	struct cli_fault	 f;
	char			 msg[700];
	long			 status = 0;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return fail(t, CLI_ERR_INTR, 0, "interrupted", "interrupted");
	if (rc == CURLE_WRITE_ERROR && x->kind == X_DOWNLOAD &&
	    x->bytes > x->size) {
		snprintf(msg, sizeof(msg), "download %ld: more than %lld bytes",
		    x->seq, x->size);
		return fail(t, CLI_ERR_SERVER, status, "invalid_response", msg);
	}
	if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "%s %ld: %s",
		    x->kind == X_REPORT ? "reports" : dirname_of(x->kind),
		    x->seq, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		return fail(t, CLI_ERR_NET, 0, "network_error", msg);
	}
	if (x->kind == X_DOWNLOAD && status == 200) {
		if (x->bytes != x->size) {
			snprintf(msg, sizeof(msg), "download %ld: %lld of %lld "
			    "bytes arrived", x->seq, (long long)x->bytes,
			    x->size);
			return fail(t, CLI_ERR_NET, 0, "network_error", msg);
		}
		if (x->t1 == 0)
			first_byte_fallback(x);
		return 0;
	}
	if (cli_answer(status, x->resp.body, x->resp.len, answer, &f) ==
	    CLI_OK || (x->kind == X_REPORT && report_again(t, &f)))
		return 0;
	if (x->kind != X_REPORT && t->duration_ms > 0 && f.status == 409 &&
	    strcmp(f.code, "time_up") == 0)
		return 1;
	if (!t->failed)
		t->fault = f;
	t->failed = 1;
	return -1;
}

/*
 * A whole packet: queued for a report, its receiver's bytes counted (a
 * download's were, as they arrived), its stream's next size chosen.
 */
static int
packet_done(struct tp *t, struct xfer *x, struct json_object *answer)
{
	struct lane	*l = x->lane;
	int64_t		 us;
	double		 bps;

	if (queue_report(t, x) == -1)
		return -1;
	l->done++;
	if (x->kind == X_UPLOAD) {
		us = cli_jint(answer, "duration_us", -1);
		got_spread(l, us >= 0 ? x->t3 - us : x->t3, x->t3,
		    cli_jint(answer, "bytes", x->size));
		bps = (double)cli_jint(answer, "bits_per_second", -1);
	} else
		bps = rate_of(x->bytes, x->t3 - x->t1);
	if (t->duration_ms > 0)
		resize(l, x, bps);
	line(t, x, answer);
	return 0;
}

/* A finished request: judged, reported, and its slot freed. */
static int
complete(struct tp *t, struct xfer *x, CURLcode rc)
{
	struct json_object	*answer = NULL;
	int			 r;

	curl_multi_remove_handle(t->m, x->e);
	r = judge(t, x, rc, &answer);
	if (r == 1) {
		x->lane->over = 1;
		r = 0;
	} else if (r == 0 && x->kind != X_REPORT)
		r = packet_done(t, x, answer);
	json_object_put(answer);
	x->kind = X_IDLE;
	return r;
}

/* Lets libcurl work, then judges every request that ended; how many did. */
static int
collect(struct tp *t)
{
	struct xfer	*x;
	CURLMsg		*msg;
	int		 running, left, n = 0;

	curl_multi_perform(t->m, &running);
	while ((msg = curl_multi_info_read(t->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		complete(t, x, msg->data.result);
		n++;
	}
	return n;
}

/*
 * True when the lane may start a packet now: an N x S lane until its last
 * packet, a time-bounded one until its time is up.  No packet starts after
 * this client's deadline (its first packet's send plus the duration), nor
 * once the server said time_up (its clock starts a little later, at the
 * first packet's claim, so it seldom does).
 */
static int
may_start(const struct tp *t, const struct lane *l, int64_t now)
{
	if (l->over)
		return 0;
	if (t->duration_ms == 0)
		return l->next_seq < t->packets;
	return l->next_seq < SEQ_LIMIT && (l->start == 0 || now < l->deadline);
}

/* True while the lane has a packet to start or one moving. */
static int
lane_active(const struct tp *t, const struct lane *l, int64_t now)
{
	long	 i;

	if (may_start(t, l, now))
		return 1;
	for (i = 0; i < l->streams; i++)
		if (l->slot[i].kind != X_IDLE)
			return 1;
	return 0;
}

/* Starts the lane's next packet on its stream x; the first sets its clock. */
static void
start_packet(struct tp *t, struct lane *l, struct xfer *x)
{
	x->lane = l;
	if (t->duration_ms == 0)
		x->size = t->size;
	else {
		if (x->next_size == 0)
			x->next_size = l->size;
		x->size = x->next_size;
	}
	if (start(t, x, l->dir, l->next_seq++) == 0 && l->start == 0) {
		l->start = x->t0;
		l->deadline = x->t0 + (int64_t)t->duration_ms * 1000;
		l->changed_at = x->t0;
	}
}

/*
 * One turn of the multi loop: ramp, start a packet on every idle stream,
 * let libcurl work, collect.  It waits for libcurl only when nothing
 * ended, so a stream starts its next packet as soon as its last one ends.
 */
static void
turn(struct tp *t)
{
	struct lane	*l;
	int64_t		 now = cli_stamp();
	long		 i;
	int		 k, ended;

	for (k = 0; k < t->nlanes && !t->failed; k++) {
		l = &t->lane[k];
		ramp(t, l, now);
		for (i = 0; i < l->streams && !t->failed; i++)
			if (l->slot[i].kind == X_IDLE && may_start(t, l, now))
				start_packet(t, l, &l->slot[i]);
	}
	send_reports(t, 0);
	ended = collect(t);
	if (cli_interrupted)
		fail(t, CLI_ERR_INTR, 0, "interrupted", "interrupted");
	draw(t, 0);
	if (!t->failed && ended == 0)
		curl_multi_poll(t->m, NULL, 0, POLL_MS, NULL);
}

/* Sets lane k up for dir, on its slots (after lane 0's with -B). */
static void
lane_init(struct tp *t, int k, enum xkind dir)
{
	struct lane	*l = &t->lane[k];
	long		 i;

	memset(l, 0, sizeof(*l));
	l->dir = dir;
	l->slot = t->slot + k * t->streams;
	if (t->duration_ms > 0) {
		/* One stream first; the ramp adds the others. */
		l->streams = 1;
		l->ramping = 1;
		l->size = PACKET_MIN;
	} else
		l->streams = t->streams;
	for (i = 0; i < t->streams; i++)
		l->slot[i].next_size = 0;
}

/* Moves the packets of the lanes set up, with the probes of phase beside. */
static int
run_lanes(struct tp *t, const char *phase)
{
	int	 k, active;

	if (t->probing)
		cli_probes_load(&t->probes, phase);
	do {
		turn(t);
		for (k = active = 0; k < t->nlanes; k++)
			active |= lane_active(t, &t->lane[k], cli_stamp());
	} while (!t->failed && active);
	if (t->probing)
		cli_probes_stop(&t->probes);
	draw(t, 1);
	if (t->bar != NULL)
		fputc('\n', t->bar);
	return t->failed ? -1 : 0;
}

/*
 * Cuts what is in flight (a failure or an interruption).  A download whose
 * last byte is in, though libcurl has not yet said it is done, is whole:
 * it is reported like any other.
 */
static void
cut(struct tp *t)
{
	struct xfer	*x;
	long		 i;

	for (i = 0; i < nslots(t); i++) {
		x = &t->slot[i];
		if (x->kind == X_IDLE)
			continue;
		curl_multi_remove_handle(t->m, x->e);
		if (x->kind == X_DOWNLOAD && x->bytes == x->size && x->t3 > 0) {
			if (x->t1 == 0)
				first_byte_fallback(x);
			if (queue_report(t, x) == 0) {
				x->lane->done++;
				line(t, x, NULL);
			}
		}
		x->kind = X_IDLE;
	}
}

/* Sends every report still held, waiting for each batch (never interrupted). */
static void
drain_reports(struct tp *t)
{
	t->c->interruptible = 0;
	while (t->rep.kind != X_IDLE || t->rep_again_at > 0 ||
	    json_object_array_length(t->pending) > 0) {
		if (send_reports(t, 1) == -1 && t->rep.kind == X_IDLE)
			return;
		collect(t);
		if (t->rep.kind != X_IDLE || t->rep_again_at > 0)
			curl_multi_poll(t->m, NULL, 0, 100, NULL);
	}
}

/*
 * An upload's bytes, incompressible like the server's downloads: a
 * time-bounded test's packets are each a part of PACKET_MAX of them.
 */
static enum cli_err
fill_payload(struct tp *t, struct cli_fault *f)
{
	size_t	 off, len;
	ssize_t	 n;

	t->payload_len = t->duration_ms > 0 ? PACKET_MAX : t->size;
	len = (size_t)t->payload_len;
	if ((t->payload = malloc(len)) == NULL)
		return cli_fail(f, CLI_ERR_LOCAL, 0, NULL,
		    "out of memory for %lld bytes", t->payload_len);
	for (off = 0; off < len; off += (size_t)n)
		if ((n = getrandom(t->payload + off, len - off, 0)) <= 0)
			return cli_fail(f, CLI_ERR_LOCAL, 0, NULL,
			    "getrandom failed");
	return CLI_OK;
}

/*
 * Everything the multi loop needs; the caller frees with tp_free() even on
 * error.
 */
static enum cli_err
tp_init(struct tp *t, struct cli_fault *f)
{
	long	 i;

	t->uheaders = cli_headers_plus(t->c->headers, OCTET_TYPE);
	t->jheaders = cli_headers_plus(t->c->headers, CLI_JSON_TYPE);
	if (t->uheaders == NULL || t->jheaders == NULL ||
	    (t->m = curl_multi_init()) == NULL ||
	    (t->pending = json_object_new_array()) == NULL ||
	    (t->rep.e = curl_easy_init()) == NULL)
		return cli_nomem(f);
	/* A connection of its own for each stream, as the SDK's: over HTTP/2
	 * they would all share one, and one TCP flow through a queue that drops
	 * fills the link less than several (a 40 Mbit/s tbf: 37.3-37.4 Mbit/s
	 * on one connection, 38.1-38.2 on four). */
	curl_multi_setopt(t->m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	t->rep.tp = t;
	for (i = 0; i < nslots(t); i++) {
		t->slot[i].tp = t;
		if ((t->slot[i].e = curl_easy_init()) == NULL)
			return cli_nomem(f);
	}
	if (strcmp(t->direction, "download") != 0)
		return fill_payload(t, f);
	return CLI_OK;
}

static void
tp_free(struct tp *t)
{
	long	 i;

	cut(t);
	if (t->rep.kind != X_IDLE)
		curl_multi_remove_handle(t->m, t->rep.e);
	for (i = 0; i < 2 * STREAMS_MAX; i++) {
		if (t->slot[i].e != NULL)
			curl_easy_cleanup(t->slot[i].e);
		free(t->slot[i].resp.body);
	}
	if (t->rep.e != NULL)
		curl_easy_cleanup(t->rep.e);
	free(t->rep.resp.body);
	free(t->rep.report);
	if (t->m != NULL)
		curl_multi_cleanup(t->m);
	curl_slist_free_all(t->uheaders);
	curl_slist_free_all(t->jheaders);
	json_object_put(t->pending);
	free(t->payload);
}

/* Creates the test; fills t's id and base. */
static enum cli_err
create(struct tp *t, struct cli_fault *f)
{
	struct json_object	*req;
	enum cli_err		 err;

	if ((req = json_object_new_object()) != NULL) {
		json_object_object_add(req, "direction",
		    json_object_new_string(t->direction));
		if (t->simultaneous)
			json_object_object_add(req, "simultaneous",
			    json_object_new_boolean(1));
		if (t->duration_ms > 0)
			json_object_object_add(req, "duration_ms",
			    json_object_new_int64(t->duration_ms));
		else {
			json_object_object_add(req, "packets",
			    json_object_new_int64(t->packets));
			json_object_object_add(req, "packet_size",
			    json_object_new_int64(t->size));
		}
	}
	err = cli_create(t->c, "/throughput-tests", req, &t->id, f);
	if (err == CLI_OK)
		snprintf(t->base, sizeof(t->base), "/throughput-tests/%lld",
		    (long long)t->id);
	return err;
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/*
 * Opens each stream's connection (TLS and all) before the first packet, as
 * the SDK does: a handshake still running would delay the stamps of the
 * packets already moving, and a packet moving alone while the others
 * connect overstates its rate (29 Mbit/s of a 40 Mbit/s link's 38 shared by
 * four).  A health request on each slot, all at once, and one more for the
 * reports, which would otherwise open a connection while every stream
 * moves; the connections stay in the multi handle's cache for the packets.
 * A failure here shows again on the packets, so it is not judged.
 */
static void
warm(struct tp *t)
{
	CURL	*e[2 * STREAMS_MAX + 1];
	char	 url[1024];
	long	 i, n = nslots(t);
	int	 running = 0, left;

	for (i = 0; i < n; i++)
		e[i] = t->slot[i].e;
	e[n++] = t->rep.e;
	snprintf(url, sizeof(url), "%s/api/v1/health", t->c->url);
	for (i = 0; i < n; i++) {
		curl_easy_reset(e[i]);
		cli_easy_setup(t->c, e[i]);
		curl_easy_setopt(e[i], CURLOPT_URL, url);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
		if (curl_multi_add_handle(t->m, e[i]) != CURLM_OK)
			break;
	}
	n = i;
	do {
		if (curl_multi_perform(t->m, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(t->m, NULL, 0, 100, NULL);
	} while (running > 0 && !cli_interrupted);
	while (curl_multi_info_read(t->m, &left) != NULL)
		;
	for (i = 0; i < n; i++)
		curl_multi_remove_handle(t->m, e[i]);
}

/*
 * Every packet: both directions at once with -B, else each in turn, the
 * download first.
 */
static int
move_packets(struct tp *t)
{
	if (t->simultaneous) {
		lane_init(t, 0, X_DOWNLOAD);
		lane_init(t, 1, X_UPLOAD);
		t->nlanes = 2;
		return run_lanes(t, "bidirectional");
	}
	t->nlanes = 1;
	if (strcmp(t->direction, "upload") != 0) {
		lane_init(t, 0, X_DOWNLOAD);
		if (run_lanes(t, "download") == -1)
			return -1;
	}
	if (strcmp(t->direction, "download") != 0) {
		lane_init(t, 0, X_UPLOAD);
		return run_lanes(t, "upload");
	}
	return 0;
}

/*
 * Ends a time-bounded test at once, its time being up.  One the server
 * ended by itself (every direction's time up, no packet moving) is
 * complete already: its 409 invalid_state says so.
 */
static enum cli_err
close_test(struct tp *t, struct cli_fault *f)
{
	struct cli_resp	 r;
	char		 path[96];
	enum cli_err	 err;

	snprintf(path, sizeof(path), "%s/close", t->base);
	err = cli_call(t->c, "POST", path, NULL, 30000, &r, f);
	if (err == CLI_ERR_SERVER && f->status == 409 &&
	    strcmp(f->code, "invalid_state") == 0)
		err = CLI_OK;
	cli_resp_free(&r);
	return err;
}

/*
 * The test's packets, both directions in turn, then its end; on failure
 * t->fault says why.
 */
static enum cli_err
run(struct tp *t)
{
	struct cli_resp	 r;
	struct cli_fault f;
	char		 path[96];

	if (t->probing) {
		if (cli_probes_open(&t->probes, t->c, t->id, PROBE_EVERY_MS,
		    &f) != CLI_OK) {
			t->fault = f;
			t->failed = 1;
			goto failed;
		}
		cli_probes_idle(&t->probes, IDLE_PROBES);
	}
	warm(t);
	if (move_packets(t) == -1)
		goto failed;
	if (t->duration_ms > 0 && close_test(t, &f) != CLI_OK) {
		t->fault = f;
		t->failed = 1;
		goto failed;
	}
	drain_reports(t);
	if (!t->failed && t->probing &&
	    cli_probes_receipts(&t->probes, &f) != CLI_OK) {
		t->fault = f;
		t->failed = 1;
	}
	if (t->failed)
		goto failed;
	return CLI_OK;
failed:
	/* Keep what was measured, then end the test; never interrupted. */
	cut(t);
	t->c->interruptible = 0;
	if (t->probing) {
		cli_probes_stop(&t->probes);
		cli_probes_receipts(&t->probes, &f);
	}
	if (t->fault.err != CLI_ERR_LOCAL)
		drain_reports(t);
	snprintf(path, sizeof(path), "%s/abort", t->base);
	if (cli_call(t->c, "POST", path, NULL, 30000, &r, &f) == CLI_OK &&
	    t->fault.err != CLI_ERR_INTR)
		snprintf(t->fault.message + strlen(t->fault.message),
		    sizeof(t->fault.message) - strlen(t->fault.message),
		    "; test %lld aborted", (long long)t->id);
	cli_resp_free(&r);
	return t->fault.err;
}

/* Parses one option of the N x S form into t; -1 on a usage error. */
static int
nxs_option(struct tp *t, int ch, const char *arg)
{
	long long	 v;

	t->nxs = 1;
	if (ch == 's')
		return cli_size(arg, &t->size);
	if (cli_num(arg, 1, ch == 'n' ? 1000000 : STREAMS_MAX, &v) == -1)
		return -1;
	if (ch == 'n')
		t->packets = (long)v;
	else
		t->streams = (long)v;
	return 0;
}

/* Parses the command's options into t; -1 on a usage error. */
static int
options(struct tp *t, int argc, char **argv)
{
	long long	 v;
	int		 ch, timed = 0;

	optind = 1;
	while ((ch = getopt(argc, argv, "d:t:n:s:P:BNq")) != -1) {
		switch (ch) {
		case 'B':
			t->simultaneous = 1;
			break;
		case 'N':
			t->probing = 0;
			break;
		case 'q':
			t->quiet = 1;
			break;
		case 'd':
			if (strcmp(optarg, "download") != 0 &&
			    strcmp(optarg, "upload") != 0 &&
			    strcmp(optarg, "both") != 0)
				return -1;
			t->direction = optarg;
			break;
		case 't':
			if (cli_num(optarg, 1, DURATION_MAX_S, &v) == -1)
				return -1;
			t->duration_ms = (long)v * 1000;
			timed = 1;
			break;
		case 'n':
		case 's':
		case 'P':
			if (nxs_option(t, ch, optarg) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	/* Both at once needs both; a test has a time or a size, not both. */
	if ((t->simultaneous && strcmp(t->direction, "both") != 0) ||
	    (timed && t->nxs))
		return -1;
	return optind == argc ? 0 : -1;
}

/* The form options() chose: its streams, its grace, its bar and lines. */
static void
settle(struct tp *t, const struct cli_opts *o)
{
	if (t->nxs) {
		t->duration_ms = 0;
		if (t->streams > t->packets)
			t->streams = t->packets;
	} else {
		t->streams = TB_STREAMS;
		t->grace_us = (int64_t)t->duration_ms * 1000 / 5;
		if (t->grace_us > GRACE_MAX_US)
			t->grace_us = GRACE_MAX_US;
	}
	if (!t->quiet && isatty(STDERR_FILENO))
		t->bar = stderr;
	/* An N x S test's packets are few enough for a line each. */
	t->lines = t->nxs && !t->quiet && !o->json && !isatty(STDOUT_FILENO);
}

/* The line that opens a run printed as text. */
static void
intro(const struct tp *t)
{
	if (t->duration_ms > 0)
		printf("THROUGHPUT %s test %lld: %s, %ld s per direction, "
		    "up to %d streams\n", t->c->url, (long long)t->id,
		    t->direction, t->duration_ms / 1000, TB_STREAMS);
	else
		printf("THROUGHPUT %s test %lld: %s, %ld x %lld bytes, "
		    "%ld stream%s\n", t->c->url, (long long)t->id,
		    t->direction, t->packets, t->size, t->streams,
		    t->streams == 1 ? "" : "s");
}

int
cmd_throughput(const struct cli_opts *o, int argc, char **argv)
{
	struct tp	*t;
	struct cli_conn	 c = { 0 };
	struct cli_fault f;
	struct cli_resp	 r = { 0 };
	enum cli_err	 err;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		cli_nomem(&f);
		return cli_failed(&f);
	}
	t->direction = "download";
	t->duration_ms = DURATION_S * 1000;
	t->packets = 10;
	t->size = 1048576;
	t->streams = 1;
	t->probing = 1;
	if (options(t, argc, argv) == -1) {
		free(t);
		return CLI_USAGE;
	}
	settle(t, o);
	if ((err = cli_connect(o, &c, &f)) != CLI_OK)
		goto out;
	t->c = &c;
	if ((err = tp_init(t, &f)) != CLI_OK || (err = create(t, &f)) != CLI_OK)
		goto out;
	if (!o->json)
		intro(t);
	if ((err = run(t)) != CLI_OK) {
		f = t->fault;
		/* Interrupted, the aborted test is still shown, as ping's. */
		if (err != CLI_ERR_INTR)
			goto out;
	}
	c.interruptible = 0;
	if (cli_call(&c, "GET", t->base, NULL, 60000, &r,
	    err == CLI_OK ? &f : &t->fault) != CLI_OK) {
		if (err == CLI_OK)
			err = f.err;
		goto out;
	}
	if (o->json)
		cli_print_json(&r);
	else
		cli_print_tp_summary(r.json);
out:
	cli_resp_free(&r);
	cli_probes_close(&t->probes);
	tp_free(t);
	free(t);
	cli_conn_close(&c);
	return err == CLI_OK ? 0 : cli_failed(&f);
}
