/* test-migrate.c - which schema files migrate applies, and in what order. */
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
		ok(e == PINGOO_OK && m.n >= 10, "the project's own schema/ lists "
		    "(no two migrations share a number)");
		pingoo_migrations_free(&m);
	} else
		ok(1, "# SKIP no PINGOO_SRCDIR: the project's schema/ is not "
		    "checked");

	snprintf(name, sizeof(name), "%s/none", dir);
	e = pingoo_migrations_list(&m, name, NULL, &f);
	ok(e == PINGOO_ERR_IO && m.n == 0, "a missing folder is an I/O error");

	rmtree(dir, files, sizeof(files) / sizeof(files[0]));
	rmtree(big, bignames, PINGOO_MIGRATIONS_MAX + 1);
	return tap_done();
}
