/* cmd_history.c - pingoo history and pingoo show, and the summaries every command prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli.h"

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

/* The ping summary as Linux ping ends, with the server's figures added. */
void
cli_print_ping_summary(const struct cli_conn *c, struct json_object *test)
{
	struct json_object	*s = cli_jget(test, "summary"), *loss;
	char			 v[8][32];

	printf("--- %s ping test %lld (%s) ---\n", c->url, (long long)cli_jint(test, "id", 0),
	    cli_jstr(test, "state") ? cli_jstr(test, "state") : "?");
	loss = cli_jget(s, "loss_pct");
	printf("%lld sent, %lld received, %g%% loss\n", (long long)cli_jint(s, "sent", 0),
	    (long long)cli_jint(s, "received", 0), loss ? json_object_get_double(loss) : 0.0);
	if (cli_jint(s, "received", 0) == 0)
		return;
	cli_fmt_us(v[0], sizeof(v[0]), s, "rtt_min_us");
	cli_fmt_us(v[1], sizeof(v[1]), s, "rtt_mean_us");
	cli_fmt_us(v[2], sizeof(v[2]), s, "rtt_median_us");
	cli_fmt_us(v[3], sizeof(v[3]), s, "rtt_p90_us");
	cli_fmt_us(v[4], sizeof(v[4]), s, "rtt_p99_us");
	cli_fmt_us(v[5], sizeof(v[5]), s, "rtt_max_us");
	cli_fmt_us(v[6], sizeof(v[6]), s, "rtt_stddev_us");
	printf("rtt min/avg/median/p90/p99/max/mdev = %s/%s/%s/%s/%s/%s/%s ms\n",
	    v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
	cli_fmt_us(v[0], sizeof(v[0]), s, "jitter_us");
	cli_fmt_us(v[1], sizeof(v[1]), s, "server_median_us");
	cli_fmt_us(v[2], sizeof(v[2]), s, "network_rtt_median_us");
	cli_fmt_us(v[3], sizeof(v[3]), s, "offset_us");
	cli_fmt_us(v[4], sizeof(v[4]), s, "offset_uncertainty_us");
	printf("jitter %s ms, server median %s ms, network rtt median %s ms, "
	    "clock offset %s ms +/- %s ms\n", v[0], v[1], v[2], v[3], v[4]);
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
	printf("%s: %lld/%lld received, %lld failed, %lld bytes, %s (received at the %s)\n",
	    dir, (long long)cli_jint(s, "received", 0), (long long)cli_jint(s, "packets", 0),
	    (long long)cli_jint(s, "failed", 0), (long long)cli_jint(s, "bytes", 0), bps,
	    strcmp(dir, "download") == 0 ? "client" : "server");
	printf("%s per packet min/median/p90/max = %s / %s / %s / %s\n", dir, r[0], r[1], r[2], r[3]);
	if (json_object_get_boolean(cli_jget(s, "report_missing")))
		printf("%s: %lld packets reported; the figures cover those only\n", dir,
		    (long long)cli_jint(s, "reported", 0));
}

/* The latency under load: a line a phase, then the grade and the RPM. */
static void
print_latency(struct json_object *s)
{
	static const char *const phases[] = { "idle", "download", "upload", "bidirectional" };
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
		printf("latency %s: %lld probes, %lld lost, rtt median/p90/p99 = %s / %s / %s ms",
		    phases[i], (long long)cli_jint(p, "samples", 0),
		    (long long)cli_jint(p, "lost", 0), v[0], v[1], v[2]);
		if (i > 0)
			printf(", rise %s ms", v[3]);
		putchar('\n');
	}
	printf("bufferbloat grade %s, responsiveness ",
	    cli_jstr(s, "bufferbloat_grade") ? cli_jstr(s, "bufferbloat_grade") : "-");
	if (cli_jint(s, "responsiveness_rpm", -1) >= 0)
		printf("%lld RPM\n", (long long)cli_jint(s, "responsiveness_rpm", 0));
	else
		printf("- RPM\n");
}

void
cli_print_tp_summary(struct json_object *test)
{
	struct json_object	*s = cli_jget(test, "summary");

	printf("--- throughput test %lld: %s, %lld x %lld bytes (%s) ---\n",
	    (long long)cli_jint(test, "id", 0),
	    cli_jstr(test, "direction") ? cli_jstr(test, "direction") : "?",
	    (long long)cli_jint(test, "packets", 0), (long long)cli_jint(test, "packet_size", 0),
	    cli_jstr(test, "state") ? cli_jstr(test, "state") : "?");
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
		    (long long)cli_jint(s, "received", 0), (long long)cli_jint(t, "count", 0), ms);
	} else {
		res[0] = '\0';
		for (i = 0; i < 2; i++) {
			if ((d = cli_jget(s, dirs[i])) == NULL)
				continue;
			cli_fmt_bps(bps, sizeof(bps), jbps(d, "bits_per_second"));
			n = strlen(res);
			snprintf(res + n, sizeof(res) - n, "%s%s %s", n ? ", " : "", dirs[i], bps);
		}
		if (cli_jstr(s, "bufferbloat_grade") != NULL) {
			n = strlen(res);
			snprintf(res + n, sizeof(res) - n, ", grade %s",
			    cli_jstr(s, "bufferbloat_grade"));
		}
	}
	printf("%-10s %8lld  %-10s  %s  %s\n", kind, (long long)cli_jint(t, "id", 0),
	    cli_jstr(t, "state") ? cli_jstr(t, "state") : "?", at, res);
}

/* The tests of both lists, newest first. */
static void
print_rows(struct json_object *ping, struct json_object *tp)
{
	struct json_object	*a = cli_jget(ping, "tests"), *b = cli_jget(tp, "tests");
	size_t			 i = 0, j = 0, na, nb;
	int64_t			 ta, tb;

	na = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	nb = json_object_is_type(b, json_type_array) ? json_object_array_length(b) : 0;
	printf("%-10s %8s  %-10s  %-19s  %s\n", "KIND", "ID", "STATE", "CREATED (UTC)", "RESULT");
	while (i < na || j < nb) {
		ta = i < na ? cli_jint(json_object_array_get_idx(a, i), "created_at", 0) : -1;
		tb = j < nb ? cli_jint(json_object_array_get_idx(b, j), "created_at", 0) : -1;
		if (ta >= tb)
			print_row("ping", json_object_array_get_idx(a, i++));
		else
			print_row("throughput", json_object_array_get_idx(b, j++));
	}
	if (cli_jstr(ping, "next_cursor") != NULL)
		printf("more: pingoo history -k ping -c %s\n", cli_jstr(ping, "next_cursor"));
	if (cli_jstr(tp, "next_cursor") != NULL)
		printf("more: pingoo history -k throughput -c %s\n", cli_jstr(tp, "next_cursor"));
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
	const char	*kind = NULL, *cursor = NULL, *kinds[2] = { "ping", "throughput" };
	char		 path[128];
	long long	 limit = 20;
	int		 ch, i;
	enum cli_err	 err = CLI_OK;

	memset(r, 0, sizeof(r));
	optind = 1;
	while ((ch = getopt(argc, argv, "k:l:c:")) != -1) {
		switch (ch) {
		case 'k':
			if (strcmp(optarg, "ping") != 0 && strcmp(optarg, "throughput") != 0)
				return CLI_USAGE;
			kind = optarg;
			break;
		case 'l':
			if (cli_num(optarg, 1, 100, &limit) == -1)
				return CLI_USAGE;
			break;
		case 'c':
			if (cli_num(optarg, 1, (1LL << 53) - 1, &(long long){ 0 }) == -1)
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
		snprintf(path, sizeof(path), "/%s-tests?limit=%lld%s%s", kinds[i], limit,
		    cursor ? "&cursor=" : "", cursor ? cursor : "");
		err = cli_call(&c, "GET", path, NULL, 60000, &r[i], &f);
	}
	if (err != CLI_OK)
		goto out;
	if (o->json && kind != NULL)
		cli_print_json(&r[strcmp(kind, "ping") == 0 ? 0 : 1]);
	else if (o->json) {
		printf("{\"ping\":%.*s,\"throughput\":%.*s}\n", (int)r[0].len, r[0].body,
		    (int)r[1].len, r[1].body);
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
		n = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
		for (i = 0; i < n; i++) {
			x = json_object_array_get_idx(items, i);
			cli_fmt_us(a, sizeof(a), x, "rtt_us");
			cli_fmt_us(b, sizeof(b), x, "server_us");
			printf("seq=%lld time=%s ms server=%s ms\n",
			    (long long)cli_jint(x, "seq", 0), a, b);
		}
		cli_print_ping_summary(c, t);
		return;
	}
	items = cli_jget(t, "transfers");
	n = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
	for (i = 0; i < n; i++) {
		x = json_object_array_get_idx(items, i);
		cli_fmt_us(a, sizeof(a), x, "duration_us");
		cli_fmt_bps(bps, sizeof(bps), jbps(x, "bits_per_second"));
		printf("%s seq=%lld %s bytes=%lld time=%s ms rate=%s\n",
		    cli_jstr(x, "direction") ? cli_jstr(x, "direction") : "?",
		    (long long)cli_jint(x, "seq", 0),
		    cli_jstr(x, "status") ? cli_jstr(x, "status") : "?",
		    (long long)cli_jint(x, "bytes", 0), a, bps);
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
	const char	*kind = NULL, *kinds[2] = { "ping", "throughput" };
	char		 path[128];
	long long	 id;
	int		 ch, i, found = -1;
	enum cli_err	 err = CLI_OK, e[2] = { CLI_ERR_USAGE, CLI_ERR_USAGE };

	memset(r, 0, sizeof(r));
	optind = 1;
	while ((ch = getopt(argc, argv, "k:")) != -1) {
		if (ch != 'k' || (strcmp(optarg, "ping") != 0 && strcmp(optarg, "throughput") != 0))
			return CLI_USAGE;
		kind = optarg;
	}
	if (optind != argc - 1 || cli_num(argv[optind], 1, (1LL << 53) - 1, &id) == -1)
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
		err = cli_fail(&f, CLI_ERR_USAGE, 0, NULL,
		    "%lld is both a ping and a throughput test: say which with -k", id);
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
