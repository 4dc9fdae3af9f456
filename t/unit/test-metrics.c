/* test-metrics.c - the counters shared by the worker processes and their
 * Prometheus text. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/shm.h"
#include "../tap.h"

static char *
render(const struct pingoo_metrics *m)
{
	static const char *const names[] = { "/a", "/b/{id}", "none" };
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (fp == NULL || pingoo_metrics_write(m, names, fp) != 0) {
		if (fp != NULL)
			fclose(fp);
		free(text);
		return NULL;
	}
	fclose(fp);
	return text;
}

/* The number of lines of text that end with " <value>". */
static int
lines_ending(const char *text, const char *value)
{
	const char *p = text, *nl;
	size_t vl = strlen(value);
	int n = 0;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if ((size_t)(nl - p) > vl && p[0] != '#' &&
		    nl[-(ptrdiff_t)vl - 1] == ' ' &&
		    memcmp(nl - vl, value, vl) == 0)
			n++;
	return n;
}

/* Every counter of the enum is exposed, in one series: each gets a value
 * of its own, which must appear exactly once. */
static void
test_every_counter(void)
{
	struct pingoo_metrics *m = pingoo_metrics_new(1, 1);
	char value[16], *text;
	int c, once = 1;

	pingoo_metrics_use(m);
	for (c = 0; c < PINGOO_M__COUNTERS; c++)
		pingoo_metrics_add((enum pingoo_counter)c, 7001 + (uint64_t)c);
	text = render(m);
	for (c = 0; text != NULL && c < PINGOO_M__COUNTERS; c++) {
		snprintf(value, sizeof(value), "%d", 7001 + c);
		if (lines_ending(text, value) != 1) {
			diag("counter %d is in %d series", c,
			    lines_ending(text, value));
			once = 0;
		}
	}
	ok(text != NULL && once, "each of the %d counters is exposed in one "
	    "series", PINGOO_M__COUNTERS);
	free(text);
	pingoo_metrics_use(NULL);
	pingoo_metrics_free(m);
}

int
main(void)
{
	struct pingoo_metrics *m = pingoo_metrics_new(3, 2);
	char *text;
	pid_t pid;
	int st, i;

	ok(m != NULL, "a table for 3 routes and 2 processes is mapped");
	ok(pingoo_metrics_new(0, 1) == NULL, "a table of no route is refused");
	pingoo_metrics_add(PINGOO_M_PING_CREATED, 5);
	text = render(m);
	ok(text != NULL && strstr(text,
	    "pingoo_tests_created_total{kind=\"ping\"} 0\n") != NULL,
	    "nothing is counted before the table is put in use");
	free(text);

	pingoo_metrics_use(m);
	/* Two processes count into the one mapping. */
	if ((pid = fork()) == 0) {
		for (i = 0; i < 1000; i++) {
			pingoo_metrics_add(PINGOO_M_PING_CREATED, 1);
			pingoo_metrics_request(m, 1, 404, 300);
		}
		pingoo_metrics_queue(m, 1, 7);
		_exit(0);
	}
	for (i = 0; i < 1000; i++) {
		pingoo_metrics_add(PINGOO_M_PING_CREATED, 1);
		pingoo_metrics_request(m, 1, 404, 300);
	}
	pingoo_metrics_request(m, 0, 200, 50);
	pingoo_metrics_request(m, 0, 299, 20000000);
	pingoo_metrics_request(m, 9, 200, 1);	/* no such route: ignored */
	pingoo_metrics_queue(m, 0, 3);
	pingoo_metrics_queue(m, 5, 100);	/* no such slot: ignored */
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child counted and exited");

	text = render(m);
	ok(text != NULL, "the exposition is written");
	if (text == NULL)
		return tap_done();
	ok(strstr(text, "pingoo_tests_created_total{kind=\"ping\"} 2000\n") !=
	    NULL, "adds from both processes are summed");
	ok(strstr(text, "pingoo_http_requests_total{route=\"/b/{id}\","
	    "status=\"404\"} 2000\n") != NULL, "requests are counted by route "
	    "and status");
	ok(strstr(text, "pingoo_http_requests_total{route=\"/a\","
	    "status=\"other\"} 1\n") != NULL, "an unlisted status is \"other\"");
	ok(strstr(text, "route=\"none\"") == NULL, "a route with no request "
	    "has no series");
	ok(strstr(text, "pingoo_http_request_duration_seconds_bucket{route=\"/a\","
	    "le=\"0.0001\"} 1\n") != NULL && strstr(text,
	    "pingoo_http_request_duration_seconds_bucket{route=\"/a\","
	    "le=\"10\"} 1\n") != NULL && strstr(text,
	    "pingoo_http_request_duration_seconds_bucket{route=\"/a\","
	    "le=\"+Inf\"} 2\n") != NULL, "buckets are cumulative, +Inf has all");
	ok(strstr(text, "pingoo_http_request_duration_seconds_sum{route=\"/b/{id}\"} "
	    "0.600000\n") != NULL, "the sum is in seconds");
	ok(strstr(text, "pingoo_echo_queue_depth 10\n") != NULL,
	    "the queue depth is the sum of the processes' slots");
	ok(strstr(text, "# TYPE pingoo_http_request_duration_seconds histogram\n")
	    != NULL, "the histogram says its type");
	free(text);
	pingoo_metrics_free(m);
	pingoo_metrics_add(PINGOO_M_PING_CREATED, 1);	/* no table: no crash */
	ok(1, "adding after the table is freed is harmless");
	test_every_counter();
	return tap_done();
}
