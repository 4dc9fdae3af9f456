/*
 * deletion.c - the test_deletions table (schema 012): the progress of
 * deleting every test of a user, which goes on after its request has been
 * answered.  Every statement names the user; the one that finds a stalled
 * deletion reads any user's, for the background thread to take it up.
 */
#include <string.h>

#include "core/core.h"
#include "store_int.h"

enum deletion_sql {
	DEL_START,
	DEL_PROGRESS,
	DEL_GET,
	DEL_STALLED,
	DEL_CLAIM,
	DEL__MAX
};

static const char *const sql[] = {
	/* A new request starts the counts afresh, whatever came before. */
	[DEL_START] =
	"INSERT INTO test_deletions (user_id, state, ping_deleted, tp_deleted, "
	"started_at, updated_at, finished_at) VALUES (?, 'running', 0, 0, ?, ?, "
	"NULL) ON DUPLICATE KEY UPDATE state = 'running', ping_deleted = 0, "
	"tp_deleted = 0, started_at = VALUES(started_at), "
	"updated_at = VALUES(updated_at), finished_at = NULL",
	[DEL_PROGRESS] =
	"UPDATE test_deletions SET ping_deleted = ping_deleted + ?, "
	"tp_deleted = tp_deleted + ?, updated_at = ?, "
	"state = IF(?, 'done', 'running'), finished_at = IF(?, ?, NULL) "
	"WHERE user_id = ? AND state = 'running'",
	[DEL_GET] =
	"SELECT state, ping_deleted, tp_deleted, started_at, updated_at, "
	"finished_at FROM test_deletions WHERE user_id = ?",
	[DEL_STALLED] =
	"SELECT user_id FROM test_deletions WHERE state = 'running' "
	"AND updated_at < ? ORDER BY updated_at LIMIT 1",
	/* One statement, so two hosts cannot both take it. */
	[DEL_CLAIM] =
	"UPDATE test_deletions SET updated_at = ? WHERE user_id = ? "
	"AND state = 'running' AND updated_at < ?",
};
PINGOO_SQL_TABLE_CHECK(sql, DEL__MAX);

const struct pingoo_sql_table pingoo_sql_deletion = { sql, DEL__MAX };

static enum pingoo_err
run(struct pingoo_store *s, enum deletion_sql i, MYSQL_BIND *in,
    MYSQL_BIND *out, enum pingoo_err (*row)(void *), void *arg)
{
	return pingoo_store_run(s, PINGOO_SQL_DELETION, (int)i, in, out, row,
	    arg, NULL, NULL);
}

enum pingoo_err
pingoo_deletion_start(struct pingoo_store *s, uint64_t user, int64_t now)
{
	MYSQL_BIND in[3];

	pingoo_bind_u64(&in[0], &user);
	pingoo_bind_i64(&in[1], &now);
	pingoo_bind_i64(&in[2], &now);
	return run(s, DEL_START, in, NULL, NULL, NULL);
}

enum pingoo_err
pingoo_deletion_progress(struct pingoo_store *s, uint64_t user,
    uint64_t ping, uint64_t tp, int done, int64_t now)
{
	MYSQL_BIND in[7];
	int32_t d = done != 0;

	pingoo_bind_u64(&in[0], &ping);
	pingoo_bind_u64(&in[1], &tp);
	pingoo_bind_i64(&in[2], &now);
	pingoo_bind_i32(&in[3], &d);
	pingoo_bind_i32(&in[4], &d);
	pingoo_bind_i64(&in[5], &now);
	pingoo_bind_u64(&in[6], &user);
	return run(s, DEL_PROGRESS, in, NULL, NULL, NULL);
}

/* The row of DEL_GET. */
struct deletion_row {
	MYSQL_BIND		 out[6];
	char			 state[16];
	unsigned long		 statelen;
	char			 statenull, finnull;
	int64_t			 fin;
	struct pingoo_deletion	*d;
	int			 found;
};

static enum pingoo_err
deletion_found(void *arg)
{
	struct deletion_row *r = arg;

	if (strcmp(r->state, "running") == 0)
		r->d->done = 0;
	else if (strcmp(r->state, "done") == 0)
		r->d->done = 1;
	else
		return pingoo_store_bad_name("test_deletions.state", r->state);
	r->d->finished_at = r->finnull ? -1 : r->fin;
	r->found = 1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_deletion_get(struct pingoo_store *s, uint64_t user,
    struct pingoo_deletion *d)
{
	struct deletion_row r;
	MYSQL_BIND in[1];
	enum pingoo_err e;

	memset(&r, 0, sizeof(r));
	memset(d, 0, sizeof(*d));
	r.d = d;
	pingoo_bind_strout(&r.out[0], r.state, sizeof(r.state), &r.statelen,
	    &r.statenull);
	pingoo_bind_u64(&r.out[1], &d->ping);
	pingoo_bind_u64(&r.out[2], &d->tp);
	pingoo_bind_i64(&r.out[3], &d->started_at);
	pingoo_bind_i64(&r.out[4], &d->updated_at);
	pingoo_bind_i64out(&r.out[5], &r.fin, &r.finnull);
	pingoo_bind_u64(&in[0], &user);
	if ((e = run(s, DEL_GET, in, r.out, deletion_found, &r)) != PINGOO_OK)
		return e;
	return r.found ? PINGOO_OK : PINGOO_ERR_NOTFOUND;
}

/* The row of DEL_STALLED. */
struct stalled_row {
	MYSQL_BIND	 out[1];
	uint64_t	 user;
	int		 found;
};

static enum pingoo_err
stalled_found(void *arg)
{
	((struct stalled_row *)arg)->found = 1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_deletion_stalled(struct pingoo_store *s, int64_t before,
    uint64_t *user)
{
	struct stalled_row r;
	MYSQL_BIND in[1];
	enum pingoo_err e;

	memset(&r, 0, sizeof(r));
	pingoo_bind_u64(&r.out[0], &r.user);
	pingoo_bind_i64(&in[0], &before);
	e = run(s, DEL_STALLED, in, r.out, stalled_found, &r);
	*user = e == PINGOO_OK && r.found ? r.user : 0;
	return e;
}

enum pingoo_err
pingoo_deletion_claim(struct pingoo_store *s, uint64_t user, int64_t before,
    int64_t now, int *taken)
{
	MYSQL_BIND in[3];
	uint64_t n = 0;
	enum pingoo_err e;

	pingoo_bind_i64(&in[0], &now);
	pingoo_bind_u64(&in[1], &user);
	pingoo_bind_i64(&in[2], &before);
	e = pingoo_store_run(s, PINGOO_SQL_DELETION, DEL_CLAIM, in, NULL, NULL,
	    NULL, &n, NULL);
	*taken = e == PINGOO_OK && n == 1;
	return e;
}
