/*
 * h_probe.c - the latency probes of a throughput test: echoes that follow
 * the ping echo's rules (answered from the shared table of live tests,
 * written after the answer, signed so a receipt can bring one back), and
 * the client's receipts for them.  The echo's path is echo.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "app.h"
#include "core/core.h"
#include "input/input.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store/store.h"

/* A test the table does not hold: load it and its probes' seqs. */
static enum pingoo_err
load_test(struct req *r, uint64_t id)
{
	struct pingoo_tp_test t;
	struct pingoo_tp_probe *p = NULL;
	size_t n = 0;
	enum pingoo_err e;

	if ((e = pingoo_tp_get(r->store, r->user_id, id, &t)) != PINGOO_OK)
		return e;
	if ((e = pingoo_tp_probes(r->store, id, &p, &n)) == PINGOO_OK)
		e = pingoo_pingtab_put_items(background_pingtab(),
		    PINGOO_PINGTAB_TP(id), r->user_id, PINGOO_TP_MAX_PROBES,
		    t.state != PINGOO_TP_INCOMPLETE, n > 0 ? &p[0].seq : NULL, n,
		    sizeof(*p));
	free(p);
	pingoo_tp_test_clear(&t);
	return e;
}

/*
 * POST /api/v1/throughput-tests/{id}/probes: 200 {seq, phase,
 * server_received_at, server_sent_at, sig}; 400, 401, 404, 409
 * duplicate_seq or invalid_state (the test has ended), 422 out_of_range,
 * 503 while the database refuses writes.  Written after the answer.
 */
void
h_tp_probe(struct req *r)
{
	const struct pingoo_in_probe *in = &r->in.u.probe;
	struct pingoo_queued_sample q;

	if (!background_accepts()) {
		reply_err(r, PINGOO_ERR_DB);
		return;
	}
	if (echo_claim(r, PINGOO_PINGTAB_TP(r->m.id), in->seq, "probe",
	    load_test, r->m.id) < 0)
		return;
	memset(&q, 0, sizeof(q));
	q.test_id = r->m.id;
	q.probe = 1;
	q.phase = (int)in->phase;
	q.s.seq = in->seq;
	q.s.t0 = in->client_sent_at;
	echo_answer(r, &q);
}

static int
probed_here(void *arg, uint32_t seq)
{
	return pingoo_pingtab_claimed(background_pingtab(),
	    PINGOO_PINGTAB_TP(*(uint64_t *)arg), seq);
}

/* What a probe receipts batch gives and gets back. */
struct probe_batch {
	uint64_t	 id;
	size_t		 bad;		/* the refused item */
};

static enum pingoo_err
probe_apply(struct req *r, void *arg, struct pingoo_fault *f)
{
	struct probe_batch *b = arg;

	return pingoo_tp_probe_receipts(r->store, r->user_id, b->id,
	    r->in.u.probe_receipts.v, r->in.u.probe_receipts.n, probed_here,
	    &b->id, &b->bad, f);
}

/*
 * POST /api/v1/throughput-tests/{id}/probe-receipts: 200 {"accepted":
 * [seq...]}, all or nothing, in any state of the test; 400, 404, 409
 * duplicate_seq, 422 out_of_range / not_echoed / invalid_sig, 503.
 */
void
h_tp_probe_receipts(struct req *r)
{
	const struct pingoo_probe_receipt *rs = r->in.u.probe_receipts.v;
	struct probe_batch b = { r->m.id, 0 };
	struct pingoo_fault f;
	struct json_object *o, *acc;
	size_t n = r->in.u.probe_receipts.n, i;

	b.bad = n;
	if (receipts_apply(r, probe_apply, &b, &f) != PINGOO_OK) {
		if (b.bad < n)
			snprintf(f.field, sizeof(f.field), "receipts[%zu].seq",
			    b.bad);
		reply_fault(r, &f);
		return;
	}
	o = json_object_new_object();
	acc = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(acc, json_i64(rs[i].seq));
	json_object_object_add(o, "accepted", acc);
	reply_json(r, 200, o);
	json_object_put(o);
}
