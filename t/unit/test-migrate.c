/* test-migrate.c - which schema files migrate applies, and in what order;
 * and that the project's newer migrations only expand the schema. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "store/store.h"
#include "../tap.h"

static int copies, fail_at;

/* strdup, except that copy number fail_at fails as an exhausted heap does. */
static char *
copy(const char *s)
{
	if (++copies == fail_at) {
		errno = ENOMEM;
		return NULL;
	}
	return strdup(s);
}

static void
touch(const char *dir, const char *name)
{
	char path[512];
	FILE *fp;

	/* The names are the test's own and short; a longer path is skipped. */
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return;
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
}

static void
rmtree(const char *dir, const char *const *names, size_t n)
{
	char path[512];
	size_t i;

	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
		    (int)sizeof(path))
			unlink(path);
	}
	rmdir(dir);
}

/* An upper-case copy of text with its "--" comments blanked, for looking
 * for statements. */
static char *
statements(const char *text)
{
	char *u = strdup(text), *p;
	int comment = 0;

	for (p = u; p != NULL && *p != '\0'; p++) {
		if (p[0] == '-' && p[1] == '-')
			comment = 1;
		else if (*p == '\n')
			comment = 0;
		if (comment)
			*p = ' ';
		else if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	}
	return u;
}

/*
 * Schema 011 and later, as docs/deployment.md's upgrade asks: the previous
 * release's workers run against them, so they may add (tables, nullable or
 * defaulted columns, indexes) and nothing else.  Returns 1 when the file
 * at path does so, with a diagnostic otherwise.
 */
static int
expands_only(const char *path)
{
	static const char *const never[] = { "DROP ", "RENAME ", " MODIFY ",
	    " CHANGE ", "TRUNCATE ", "DELETE FROM" };
	char *text, *u, *p, *end;
	size_t n, i;
	int good = 1;

	if ((text = pingoo_slurp(path, 1 << 20, &n)) == NULL)
		return 0;
	u = statements(text);
	free(text);
	if (u == NULL)
		return 0;
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strstr(u, never[i]) != NULL) {
			diag("%s: %s", path, never[i]);
			good = 0;
		}
	/* A table made again would fail where it exists: IF NOT EXISTS. */
	for (p = u; (p = strstr(p, "CREATE TABLE ")) != NULL; p++)
		if (strncmp(p + 13, "IF NOT EXISTS", 13) != 0) {
			diag("%s: CREATE TABLE without IF NOT EXISTS", path);
			good = 0;
		}
	/* An added column the old statements do not name must fill itself. */
	for (p = u; (p = strstr(p, "ADD COLUMN")) != NULL; p = end) {
		if ((end = strpbrk(p + 10, ",;")) == NULL)
			end = p + strlen(p);
		*end = '\0';
		if (strstr(p, "NOT NULL") != NULL && strstr(p, "DEFAULT") == NULL) {
			diag("%s: a NOT NULL column without a default", path);
			good = 0;
		}
		end++;
	}
	free(u);
	return good;
}

int
main(void)
{
	static const char *const files[] = { "003_c.sql", "001_a.sql",
	    "002_b.sql", "001_a.sql~", "README", "4_short.sql" };
	char dir[] = "/tmp/pingoo-migrate-XXXXXX";
	char big[] = "/tmp/pingoo-migrate-XXXXXX";
	char name[32], path[4096];
	const char *src;
	const char *bignames[PINGOO_MIGRATIONS_MAX + 1];
	char bigstore[PINGOO_MIGRATIONS_MAX + 1][32];
	struct pingoo_migrations m;
	struct pingoo_fault f;
	enum pingoo_err e;
	FILE *fp;
	size_t i;

	if (mkdtemp(dir) == NULL || mkdtemp(big) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		touch(dir, files[i]);

	e = pingoo_migrations_list(&m, dir, NULL, &f);
	ok(e == PINGOO_OK && m.n == 3,
	    "only the NNN_words.sql files of a folder are migrations");
	ok(m.n == 3 && strcmp(m.name[0], "001_a.sql") == 0 &&
	    strcmp(m.name[1], "002_b.sql") == 0 &&
	    strcmp(m.name[2], "003_c.sql") == 0,
	    "they are listed in the order of their numbers");
	pingoo_migrations_free(&m);
	ok(m.n == 0, "freeing the list empties it");

	copies = 0;
	fail_at = 2;
	memset(&f, 0, sizeof(f));
	e = pingoo_migrations_list(&m, dir, copy, &f);
	ok(e == PINGOO_ERR_NOMEM,
	    "a name that cannot be copied fails the listing, not just that file");
	ok(m.n == 0, "a failed listing holds no names, so no migration applies");
	ok(strstr(f.message, "002_b.sql: out of memory") != NULL,
	    "the failure names the file and says the memory ran out");

	copies = 0;
	fail_at = 4;
	e = pingoo_migrations_list(&m, dir, copy, &f);
	ok(e == PINGOO_OK && m.n == 3,
	    "a copier that fails only after the last name lists them all");
	pingoo_migrations_free(&m);

	for (i = 0; i <= PINGOO_MIGRATIONS_MAX; i++) {
		snprintf(bigstore[i], sizeof(bigstore[i]), "%03zu_m.sql", i);
		bignames[i] = bigstore[i];
		touch(big, bigstore[i]);
	}
	e = pingoo_migrations_list(&m, big, NULL, &f);
	ok(e == PINGOO_ERR_TOOBIG && m.n == 0,
	    "one migration more than %d fails the listing instead of "
	    "leaving one out", PINGOO_MIGRATIONS_MAX);

	touch(dir, "002_again.sql");
	memset(&f, 0, sizeof(f));
	e = pingoo_migrations_list(&m, dir, NULL, &f);
	ok(e == PINGOO_ERR_CONFIG && m.n == 0 &&
	    strstr(f.message, "002_again.sql") != NULL &&
	    strstr(f.message, "002_b.sql") != NULL,
	    "two files with one number fail the listing, naming both");
	snprintf(name, sizeof(name), "%s/002_again.sql", dir);
	unlink(name);

	if ((src = getenv("PINGOO_SRCDIR")) != NULL) {
		snprintf(path, sizeof(path), "%s/schema", src);
		e = pingoo_migrations_list(&m, path, NULL, &f);
		ok(e == PINGOO_OK && m.n >= 11, "the project's own schema/ lists "
		    "(no two migrations share a number)");
		ok(e == PINGOO_OK && m.n >= 11 &&
		    strcmp(m.name[10], "011_revocations.sql") == 0,
		    "011_revocations.sql comes eleventh");
		for (i = 10; e == PINGOO_OK && i < m.n; i++) {
			snprintf(path, sizeof(path), "%s/schema/%s", src,
			    m.name[i]);
			ok(expands_only(path), "%s only adds to the schema (new "
			    "tables, columns that fill themselves, indexes)",
			    m.name[i]);
		}
		pingoo_migrations_free(&m);
	} else
		ok(1, "# SKIP no PINGOO_SRCDIR: the project's schema/ is not "
		    "checked");

	snprintf(path, sizeof(path), "%s/contract.sql", dir);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("-- drop nothing here\nALTER TABLE t ADD COLUMN a INT NULL, "
		    "DROP COLUMN b;\n", fp);
		fclose(fp);
	}
	ok(!expands_only(path), "the check refuses a migration that drops a "
	    "column (and is not fooled by a comment)");
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("ALTER TABLE t ADD COLUMN a INT NOT NULL;\n"
		    "CREATE TABLE u (id INT);\n", fp);
		fclose(fp);
	}
	ok(!expands_only(path), "... one that adds a NOT NULL column without a "
	    "default, or a table without IF NOT EXISTS");
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("-- DROP is only said here\nALTER TABLE t ADD COLUMN a INT "
		    "NOT NULL DEFAULT 0, ADD COLUMN b INT NULL;\n"
		    "CREATE TABLE IF NOT EXISTS u (id INT, FOREIGN KEY (id) "
		    "REFERENCES t (id) ON DELETE CASCADE);\n", fp);
		fclose(fp);
	}
	ok(expands_only(path), "... and takes one that only adds");
	unlink(path);

	snprintf(name, sizeof(name), "%s/none", dir);
	e = pingoo_migrations_list(&m, name, NULL, &f);
	ok(e == PINGOO_ERR_IO && m.n == 0, "a missing folder is an I/O error");

	rmtree(dir, files, sizeof(files) / sizeof(files[0]));
	rmtree(big, bignames, PINGOO_MIGRATIONS_MAX + 1);
	return tap_done();
}
