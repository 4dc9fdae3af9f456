/*
 * h_ping.c - the ping test routes.  The echo is the hot path: it answers
 * from the shared table of live tests (lib/shm/pingtab.c) and writes MySQL
 * only after the answer is out, so no database time sits between its two
 * stamps (server_received_at, server_sent_at); its path is echo.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "app.h"
#include "core/core.h"
#include "input/input.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store/store.h"

static struct json_object *
samples_json(const struct pingoo_sample *v, size_t n)
{
	struct json_object *a = json_object_new_array(), *o;
	size_t i;
	int has;

	for (i = 0; i < n; i++) {
		has = v[i].has_t3;
		o = json_object_new_object();
		json_object_object_add(o, "seq", json_i64(v[i].seq));
		json_object_object_add(o, "client_sent_at", json_i64(v[i].t0));
		json_object_object_add(o, "server_received_at",
		    json_i64(v[i].t1));
		json_object_object_add(o, "server_sent_at", json_i64(v[i].t2));
		json_object_object_add(o, "client_received_at",
		    json_i64_or_null(v[i].t3, !has));
		json_object_object_add(o, "rtt_us",
		    json_i64_or_null(pingoo_sample_rtt(&v[i]), !has));
		json_object_object_add(o, "server_us",
		    json_i64(pingoo_sample_server(&v[i])));
		json_object_object_add(o, "network_rtt_us",
		    json_i64_or_null(pingoo_sample_network_rtt(&v[i]), !has));
		json_object_object_add(o, "offset_us",
		    json_i64_or_null(pingoo_sample_offset(&v[i]), !has));
		json_object_array_add(a, o);
	}
	return a;
}

/* The test object of docs/api.md; samples only when v is not NULL. */
static struct json_object *
test_json(const struct pingoo_ping_test *t, struct json_object *summary,
    struct json_object *samples)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_i64((int64_t)t->id));
	json_object_object_add(o, "kind", json_object_new_string("ping"));
	json_object_object_add(o, "state",
	    json_object_new_string(pingoo_ping_state_name(t->state)));
	json_object_object_add(o, "count", json_i64(t->count));
	json_object_object_add(o, "interval_ms",
	    json_i64_or_null(t->interval_ms, t->interval_ms < 0));
	json_object_object_add(o, "client", t->client != NULL ?
	    json_tokener_parse(t->client) : NULL);
	json_object_object_add(o, "created_at", json_i64(t->created_at));
	json_object_object_add(o, "closed_at",
	    json_i64_or_null(t->closed_at, t->closed_at == 0));
	json_object_object_add(o, "summary", summary);
	if (samples != NULL)
		json_object_object_add(o, "samples", samples);
	return o;
}

/* Summary (and samples when want_samples) of a test, computed now. */
static enum pingoo_err
test_body(struct req *r, const struct pingoo_ping_test *t, int want_samples,
    struct json_object **out)
{
	struct pingoo_ping_summary sum;
	struct pingoo_sample *v = NULL;
	size_t n = 0;
	enum pingoo_err e;

	if ((e = pingoo_ping_samples(r->store, t->id, &v, &n)) != PINGOO_OK)
		return e;
	e = pingoo_ping_summarize(v, n, t->count, t->state != PING_INCOMPLETE,
	    &sum);
	if (e == PINGOO_OK)
		*out = test_json(t, pingoo_ping_summary_json(&sum),
		    want_samples ? samples_json(v, n) : NULL);
	free(v);
	return e;
}

static void
reply_test(struct req *r, int status, const struct pingoo_ping_test *t)
{
	struct json_object *o = NULL;
	enum pingoo_err e;

	e = test_body(r, t, 1, &o);
	reply_result(r, status, e == PINGOO_OK ? o : NULL, e);
}

/* A test just created: no samples yet, so its body is rendered from what
 * the create knows (reply_created says why nothing is read back).  NULL
 * when out of memory. */
static struct json_object *
created_json(const struct pingoo_ping_test *t)
{
	struct pingoo_ping_summary sum;

	if (pingoo_ping_summarize(NULL, 0, t->count, 0, &sum) != PINGOO_OK)
		return NULL;
	return test_json(t, pingoo_ping_summary_json(&sum),
	    samples_json(NULL, 0));
}

/*
 * POST /api/v1/ping-tests: 201 the new test; 503 without a database.
 * The body was validated by the route (400, 422).  Once the test is
 * committed the answer is 201, whatever the database does next.
 */
void
h_ping_create(struct req *r)
{
	const struct pingoo_in_ping_create *in = &r->in.u.ping_create;
	struct pingoo_ping_test t;
	enum pingoo_err e;

	e = pingoo_ping_create(r->store, r->user_id, in->count,
	    in->interval_ms, in->client, &t);
	if (e != PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	pingoo_metrics_add(PINGOO_M_PING_CREATED, 1);
	pingoo_pingtab_put(background_pingtab(), t.id, t.user_id, t.count, 0, NULL, 0);
	reply_created(r, created_json(&t), "ping", t.id);
	pingoo_ping_test_clear(&t);
}

/* A test the table does not hold: load it (and its echoed seqs). */
static enum pingoo_err
load_test(struct req *r, uint64_t id)
{
	struct pingoo_ping_test t;
	struct pingoo_sample *v = NULL;
	size_t n = 0;
	enum pingoo_err e;

	if ((e = pingoo_ping_get(r->store, r->user_id, id, &t)) != PINGOO_OK)
		return e;
	if ((e = pingoo_ping_samples(r->store, id, &v, &n)) == PINGOO_OK)
		e = pingoo_pingtab_put_items(background_pingtab(), t.id,
		    t.user_id, t.count, t.state != PING_INCOMPLETE,
		    n > 0 ? &v[0].seq : NULL, n, sizeof(*v));
	free(v);
	pingoo_ping_test_clear(&t);
	return e;
}

/*
 * POST /api/v1/ping-tests/{id}/echo: 200 with the server's stamps; 400,
 * 401, 404, 409 duplicate_seq or invalid_state, 422 out_of_range, 503
 * while the database refuses writes.  The sample is written by this
 * process's writer thread after the answer is out.
 */
void
h_ping_echo(struct req *r)
{
	const struct pingoo_in_echo *in = &r->in.u.echo;
	struct pingoo_queued_sample q;

	/* Refused before the claim, so the seq stays free for a retry. */
	if (!background_accepts()) {
		reply_err(r, PINGOO_ERR_DB);
		return;
	}
	if (echo_claim(r, r->m.id, in->seq, "sample", load_test, r->m.id) < 0)
		return;
	memset(&q, 0, sizeof(q));
	q.test_id = r->m.id;
	q.s.seq = in->seq;
	q.s.t0 = in->client_sent_at;
	echo_answer(r, &q);
}

static int
echoed_here(void *arg, uint32_t seq)
{
	return pingoo_pingtab_claimed(background_pingtab(), *(uint64_t *)arg, seq);
}

/* What a ping receipts batch gives and gets back. */
struct ping_batch {
	uint64_t	 id;
	int64_t		 received;
	enum ping_state	 state;
};

static enum pingoo_err
ping_apply(struct req *r, void *arg, struct pingoo_fault *f)
{
	struct ping_batch *b = arg;

	return pingoo_ping_receipts(r->store, r->user_id, b->id,
	    r->in.u.receipts.v, r->in.u.receipts.n, echoed_here, &b->id,
	    &b->received, &b->state, f);
}

/*
 * POST /api/v1/ping-tests/{id}/receipts: 200 accepted seqs, received and
 * state; the batch is all or nothing.  400, 404, 409 duplicate_seq or
 * invalid_state, 422 out_of_range / not_echoed / invalid_sig, 503.
 */
void
h_ping_receipts(struct req *r)
{
	const struct pingoo_receipt *rs = r->in.u.receipts.v;
	struct ping_batch b = { r->m.id, 0, PING_INCOMPLETE };
	struct pingoo_fault f;
	struct json_object *o, *acc;
	size_t n = r->in.u.receipts.n, i;

	if (receipts_apply(r, ping_apply, &b, &f) != PINGOO_OK) {
		reply_fault(r, &f);
		return;
	}
	if (b.state != PING_INCOMPLETE)
		pingoo_pingtab_close(background_pingtab(), b.id);
	o = json_object_new_object();
	acc = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(acc, json_i64(rs[i].seq));
	json_object_object_add(o, "accepted", acc);
	json_object_object_add(o, "received", json_i64(b.received));
	json_object_object_add(o, "state",
	    json_object_new_string(pingoo_ping_state_name(b.state)));
	reply_json(r, 200, o);
	json_object_put(o);
}

/* 200 the test {id} as stored, with samples; 404, 503. */
static void
reply_stored(struct req *r)
{
	struct pingoo_ping_test t;
	enum pingoo_err e;

	if ((e = pingoo_ping_get(r->store, r->user_id, r->m.id, &t)) !=
	    PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	reply_test(r, 200, &t);
	pingoo_ping_test_clear(&t);
}

/* POST /api/v1/ping-tests/{id}/close: 200 the test, now complete; samples
 * without a receipt are lost.  404, 409 invalid_state, 503. */
void
h_ping_close(struct req *r)
{
	struct pingoo_fault f;

	if (pingoo_ping_close(r->store, r->user_id, r->m.id, &f) != PINGOO_OK) {
		reply_fault(r, &f);
		return;
	}
	pingoo_pingtab_close(background_pingtab(), r->m.id);
	reply_stored(r);
}

/* GET /api/v1/ping-tests/{id}: 200 the test with samples; 404, 503. */
void
h_ping_get(struct req *r)
{
	reply_stored(r);
}

struct list_ctx {
	struct req		*r;
	struct json_object	*tests;
	uint64_t		 limit, last;
	int			 more;
};

static enum pingoo_err
list_one(const struct pingoo_ping_test *t, void *arg)
{
	struct list_ctx *c = arg;
	struct json_object *sum = NULL;

	/* The one row past the page only says that another page follows. */
	if (json_object_array_length(c->tests) == c->limit) {
		c->more = 1;
		return PINGOO_OK;
	}
	c->last = t->id;
	/* Finished tests carry their stored summary; running ones are
	 * summarized after the walk (a second query inside this one's
	 * fetch loop would break the statement). */
	if (t->summary != NULL)
		sum = json_tokener_parse(t->summary);
	json_object_array_add(c->tests, test_json(t, sum, NULL));
	return PINGOO_OK;
}

/* Running tests in the page: their summaries are computed live. */
static enum pingoo_err
list_fill_running(struct req *r, struct json_object *tests)
{
	struct pingoo_ping_test t;
	struct json_object *o, *s, *full;
	size_t i;
	enum pingoo_err e;

	for (i = 0; i < json_object_array_length(tests); i++) {
		o = json_object_array_get_idx(tests, i);
		if (json_object_object_get_ex(o, "summary", &s) && s != NULL)
			continue;
		e = pingoo_ping_get(r->store, r->user_id, (uint64_t)
		    json_object_get_int64(json_object_object_get(o, "id")), &t);
		if (e == PINGOO_ERR_NOTFOUND)
			continue;
		if (e != PINGOO_OK)
			return e;
		e = test_body(r, &t, 0, &full);
		pingoo_ping_test_clear(&t);
		if (e != PINGOO_OK)
			return e;
		json_object_object_add(o, "summary",
		    json_object_get(json_object_object_get(full, "summary")));
		json_object_put(full);
	}
	return PINGOO_OK;
}

/* GET /api/v1/ping-tests?limit=&cursor=: 200 newest first; 503.  The
 * query was validated by the route (400 invalid_query). */
void
h_ping_list(struct req *r)
{
	const struct pingoo_in_page *p = &r->in.u.page;
	struct list_ctx c;
	enum pingoo_err e;

	memset(&c, 0, sizeof(c));
	c.r = r;
	c.limit = p->limit;
	c.tests = json_object_new_array();
	/* One more than asked: its presence says a next page exists. */
	e = pingoo_ping_list(r->store, r->user_id, p->cursor,
	    (int)p->limit + 1, list_one, &c);
	if (e == PINGOO_OK)
		e = list_fill_running(r, c.tests);
	if (e != PINGOO_OK) {
		json_object_put(c.tests);
		reply_err(r, e);
		return;
	}
	reply_page(r, c.tests, c.last, c.more);
}
