/*
 * echo.c - the echo's path, shared by the ping echo (h_ping.c) and the
 * latency probes of throughput tests (h_probe.c): claim the seq in the
 * shared table of live tests (lib/shm/pingtab.c), answer with the
 * server's two stamps and their signature, and queue the sample for the
 * writer (background.c) once the answer is out; and the receipts' retry
 * while an echo answered a moment ago is still writing its row.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth/auth.h"
#include "core/core.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store/store.h"

void
probe_table_put(uint64_t test_id, uint64_t user_id)
{
	pingoo_pingtab_put(background_pingtab(), PINGOO_PINGTAB_TP(test_id),
	    user_id, PINGOO_TP_MAX_PROBES, 0, NULL, 0);
}

int
echo_claim(struct req *r, uint64_t key, uint32_t seq, const char *what,
    enum pingoo_err (*load)(struct req *, uint64_t), uint64_t id)
{
	enum pingtab_result c;
	enum pingoo_err e;

	c = pingoo_pingtab_claim(background_pingtab(), key, r->user_id, seq);
	if (c == PINGTAB_MISS) {
		active_leave(r->w);	/* a MySQL round trip */
		if ((e = load(r, id)) != PINGOO_OK) {
			reply_err(r, e);
			return -1;
		}
		c = pingoo_pingtab_claim(background_pingtab(), key, r->user_id,
		    seq);
	}
	switch (c) {
	case PINGTAB_OK:
		return 0;
	case PINGTAB_DUP:
		reply_error(r, 409, "duplicate_seq", "seq",
		    "%s %u was already echoed", what, seq);
		return -1;
	case PINGTAB_RANGE:
		reply_error(r, 422, "out_of_range", "seq",
		    "seq must be below the test's count");
		return -1;
	case PINGTAB_CLOSED:
		reply_error(r, 409, "invalid_state", NULL,
		    "the test is no longer running");
		return -1;
	default:
		/* Another user's test looks exactly like a missing one. */
		reply_err(r, PINGOO_ERR_NOTFOUND);
		return -1;
	}
}

/* How long a request thread keeps trying to write an acknowledged sample
 * the writer's queue would not take (a stopping worker's). */
#define RECORD_NOW_MS	10000

/* Writes q now, when the writer's queue would not take it: the sample was
 * acknowledged, so a refused write is tried again, with the echo answering
 * 503 meanwhile, until it is in or RECORD_NOW_MS have passed. */
static enum pingoo_err
record_now(struct req *r, const struct pingoo_queued_sample *q)
{
	uint64_t written;
	long waited;
	enum pingoo_err e;

	for (waited = 0;; waited += 200) {
		if (q->probe)
			e = pingoo_tp_probe_record_batch(r->store, q, 1,
			    &written);
		else
			e = pingoo_ping_record_batch(r->store, q, 1, &written);
		if (e == PINGOO_OK || waited >= RECORD_NOW_MS)
			return e;
		background_refused();
		pingoo_sleep_ms(200);
	}
}

void
echo_answer(struct req *r, struct pingoo_queued_sample *q)
{
	char sig[PINGOO_SIG_LEN + 1], body[200], phase[40] = "";
	const unsigned char *key[2];
	size_t keylen[2];
	int len;
	enum pingoo_err e;

	q->s.t1 = r->arrived_at;
	/* t2 - t1 is a duration: measured on the monotonic clock, so a step
	 * of the wall clock between the two cannot bend it. */
	q->s.t2 = r->arrived_at + (pingoo_mono_us() - r->mono_start);
	/* No key (never derived) signs with none: no receipt can match. */
	if (pingoo_sample_keys(r->cfg, key, keylen) == 0)
		key[0] = NULL, keylen[0] = 0;
	if (q->probe) {
		pingoo_probe_sign(key[0], keylen[0],
		    q->test_id, r->user_id, q->phase, &q->s, sig);
		snprintf(phase, sizeof(phase), "\"phase\":\"%s\",",
		    pingoo_phase_name((enum pingoo_phase)q->phase));
	} else
		pingoo_sample_sign(key[0], keylen[0],
		    q->test_id, r->user_id, &q->s, sig);
	/* Integers, hex and a fixed name: no escaping, no allocation on the
	 * hot path. */
	len = snprintf(body, sizeof(body), "{\"seq\":%lld,%s"
	    "\"server_received_at\":%lld,\"server_sent_at\":%lld,"
	    "\"sig\":\"%s\"}", (long long)q->s.seq, phase,
	    (long long)q->s.t1, (long long)q->s.t2, sig);
	reply_header(r, "Server-Timing: app;dur=%.3f",
	    (double)(q->s.t2 - q->s.t1) / 1000.0);
	if (!pingoo_cors_allowed(r->cfg->cors_origins, r->origin))
		reply_header(r, "Timing-Allow-Origin: *");
	reply_json_text(r, 200, body, (size_t)len);

	/* The client has its answer; the writer takes it from here. */
	req_finish(r);
	if (background_push(q) != 0 && (e = record_now(r, q)) != PINGOO_OK)
		fprintf(stderr, "pingoo: %s %llu/%u not recorded (%s); its "
		    "receipt can still bring it\n", q->probe ? "probe" : "echo",
		    (unsigned long long)q->test_id, q->s.seq,
		    pingoo_strerror(e));
}

enum pingoo_err
receipts_apply(struct req *r, enum pingoo_err (*apply)(struct req *, void *,
    struct pingoo_fault *), void *arg, struct pingoo_fault *f)
{
	struct timespec pause = { 0, 5 * 1000000L };
	int tries;
	enum pingoo_err e = PINGOO_OK;

	/* An echo answered a moment ago may still be writing its row. */
	for (tries = 0; tries < 100; tries++) {
		e = apply(r, arg, f);
		if (e != PINGOO_ERR_CONFLICT || f->code == NULL ||
		    strcmp(f->code, PINGOO_RECEIPT_IN_FLIGHT) != 0)
			return e;
		nanosleep(&pause, NULL);
	}
	/* Its write waits for a database that refuses writes: not lost, and
	 * the receipt can come again once it is written. */
	if (!background_accepts())
		return pingoo_fault_set(f, PINGOO_ERR_DB, "database_unavailable",
		    f->field, "the echo is not written yet: the database "
		    "refuses writes; send the receipt again later");
	return pingoo_fault_set(f, PINGOO_ERR_RANGE, "not_echoed", f->field,
	    "the echo was not recorded");
}
