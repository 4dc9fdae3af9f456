/*
 * probe.c - the latency probes of a throughput test, sent as the SDK sends
 * them: idle ones before the first packet, then one every 100 ms while
 * packets move, from a thread of their own.  They go on a curl handle of
 * their own, outside the packets' multi handle: its connection is opened
 * for the probes (before the first one, so no probe carries a handshake)
 * and shared with no packet, so a probe never waits behind a packet here.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/core.h"
#include "cli.h"

#define RECEIPT_BATCH	100
#define PROBE_TIMEOUT_MS 10000

/* One probe: t0 stamped, sent, and its answer's stamps (or none: lost) kept. */
static void
probe_one(struct cli_probes *p, const char *phase)
{
	static const char *const back[] = {
		"server_received_at", "server_sent_at", "sig"
	};
	struct cli_resp		 r;
	struct cli_fault	 f;
	struct json_object	*o, *j;
	char			 body[160];
	int64_t			 t0 = cli_stamp();
	size_t			 i;
	enum cli_err		 e;

	snprintf(body, sizeof(body),
	    "{\"seq\":%ld,\"phase\":\"%s\",\"client_sent_at\":%lld}", p->seq,
	    phase, (long long)t0);
	e = cli_call(&p->conn, "POST", p->path, body, PROBE_TIMEOUT_MS, &r, &f);
	if (e != CLI_OK && e != CLI_ERR_NET) {
		/* Refused (the test ended, a server without probes) or
		 * interrupted: no measurement, and no more probes. */
		p->refused = 1;
		cli_resp_free(&r);
		return;
	}
	if ((o = json_object_new_object()) == NULL) {
		p->refused = 1;
		cli_resp_free(&r);
		return;
	}
	json_object_object_add(o, "seq", json_object_new_int64(p->seq++));
	json_object_object_add(o, "phase", json_object_new_string(phase));
	json_object_object_add(o, "client_sent_at", json_object_new_int64(t0));
	if (e == CLI_OK) {
		json_object_object_add(o, "client_received_at",
		    json_object_new_int64(r.head_at > 0 ? r.head_at :
		    cli_stamp()));
		/* The server's stamps and their sig go back in the receipt. */
		for (i = 0; i < sizeof(back) / sizeof(back[0]); i++)
			if ((j = cli_jget(r.json, back[i])) != NULL)
				json_object_object_add(o, back[i],
				    json_object_get(j));
		p->answered++;
	} else {
		/* No answer: reported lost. */
		json_object_object_add(o, "client_received_at", NULL);
		p->lost++;
	}
	if (json_object_array_add(p->receipts, o) != 0)
		json_object_put(o);
	cli_resp_free(&r);
}

/* Sleeps until the monotonic time `until` (µs), waking early when stopped. */
static void
sleep_until(struct cli_probes *p, int64_t until)
{
	struct timespec	 ts;
	int64_t		 left;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) &&
	    (left = until - pingoo_mono_us()) > 0) {
		if (left > 10000)
			left = 10000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000;
		nanosleep(&ts, NULL);
	}
}

enum cli_err
cli_probes_open(struct cli_probes *p, const struct cli_conn *c, int64_t id,
    long every_ms, struct cli_fault *f)
{
	struct cli_resp	 r;
	struct cli_fault ignored;

	memset(p, 0, sizeof(*p));
	p->conn = *c;
	p->conn.interruptible = 1;
	p->every_ms = every_ms;
	snprintf(p->path, sizeof(p->path), "/throughput-tests/%lld/probes",
	    (long long)id);
	if ((p->conn.easy = curl_easy_init()) == NULL ||
	    (p->receipts = json_object_new_array()) == NULL) {
		cli_probes_close(p);
		return cli_nomem(f);
	}
	/* Its own connection, opened now: a packet handle never finds it. */
	cli_call(&p->conn, "GET", "/health", NULL, PROBE_TIMEOUT_MS, &r,
	    &ignored);
	cli_resp_free(&r);
	return CLI_OK;
}

void
cli_probes_idle(struct cli_probes *p, int n)
{
	int64_t	 next;
	int	 i;

	/* At the loaded probes' pace, so only the load differs. */
	for (i = 0; i < n && !p->refused && !cli_interrupted; i++) {
		next = pingoo_mono_us() + p->every_ms * 1000;
		probe_one(p, "idle");
		if (i + 1 < n)
			sleep_until(p, next);
	}
}

static void *
probe_loop(void *arg)
{
	struct cli_probes	*p = arg;
	int64_t			 next;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) && !p->refused &&
	    !cli_interrupted) {
		next = pingoo_mono_us() + p->every_ms * 1000;
		probe_one(p, p->phase);
		sleep_until(p, next);
	}
	return NULL;
}

int
cli_probes_load(struct cli_probes *p, const char *phase)
{
	if (p->conn.easy == NULL || p->running || p->refused)
		return 0;
	p->phase = phase;
	__atomic_store_n(&p->stop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&p->thread, NULL, probe_loop, p) != 0)
		return -1;
	p->running = 1;
	return 0;
}

void
cli_probes_stop(struct cli_probes *p)
{
	if (!p->running)
		return;
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	pthread_join(p->thread, NULL);
	p->running = 0;
}

enum cli_err
cli_probes_receipts(struct cli_probes *p, struct cli_fault *f)
{
	struct json_object	*req, *batch;
	struct cli_resp		 r;
	char			 path[128];
	size_t			 n, i;
	enum cli_err		 e = CLI_OK;

	if (p->receipts == NULL)
		return CLI_OK;
	/* /throughput-tests/ID/probe-receipts */
	snprintf(path, sizeof(path), "%.*s-receipts",
	    (int)(strlen(p->path) - 1), p->path);
	/* What was measured is kept: an interruption never cuts receipts. */
	p->conn.interruptible = 0;
	while (e == CLI_OK && (n = json_object_array_length(p->receipts)) > 0) {
		if ((req = json_object_new_object()) == NULL ||
		    (batch = json_object_new_array()) == NULL) {
			json_object_put(req);
			return cli_nomem(f);
		}
		for (i = 0; i < n && i < RECEIPT_BATCH; i++)
			json_object_array_add(batch, json_object_get(
			    json_object_array_get_idx(p->receipts, i)));
		json_object_array_del_idx(p->receipts, 0, i);
		json_object_object_add(req, "receipts", batch);
		e = cli_call(&p->conn, "POST", path, cli_jtext(req), 30000,
		    &r, f);
		cli_resp_free(&r);
		json_object_put(req);
	}
	return e;
}

void
cli_probes_close(struct cli_probes *p)
{
	cli_probes_stop(p);
	if (p->conn.easy != NULL)
		curl_easy_cleanup(p->conn.easy);
	p->conn.easy = NULL;
	json_object_put(p->receipts);
	p->receipts = NULL;
}
