/*
 * cmd_tp.c - pingoo throughput: a throughput test run as the SDK runs it.
 * Create the test; move its packets over STREAMS parallel transfers on one
 * libcurl multi handle, each stream on a connection of its own opened
 * before the first packet (download, then upload for "both", or STREAMS of
 * each at once with -B); stamp each
 * download when it is sent (client_sent_at), when its head arrives
 * (client_first_byte_at) and when its last byte arrives
 * (client_received_at); report only whole packets, in batches sent on the
 * same multi handle so a report never stalls a transfer; abort the test on
 * a failure or an interruption; read the test as stored.  Latency probes
 * (probe.c) go beside the packets unless -N: idle ones first, then the
 * phase of each direction.
 *
 * Its length is the multi loop's: slots, completions and the progress line
 * share the state of one struct tp.
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
#define STREAMS_MAX	64
#define ERRBODY_MAX	65536
#define IDLE_PROBES	10
#define PROBE_EVERY_MS	100
#define OCTET_TYPE	"Content-Type: application/octet-stream"

/* The interruptible flag of the reports' transfers. */
static int	never;

enum xkind { X_IDLE, X_DOWNLOAD, X_UPLOAD, X_REPORT };

/* One slot of the multi handle: a packet or a batch of reports in flight. */
struct xfer {
	struct tp	*tp;
	CURL		*e;
	enum xkind	 kind;
	long		 seq;
	/* Sent, head arrived, last byte (or answer) arrived. */
	int64_t		 t0, t1, t3;
	curl_off_t	 bytes;		/* body bytes of a download */
	/* An answer or an error body, never a packet. */
	struct cli_resp	 resp;
	size_t		 cap;
	char		*report;	/* the report's JSON text */
	char		 errbuf[CURL_ERROR_SIZE];
};

struct tp {
	struct cli_conn	*c;
	CURLM		*m;
	int64_t		 id;
	char		 base[64];	/* /throughput-tests/ID */
	const char	*direction;	/* download, upload or both */
	long		 packets;
	long long	 size;
	long		 streams;
	unsigned char	*payload;	/* an upload's bytes */
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
	/* The direction under way: X_DOWNLOAD, X_UPLOAD, or X_IDLE for
	 * both at once. */
	enum xkind	 dir;
	long		 next_seq[2];	/* by direction */
	long		 done, want, total_done, total;
	int64_t		 dir_start;	/* its first head */
	/* Bytes arrived (download) or acknowledged (upload). */
	long long	 live_bytes;
	int64_t		 last_draw;
	FILE		*bar;		/* the bar's stream, or NULL */
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

/*
 * A download's bytes are counted, never kept; the last one is stamped as
 * it arrives.  A byte past packet_size ends the transfer: the packet is not
 * what was asked for.
 */
static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n;
	long		 status = 0;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	/* An upload's or a report's answer, or an error: kept to be judged. */
	if (x->kind != X_DOWNLOAD || status != 200) {
		if (cli_body_append(&x->resp, &x->cap, data, len,
		    ERRBODY_MAX) == -1)
			return 0;
		return len;
	}
	x->bytes += (curl_off_t)len;
	x->tp->live_bytes += (long long)len;
	if (x->bytes > x->tp->size)
		return 0;
	if (x->bytes == x->tp->size)
		x->t3 = cli_stamp();
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
	if (x->tp->dir_start == 0)
		x->tp->dir_start = now;
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
		    (curl_off_t)t->size);
	} else if (x->kind == X_REPORT) {
		/* What was measured is kept: no interruption cuts a report. */
		curl_easy_setopt(x->e, CURLOPT_XFERINFODATA, &never);
		curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, t->jheaders);
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, x->report);
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(x->report));
	}
}

/* Starts one request on a slot: kind, seq (packets) or the report text. */
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
	if (kind == X_REPORT)
		snprintf(url, sizeof(url), "%s/api/v1%s/reports", t->c->url,
		    t->base);
	else
		snprintf(url, sizeof(url), "%s/api/v1%s/%s/%ld", t->c->url,
		    t->base, dirname_of(kind), seq);
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

/* bytes over us microseconds in bits per second; -1 (unknown) for no time. */
static double
rate_of(long long bytes, int64_t us)
{
	return us > 0 ? (double)bytes * 8e6 / (double)us : -1;
}

/* The progress bar, redrawn at most ten times a second (and at the end). */
static void
draw(struct tp *t, int force)
{
	char	 rate[32], bar[31];
	int64_t	 now = cli_stamp();
	long	 fill;

	if (t->bar == NULL || (!force && now - t->last_draw < 100000))
		return;
	t->last_draw = now;
	cli_fmt_bps(rate, sizeof(rate), t->dir_start > 0 ?
	    rate_of(t->live_bytes, now - t->dir_start) : -1);
	fill = t->want > 0 ? t->done * 30 / t->want : 0;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(30 - fill));
	bar[30] = '\0';
	fprintf(t->bar, "\r%-8s [%s] %3ld%% %ld/%ld  %s   ",
	    dirname_of(t->dir), bar, t->want > 0 ? t->done * 100 / t->want : 0,
	    t->done, t->want, rate);
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
		    "(server)\n", x->seq, t->size, (double)us / 1000.0, rate);
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
 * JSON answer, if any, in *answer), else -1 with t failed.
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
	    x->bytes > t->size) {
		snprintf(msg, sizeof(msg), "download %ld: more than %lld bytes",
		    x->seq, t->size);
		return fail(t, CLI_ERR_SERVER, status, "invalid_response", msg);
	}
	if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "%s %ld: %s",
		    x->kind == X_REPORT ? "reports" : dirname_of(x->kind),
		    x->seq, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		return fail(t, CLI_ERR_NET, 0, "network_error", msg);
	}
	if (x->kind == X_DOWNLOAD && status == 200) {
		if (x->bytes != t->size) {
			snprintf(msg, sizeof(msg), "download %ld: %lld of %lld "
			    "bytes arrived", x->seq, (long long)x->bytes,
			    t->size);
			return fail(t, CLI_ERR_NET, 0, "network_error", msg);
		}
		if (x->t1 == 0)
			first_byte_fallback(x);
		return 0;
	}
	if (cli_answer(status, x->resp.body, x->resp.len, answer, &f) ==
	    CLI_OK || (x->kind == X_REPORT && report_again(t, &f)))
		return 0;
	if (!t->failed)
		t->fault = f;
	t->failed = 1;
	return -1;
}

/* A finished request: judged, reported, and its slot freed. */
static int
complete(struct tp *t, struct xfer *x, CURLcode rc)
{
	struct json_object	*answer = NULL;
	int			 r;

	curl_multi_remove_handle(t->m, x->e);
	r = judge(t, x, rc, &answer);
	if (r == 0 && x->kind != X_REPORT) {
		if ((r = queue_report(t, x)) == 0) {
			t->done++;
			t->total_done++;
			if (x->kind == X_UPLOAD)
				t->live_bytes += t->size;
			line(t, x, answer);
		}
	}
	json_object_put(answer);
	x->kind = X_IDLE;
	return r;
}

/* Lets libcurl work, then judges every request that ended. */
static void
collect(struct tp *t)
{
	struct xfer	*x;
	CURLMsg		*msg;
	int		 running, left;

	curl_multi_perform(t->m, &running);
	while ((msg = curl_multi_info_read(t->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		complete(t, x, msg->data.result);
	}
}

/* The direction of slot i's packets. */
static enum xkind
slot_dir(const struct tp *t, long i)
{
	if (t->dir != X_IDLE)
		return t->dir;
	/* Both at once: the first streams download, the others upload. */
	return i < t->streams ? X_DOWNLOAD : X_UPLOAD;
}

/*
 * One turn of the multi loop: start what can start, let libcurl work,
 * collect.
 */
static void
turn(struct tp *t)
{
	long	*next;
	long	 i;

	for (i = 0; i < nslots(t) && !t->failed; i++) {
		next = &t->next_seq[slot_dir(t, i) == X_UPLOAD];
		if (t->slot[i].kind == X_IDLE && *next < t->packets) {
			start(t, &t->slot[i], slot_dir(t, i), *next);
			(*next)++;
		}
	}
	send_reports(t, 0);
	collect(t);
	if (cli_interrupted)
		fail(t, CLI_ERR_INTR, 0, "interrupted", "interrupted");
	draw(t, 0);
	if (!t->failed)
		curl_multi_poll(t->m, NULL, 0, 100, NULL);
}

/* Moves every packet of one direction (X_IDLE: of both at once), probes of
 * its phase beside them. */
static int
run_direction(struct tp *t, enum xkind dir)
{
	t->dir = dir;
	t->next_seq[0] = t->next_seq[1] = t->done = 0;
	t->want = t->packets * (dir == X_IDLE ? 2 : 1);
	t->dir_start = 0;
	t->live_bytes = 0;
	if (t->probing)
		cli_probes_load(&t->probes, dirname_of(dir));
	while (!t->failed && t->done < t->want)
		turn(t);
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
		if (x->kind == X_DOWNLOAD && x->bytes == t->size && x->t3 > 0) {
			if (x->t1 == 0)
				first_byte_fallback(x);
			if (queue_report(t, x) == 0) {
				t->done++;
				t->total_done++;
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

/* An upload's bytes: incompressible, like the server's downloads. */
static enum cli_err
fill_payload(struct tp *t, struct cli_fault *f)
{
	size_t	 off;
	ssize_t	 n;

	if ((t->payload = malloc((size_t)t->size)) == NULL)
		return cli_fail(f, CLI_ERR_LOCAL, 0, NULL,
		    "out of memory for %lld bytes", t->size);
	for (off = 0; off < (size_t)t->size; off += (size_t)n)
		if ((n = getrandom(t->payload + off, (size_t)t->size - off,
		    0)) <= 0)
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
		json_object_object_add(req, "packets",
		    json_object_new_int64(t->packets));
		if (t->simultaneous)
			json_object_object_add(req, "simultaneous",
			    json_object_new_boolean(1));
		json_object_object_add(req, "packet_size",
		    json_object_new_int64(t->size));
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
 * four).  A health request on each slot, all at once; the connections stay
 * in the multi handle's cache for the packets.  A failure here shows again
 * on the packets, so it is not judged.
 */
static void
warm(struct tp *t)
{
	char	 url[1024];
	long	 i, n = nslots(t);
	int	 running = 0, left;

	snprintf(url, sizeof(url), "%s/api/v1/health", t->c->url);
	for (i = 0; i < n; i++) {
		curl_easy_reset(t->slot[i].e);
		cli_easy_setup(t->c, t->slot[i].e);
		curl_easy_setopt(t->slot[i].e, CURLOPT_URL, url);
		curl_easy_setopt(t->slot[i].e, CURLOPT_WRITEFUNCTION, discard);
		if (curl_multi_add_handle(t->m, t->slot[i].e) != CURLM_OK)
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
		curl_multi_remove_handle(t->m, t->slot[i].e);
}

/* Every packet: both directions at once with -B, else each in turn. */
static int
move_packets(struct tp *t)
{
	if (t->simultaneous)
		return run_direction(t, X_IDLE);
	if (strcmp(t->direction, "upload") != 0 &&
	    run_direction(t, X_DOWNLOAD) == -1)
		return -1;
	if (strcmp(t->direction, "download") != 0 &&
	    run_direction(t, X_UPLOAD) == -1)
		return -1;
	return 0;
}

/*
 * The test's packets, both directions in turn; on failure t->fault says
 * why.
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

/* Parses the command's options into t; -1 on a usage error. */
static int
options(struct tp *t, int argc, char **argv)
{
	long long	 v;
	int		 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "d:n:s:P:BN")) != -1) {
		switch (ch) {
		case 'B':
			t->simultaneous = 1;
			break;
		case 'N':
			t->probing = 0;
			break;
		case 'd':
			if (strcmp(optarg, "download") != 0 &&
			    strcmp(optarg, "upload") != 0 &&
			    strcmp(optarg, "both") != 0)
				return -1;
			t->direction = optarg;
			break;
		case 'n':
			if (cli_num(optarg, 1, 1000000, &v) == -1)
				return -1;
			t->packets = (long)v;
			break;
		case 's':
			if (cli_size(optarg, &t->size) == -1)
				return -1;
			break;
		case 'P':
			if (cli_num(optarg, 1, STREAMS_MAX, &v) == -1)
				return -1;
			t->streams = (long)v;
			break;
		default:
			return -1;
		}
	}
	/* Both at once needs both. */
	if (t->simultaneous && strcmp(t->direction, "both") != 0)
		return -1;
	return optind == argc ? 0 : -1;
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
	t->packets = 10;
	t->size = 1048576;
	t->streams = 1;
	t->probing = 1;
	if (options(t, argc, argv) == -1) {
		free(t);
		return CLI_USAGE;
	}
	if (t->streams > t->packets)
		t->streams = t->packets;
	if (isatty(STDOUT_FILENO) && !o->json)
		t->bar = stdout;
	else if (o->json && isatty(STDERR_FILENO))
		t->bar = stderr;
	t->lines = t->bar == NULL && !o->json;
	if ((err = cli_connect(o, &c, &f)) != CLI_OK)
		goto out;
	t->c = &c;
	if ((err = tp_init(t, &f)) != CLI_OK || (err = create(t, &f)) != CLI_OK)
		goto out;
	if (!o->json)
		printf("THROUGHPUT %s test %lld: %s, %ld x %lld bytes, "
		    "%ld stream%s\n", c.url, (long long)t->id, t->direction,
		    t->packets, t->size, t->streams,
		    t->streams == 1 ? "" : "s");
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
