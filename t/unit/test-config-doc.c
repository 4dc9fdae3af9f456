/*
 * test-config-doc.c - docs/configuration.md documents exactly the keys of
 * lib/core/config.c's table, each with the table's type, default and range.
 * The table is the one source; this test is what keeps the page true.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "../tap.h"

#define ROWS_MAX	128

/* One row of the page's table of keys, its cells cut out of the text. */
struct row {
	char	 name[128], type[16], def[128], range[64];
	int	 has_def;	/* a value in backticks; 0 for "none" */
	int	 used;		/* matched by a key of the table */
};

static struct row rows[ROWS_MAX];
static size_t nrows;

/* Copies cell s[0..len) without its outer blanks into dst[cap]. */
static void
cell(char *dst, size_t cap, const char *s, size_t len)
{
	while (len > 0 && *s == ' ')
		s++, len--;
	while (len > 0 && s[len - 1] == ' ')
		len--;
	snprintf(dst, cap, "%.*s", (int)len, s);
}

/* The text between the first pair of backticks of s into dst; 0 if none. */
static int
quoted(char *dst, size_t cap, const char *s)
{
	const char *a, *b;

	if ((a = strchr(s, '`')) == NULL || (b = strchr(a + 1, '`')) == NULL)
		return 0;
	snprintf(dst, cap, "%.*s", (int)(b - a - 1), a + 1);
	return 1;
}

/* Reads the rows of the table under "## Keys": | `key` | type | default |
 * range | meaning |.  -1 when the page has no such table. */
static int
read_rows(const char *text)
{
	const char *p, *nl, *c[5];
	char buf[128];
	struct row *r;
	size_t len;
	int i;

	if ((p = strstr(text, "\n## Keys\n")) == NULL)
		return -1;
	p++;
	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (p != text && strncmp(p, "## ", 3) == 0 &&
		    strncmp(p, "## Keys", 7) != 0)
			break;		/* the next section */
		if (strncmp(p, "| `", 3) == 0 && nrows < ROWS_MAX) {
			c[0] = p + 1;
			for (i = 1; i < 5; i++)
				if ((c[i] = memchr(c[i - 1], '|',
				    len - (size_t)(c[i - 1] - p))) == NULL)
					break;
				else
					c[i]++;
			if (i < 5) {
				diag("a row with fewer than five cells: %.*s",
				    (int)len, p);
				return -1;
			}
			r = &rows[nrows++];
			cell(buf, sizeof(buf), c[0], (size_t)(c[1] - c[0] - 1));
			if (!quoted(r->name, sizeof(r->name), buf))
				snprintf(r->name, sizeof(r->name), "%s", buf);
			cell(r->type, sizeof(r->type), c[1],
			    (size_t)(c[2] - c[1] - 1));
			cell(buf, sizeof(buf), c[2], (size_t)(c[3] - c[2] - 1));
			r->has_def = quoted(r->def, sizeof(r->def), buf);
			if (!r->has_def)
				snprintf(r->def, sizeof(r->def), "%s", buf);
			cell(r->range, sizeof(r->range), c[3],
			    (size_t)(c[4] - c[3] - 1));
		}
		if (nl == NULL)
			break;
	}
	return 0;
}

static struct row *
find_row(const char *name)
{
	size_t i;

	for (i = 0; i < nrows; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

static const char *
type_word(enum pingoo_config_type t)
{
	switch (t) {
	case PINGOO_CONFIG_NUMBER:
		return "number";
	case PINGOO_CONFIG_STRING:
		return "string";
	default:
		return "file";
	}
}

/* "min..max", then anything after a blank (a note such as "(2^40)"). */
static int
range_is(const char *s, uint64_t min, uint64_t max)
{
	unsigned long long lo, hi;
	char *end;

	errno = 0;
	lo = strtoull(s, &end, 10);
	if (errno != 0 || end == s || strncmp(end, "..", 2) != 0)
		return 0;
	s = end + 2;
	hi = strtoull(s, &end, 10);
	if (errno != 0 || end == s || (*end != '\0' && *end != ' '))
		return 0;
	return lo == min && hi == max;
}

/* The row says what the key says; diag names the first difference. */
static int
row_matches(const struct pingoo_config_key *k, const struct row *r)
{
	/* "" in the page is the table's empty default. */
	const char *want = k->def != NULL && k->def[0] != '\0' ? k->def :
	    k->def != NULL ? "\"\"" : NULL;

	if (strcmp(r->type, type_word(k->type)) != 0) {
		diag("%s: type \"%s\", the table's is %s", k->name, r->type,
		    type_word(k->type));
		return 0;
	}
	if (want == NULL ? (r->has_def || strcmp(r->def, "none") != 0) :
	    (!r->has_def || strcmp(r->def, want) != 0)) {
		diag("%s: default \"%s\", the table's is %s", k->name, r->def,
		    want != NULL ? want : "none");
		return 0;
	}
	if (k->type == PINGOO_CONFIG_NUMBER ?
	    !range_is(r->range, k->min, k->max) : r->range[0] != '\0') {
		diag("%s: range \"%s\", the table's is %llu..%llu", k->name,
		    r->range, (unsigned long long)k->min,
		    (unsigned long long)k->max);
		return 0;
	}
	return 1;
}

/* Each number's default lies in its range and each key has a line. */
static void
test_table(void)
{
	struct pingoo_config_key k;
	unsigned long long v;
	size_t i;
	int good = 1;

	for (i = 0; pingoo_config_key(i, &k); i++) {
		if (k.desc == NULL || k.desc[0] == '\0') {
			diag("%s has no description", k.name);
			good = 0;
		}
		if (k.type != PINGOO_CONFIG_NUMBER)
			continue;
		v = k.def != NULL ? strtoull(k.def, NULL, 10) : 0;
		if (k.def == NULL || v < k.min || v > k.max) {
			diag("%s: default %s outside %llu..%llu", k.name,
			    k.def != NULL ? k.def : "(none)",
			    (unsigned long long)k.min,
			    (unsigned long long)k.max);
			good = 0;
		}
	}
	ok(i > 40, "the table hands out its keys (%zu)", i);
	ok(good, "every key has a line of meaning, every number a default "
	    "in its range");
}

int
main(void)
{
	struct pingoo_config_key k;
	const char *top = getenv("PINGOO_SRCDIR");
	char path[4096];
	char *text;
	size_t len, i, j, bad = 0;
	int rc;
	struct row *r;

	test_table();
	if (top == NULL || top[0] == '\0')
		top = TOP_SRCDIR;
	snprintf(path, sizeof(path), "%s/docs/configuration.md", top);
	if ((text = pingoo_slurp(path, 1 << 20, &len)) == NULL) {
		ok(0, "docs/configuration.md is readable (%s: %s)", path,
		    strerror(errno));
		return tap_done();
	}
	rc = read_rows(text);
	ok(rc == 0 && nrows > 0,
	    "docs/configuration.md has a table of keys (%zu rows)", nrows);
	for (i = 0; pingoo_config_key(i, &k); i++) {
		if ((r = find_row(k.name)) == NULL) {
			ok(0, "%s is documented", k.name);
			continue;
		}
		r->used = 1;
		ok(row_matches(&k, r), "%s is documented as the table has it",
		    k.name);
	}
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(rows[i].name, rows[j].name) == 0)
				break;
		if (j < i) {
			diag("%s: documented twice", rows[i].name);
			bad++;
		} else if (!rows[i].used) {
			diag("%s: no such key in the table", rows[i].name);
			bad++;
		}
	}
	ok(bad == 0, "the page documents no key the table lacks, none twice");
	free(text);
	return tap_done();
}
