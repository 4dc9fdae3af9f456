/*
 * migrate.c - applies the numbered SQL files of schema/ once each, in
 * order, recording each in schema_migrations.  Files are append-only: a
 * change to the schema is a new file, never an edit of an applied one.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "store_int.h"

enum migrate_sql {
	MIG_SEEN,
	MIG_RECORD,
	MIG__MAX
};

static const char *const sql[] = {
	[MIG_SEEN] =
	"SELECT version FROM schema_migrations WHERE version = ?",
	[MIG_RECORD] =
	"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
};
PINGOO_SQL_TABLE_CHECK(sql, MIG__MAX);

const struct pingoo_sql_table pingoo_sql_misc = { sql, MIG__MAX };

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(255) NOT NULL,"
    " applied_at BIGINT NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

#define MAX_FILE_BYTES (1024 * 1024)

/* "NNN_words.sql" and nothing else: editors' backups are not migrations. */
static int
migration_name(const char *n)
{
	size_t len = strlen(n);
	size_t i;

	if (len < 9 || strcmp(n + len - 4, ".sql") != 0)
		return 0;
	for (i = 0; i < 3; i++)
		if (!isdigit((unsigned char)n[i]))
			return 0;
	if (n[3] != '_')
		return 0;
	for (i = 4; i < len - 4; i++)
		if (!islower((unsigned char)n[i]) &&
		    !isdigit((unsigned char)n[i]) && n[i] != '_')
			return 0;
	return 1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when the chunk holds something besides blanks and -- comments. */
static int
has_sql(const char *p)
{
	while (*p != '\0') {
		if (p[0] == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (!isspace((unsigned char)*p))
			return 1;
		else
			p++;
	}
	return 0;
}

/* Statements end with ';' at the end of a line; DDL has no data in it. */
static enum pingoo_err
apply_file(struct pingoo_store *s, char *text, struct pingoo_fault *f,
    const char *name)
{
	char *p = text, *end;

	while (*p != '\0') {
		end = strstr(p, ";\n");
		if (end != NULL)
			*end = '\0';
		if (has_sql(p) && pingoo_store_exec_text(s, p) != PINGOO_OK)
			return pingoo_fault_set(f, PINGOO_ERR_DB, NULL, name,
			    "%s: %s", name, pingoo_store_errmsg(s));
		if (end == NULL)
			break;
		p = end + 2;
	}
	return PINGOO_OK;
}

static enum pingoo_err
seen_row(void *arg)
{
	*(int *)arg = 1;
	return PINGOO_OK;
}

static enum pingoo_err
migrate_one(struct pingoo_store *s, const char *dir, const char *name,
    void (*log)(void *, const char *), void *arg, struct pingoo_fault *f)
{
	MYSQL_BIND in[3], out[1];
	int32_t version = atoi(name), got;
	unsigned long nlen = strlen(name);
	int64_t now;
	int seen = 0;
	char path[4096];
	char *text = NULL;
	size_t len;
	enum pingoo_err e;

	pingoo_bind_i32(&in[0], &version);
	pingoo_bind_i32(&out[0], &got);
	e = pingoo_store_run(s, PINGOO_SQL_MISC, MIG_SEEN, in,
	    out, seen_row, &seen, NULL, NULL);
	if (e != PINGOO_OK)
		return pingoo_fault_set(f, e, NULL, NULL, "%s",
		    pingoo_store_errmsg(s));
	if (seen)
		return PINGOO_OK;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((text = pingoo_slurp(path, MAX_FILE_BYTES, &len)) == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_IO, NULL, name,
		    "%s: %s", path, strerror(errno));
	if ((e = apply_file(s, text, f, name)) != PINGOO_OK)
		goto out;
	now = pingoo_now_us();
	pingoo_bind_i32(&in[0], &version);
	pingoo_bind_str(&in[1], name, &nlen);
	pingoo_bind_i64(&in[2], &now);
	e = pingoo_store_run(s, PINGOO_SQL_MISC, MIG_RECORD, in, NULL, NULL,
	    NULL, NULL, NULL);
	if (e != PINGOO_OK) {
		pingoo_fault_set(f, e, NULL, name, "recording %s: %s", name,
		    pingoo_store_errmsg(s));
		goto out;
	}
	if (log != NULL)
		log(arg, name);
out:
	free(text);
	return e;
}

void
pingoo_migrations_free(struct pingoo_migrations *m)
{
	while (m->n > 0)
		free(m->name[--m->n]);
}

/* Two files with one number: schema_migrations records a number, so the
 * second would be taken as applied and silently never run. */
static enum pingoo_err
unique_numbers(const struct pingoo_migrations *m, const char *dir,
    struct pingoo_fault *f)
{
	size_t i;

	for (i = 1; i < m->n; i++)
		if (strncmp(m->name[i - 1], m->name[i], 3) == 0)
			return pingoo_fault_set(f, PINGOO_ERR_CONFIG, NULL, NULL,
			    "%s: %s and %s have the same number: each "
			    "migration needs its own", dir, m->name[i - 1],
			    m->name[i]);
	return PINGOO_OK;
}

/*
 * A name that cannot be copied, one more file than fits, or two files with
 * one number is an error:
 * skipping it would apply the migrations after it without it.
 */
enum pingoo_err
pingoo_migrations_list(struct pingoo_migrations *m, const char *dir,
    char *(*copy)(const char *), struct pingoo_fault *f)
{
	DIR *d = NULL;
	struct dirent *de;
	enum pingoo_err e = PINGOO_OK;

	m->n = 0;
	if (copy == NULL)
		copy = strdup;
	if ((d = opendir(dir)) == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_IO, NULL, NULL,
		    "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!migration_name(de->d_name))
			continue;
		if (m->n == PINGOO_MIGRATIONS_MAX) {
			e = pingoo_fault_set(f, PINGOO_ERR_TOOBIG, NULL, NULL,
			    "%s: more than %d migrations", dir,
			    PINGOO_MIGRATIONS_MAX);
			goto out;
		}
		if ((m->name[m->n] = copy(de->d_name)) == NULL) {
			e = pingoo_fault_set(f, PINGOO_ERR_NOMEM, NULL, NULL,
			    "%s/%s: out of memory", dir, de->d_name);
			goto out;
		}
		m->n++;
	}
	qsort(m->name, m->n, sizeof(m->name[0]), cmp_names);
	e = unique_numbers(m, dir, f);
out:
	closedir(d);
	if (e != PINGOO_OK)
		pingoo_migrations_free(m);
	return e;
}

enum pingoo_err
pingoo_migrate(struct pingoo_store *s, const char *dir,
    void (*log)(void *, const char *), void *arg, struct pingoo_fault *f)
{
	struct pingoo_migrations m;
	size_t i;
	enum pingoo_err e;

	if ((e = pingoo_migrations_list(&m, dir, NULL, f)) != PINGOO_OK)
		return e;
	if ((e = pingoo_store_exec_text(s, create_table)) != PINGOO_OK)
		pingoo_fault_set(f, e, NULL, NULL, "%s",
		    pingoo_store_errmsg(s));
	for (i = 0; i < m.n && e == PINGOO_OK; i++)
		e = migrate_one(s, dir, m.name[i], log, arg, f);
	pingoo_migrations_free(&m);
	return e;
}
