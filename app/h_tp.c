/*
 * h_tp.c - the throughput-test routes: create, list, download packet,
 * upload packet, client reports, abort, read.
 *
 * The packet routes are the measured path.  A packet is claimed in MySQL
 * (committed) before any byte moves, the bytes move with no database work
 * in between, and the outcome is recorded after the last byte: a download
 * from one random buffer made once per process, in 64 KiB FastCGI records
 * (rawout.c); an upload read as nginx streams it, into a fixed buffer.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <json.h>

#include "app.h"
#include "core/core.h"
#include "input/input.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store/store.h"

/* The incompressible bytes every download repeats: made once, never freed.
 * They sit at the start of a 2 MiB region aligned on 2 MiB, which the
 * kernel is asked to back with one transparent huge page: vmsplice()
 * (rawout.c) pins the 4 KiB pages it lends one by one, the pages of a huge
 * page in one step, which takes most of vmsplice's cost off a download
 * (docs/performance.md).  Where the kernel gives no huge page, the same
 * bytes sit on small pages. */
#define NOISE_SIZE	(1024 * 1024)
#define NOISE_REGION	(2 * 1024 * 1024)
/* Upload reads: a fixed buffer per call, never the packet size. */
#define RECV_CHUNK	(64 * 1024)

static unsigned char	*noise;
static pthread_once_t	 noise_once = PTHREAD_ONCE_INIT;
static int		 noise_ok;

/* NOISE_REGION bytes aligned on NOISE_REGION, untouched, with the huge page
 * asked for; NULL when out of memory. */
static unsigned char *
noise_region(void)
{
	size_t span = 2 * NOISE_REGION, head;
	unsigned char *p;

	p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	head = (NOISE_REGION - (uintptr_t)p % NOISE_REGION) % NOISE_REGION;
	if (head > 0)
		munmap(p, head);
	munmap(p + head + NOISE_REGION, span - head - NOISE_REGION);
	p += head;
	/* Advice only: without it the bytes are the same. */
	(void)madvise(p, NOISE_REGION, MADV_HUGEPAGE);
	return p;
}

static void
noise_init(void)
{
	noise = noise_region();
	noise_ok = noise != NULL &&
	    pingoo_random(noise, NOISE_SIZE) == PINGOO_OK;
}

/* ---- rendering -------------------------------------------------------- */

/* "<prefix>duration_us" and "<prefix>bits_per_second" of one side. */
static void
add_side(struct json_object *o, const struct pingoo_tp_xfer *x,
    enum pingoo_tp_side side)
{
	int64_t dur = pingoo_tp_duration_us(x, side);
	int64_t bps = pingoo_tp_bps(x->bytes, dur);
	int sender = side == PINGOO_TP_SENDER;

	json_object_object_add(o, sender ? "sender_duration_us" :
	    "duration_us", json_i64_or_null(dur, dur < 0));
	json_object_object_add(o, sender ? "sender_bits_per_second" :
	    "bits_per_second", json_i64_or_null(bps, bps < 0));
}

static struct json_object *
xfer_json(const struct pingoo_tp_xfer *x)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "direction",
	    json_object_new_string(pingoo_tp_dir_name(x->dir)));
	json_object_object_add(o, "seq", json_i64(x->seq));
	json_object_object_add(o, "bytes", json_i64((int64_t)x->bytes));
	json_object_object_add(o, "status",
	    json_object_new_string(pingoo_tp_status_name(x->status)));
	json_object_object_add(o, "server_started_at",
	    json_i64(x->server_started_at));
	json_object_object_add(o, "server_finished_at",
	    json_i64_or_null(x->server_finished_at, x->server_finished_at < 0));
	json_object_object_add(o, "client_sent_at",
	    json_i64_or_null(x->client_sent_at, x->client_sent_at < 0));
	json_object_object_add(o, "client_first_byte_at",
	    json_i64_or_null(x->client_first_byte_at,
	    x->client_first_byte_at < 0));
	json_object_object_add(o, "client_received_at",
	    json_i64_or_null(x->client_received_at, x->client_received_at < 0));
	add_side(o, x, PINGOO_TP_RECEIVER);
	add_side(o, x, PINGOO_TP_SENDER);
	return o;
}

/* -1 in a summary means null. */
static void
add_opt(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_i64_or_null(v, v < 0));
}

static struct json_object *
dir_summary_json(const struct pingoo_tp_summary *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_i64(s->packets));
	json_object_object_add(o, "received", json_i64(s->received));
	json_object_object_add(o, "failed", json_i64(s->failed));
	json_object_object_add(o, "bytes", json_i64((int64_t)s->bytes));
	json_object_object_add(o, "reported", json_i64(s->reported));
	json_object_object_add(o, "report_missing",
	    json_object_new_boolean(s->report_missing));
	add_opt(o, "elapsed_us", s->elapsed_us);
	add_opt(o, "bits_per_second", s->bits_per_second);
	add_opt(o, "packet_bps_min", s->packet_bps_min);
	add_opt(o, "packet_bps_median", s->packet_bps_median);
	add_opt(o, "packet_bps_p90", s->packet_bps_p90);
	add_opt(o, "packet_bps_max", s->packet_bps_max);
	add_opt(o, "sender_elapsed_us", s->sender_elapsed_us);
	add_opt(o, "sender_bits_per_second", s->sender_bits_per_second);
	return o;
}

/* A timed test's direction: the headline is its window's (window.c), and
 * the window, its grace and the clock are shown; null in an N x S test. */
static void
add_window(struct json_object *o, const struct pingoo_tp_test *t,
    enum pingoo_tp_dir d, const struct pingoo_tp_xfer *xf, size_t n)
{
	static const char *const keys[] = { "grace_us", "window_start_at",
	    "window_end_at", "window_bytes", "started_at", "time_up_at" };
	struct pingoo_tp_window w;
	int64_t v[6];
	size_t i;

	if (t->duration_ms == 0) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			json_object_object_add(o, keys[i], NULL);
		return;
	}
	pingoo_tp_window(xf, n, d, t->duration_ms, &w);
	v[0] = w.grace_us;
	v[1] = w.start_at;
	v[2] = w.end_at;
	v[3] = w.bytes;
	v[4] = t->started_at[d];
	v[5] = pingoo_tp_time_up_at(t, d);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		add_opt(o, keys[i], v[i]);
	add_opt(o, "bits_per_second", w.bits_per_second);
}

/* The transfers of direction d still moving. */
static uint32_t
count_started(const struct pingoo_tp_xfer *xf, size_t n, enum pingoo_tp_dir d)
{
	uint32_t k = 0;
	size_t i;

	for (i = 0; i < n; i++)
		k += xf[i].dir == d && xf[i].status == PINGOO_TP_STARTED;
	return k;
}

/* {"download": {...}|null, "upload": {...}|null}; NULL when out of memory. */
static struct json_object *
summary_json(const struct pingoo_tp_test *t, const struct pingoo_tp_xfer *xf,
    size_t n)
{
	struct pingoo_tp_summary s;
	struct json_object *o = json_object_new_object(), *dir;
	int d;

	for (d = 0; d < PINGOO_TP__DIRS; d++) {
		if (!(t->dirs & PINGOO_TP_MASK(d))) {
			json_object_object_add(o,
			    pingoo_tp_dir_name((enum pingoo_tp_dir)d), NULL);
			continue;
		}
		if (pingoo_tp_summarize(xf, n, (enum pingoo_tp_dir)d,
		    t->packets, &s) != PINGOO_OK) {
			json_object_put(o);
			return NULL;
		}
		/* A timed test's packets: the transfers it moved. */
		if (t->duration_ms > 0)
			s.packets = s.received + s.failed + count_started(xf, n,
			    (enum pingoo_tp_dir)d);
		dir = dir_summary_json(&s);
		add_window(dir, t, (enum pingoo_tp_dir)d, xf, n);
		json_object_object_add(o, pingoo_tp_dir_name((enum pingoo_tp_dir)d),
		    dir);
	}
	return o;
}

static struct json_object *
probe_json(const struct pingoo_tp_probe *p)
{
	struct json_object *o = json_object_new_object();
	int answered = p->t3 >= 0, echoed = p->t1 >= 0 && p->t2 >= 0;

	json_object_object_add(o, "seq", json_i64(p->seq));
	json_object_object_add(o, "phase",
	    json_object_new_string(pingoo_phase_name(p->phase)));
	json_object_object_add(o, "client_sent_at", json_i64(p->t0));
	add_opt(o, "server_received_at", p->t1);
	add_opt(o, "server_sent_at", p->t2);
	add_opt(o, "client_received_at", p->t3);
	json_object_object_add(o, "rtt_us",
	    json_i64_or_null(p->t3 - p->t0, !answered));
	json_object_object_add(o, "server_us",
	    json_i64_or_null(p->t2 - p->t1, !echoed));
	return o;
}

static struct json_object *
phase_json(enum pingoo_phase ph, const struct pingoo_phase_summary *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "samples", json_i64(s->samples));
	json_object_object_add(o, "lost", json_i64(s->lost));
	add_opt(o, "rtt_median_us", s->rtt_median_us);
	add_opt(o, "rtt_p90_us", s->rtt_p90_us);
	add_opt(o, "rtt_p99_us", s->rtt_p99_us);
	/* A rise may be negative: null only when there is none to give. */
	if (ph != PINGOO_PHASE_IDLE)
		json_object_object_add(o, "rise_median_us", json_i64_or_null(
		    s->rise_median_us, !s->has_rise));
	return o;
}

/* Adds latency, bufferbloat_grade and responsiveness_rpm to summary o. */
static enum pingoo_err
add_latency(struct json_object *o, const struct pingoo_tp_test *t,
    const struct pingoo_tp_probe *p, size_t n)
{
	struct pingoo_latency_summary ls;
	struct json_object *lat = json_object_new_object();
	const char *grade;
	int i;
	enum pingoo_err e;

	if ((e = pingoo_tp_latency(p, n, t->state != PINGOO_TP_INCOMPLETE,
	    &ls)) != PINGOO_OK) {
		json_object_put(lat);
		return e;
	}
	for (i = 0; i < PINGOO_PHASE__MAX; i++)
		if (ls.phase[i].present)
			json_object_object_add(lat, pingoo_phase_name(
			    (enum pingoo_phase)i), phase_json((enum pingoo_phase)i,
			    &ls.phase[i]));
	json_object_object_add(o, "latency", lat);
	grade = pingoo_grade_name(ls.grade);
	json_object_object_add(o, "bufferbloat_grade", grade != NULL ?
	    json_object_new_string(grade) : NULL);
	add_opt(o, "responsiveness_rpm", ls.responsiveness_rpm);
	return PINGOO_OK;
}

/* The fields a test has from its creation on. */
static struct json_object *
test_head_json(const struct pingoo_tp_test *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_i64((int64_t)t->id));
	json_object_object_add(o, "kind", json_object_new_string("throughput"));
	json_object_object_add(o, "state",
	    json_object_new_string(pingoo_tp_state_name(t->state)));
	json_object_object_add(o, "direction",
	    json_object_new_string(pingoo_tp_dirs_name(t->dirs)));
	json_object_object_add(o, "simultaneous",
	    json_object_new_boolean(t->simultaneous));
	json_object_object_add(o, "packets", json_i64_or_null(t->packets,
	    t->duration_ms > 0));
	json_object_object_add(o, "packet_size", json_i64_or_null(
	    (int64_t)t->packet_size, t->packet_size == 0));
	json_object_object_add(o, "duration_ms", json_i64_or_null(
	    t->duration_ms, t->duration_ms == 0));
	/* Stored by us as serialized JSON, so it parses. */
	json_object_object_add(o, "client", t->client != NULL ?
	    json_tokener_parse(t->client) : NULL);
	json_object_object_add(o, "created_at", json_i64(t->created_at));
	json_object_object_add(o, "finished_at",
	    json_i64_or_null(t->finished_at, t->finished_at < 0));
	return o;
}

/* What a test read renders besides the test row. */
struct tp_rows {
	struct pingoo_tp_xfer	*xf;
	size_t			 nxf;
	struct pingoo_tp_probe	*pr;
	size_t			 npr;
};

/* The whole test; without the transfers and probes arrays when with_rows
 * is 0.  NULL when out of memory. */
static struct json_object *
test_json(const struct pingoo_tp_test *t, const struct tp_rows *rows,
    int with_rows)
{
	struct json_object *o, *sum, *arr;
	size_t i;

	if ((sum = summary_json(t, rows->xf, rows->nxf)) == NULL)
		return NULL;
	if (add_latency(sum, t, rows->pr, rows->npr) != PINGOO_OK) {
		json_object_put(sum);
		return NULL;
	}
	o = test_head_json(t);
	json_object_object_add(o, "summary", sum);
	if (!with_rows)
		return o;
	arr = json_object_new_array_ext((int)rows->nxf);
	for (i = 0; i < rows->nxf; i++)
		json_object_array_add(arr, xfer_json(&rows->xf[i]));
	json_object_object_add(o, "transfers", arr);
	arr = json_object_new_array_ext((int)rows->npr);
	for (i = 0; i < rows->npr; i++)
		json_object_array_add(arr, probe_json(&rows->pr[i]));
	json_object_object_add(o, "probes", arr);
	return o;
}

/*
 * A time-bounded test whose time is up in every direction and whose
 * packets have all ended is complete, closed or not: a client that stopped
 * early and went away leaves it so, and its first read says it.  *t is
 * read again when this completed it.
 */
static enum pingoo_err
end_if_over(struct req *r, uint64_t id, struct pingoo_tp_test *t)
{
	enum pingoo_err e;
	int done = 0;

	if (t->state != PINGOO_TP_INCOMPLETE ||
	    !pingoo_tp_time_over(t, pingoo_now_us()))
		return PINGOO_OK;
	if ((e = pingoo_tp_end_if_over(r->store, r->user_id, id, &done)) !=
	    PINGOO_OK || !done)
		return e;
	pingoo_tp_test_clear(t);
	return pingoo_tp_get(r->store, r->user_id, id, t);
}

/* Reads test id with its transfers and probes and renders it; NULL with
 * *e set. */
static struct json_object *
load_test_json(struct req *r, uint64_t id, int with_rows, enum pingoo_err *e)
{
	struct pingoo_tp_test t;
	struct tp_rows rows;
	struct json_object *o = NULL;

	memset(&rows, 0, sizeof(rows));
	if ((*e = pingoo_tp_get(r->store, r->user_id, id, &t)) != PINGOO_OK)
		return NULL;
	if ((*e = end_if_over(r, id, &t)) != PINGOO_OK) {
		pingoo_tp_test_clear(&t);
		return NULL;
	}
	if ((*e = pingoo_tp_transfers(r->store, id, &rows.xf, &rows.nxf)) ==
	    PINGOO_OK && (*e = pingoo_tp_probes(r->store, id, &rows.pr,
	    &rows.npr)) == PINGOO_OK &&
	    (o = test_json(&t, &rows, with_rows)) == NULL)
		*e = PINGOO_ERR_NOMEM;
	free(rows.pr);
	free(rows.xf);
	pingoo_tp_test_clear(&t);
	return o;
}

/* 200/201 with the test id, or the error of reading it. */
static void
reply_test(struct req *r, int status, uint64_t id)
{
	struct json_object *o;
	enum pingoo_err e;

	o = load_test_json(r, id, 1, &e);
	reply_result(r, status, o, e);
}

/* ---- create ----------------------------------------------------------- */

/*
 * POST /api/v1/throughput-tests: 201 the new test; 503 without a database.
 * The body was validated by the route (400, 422 out_of_range /
 * limit_exceeded).  Once the test is committed the answer is 201: a test
 * just created has no transfers or probes, so its body is rendered from
 * what the create knows (reply_created says why nothing is read back).
 */
void
h_tp_create(struct req *r)
{
	struct pingoo_in_tp_create *in = &r->in.u.tp_create;
	const struct tp_rows none = { NULL, 0, NULL, 0 };
	struct pingoo_tp_test t;
	enum pingoo_err e;

	memset(&t, 0, sizeof(t));
	t.dirs = in->dirs;
	t.simultaneous = in->simultaneous;
	t.packets = in->packets;
	t.packet_size = in->packet_size;
	t.duration_ms = in->duration_ms;
	t.client = in->client;		/* the test owns it now */
	in->client = NULL;
	if ((e = pingoo_tp_create(r->store, r->user_id, &t)) != PINGOO_OK)
		reply_err(r, e);
	else {
		probe_table_put(t.id, r->user_id);
		pingoo_metrics_add(PINGOO_M_TP_CREATED, 1);
		reply_created(r, test_json(&t, &none, 1), "throughput", t.id);
	}
	pingoo_tp_test_clear(&t);
}

/* ---- read, abort, list ------------------------------------------------ */

/* GET /api/v1/throughput-tests/{id}: 200, 404 (missing or not the
 * user's), 503. */
void
h_tp_get(struct req *r)
{
	reply_test(r, 200, r->m.id);
}

/*
 * POST /api/v1/throughput-tests/{id}/abort: 200 the test, now aborted;
 * 404; 409 invalid_state when it is already complete or aborted; 503.
 */
void
h_tp_abort(struct req *r)
{
	enum pingoo_err e;

	e = pingoo_tp_abort(r->store, r->user_id, r->m.id, pingoo_now_us());
	if (e == PINGOO_ERR_STATE)
		reply_error(r, 409, "invalid_state", NULL,
		    "the test is no longer incomplete");
	else if (e != PINGOO_OK)
		reply_err(r, e);
	else {
		pingoo_pingtab_close(background_pingtab(),
		    PINGOO_PINGTAB_TP(r->m.id));
		reply_test(r, 200, r->m.id);
	}
}

/*
 * POST /api/v1/throughput-tests/{id}/close: 200 the test, now complete (a
 * time-bounded test; packets still moving are recorded as they end); 404;
 * 409 invalid_state for an N x S test or one no longer incomplete; 503.
 */
void
h_tp_close(struct req *r)
{
	struct pingoo_fault f;

	if (pingoo_tp_close(r->store, r->user_id, r->m.id, pingoo_now_us(),
	    &f) != PINGOO_OK) {
		reply_fault(r, &f);
		return;
	}
	pingoo_pingtab_close(background_pingtab(), PINGOO_PINGTAB_TP(r->m.id));
	reply_test(r, 200, r->m.id);
}

/* Renders tests t[0..n) with their summaries into a new array. */
static enum pingoo_err
list_json(struct req *r, const struct pingoo_tp_test *t, size_t n,
    struct json_object **arr)
{
	struct json_object *o;
	enum pingoo_err e = PINGOO_OK;
	size_t i;

	*arr = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++) {
		if ((o = load_test_json(r, t[i].id, 0, &e)) == NULL) {
			json_object_put(*arr);
			*arr = NULL;
			return e;
		}
		json_object_array_add(*arr, o);
	}
	return PINGOO_OK;
}

/* Replies the page t[0..n); more says whether a page follows. */
static void
reply_list(struct req *r, const struct pingoo_tp_test *t, size_t n, int more)
{
	struct json_object *arr;
	enum pingoo_err e;

	if ((e = list_json(r, t, n, &arr)) != PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	reply_page(r, arr, n > 0 ? t[n - 1].id : 0, more);
}

/*
 * GET /api/v1/throughput-tests?limit=&cursor=: 200 {"tests", "next_cursor"}
 * newest first, each with its summary but not its transfers; 503.  The
 * query was validated by the route (400 invalid_query).
 */
void
h_tp_list(struct req *r)
{
	uint64_t limit = r->in.u.page.limit, cursor = r->in.u.page.cursor;
	struct pingoo_tp_test *t;
	size_t n = 0, i;
	enum pingoo_err e;

	/* One more than asked: its presence says a next page exists. */
	if ((t = calloc(limit + 1, sizeof(*t))) == NULL) {
		reply_err(r, PINGOO_ERR_NOMEM);
		return;
	}
	e = pingoo_tp_list(r->store, r->user_id, cursor, limit + 1, t, &n);
	if (e != PINGOO_OK)
		reply_err(r, e);
	else
		reply_list(r, t, n > limit ? limit : n, n > limit);
	for (i = 0; i < n; i++)
		pingoo_tp_test_clear(&t[i]);
	free(t);
}

/* ---- packets ---------------------------------------------------------- */

/* Claims this route's packet of `bytes` asked for (0: none); replies the
 * refusal itself and returns -1. */
static int
claim(struct req *r, enum pingoo_tp_dir dir, uint64_t bytes,
    struct pingoo_tp_test *t)
{
	struct pingoo_fault f;

	if (pingoo_tp_claim(r->store, r->user_id, r->m.id, dir,
	    (uint32_t)r->m.seq, bytes, pingoo_now_us(), t, &f) == PINGOO_OK)
		return 0;
	reply_fault(r, &f);
	return -1;
}

/* Records the outcome; a failure is logged (the bytes have moved). */
static enum pingoo_err
record(struct req *r, const struct pingoo_tp_test *t,
    const struct pingoo_tp_xfer *x)
{
	enum pingoo_err e;
	int completed;

	e = pingoo_tp_record(r->store, r->user_id, t, x, &completed);
	/* Probes end with the test: this host refuses them from now on. */
	if (e == PINGOO_OK && completed > 0)
		pingoo_pingtab_close(background_pingtab(),
		    PINGOO_PINGTAB_TP(r->m.id));
	if (e != PINGOO_OK)
		fprintf(stderr, "pingoo: test %" PRIu64 " %s %u not recorded: "
		    "%s (%s)\n", r->m.id, pingoo_tp_dir_name(x->dir), x->seq,
		    pingoo_strerror(e), pingoo_store_errmsg(r->store));
	else if (completed < 0)
		fprintf(stderr, "pingoo: test %" PRIu64 " %s %u recorded; "
		    "whether the test is complete could not be checked (%s): "
		    "its next report will\n", r->m.id,
		    pingoo_tp_dir_name(x->dir), x->seq,
		    pingoo_store_errmsg(r->store));
	return e;
}

/*
 * Says the packet is still moving, at most once per PROGRESS_TOUCH_US of
 * moving bytes (called after bytes moved): a store to memory the
 * background thread reads, never a database write, which would sit inside
 * the measured interval.  The background thread writes it to MySQL every
 * PINGOO_TP_PROGRESS_EVERY_US, so the sweep leaves a packet longer than
 * tp_stale_after alone and takes one whose worker died or whose bytes
 * stopped moving.
 */
#define PROGRESS_TOUCH_US	100000
static void
progress(int slot, int64_t *next)
{
	int64_t mono = pingoo_mono_us();

	if (mono < *next)
		return;
	*next = mono + PROGRESS_TOUCH_US;
	background_moving_touch(slot, mono);
}

/*
 * Sends the packet: headers, then size bytes of noise straight onto the
 * connection.  The stamps bracket the bytes only; the end is derived from
 * the monotonic clock so a wall-clock step cannot bend a duration.
 */
static void
send_packet(struct req *r, uint64_t size, struct pingoo_tp_xfer *x)
{
	uint64_t left = size;
	int64_t mono, next;
	size_t n;
	int slot;

	reply_header(r, "X-Accel-Buffering: no");
	x->server_started_at = pingoo_now_us();
	mono = pingoo_mono_us();
	next = mono + PROGRESS_TOUCH_US;
	slot = background_moving_add(r->m.id, x->dir, x->seq, mono);
	reply_header(r, "X-Pingoo-Server-Started-At: %" PRId64,
	    x->server_started_at);
	x->status = PINGOO_TP_FAILED;
	if (reply_head(r, 200, "application/octet-stream", (int64_t)size) == 0) {
		while (left > 0) {
			n = left < NOISE_SIZE ? (size_t)left : NOISE_SIZE;
			if (rawout_write(r, noise, n) != 0)
				break;
			left -= n;
			progress(slot, &next);
		}
		if (left == 0)
			x->status = PINGOO_TP_OK;
	}
	background_moving_del(slot);
	x->bytes = size - left;
	x->server_finished_at = x->server_started_at +
	    (pingoo_mono_us() - mono);
}

/*
 * GET /api/v1/throughput-tests/{id}/download/{seq}[?bytes=N]: 200 and
 * exactly N bytes (a time-bounded test's packet chooses its size; an N x S
 * test's is packet_size); 400 invalid_query (bytes malformed, or missing
 * where the test has no packet_size); 404; 409 duplicate_packet /
 * invalid_state / time_up; 422 out_of_range (seq past the test's count,
 * an upload-only test, bytes other than packet_size) or limit_exceeded
 * (bytes past the packet size limits); 503.  A client that goes away
 * mid-packet leaves it failed, and the worker moves on.
 */
void
h_tp_download(struct req *r)
{
	struct pingoo_tp_test t;
	struct pingoo_tp_xfer x;
	uint64_t bytes = r->in.u.tp_packet.bytes;

	pthread_once(&noise_once, noise_init);
	if (!noise_ok) {
		reply_err(r, PINGOO_ERR_INTERNAL);
		return;
	}
	if (claim(r, PINGOO_TP_DOWNLOAD, bytes, &t) != 0)
		return;
	memset(&x, 0, sizeof(x));
	x.dir = PINGOO_TP_DOWNLOAD;
	x.seq = (uint32_t)r->m.seq;
	send_packet(r, bytes != 0 ? bytes : t.packet_size, &x);
	/* The response ends (END_REQUEST) only once the record is in, so a
	 * client reusing its connection reads its own packet recorded.  The
	 * client may hold every byte before that: should this record never
	 * happen (the worker dies, MySQL is away), the client's report of the
	 * packet settles it (pingoo_tp_report). */
	(void)record(r, &t, &x);
	req_finish(r);
	pingoo_tp_test_clear(&t);
}

/* What an upload read found. */
enum upload_end {
	UPLOAD_OK,
	UPLOAD_SHORT,		/* ended before packet_size: 422 */
	UPLOAD_LONG,		/* more than packet_size: 413 */
	UPLOAD_GONE		/* the connection failed */
};

/* One FCGX_GetStr of at most want bytes; stamps the last byte read. */
static int
recv_some(struct req *r, char *buf, uint64_t want, int64_t *mono_last)
{
	int n;

	n = FCGX_GetStr(buf, (int)(want < RECV_CHUNK ? want : RECV_CHUNK),
	    r->fcgx->in);
	if (n > 0)
		*mono_last = pingoo_mono_us();
	return n;
}

/*
 * Reads the body as it arrives: one byte first, to stamp the first byte,
 * then never more than what is missing, so the read that completes the
 * packet returns with its last byte.  One byte more is then asked for:
 * anything but the end of the body is too much, and reading stops there.
 */
static enum upload_end
recv_packet(struct req *r, uint64_t size, struct pingoo_tp_xfer *x)
{
	char buf[RECV_CHUNK];
	int64_t mono_first, mono_last, next;
	uint64_t got = 0;
	int n, slot = -1;

	x->server_started_at = pingoo_now_us();
	mono_first = mono_last = pingoo_mono_us();
	if ((n = FCGX_GetStr(buf, 1, r->fcgx->in)) == 1) {
		x->server_started_at = pingoo_now_us();
		mono_first = mono_last = pingoo_mono_us();
		got = 1;
		next = mono_first + PROGRESS_TOUCH_US;
		slot = background_moving_add(r->m.id, x->dir, x->seq,
		    mono_first);
		while (got < size && (n = recv_some(r, buf, size - got,
		    &mono_last)) > 0) {
			got += (uint64_t)n;
			progress(slot, &next);
		}
		background_moving_del(slot);
		if (got == size && (n = recv_some(r, buf, 1, &mono_last)) > 0)
			got += (uint64_t)n;
	}
	x->bytes = got;
	x->server_finished_at = x->server_started_at + (mono_last - mono_first);
	if (FCGX_GetError(r->fcgx->in) != 0)
		return UPLOAD_GONE;
	if (got > size)
		return UPLOAD_LONG;
	return got < size ? UPLOAD_SHORT : UPLOAD_OK;
}

/* 200 with the server's stamps of an upload that was recorded. */
static void
reply_upload(struct req *r, const struct pingoo_tp_xfer *x)
{
	struct json_object *o = json_object_new_object();
	int64_t dur = pingoo_tp_duration_us(x, PINGOO_TP_RECEIVER), bps;

	bps = pingoo_tp_bps(x->bytes, dur);
	json_object_object_add(o, "direction", json_object_new_string("upload"));
	json_object_object_add(o, "seq", json_i64(x->seq));
	json_object_object_add(o, "bytes", json_i64((int64_t)x->bytes));
	json_object_object_add(o, "server_started_at",
	    json_i64(x->server_started_at));
	json_object_object_add(o, "server_finished_at",
	    json_i64(x->server_finished_at));
	json_object_object_add(o, "duration_us", json_i64_or_null(dur, dur < 0));
	json_object_object_add(o, "bits_per_second",
	    json_i64_or_null(bps, bps < 0));
	reply_json(r, 200, o);
	json_object_put(o);
}

/* Reads (or refuses) the body of a claimed upload into x: size bytes, or,
 * when open_ended, any length from 1 byte to size. */
static enum upload_end
take_upload(struct req *r, uint64_t size, int open_ended,
    struct pingoo_tp_xfer *x)
{
	enum upload_end end;

	/* A declared length already too large is refused unread. */
	if (r->content_length > 0 && (uint64_t)r->content_length > size) {
		x->server_started_at = x->server_finished_at = pingoo_now_us();
		end = UPLOAD_LONG;
	} else
		end = recv_packet(r, size, x);
	if (end == UPLOAD_SHORT && open_ended && x->bytes > 0)
		end = UPLOAD_OK;
	x->status = end == UPLOAD_OK ? PINGOO_TP_OK : PINGOO_TP_FAILED;
	return end;
}

/*
 * PUT /api/v1/throughput-tests/{id}/upload/{seq}: 200 with the server's
 * stamps once recorded; 404; 409 duplicate_packet / invalid_state /
 * time_up; 413 more than packet_size (a time-bounded test: more than
 * tp_max_packet_size); 422 wrong_size (fewer bytes than packet_size or
 * the declared Content-Length, or none) or out_of_range; 503.  A refused
 * body is still recorded, as a failed packet.
 */
void
h_tp_upload(struct req *r)
{
	struct pingoo_tp_test t;
	struct pingoo_tp_xfer x;
	enum upload_end end;
	enum pingoo_err e;
	uint64_t size, max = r->cfg->tp_max_packet_size;
	const char *limit = "packet_size";

	if (claim(r, PINGOO_TP_UPLOAD, 0, &t) != 0)
		return;
	memset(&x, 0, sizeof(x));
	x.dir = PINGOO_TP_UPLOAD;
	x.seq = (uint32_t)r->m.seq;
	/* A time-bounded test's packet is as long as its body: the declared
	 * length, or what arrives before the end of a chunked one. */
	size = t.packet_size;
	if (t.duration_ms > 0) {
		limit = "tp_max_packet_size";
		size = r->content_length > 0 &&
		    (uint64_t)r->content_length <= max ?
		    (uint64_t)r->content_length : max;
	}
	end = take_upload(r, size, t.duration_ms > 0 && r->content_length < 0,
	    &x);
	e = record(r, &t, &x);
	if (end == UPLOAD_LONG)
		reply_error(r, 413, "body_too_large", NULL, "the body is larger "
		    "than %s (%" PRIu64 " bytes)", limit, t.duration_ms > 0 ?
		    max : t.packet_size);
	else if (end == UPLOAD_SHORT || end == UPLOAD_GONE)
		reply_error(r, 422, "wrong_size", NULL, "the body has %" PRIu64
		    " bytes, not %s (%" PRIu64 ")", x.bytes, t.duration_ms == 0 ?
		    "packet_size" : r->content_length >= 0 ? "Content-Length" :
		    "at least 1", t.duration_ms == 0 ? t.packet_size :
		    r->content_length >= 0 ? size : 1);
	else if (e != PINGOO_OK)
		reply_err(r, e);
	else
		reply_upload(r, &x);
	pingoo_tp_test_clear(&t);
}

/* ---- reports ---------------------------------------------------------- */

/*
 * POST /api/v1/throughput-tests/{id}/reports: 200 {"accepted": N}, all or
 * nothing; 400; 404; 409 duplicate_packet (already reported); 422
 * out_of_range, limit_exceeded, not_transferred; 503.  Reports are taken
 * in any state: they add the client's times to packets that moved.
 */
void
h_tp_reports(struct req *r)
{
	const struct pingoo_tp_report *rp = r->in.u.reports.v;
	struct pingoo_fault f;
	struct json_object *o;
	size_t n = r->in.u.reports.n, bad;
	/* A download started before this and not moved since has lost its
	 * worker: the sweep's own measure. */
	int64_t stale = pingoo_now_us() -
	    (int64_t)r->cfg->tp_stale_after * 1000000;

	if (pingoo_tp_report(r->store, r->user_id, r->m.id, rp, n, stale,
	    &bad, &f) != PINGOO_OK) {
		if (bad < n)
			snprintf(f.field, sizeof(f.field), "packets[%zu].seq",
			    bad);
		reply_fault(r, &f);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "accepted", json_i64((int64_t)n));
	reply_json(r, 200, o);
	json_object_put(o);
}
