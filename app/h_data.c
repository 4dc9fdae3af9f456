/*
 * h_data.c - a user's data as a whole: the export (CSV or NDJSON,
 * streamed record by record as MySQL hands the rows over), the aggregates,
 * and deletion (one test, or all of the user's).  Like every read, each
 * is filtered by the token's user: another user's test is not found.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "app.h"
#include "core/core.h"
#include "export/export.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store/store.h"

/* Rows of items per delete statement when a user deletes everything. */
#define DELETE_BATCH 1000

struct export_out {
	struct req			*r;
	enum pingoo_export_format	 fmt;
	char				*buf;
	size_t				 cap;
	int				 started;
};

/* The status line, the headers and (CSV) the header row, once. */
static enum pingoo_err
export_start(struct export_out *o)
{
	int csv = o->fmt == PINGOO_EXPORT_CSV;
	const char *h;

	o->started = 1;
	reply_header(o->r, "Content-Disposition: attachment; "
	    "filename=\"pingoo-tests.%s\"", csv ? "csv" : "ndjson");
	if (reply_head(o->r, 200, csv ? "text/csv; charset=utf-8; "
	    "header=present" : "application/x-ndjson; charset=utf-8", -1) < 0)
		return PINGOO_ERR_IO;
	h = pingoo_export_csv_header();
	if (csv && FCGX_PutStr(h, (int)strlen(h), o->r->fcgx->out) < 0)
		return PINGOO_ERR_IO;
	return PINGOO_OK;
}

/* Writes one record; PINGOO_ERR_IO once the client has gone. */
static enum pingoo_err
export_rec(const struct pingoo_export_rec *rec, void *arg)
{
	struct export_out *o = arg;
	enum pingoo_err e;
	int n;

	if (!o->started && (e = export_start(o)) != PINGOO_OK)
		return e;
	if ((n = pingoo_export_format(o->fmt, rec, o->buf, o->cap)) < 0)
		return PINGOO_ERR_INTERNAL;
	if (FCGX_PutStr(o->buf, n, o->r->fcgx->out) < 0)
		return PINGOO_ERR_IO;
	return PINGOO_OK;
}

/*
 * 200 with every record and an `end` record last; 401, 400 invalid_query,
 * 503 before the first record.  A failure after it cuts the stream short
 * of its `end` record (the status is out by then).
 */
void
h_export(struct req *r)
{
	struct export_out o;
	struct pingoo_export_rec end;
	uint64_t tests = 0, records = 0;
	enum pingoo_err e;

	memset(&o, 0, sizeof(o));
	o.r = r;
	o.fmt = r->m.route == ROUTE_EXPORT_CSV ? PINGOO_EXPORT_CSV :
	    PINGOO_EXPORT_NDJSON;
	o.cap = 4 * r->cfg->max_client_bytes + 4096;
	if ((o.buf = malloc(o.cap)) == NULL) {
		reply_err(r, PINGOO_ERR_NOMEM);
		return;
	}
	e = pingoo_export(r->store, r->user_id, &r->in.u.export, export_rec,
	    &o, &tests, &records);
	if (e == PINGOO_OK) {
		memset(&end, 0, sizeof(end));
		end.type = PINGOO_EXPORT_END;
		end.tests = tests;
		end.records = records;
		e = export_rec(&end, &o);
	} else if (!o.started)
		reply_err(r, e);
	if (e != PINGOO_OK && o.started)
		fprintf(stderr, "pingoo: export cut after %llu records: %s\n",
		    (unsigned long long)records, e == PINGOO_ERR_IO ?
		    "the client went away" : pingoo_store_errmsg(r->store));
	free(o.buf);
}

static struct json_object *
opt_i64(int64_t v)
{
	return v < 0 ? NULL : json_object_new_int64(v);
}

static struct json_object *
agg_ping(const struct pingoo_agg *g)
{
	struct json_object *o = json_object_new_object();
	int64_t lost = g->ping_planned - g->ping_received;

	json_object_object_add(o, "tests", json_object_new_int64(g->ping_tests));
	json_object_object_add(o, "planned",
	    json_object_new_int64(g->ping_planned));
	json_object_object_add(o, "received",
	    json_object_new_int64(g->ping_received));
	json_object_object_add(o, "loss_pct", g->ping_planned > 0 ?
	    json_object_new_double(round(100000.0 * (double)lost /
	    (double)g->ping_planned) / 1000) : NULL);
	json_object_object_add(o, "rtt_median_us", opt_i64(g->rtt_median_us));
	json_object_object_add(o, "rtt_p90_us", opt_i64(g->rtt_p90_us));
	return o;
}

static struct json_object *
agg_dir(const struct pingoo_agg_dir *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "tests", json_object_new_int64(d->tests));
	json_object_object_add(o, "bits_per_second_median",
	    opt_i64(d->bps_median));
	json_object_object_add(o, "bits_per_second_p90", opt_i64(d->bps_p90));
	return o;
}

static struct json_object *
agg_json(const struct pingoo_agg *g, unsigned kinds)
{
	struct json_object *o = json_object_new_object(), *tp = NULL, *ll;

	json_object_object_add(o, "key", g->key_null ? NULL :
	    json_object_new_string(g->key));
	json_object_object_add(o, "ping", (kinds & PINGOO_KIND_PING) ?
	    agg_ping(g) : NULL);
	if (kinds & PINGOO_KIND_TP) {
		tp = json_object_new_object();
		json_object_object_add(tp, "tests",
		    json_object_new_int64(g->tp_tests));
		json_object_object_add(tp, "download", agg_dir(&g->dir[0]));
		json_object_object_add(tp, "upload", agg_dir(&g->dir[1]));
	}
	json_object_object_add(o, "throughput", tp);
	ll = json_object_new_object();
	json_object_object_add(ll, "rise_median_us", g->has_rise ?
	    json_object_new_int64(g->rise_median_us) : NULL);
	json_object_object_add(ll, "bufferbloat_grade", g->has_rise ?
	    json_object_new_string(pingoo_grade_name(pingoo_grade_of_rise(
	    g->rise_median_us))) : NULL);
	json_object_object_add(o, "loaded_latency", ll);
	return o;
}

/* 200 {"group","from","to","kinds","groups":[...]}; 401, 400, 503. */
void
h_aggregates(struct req *r)
{
	const struct pingoo_export_query *q = &r->in.u.export;
	struct json_object *o, *a, *k;
	struct pingoo_agg *g;
	enum pingoo_err e;
	size_t n, i;

	if ((e = pingoo_aggregates(r->store, r->user_id, q, &g, &n)) !=
	    PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "group", json_object_new_string(
	    pingoo_group_name((enum pingoo_group)q->group)));
	json_object_object_add(o, "from", json_i64(q->from));
	json_object_object_add(o, "to", json_i64(q->to));
	k = json_object_new_array();
	if (q->kinds & PINGOO_KIND_PING)
		json_object_array_add(k, json_object_new_string("ping"));
	if (q->kinds & PINGOO_KIND_TP)
		json_object_array_add(k, json_object_new_string("throughput"));
	json_object_object_add(o, "kinds", k);
	a = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(a, agg_json(&g[i], q->kinds));
	json_object_object_add(o, "groups", a);
	reply_json(r, 200, o);
	json_object_put(o);
	free(g);
}

/* 204; 404 when the user has no such test; 401, 400, 503. */
void
h_test_delete(struct req *r)
{
	int tp = r->m.route == ROUTE_TP_DELETE;
	enum pingoo_err e;

	if ((e = pingoo_test_delete(r->store, r->user_id, tp, r->m.id)) !=
	    PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	/* Its next echo or probe, if any comes, reloads and finds nothing:
	 * 404. */
	pingoo_pingtab_forget(background_pingtab(), tp ?
	    PINGOO_PINGTAB_TP(r->m.id) : r->m.id);
	reply_head(r, 204, NULL, -1);
}

/* How long DELETE /api/v1/tests deletes before it answers: far inside
 * nginx's fastcgi_read_timeout.  What is left goes on after the answer. */
#define DELETE_ANSWER_US	(2 * 1000000LL)

/* {"ping":N,"throughput":M} */
static struct json_object *
counts_json(uint64_t ping, uint64_t tp)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "ping", json_i64((int64_t)ping));
	json_object_object_add(d, "throughput", json_i64((int64_t)tp));
	return d;
}

static struct json_object *
deletion_json(const struct pingoo_deletion *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "state", json_object_new_string(d->done ?
	    "done" : "running"));
	json_object_object_add(o, "deleted", counts_json(d->ping, d->tp));
	json_object_object_add(o, "started_at", json_i64(d->started_at));
	json_object_object_add(o, "updated_at", json_i64(d->updated_at));
	json_object_object_add(o, "finished_at", json_i64_or_null(
	    d->finished_at, d->finished_at < 0));
	return o;
}

/*
 * DELETE /api/v1/tests: 200 {"deleted":{"ping":N,"throughput":M}} when
 * every test went within DELETE_ANSWER_US; else 202 {"deleted": the counts
 * so far, "deletion": the progress} with Location: /api/v1/tests/deletion,
 * and the first worker process's background thread deletes the rest
 * (background.c).  The thread that answered does not go on: the kept
 * FastCGI connection it holds would carry nginx's next request to it.
 * 401, 503.
 */
void
h_tests_delete(struct req *r)
{
	struct pingoo_deletion d;
	struct json_object *o;
	uint64_t ping = 0, tp = 0;
	int64_t now = pingoo_now_us();
	int done = 0;
	enum pingoo_err e;

	if ((e = pingoo_deletion_start(r->store, r->user_id, now)) != PINGOO_OK ||
	    (e = pingoo_tests_delete_some(r->store, r->user_id, DELETE_BATCH,
	    pingoo_mono_us() + DELETE_ANSWER_US, &ping, &tp, &done)) !=
	    PINGOO_OK ||
	    (e = pingoo_deletion_progress(r->store, r->user_id, ping, tp, done,
	    pingoo_now_us())) != PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "deleted", counts_json(ping, tp));
	if (done) {
		reply_json(r, 200, o);
		json_object_put(o);
		return;
	}
	memset(&d, 0, sizeof(d));
	d.ping = ping;
	d.tp = tp;
	d.started_at = now;
	d.updated_at = pingoo_now_us();
	d.finished_at = -1;
	json_object_object_add(o, "deletion", deletion_json(&d));
	reply_header(r, "Location: /api/v1/tests/deletion");
	reply_json(r, 202, o);
	json_object_put(o);
}

/* GET /api/v1/tests/deletion: 200 the progress of the user's last
 * DELETE /api/v1/tests; 404 when there was none; 401, 503. */
void
h_tests_deletion(struct req *r)
{
	struct pingoo_deletion d;
	struct json_object *o;
	enum pingoo_err e;

	if ((e = pingoo_deletion_get(r->store, r->user_id, &d)) != PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	o = deletion_json(&d);
	reply_json(r, 200, o);
	json_object_put(o);
}
