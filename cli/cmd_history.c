/* cmd_history.c - pingoo history and show, and the tests' printed summaries. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli.h"

/* Ids and cursors are JSON numbers: no larger than a double holds exactly. */
#define ID_MAX	((1LL << 53) - 1)

/* The two kinds of test, as -k names them, in the order both are read. */
static const char *const kinds[2] = { "ping", "throughput" };

/* A stamp as "YYYY-mm-dd HH:MM:SS" UTC, or "-". */
static void
fmt_at(char *buf, size_t sz, int64_t at)
{
	time_t		 t = (time_t)(at / 1000000);
	struct tm	 tm;

	if (at <= 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, sz, "-");
	else
		strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
}

static double
jbps(struct json_object *o, const char *key)
{
	return (double)cli_jint(o, key, -1);
}

/* An integer member for printf; 0 when it is absent. */
static long long
jnum(struct json_object *o, const char *key)
{
	return (long long)cli_jint(o, key, 0);
}

/* A string member, or dflt when it is absent. */
static const char *
jstr_or(struct json_object *o, const char *key, const char *dflt)
{
	const char	*v = cli_jstr(o, key);

	return v != NULL ? v : dflt;
}

/* The length of an array; 0 when a is no array. */
static size_t
jlen(struct json_object *a)
{
	if (!json_object_is_type(a, json_type_array))
		return 0;
	return json_object_array_length(a);
}

/* True for a kind -k takes. */
static int
is_kind(const char *s)
{
	return strcmp(s, kinds[0]) == 0 || strcmp(s, kinds[1]) == 0;
}

/* The ping summary as Linux ping ends, with the server's figures added. */
void
cli_print_ping_summary(const struct cli_conn *c, struct json_object *test)
{
	struct json_object	*s = cli_jget(test, "summary"), *loss;
	char			 v[8][32];

	printf("--- %s ping test %lld (%s) ---\n", c->url, jnum(test, "id"),
	    jstr_or(test, "state", "?"));
	loss = cli_jget(s, "loss_pct");
	printf("%lld sent, %lld received, %g%% loss\n", jnum(s, "sent"),
	    jnum(s, "received"), loss ? json_object_get_double(loss) : 0.0);
	if (cli_jint(s, "received", 0) == 0)
		return;
	cli_fmt_us(v[0], sizeof(v[0]), s, "rtt_min_us");
	cli_fmt_us(v[1], sizeof(v[1]), s, "rtt_mean_us");
	cli_fmt_us(v[2], sizeof(v[2]), s, "rtt_median_us");
	cli_fmt_us(v[3], sizeof(v[3]), s, "rtt_p90_us");
	cli_fmt_us(v[4], sizeof(v[4]), s, "rtt_p99_us");
	cli_fmt_us(v[5], sizeof(v[5]), s, "rtt_max_us");
	cli_fmt_us(v[6], sizeof(v[6]), s, "rtt_stddev_us");
	printf("rtt min/avg/median/p90/p99/max/mdev = "
	    "%s/%s/%s/%s/%s/%s/%s ms\n", v[0], v[1], v[2], v[3], v[4], v[5],
	    v[6]);
	cli_fmt_us(v[0], sizeof(v[0]), s, "jitter_us");
	cli_fmt_us(v[1], sizeof(v[1]), s, "server_median_us");
	cli_fmt_us(v[2], sizeof(v[2]), s, "network_rtt_median_us");
	cli_fmt_us(v[3], sizeof(v[3]), s, "offset_us");
	cli_fmt_us(v[4], sizeof(v[4]), s, "offset_uncertainty_us");
	printf("jitter %s ms, server median %s ms, network rtt median %s ms, "
	    "clock offset %s ms +/- %s ms\n", v[0], v[1], v[2], v[3], v[4]);
}

/*
 * What a time-bounded test's headline counts: its window, the grace left
 * out before it (the ramp), and the bytes inside.
 */
static void
print_window(const char *dir, struct json_object *s)
{
	int64_t	 from = cli_jint(s, "window_start_at", -1);
	int64_t	 to = cli_jint(s, "window_end_at", -1);

	if (from < 0 || to < 0)
		return;
	printf("%s window: %.3f s after a %.3f s grace, %lld bytes\n", dir,
	    (double)(to - from) / 1e6, (double)jnum(s, "grace_us") / 1e6,
	    jnum(s, "window_bytes"));
}

/* One direction of a throughput summary: the receiver's figures only. */
static void
print_direction(const char *dir, struct json_object *s)
{
	char	 bps[32], r[4][32];

	if (s == NULL)
		return;
	cli_fmt_bps(bps, sizeof(bps), jbps(s, "bits_per_second"));
	cli_fmt_bps(r[0], sizeof(r[0]), jbps(s, "packet_bps_min"));
	cli_fmt_bps(r[1], sizeof(r[1]), jbps(s, "packet_bps_median"));
	cli_fmt_bps(r[2], sizeof(r[2]), jbps(s, "packet_bps_p90"));
	cli_fmt_bps(r[3], sizeof(r[3]), jbps(s, "packet_bps_max"));
	printf("%s: %lld/%lld received, %lld failed, %lld bytes, %s "
	    "(received at the %s)\n", dir, jnum(s, "received"),
	    jnum(s, "packets"), jnum(s, "failed"), jnum(s, "bytes"), bps,
	    strcmp(dir, "download") == 0 ? "client" : "server");
	printf("%s per packet min/median/p90/max = %s / %s / %s / %s\n", dir,
	    r[0], r[1], r[2], r[3]);
	if (json_object_get_boolean(cli_jget(s, "report_missing")))
		printf("%s: %lld packets reported; the figures cover those "
		    "only\n", dir, jnum(s, "reported"));
	print_window(dir, s);
}

/* The latency under load: a line a phase, then the grade and the RPM. */
static void
print_latency(struct json_object *s)
{
	static const char *const phases[] = {
		"idle", "download", "upload", "bidirectional"
	};
	struct json_object	*lat = cli_jget(s, "latency"), *p;
	char			 v[4][32];
	size_t			 i;

	if (lat == NULL || json_object_object_length(lat) == 0)
		return;
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		if ((p = cli_jget(lat, phases[i])) == NULL)
			continue;
		cli_fmt_us(v[0], sizeof(v[0]), p, "rtt_median_us");
		cli_fmt_us(v[1], sizeof(v[1]), p, "rtt_p90_us");
		cli_fmt_us(v[2], sizeof(v[2]), p, "rtt_p99_us");
		cli_fmt_us(v[3], sizeof(v[3]), p, "rise_median_us");
		printf("latency %s: %lld probes, %lld lost, "
		    "rtt median/p90/p99 = %s / %s / %s ms", phases[i],
		    jnum(p, "samples"), jnum(p, "lost"), v[0], v[1], v[2]);
		if (i > 0)
			printf(", rise %s ms", v[3]);
		putchar('\n');
	}
	printf("bufferbloat grade %s, responsiveness ",
	    jstr_or(s, "bufferbloat_grade", "-"));
	if (cli_jint(s, "responsiveness_rpm", -1) >= 0)
		printf("%lld RPM\n", jnum(s, "responsiveness_rpm"));
	else
		printf("- RPM\n");
}

void
cli_print_tp_summary(struct json_object *test)
{
	struct json_object	*s = cli_jget(test, "summary");

	if (cli_jint(test, "duration_ms", 0) > 0)
		printf("--- throughput test %lld: %s, %g s per direction "
		    "(%s) ---\n", jnum(test, "id"),
		    jstr_or(test, "direction", "?"),
		    (double)jnum(test, "duration_ms") / 1000,
		    jstr_or(test, "state", "?"));
	else
		printf("--- throughput test %lld: %s, %lld x %lld bytes "
		    "(%s) ---\n", jnum(test, "id"),
		    jstr_or(test, "direction", "?"), jnum(test, "packets"),
		    jnum(test, "packet_size"), jstr_or(test, "state", "?"));
	print_direction("download", cli_jget(s, "download"));
	print_direction("upload", cli_jget(s, "upload"));
	print_latency(s);
}

/* One line of history. */
static void
print_row(const char *kind, struct json_object *t)
{
	struct json_object	*s = cli_jget(t, "summary"), *d;
	char			 at[32], res[128], ms[32], bps[32];
	const char		*dirs[] = { "download", "upload" };
	size_t			 i, n;

	fmt_at(at, sizeof(at), cli_jint(t, "created_at", 0));
	if (strcmp(kind, "ping") == 0) {
		cli_fmt_us(ms, sizeof(ms), s, "rtt_median_us");
		snprintf(res, sizeof(res), "%lld/%lld received, median %s ms",
		    jnum(s, "received"), jnum(t, "count"), ms);
	} else {
		res[0] = '\0';
		for (i = 0; i < 2; i++) {
			if ((d = cli_jget(s, dirs[i])) == NULL)
				continue;
			cli_fmt_bps(bps, sizeof(bps),
			    jbps(d, "bits_per_second"));
			n = strlen(res);
			snprintf(res + n, sizeof(res) - n, "%s%s %s",
			    n ? ", " : "", dirs[i], bps);
		}
		if (cli_jstr(s, "bufferbloat_grade") != NULL) {
			n = strlen(res);
			snprintf(res + n, sizeof(res) - n, ", grade %s",
			    cli_jstr(s, "bufferbloat_grade"));
		}
	}
	printf("%-10s %8lld  %-10s  %s  %s\n", kind, jnum(t, "id"),
	    jstr_or(t, "state", "?"), at, res);
}

/* When test i of list a (of n) was created; -1 past its end. */
static int64_t
created(struct json_object *a, size_t i, size_t n)
{
	if (i >= n)
		return -1;
	return cli_jint(json_object_array_get_idx(a, i), "created_at", 0);
}

/* The tests of both lists, newest first. */
static void
print_rows(struct json_object *ping, struct json_object *tp)
{
	struct json_object	*a = cli_jget(ping, "tests");
	struct json_object	*b = cli_jget(tp, "tests");
	size_t			 i = 0, j = 0, na = jlen(a), nb = jlen(b);

	printf("%-10s %8s  %-10s  %-19s  %s\n", "KIND", "ID", "STATE",
	    "CREATED (UTC)", "RESULT");
	while (i < na || j < nb) {
		if (created(a, i, na) >= created(b, j, nb))
			print_row("ping", json_object_array_get_idx(a, i++));
		else
			print_row("throughput",
			    json_object_array_get_idx(b, j++));
	}
	if (cli_jstr(ping, "next_cursor") != NULL)
		printf("more: pingoo history -k ping -c %s\n",
		    cli_jstr(ping, "next_cursor"));
	if (cli_jstr(tp, "next_cursor") != NULL)
		printf("more: pingoo history -k throughput -c %s\n",
		    cli_jstr(tp, "next_cursor"));
}

/*
 * pingoo history: the user's tests, newest first.  With -k, one list and
 * its answer as --json; without, both lists ({"ping":…,"throughput":…}).
 */
int
cmd_history(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_conn	 c = { 0 };
	struct cli_fault f;
	struct cli_resp	 r[2];
	const char	*kind = NULL, *cursor = NULL;
	char		 path[128];
	long long	 limit = 20;
	int		 ch, i;
	enum cli_err	 err = CLI_OK;

	memset(r, 0, sizeof(r));
	optind = 1;
	while ((ch = getopt(argc, argv, "k:l:c:")) != -1) {
		switch (ch) {
		case 'k':
			if (!is_kind(optarg))
				return CLI_USAGE;
			kind = optarg;
			break;
		case 'l':
			if (cli_num(optarg, 1, 100, &limit) == -1)
				return CLI_USAGE;
			break;
		case 'c':
			if (cli_num(optarg, 1, ID_MAX, &(long long){ 0 }) == -1)
				return CLI_USAGE;
			cursor = optarg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	if (optind != argc || (cursor != NULL && kind == NULL))
		return CLI_USAGE;
	if ((err = cli_connect(o, &c, &f)) != CLI_OK)
		return cli_failed(&f);
	for (i = 0; i < 2 && err == CLI_OK; i++) {
		if (kind != NULL && strcmp(kind, kinds[i]) != 0)
			continue;
		snprintf(path, sizeof(path), "/%s-tests?limit=%lld%s%s",
		    kinds[i], limit, cursor ? "&cursor=" : "",
		    cursor ? cursor : "");
		err = cli_call(&c, "GET", path, NULL, 60000, &r[i], &f);
	}
	if (err != CLI_OK)
		goto out;
	if (o->json && kind != NULL)
		cli_print_json(&r[strcmp(kind, "ping") == 0 ? 0 : 1]);
	else if (o->json) {
		printf("{\"ping\":%.*s,\"throughput\":%.*s}\n",
		    (int)r[0].len, r[0].body, (int)r[1].len, r[1].body);
	} else
		print_rows(r[0].json, r[1].json);
out:
	cli_resp_free(&r[0]);
	cli_resp_free(&r[1]);
	cli_conn_close(&c);
	return err == CLI_OK ? 0 : cli_failed(&f);
}

/* A stored test in full: its samples or transfers, then its summary. */
static void
print_test(const struct cli_conn *c, const char *kind, struct json_object *t)
{
	struct json_object	*items, *x;
	char			 a[32], b[32], bps[32];
	size_t			 i, n;

	if (strcmp(kind, "ping") == 0) {
		items = cli_jget(t, "samples");
		for (i = 0, n = jlen(items); i < n; i++) {
			x = json_object_array_get_idx(items, i);
			cli_fmt_us(a, sizeof(a), x, "rtt_us");
			cli_fmt_us(b, sizeof(b), x, "server_us");
			printf("seq=%lld time=%s ms server=%s ms\n",
			    jnum(x, "seq"), a, b);
		}
		cli_print_ping_summary(c, t);
		return;
	}
	items = cli_jget(t, "transfers");
	for (i = 0, n = jlen(items); i < n; i++) {
		x = json_object_array_get_idx(items, i);
		cli_fmt_us(a, sizeof(a), x, "duration_us");
		cli_fmt_bps(bps, sizeof(bps), jbps(x, "bits_per_second"));
		printf("%s seq=%lld %s bytes=%lld time=%s ms rate=%s\n",
		    jstr_or(x, "direction", "?"), jnum(x, "seq"),
		    jstr_or(x, "status", "?"), jnum(x, "bytes"), a, bps);
	}
	cli_print_tp_summary(t);
}

/*
 * pingoo show [-k KIND] ID: one test.  Ping and throughput tests number
 * apart; without -k the ID must name a test of one kind only.
 */
int
cmd_show(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_conn	 c = { 0 };
	struct cli_fault f, fk[2];
	struct cli_resp	 r[2];
	const char	*kind = NULL;
	char		 path[128];
	long long	 id;
	int		 ch, i, found = -1;
	enum cli_err	 err = CLI_OK;
	/* By kind; CLI_ERR_USAGE: that kind was not asked for. */
	enum cli_err	 e[2] = { CLI_ERR_USAGE, CLI_ERR_USAGE };

	memset(r, 0, sizeof(r));
	optind = 1;
	while ((ch = getopt(argc, argv, "k:")) != -1) {
		if (ch != 'k' || !is_kind(optarg))
			return CLI_USAGE;
		kind = optarg;
	}
	if (optind != argc - 1 || cli_num(argv[optind], 1, ID_MAX, &id) == -1)
		return CLI_USAGE;
	if ((err = cli_connect(o, &c, &f)) != CLI_OK)
		return cli_failed(&f);
	for (i = 0; i < 2; i++) {
		if (kind != NULL && strcmp(kind, kinds[i]) != 0)
			continue;
		snprintf(path, sizeof(path), "/%s-tests/%lld", kinds[i], id);
		e[i] = cli_call(&c, "GET", path, NULL, 60000, &r[i], &fk[i]);
		if (e[i] == CLI_OK)
			found = found == -1 ? i : 2;
		else if (fk[i].status != 404) {
			/* Anything but "no such test" ends the search. */
			f = fk[i];
			err = e[i];
			goto out;
		}
	}
	if (found == 2) {
		err = cli_fail(&f, CLI_ERR_USAGE, 0, NULL, "%lld is both a "
		    "ping and a throughput test: say which with -k", id);
		goto out;
	}
	if (found == -1) {
		f = fk[e[0] != CLI_ERR_USAGE ? 0 : 1];
		err = f.err;
		goto out;
	}
	if (o->json)
		cli_print_json(&r[found]);
	else
		print_test(&c, kinds[found], r[found].json);
out:
	cli_resp_free(&r[0]);
	cli_resp_free(&r[1]);
	cli_conn_close(&c);
	return err == CLI_OK ? 0 : cli_failed(&f);
}
