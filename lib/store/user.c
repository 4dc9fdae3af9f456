/* user.c - the users table: accounts and their password hashes.  A new
 * password or a deletion revokes the user's tokens (revoke.c). */
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"
#include "store_int.h"

enum user_sql {
	USER_ADD,
	USER_BY_NAME,
	USER_BY_ID,
	USER_PASSWD,
	USER_DEL,
	USER_LIST,
	USER__MAX
};

static const char *const sql[] = {
	[USER_ADD] =
	"INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
	[USER_BY_NAME] =
	"SELECT id, name, created_at, password_hash FROM users WHERE name = ?",
	[USER_BY_ID] =
	"SELECT id, name, created_at, password_hash FROM users WHERE id = ?",
	[USER_PASSWD] =
	"UPDATE users SET password_hash = ? WHERE name = ?",
	[USER_DEL] =
	"DELETE FROM users WHERE name = ?",
	[USER_LIST] =
	"SELECT id, name, created_at, password_hash FROM users ORDER BY name",
};
PINGOO_SQL_TABLE_CHECK(sql, USER__MAX);

const struct pingoo_sql_table pingoo_sql_user = { sql, USER__MAX };

/* The output row shared by the three SELECTs. */
struct user_row {
	struct pingoo_user	 u;
	char			 hash[PINGOO_HASH_MAX];
	unsigned long		 namelen, hashlen;
	char			 namenull, hashnull;
	MYSQL_BIND		 out[4];
	int			 found;
	enum pingoo_err		(*cb)(const struct pingoo_user *, void *);
	void			*arg;
};

static void
user_row_bind(struct user_row *r)
{
	memset(r, 0, sizeof(*r));
	pingoo_bind_u64(&r->out[0], &r->u.id);
	pingoo_bind_strout(&r->out[1], r->u.name, sizeof(r->u.name),
	    &r->namelen, &r->namenull);
	pingoo_bind_i64(&r->out[2], &r->u.created_at);
	pingoo_bind_strout(&r->out[3], r->hash, sizeof(r->hash), &r->hashlen,
	    &r->hashnull);
}

static enum pingoo_err
user_row_found(void *arg)
{
	struct user_row *r = arg;

	r->found = 1;
	if (r->cb != NULL)
		return r->cb(&r->u, r->arg);
	return PINGOO_OK;
}

enum pingoo_err
pingoo_user_add(struct pingoo_store *s, const char *name, const char *hash,
    uint64_t *id)
{
	MYSQL_BIND in[3];
	unsigned long nlen = strlen(name), hlen = strlen(hash);
	int64_t now = pingoo_now_us();

	pingoo_bind_str(&in[0], name, &nlen);
	pingoo_bind_str(&in[1], hash, &hlen);
	pingoo_bind_i64(&in[2], &now);
	return pingoo_store_run(s, PINGOO_SQL_USER, USER_ADD, in, NULL, NULL,
	    NULL, NULL, id);
}

enum pingoo_err
pingoo_user_by_name(struct pingoo_store *s, const char *name,
    struct pingoo_user *u, char hash[PINGOO_HASH_MAX])
{
	struct user_row r;
	MYSQL_BIND in[1];
	unsigned long nlen = strlen(name);
	enum pingoo_err e;

	user_row_bind(&r);
	pingoo_bind_str(&in[0], name, &nlen);
	e = pingoo_store_run(s, PINGOO_SQL_USER, USER_BY_NAME, in, r.out,
	    user_row_found, &r, NULL, NULL);
	if (e != PINGOO_OK)
		return e;
	if (!r.found)
		return PINGOO_ERR_NOTFOUND;
	*u = r.u;
	if (hash != NULL)
		memcpy(hash, r.hash, PINGOO_HASH_MAX);
	return PINGOO_OK;
}

enum pingoo_err
pingoo_user_by_id(struct pingoo_store *s, uint64_t id, struct pingoo_user *u)
{
	struct user_row r;
	MYSQL_BIND in[1];
	enum pingoo_err e;

	user_row_bind(&r);
	pingoo_bind_u64(&in[0], &id);
	e = pingoo_store_run(s, PINGOO_SQL_USER, USER_BY_ID, in, r.out,
	    user_row_found, &r, NULL, NULL);
	if (e != PINGOO_OK)
		return e;
	if (!r.found)
		return PINGOO_ERR_NOTFOUND;
	*u = r.u;
	return PINGOO_OK;
}

/*
 * Runs statement idx (USER_PASSWD or USER_DEL, bound by in) on the user
 * called name, and revokes every token of theirs, in one transaction: a
 * password changed or an account deleted never leaves a token of the
 * user alive, nor is a revocation recorded for a change that failed.
 */
static enum pingoo_err
change_and_revoke(struct pingoo_store *s, const char *name, int idx,
    MYSQL_BIND *in)
{
	struct pingoo_user u;
	uint64_t n;
	enum pingoo_err e;
	int tries = 0;

	do {
		if ((e = pingoo_store_begin(s)) != PINGOO_OK)
			continue;
		n = 0;
		if ((e = pingoo_user_by_name(s, name, &u, NULL)) == PINGOO_OK &&
		    (e = pingoo_store_run(s, PINGOO_SQL_USER, idx, in, NULL,
		    NULL, NULL, &n, NULL)) == PINGOO_OK && n == 0)
			e = PINGOO_ERR_NOTFOUND;
		if (e == PINGOO_OK)
			e = pingoo_revoke_user(s, u.id, pingoo_now_us());
		if (e == PINGOO_OK)
			e = pingoo_store_commit(s);
		else
			pingoo_store_rollback(s);
	} while (pingoo_store_again(s, e, &tries));
	return e;
}

enum pingoo_err
pingoo_user_passwd(struct pingoo_store *s, const char *name, const char *hash)
{
	MYSQL_BIND in[2];
	unsigned long nlen = strlen(name), hlen = strlen(hash);

	pingoo_bind_str(&in[0], hash, &hlen);
	pingoo_bind_str(&in[1], name, &nlen);
	return change_and_revoke(s, name, USER_PASSWD, in);
}

/* Deletes the user; the schema's foreign keys delete their tests too. */
enum pingoo_err
pingoo_user_del(struct pingoo_store *s, const char *name)
{
	MYSQL_BIND in[1];
	unsigned long nlen = strlen(name);

	pingoo_bind_str(&in[0], name, &nlen);
	return change_and_revoke(s, name, USER_DEL, in);
}

enum pingoo_err
pingoo_user_each(struct pingoo_store *s,
    enum pingoo_err (*cb)(const struct pingoo_user *, void *), void *arg)
{
	struct user_row r;

	user_row_bind(&r);
	r.cb = cb;
	r.arg = arg;
	return pingoo_store_run(s, PINGOO_SQL_USER, USER_LIST, NULL, r.out,
	    user_row_found, &r, NULL, NULL);
}
