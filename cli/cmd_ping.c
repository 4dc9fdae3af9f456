/*
 * cmd_ping.c - pingoo ping: a ping test run as the SDK runs it.  Create the
 * test; echo each seq with t0 (client_sent_at) stamped just before the
 * request and t3 when the answer's head arrives; send receipts in batches,
 * each carrying the echo's stamps and sig so the server can recover a
 * sample it failed to write; close; read the test as stored.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/core.h"
#include "cli.h"

#define RECEIPT_BATCH	10
#define ECHO_TIMEOUT_MS	10000

struct ping {
	struct cli_conn		*c;
	int64_t			 id;
	long			 count;
	long			 interval_ms;
	char			 base[64];	/* /ping-tests/ID */
	char			 state[32];
	struct json_object	*pending;	/* receipts not yet sent */
	int			 quiet;		/* --json: no lines */
};

/* Sends the pending receipts; the receipts' answers carry the test's state. */
static enum cli_err
flush(struct ping *p, struct cli_fault *f)
{
	struct json_object	*req;
	struct cli_resp		 r;
	char			 path[96];
	const char		*state;
	enum cli_err		 err;

	if (json_object_array_length(p->pending) == 0)
		return CLI_OK;
	if ((req = json_object_new_object()) == NULL)
		return cli_nomem(f);
	json_object_object_add(req, "receipts", p->pending);
	snprintf(path, sizeof(path), "%s/receipts", p->base);
	err = cli_call(p->c, "POST", path, cli_jtext(req), 30000, &r, f);
	if (err == CLI_OK && (state = cli_jstr(r.json, "state")) != NULL)
		snprintf(p->state, sizeof(p->state), "%s", state);
	cli_resp_free(&r);
	json_object_put(req);
	p->pending = json_object_new_array();
	if (p->pending == NULL && err == CLI_OK)
		err = cli_nomem(f);
	return err;
}

/* Waits until the monotonic time at (µs); a signal ends the wait early. */
static void
wait_until(int64_t at)
{
	struct timespec	 ts;

	ts.tv_sec = at / 1000000;
	ts.tv_nsec = (at % 1000000) * 1000;
	while (!cli_interrupted &&
	    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		continue;
}

/*
 * A receipt: the client's two stamps, and the echo's stamps and sig as
 * they came.
 */
static struct json_object *
receipt(long seq, int64_t t0, int64_t t3, struct json_object *echo)
{
	static const char *const keep[] = {
		"server_received_at", "server_sent_at", "sig"
	};
	struct json_object	*o, *v;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "seq", json_object_new_int64(seq));
	json_object_object_add(o, "client_received_at",
	    json_object_new_int64(t3));
	json_object_object_add(o, "client_sent_at",
	    json_object_new_int64(t0));
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if ((v = cli_jget(echo, keep[i])) != NULL)
			json_object_object_add(o, keep[i], json_object_get(v));
	return o;
}

/* The line Linux ping prints for a reply, with the server's own time added. */
static void
print_sample(const struct ping *p, long seq, int64_t t0, int64_t t3,
    struct json_object *echo)
{
	int64_t	 t1 = cli_jint(echo, "server_received_at", -1);
	int64_t	 t2 = cli_jint(echo, "server_sent_at", -1);

	if (p->quiet)
		return;
	if (t1 >= 0 && t2 >= t1)
		printf("echo from %s: seq=%ld time=%.3f ms server=%.3f ms\n",
		    p->c->url, seq, (double)(t3 - t0) / 1000.0,
		    (double)(t2 - t1) / 1000.0);
	else
		printf("echo from %s: seq=%ld time=%.3f ms\n", p->c->url, seq,
		    (double)(t3 - t0) / 1000.0);
	fflush(stdout);
}

/*
 * One echo.  A network failure loses the sample and the test goes on (as
 * the SDK does); any refusal by the server ends the test.
 */
static enum cli_err
echo(struct ping *p, long seq, struct cli_fault *f)
{
	struct cli_resp		 r;
	struct json_object	*rc;
	char			 path[96], body[96];
	int64_t			 t0, t3;
	enum cli_err		 err;

	snprintf(path, sizeof(path), "%s/echo", p->base);
	t0 = cli_stamp();
	snprintf(body, sizeof(body), "{\"seq\":%ld,\"client_sent_at\":%lld}",
	    seq, (long long)t0);
	err = cli_call(p->c, "POST", path, body, ECHO_TIMEOUT_MS, &r, f);
	t3 = r.head_at > 0 ? r.head_at : cli_stamp();
	if (err == CLI_ERR_NET) {
		if (!p->quiet)
			printf("no answer for seq=%ld: %s\n", seq, f->message);
		fflush(stdout);
		err = CLI_OK;
	} else if (err == CLI_OK) {
		print_sample(p, seq, t0, t3, r.json);
		if ((rc = receipt(seq, t0, t3, r.json)) == NULL ||
		    json_object_array_add(p->pending, rc) != 0)
			err = cli_nomem(f);
		else if (json_object_array_length(p->pending) >= RECEIPT_BATCH)
			err = flush(p, f);
	}
	cli_resp_free(&r);
	return err;
}

/* Creates the test; fills p's id and base. */
static enum cli_err
create(struct ping *p, struct cli_fault *f)
{
	struct json_object	*req;
	enum cli_err		 err;

	if ((req = json_object_new_object()) != NULL) {
		json_object_object_add(req, "count",
		    json_object_new_int64(p->count));
		json_object_object_add(req, "interval_ms",
		    json_object_new_int64(p->interval_ms));
	}
	if ((err = cli_create(p->c, "/ping-tests", req, &p->id, f)) == CLI_OK)
		snprintf(p->base, sizeof(p->base), "/ping-tests/%lld",
		    (long long)p->id);
	return err;
}

/* Runs the echoes; returns on the first failure or interruption. */
static enum cli_err
run(struct ping *p, struct cli_fault *f)
{
	int64_t		 next = 0;
	long		 seq;
	enum cli_err	 err;

	for (seq = 0; seq < p->count; seq++) {
		if (next > 0)
			wait_until(next);
		if (cli_interrupted)
			return cli_fail(f, CLI_ERR_INTR, 0, "interrupted",
			    "interrupted");
		next = pingoo_mono_us() + (int64_t)p->interval_ms * 1000;
		if ((err = echo(p, seq, f)) != CLI_OK)
			return err;
	}
	return flush(p, f);
}

/*
 * Ends the test as the SDK does: what was measured is kept (receipts), then
 * the test is closed unless the receipts completed it.  Never interrupted.
 */
static enum cli_err
finish(struct ping *p, struct cli_fault *f)
{
	struct cli_resp	 r;
	char		 path[96];
	enum cli_err	 err;

	p->c->interruptible = 0;
	if ((err = flush(p, f)) != CLI_OK)
		return err;
	if (strcmp(p->state, "complete") == 0)
		return CLI_OK;
	snprintf(path, sizeof(path), "%s/close", p->base);
	err = cli_call(p->c, "POST", path, NULL, 30000, &r, f);
	cli_resp_free(&r);
	return err;
}

/* Parses the command's options into p; -1 on a usage error. */
static int
options(struct ping *p, int argc, char **argv)
{
	long long	 v;
	int		 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:i:")) != -1) {
		switch (ch) {
		case 'c':
			if (cli_num(optarg, 1, 1000000, &v) == -1)
				return -1;
			p->count = (long)v;
			break;
		case 'i':
			if (cli_num(optarg, 0, 3600000, &v) == -1)
				return -1;
			p->interval_ms = (long)v;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int
cmd_ping(const struct cli_opts *o, int argc, char **argv)
{
	struct ping	 p;
	struct cli_conn	 c = { 0 };
	struct cli_fault f, f2;
	struct cli_resp	 r = { 0 };
	char		 path[96];
	enum cli_err	 err;

	memset(&p, 0, sizeof(p));
	p.count = 10;
	p.interval_ms = 100;
	p.quiet = o->json;
	if (options(&p, argc, argv) == -1)
		return CLI_USAGE;
	if ((err = cli_connect(o, &c, &f)) != CLI_OK)
		return cli_failed(&f);
	p.c = &c;
	if ((p.pending = json_object_new_array()) == NULL) {
		err = cli_nomem(&f);
		goto out;
	}
	if ((err = create(&p, &f)) != CLI_OK)
		goto out;
	if (!o->json)
		printf("PING %s test %lld: %ld echoes, %ld ms apart\n", c.url,
		    (long long)p.id, p.count, p.interval_ms);
	err = run(&p, &f);
	/* Interrupted, the test is still kept, closed and shown, as ping's. */
	if (finish(&p, &f2) != CLI_OK &&
	    (err == CLI_OK || err == CLI_ERR_INTR)) {
		f = f2;
		err = f2.err;
	}
	if (err != CLI_OK && err != CLI_ERR_INTR)
		goto out;
	snprintf(path, sizeof(path), "%s", p.base);
	if ((err = cli_call(&c, "GET", path, NULL, 60000, &r, &f2)) != CLI_OK) {
		f = f2;
		goto out;
	}
	if (o->json)
		cli_print_json(&r);
	else
		cli_print_ping_summary(&c, r.json);
	if (cli_interrupted)
		err = cli_fail(&f, CLI_ERR_INTR, 0, "interrupted",
		    "interrupted: test %lld closed early", (long long)p.id);
out:
	cli_resp_free(&r);
	json_object_put(p.pending);
	cli_conn_close(&c);
	return err == CLI_OK ? 0 : cli_failed(&f);
}
