/* test-names.c - the one lookup between an enum and its names
 * (lib/core/name.c), its policy for what has no name, and a walk of every
 * enum of lib/ that is named: each value has a name of its own, which
 * reads back as that value (designated initializers leave a gap NULL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "export/export.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "store/store_int.h"
#include "../tap.h"

static const char *const abc[] = { [0] = "alpha", [2] = "gamma",
    [3] = "" };

static void
test_helper(void)
{
	ok(strcmp(pingoo_name_of(abc, 4, 0), "alpha") == 0 &&
	    strcmp(pingoo_name_of(abc, 4, 2), "gamma") == 0,
	    "a value's name is its slot");
	ok(pingoo_name_of(abc, 4, 1) == NULL &&
	    pingoo_name_of(abc, 4, 3) == NULL,
	    "an empty slot (a gap, or \"\") has no name: NULL");
	ok(pingoo_name_of(abc, 4, -1) == NULL &&
	    pingoo_name_of(abc, 4, 4) == NULL &&
	    pingoo_name_of(abc, 4, 1 << 30) == NULL &&
	    pingoo_name_of(NULL, 4, 0) == NULL,
	    "a value outside the table has no name: NULL, never a default");
	ok(pingoo_name_find(abc, 4, "gamma", 5) == 2 &&
	    pingoo_name_find(abc, 4, "alpha", 5) == 0,
	    "a name finds its value");
	ok(pingoo_name_find(abc, 4, "Gamma", 5) == -1 &&
	    pingoo_name_find(abc, 4, "gam", 3) == -1 &&
	    pingoo_name_find(abc, 4, "gammas", 6) == -1 &&
	    pingoo_name_find(abc, 4, "beta", 4) == -1,
	    "another case, a prefix, a longer word, an unknown name: -1");
	ok(pingoo_name_find(abc, 4, "", 0) == -1 &&
	    pingoo_name_find(abc, 4, NULL, 0) == -1 &&
	    pingoo_name_find(NULL, 4, "alpha", 5) == -1,
	    "the empty name (an empty slot's) and no name find nothing");
	ok(pingoo_name_find(abc, 4, "gammaXYZ", 5) == 2 &&
	    pingoo_name_find(abc, 4, "al\0pha", 6) == -1,
	    "only len bytes count, and a NUL among them is no match");
	ok(pingoo_name_find(abc, 2, "gamma", 5) == -1,
	    "names past n are not looked at");
}

/* Every error has its sentence and its code; one outside the enum is
 * said to be an internal error. */
static void
test_errors(void)
{
	int e, named = 1;

	for (e = 0; e < PINGOO_ERR__MAX; e++)
		if (pingoo_strerror((enum pingoo_err)e)[0] == '\0' ||
		    pingoo_errcode((enum pingoo_err)e)[0] == '\0') {
			diag("error %d has no sentence or code", e);
			named = 0;
		}
	ok(named, "each of the %d errors has a sentence and a code",
	    PINGOO_ERR__MAX);
	ok(strcmp(pingoo_errcode(PINGOO_ERR_DB), "database_unavailable") == 0 &&
	    strcmp(pingoo_strerror(PINGOO_ERR_NOTFOUND), "not found") == 0,
	    "errors are named by their own slot");
	ok(strcmp(pingoo_errcode(PINGOO_ERR__MAX), "internal_error") == 0 &&
	    strcmp(pingoo_strerror((enum pingoo_err)-1), "internal error")
	    == 0, "an error outside the enum is an internal error");
}

/*
 * Walks the values 0..n-1 of an enum: each has a name (not empty), no two
 * the same, and each name parses back to its value (when the enum has a
 * parser); -1 and n have no name, and a name no value has parses to -1.
 */
static void
walk(const char *what, int n, const char *(*name)(int),
    int (*parse)(const char *))
{
	const char *a, *b;
	int v, w, good = 1;

	for (v = 0; v < n; v++) {
		if ((a = name(v)) == NULL || a[0] == '\0') {
			diag("%s %d has no name", what, v);
			good = 0;
			continue;
		}
		for (w = 0; w < v; w++)
			if ((b = name(w)) != NULL && strcmp(a, b) == 0) {
				diag("%s %d and %d are both %s", what, w, v, a);
				good = 0;
			}
		if (parse != NULL && parse(a) != v) {
			diag("%s %s parses to %d, not %d", what, a, parse(a), v);
			good = 0;
		}
	}
	ok(good, "each of the %d %s has a name of its own%s", n, what,
	    parse != NULL ? ", which parses back" : "");
	ok(name(-1) == NULL && name(n) == NULL,
	    "%s: a value outside the enum has no name (NULL)", what);
	if (parse != NULL)
		ok(parse("no such name") == -1 && parse("") == -1,
		    "%s: an unknown name is refused", what);
}

/* Adapters: each enum's functions as walk() takes them. */
static const char *ping_state_name(int v)
{ return pingoo_ping_state_name((enum ping_state)v); }
static int ping_state_parse(const char *s)
{ enum ping_state x; return pingoo_ping_state_parse(s, &x) ? -1 : (int)x; }
static const char *tp_dir_name(int v)
{ return pingoo_tp_dir_name((enum pingoo_tp_dir)v); }
static int tp_dir_parse(const char *s)
{ enum pingoo_tp_dir x; return pingoo_tp_dir_parse(s, &x) ? -1 : (int)x; }
static const char *tp_state_name(int v)
{ return pingoo_tp_state_name((enum pingoo_tp_state)v); }
static int tp_state_parse(const char *s)
{ enum pingoo_tp_state x; return pingoo_tp_state_parse(s, &x) ? -1 : (int)x; }
static const char *tp_status_name(int v)
{ return pingoo_tp_status_name((enum pingoo_tp_status)v); }
static int tp_status_parse(const char *s)
{ enum pingoo_tp_status x;
  return pingoo_tp_status_parse(s, &x) ? -1 : (int)x; }
static const char *phase_name(int v)
{ return pingoo_phase_name((enum pingoo_phase)v); }
static int phase_parse(const char *s)
{ enum pingoo_phase x; return pingoo_phase_parse(s, &x) ? -1 : (int)x; }
static const char *grade_name(int v)
{ return pingoo_grade_name((enum pingoo_grade)v); }

static const char *export_type_name(int v)
{ return pingoo_export_type_name((enum pingoo_export_type)v); }
static const char *group_name(int v)
{ return pingoo_group_name((enum pingoo_group)v); }
static int group_parse(const char *s)
{ return pingoo_group_parse(s, strlen(s)); }

static void
test_measure(void)
{
	walk("ping states", PING__STATES, ping_state_name, ping_state_parse);
	walk("directions", PINGOO_TP__DIRS, tp_dir_name, tp_dir_parse);
	walk("throughput states", PINGOO_TP__STATES, tp_state_name,
	    tp_state_parse);
	walk("transfer statuses", PINGOO_TP__STATUSES, tp_status_name,
	    tp_status_parse);
	walk("phases", PINGOO_PHASE__MAX, phase_name, phase_parse);
	walk("grades", PINGOO_GRADE_NONE, grade_name, NULL);
	ok(strcmp(pingoo_ping_state_name(PING_INCOMPLETE), "incomplete") == 0 &&
	    strcmp(pingoo_tp_status_name(PINGOO_TP_FAILED), "failed") == 0 &&
	    strcmp(pingoo_grade_name(PINGOO_GRADE_F), "F") == 0,
	    "values are named by their own slot");
	walk("export record types", PINGOO_EXPORT__TYPES, export_type_name,
	    NULL);
	walk("groups", PINGOO_GROUP__MAX, group_name, group_parse);
	ok(ping_state_parse("Complete") == -1 &&
	    tp_state_parse("complete ") == -1 && tp_status_parse("OK") == -1,
	    "names are exact: no other case, no trailing space");
}

/* The text of m, or NULL. */
static char *
render(const struct pingoo_metrics *m)
{
	static const char *const routes[] = { "/r" };
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (fp == NULL)
		return NULL;
	if (pingoo_metrics_write(m, routes, fp) != 0) {
		fclose(fp);
		free(text);
		return NULL;
	}
	fclose(fp);
	return text;
}

/*
 * The policy for a name the database holds that this build does not know:
 * the store reads every state, direction, status and phase with the
 * parsers walked above, and an unknown name (a state 'paused' a newer
 * schema added, say) refuses the row with pingoo_store_bad_name.
 */
static void
test_db_policy(void)
{
	struct pingoo_metrics *m = pingoo_metrics_new(1, 1);
	enum ping_state st = PING_COMPLETE;
	enum pingoo_tp_status xs = PINGOO_TP_OK;
	enum pingoo_err e = PINGOO_OK;
	char log[512] = "", *text;
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n = 0;

	if (m == NULL || tmp == NULL || saved < 0) {
		ok(0, "a metrics table and a file for stderr");
		return;
	}
	pingoo_metrics_use(m);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	if (pingoo_ping_state_parse("paused", &st) != PINGOO_OK)
		e = pingoo_store_bad_name("ping_tests.state", "paused\n\001");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(log, 1, sizeof(log) - 1, tmp);
	log[n] = '\0';
	fclose(tmp);
	ok(e == PINGOO_ERR_DB && st == PING_COMPLETE,
	    "an unknown state from the database is PINGOO_ERR_DB, never a "
	    "default: the value read is left alone");
	ok(pingoo_tp_status_parse("lost", &xs) == PINGOO_ERR_INVAL &&
	    xs == PINGOO_TP_OK, "nor is an unknown status read as failed");
	ok(strstr(log, "ping_tests.state") != NULL &&
	    strstr(log, "'paused?" "?'") != NULL,
	    "it is logged with its column and its value, made printable");
	text = render(m);
	ok(text != NULL && strstr(text, "\npingoo_db_errors_total 1\n") != NULL,
	    "it counts as a database error");
	free(text);
	pingoo_metrics_use(NULL);
	pingoo_metrics_free(m);
}

int
main(void)
{
	test_helper();
	test_errors();
	test_measure();
	test_db_policy();
	return tap_done();
}
