/*
 * revoke.c - the revoked_tokens and revoked_users tables (schema 011): a
 * logout names one token by its jti; a logout-all, a password change or a
 * user's deletion every token of the user issued until now.  The worker
 * hosts read them back by revoked_at into shared memory
 * (lib/shm/revtab.c, app/background.c); rows go once every token they
 * refuse has expired.
 */
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"
#include "store_int.h"

enum revoke_sql {
	REV_TOKEN,
	REV_USER,
	REV_USER_FLOOR,
	REV_TOKENS_SINCE,
	REV_USERS_SINCE,
	REV_PURGE_TOKENS,
	REV_PURGE_USERS,
	REV__MAX
};

static const char *const sql[] = {
	/* A second logout of the same token changes nothing, nor its
	 * revoked_at: the pollers have it already. */
	[REV_TOKEN] =
	"INSERT INTO revoked_tokens (jti, user_id, issued_at, expires_at, "
	"revoked_at) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE jti = jti",
	/* A floor only rises; revoked_at is new so the pollers see it. */
	[REV_USER] =
	"INSERT INTO revoked_users (user_id, tokens_valid_after, expires_at, "
	"revoked_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
	"tokens_valid_after = GREATEST(tokens_valid_after, "
	"VALUES(tokens_valid_after)), "
	"expires_at = GREATEST(expires_at, VALUES(expires_at)), "
	"revoked_at = VALUES(revoked_at)",
	[REV_USER_FLOOR] =
	"SELECT tokens_valid_after FROM revoked_users WHERE user_id = ?",
	[REV_TOKENS_SINCE] =
	"SELECT jti, user_id, issued_at, expires_at, revoked_at "
	"FROM revoked_tokens WHERE revoked_at >= ? AND expires_at >= ?",
	[REV_USERS_SINCE] =
	"SELECT user_id, tokens_valid_after, expires_at, revoked_at "
	"FROM revoked_users WHERE revoked_at >= ? AND expires_at >= ?",
	[REV_PURGE_TOKENS] =
	"DELETE FROM revoked_tokens WHERE expires_at < ? LIMIT ?",
	[REV_PURGE_USERS] =
	"DELETE FROM revoked_users WHERE expires_at < ? LIMIT ?",
};
PINGOO_SQL_TABLE_CHECK(sql, REV__MAX);

const struct pingoo_sql_table pingoo_sql_revoke = { sql, REV__MAX };

enum pingoo_err
pingoo_revoke_token(struct pingoo_store *s, const struct pingoo_token_info *t,
    int64_t now_us)
{
	MYSQL_BIND in[5];
	unsigned long jlen = strlen(t->jti);
	uint64_t user = t->user_id;
	int64_t iat = t->iat, exp = t->exp;

	pingoo_bind_str(&in[0], t->jti, &jlen);
	pingoo_bind_u64(&in[1], &user);
	pingoo_bind_i64(&in[2], &iat);
	pingoo_bind_i64(&in[3], &exp);
	pingoo_bind_i64(&in[4], &now_us);
	return pingoo_store_run(s, PINGOO_SQL_REVOKE, REV_TOKEN, in, NULL, NULL,
	    NULL, NULL, NULL);
}

void
pingoo_revoke_user_times(const struct pingoo_config *cfg, int64_t now_us,
    int64_t *floor, int64_t *expires_at)
{
	/* Every token issued up to this second, this one included: a token
	 * issued a moment later in the same second is refused too, and the
	 * token route waits for the next second (app/h_auth.c). */
	*floor = now_us / 1000000;
	/* No token lives longer than jwt_ttl (lib/auth/token.c). */
	*expires_at = *floor + cfg->jwt_ttl;
}

enum pingoo_err
pingoo_revoke_user(struct pingoo_store *s, uint64_t user_id, int64_t now_us)
{
	MYSQL_BIND in[4];
	int64_t floor, expires_at;

	pingoo_revoke_user_times(pingoo_store_config(s), now_us, &floor,
	    &expires_at);
	pingoo_bind_u64(&in[0], &user_id);
	pingoo_bind_i64(&in[1], &floor);
	pingoo_bind_i64(&in[2], &expires_at);
	pingoo_bind_i64(&in[3], &now_us);
	return pingoo_store_run(s, PINGOO_SQL_REVOKE, REV_USER, in, NULL, NULL,
	    NULL, NULL, NULL);
}

struct floor_row {
	int64_t		 floor;
	int		 found;
};

static enum pingoo_err
floor_found(void *arg)
{
	((struct floor_row *)arg)->found = 1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_revoked_floor(struct pingoo_store *s, uint64_t user_id, int64_t *floor)
{
	struct floor_row r = { 0, 0 };
	MYSQL_BIND in[1], out[1];
	enum pingoo_err e;

	pingoo_bind_u64(&in[0], &user_id);
	pingoo_bind_i64(&out[0], &r.floor);
	e = pingoo_store_run(s, PINGOO_SQL_REVOKE, REV_USER_FLOOR, in, out,
	    floor_found, &r, NULL, NULL);
	*floor = e == PINGOO_OK && r.found ? r.floor : INT64_MIN;
	return e;
}

/* One row of either SELECT, handed on as a struct pingoo_revocation. */
struct rev_row {
	struct pingoo_revocation	 r;
	unsigned long			 jtilen;
	char				 jtinull;
	MYSQL_BIND			 out[5];
	enum pingoo_err			(*each)(const struct pingoo_revocation *,
					    void *);
	void				*arg;
};

static enum pingoo_err
rev_row(void *arg)
{
	struct rev_row *w = arg;

	return w->each(&w->r, w->arg);
}

enum pingoo_err
pingoo_revocations(struct pingoo_store *s, int64_t since_us, int64_t alive_s,
    enum pingoo_err (*each)(const struct pingoo_revocation *, void *),
    void *arg)
{
	struct rev_row w;
	MYSQL_BIND in[2];
	enum pingoo_err e;

	memset(&w, 0, sizeof(w));
	w.each = each;
	w.arg = arg;
	pingoo_bind_i64(&in[0], &since_us);
	pingoo_bind_i64(&in[1], &alive_s);
	pingoo_bind_strout(&w.out[0], w.r.jti, sizeof(w.r.jti), &w.jtilen,
	    &w.jtinull);
	pingoo_bind_u64(&w.out[1], &w.r.user_id);
	pingoo_bind_i64(&w.out[2], &w.r.iat);
	pingoo_bind_i64(&w.out[3], &w.r.expires_at);
	pingoo_bind_i64(&w.out[4], &w.r.revoked_at);
	if ((e = pingoo_store_stream(s, PINGOO_SQL_REVOKE, REV_TOKENS_SINCE,
	    in, w.out, rev_row, &w)) != PINGOO_OK)
		return e;
	memset(&w.r, 0, sizeof(w.r));
	w.r.user_wide = 1;
	pingoo_bind_u64(&w.out[0], &w.r.user_id);
	pingoo_bind_i64(&w.out[1], &w.r.iat);
	pingoo_bind_i64(&w.out[2], &w.r.expires_at);
	pingoo_bind_i64(&w.out[3], &w.r.revoked_at);
	return pingoo_store_stream(s, PINGOO_SQL_REVOKE, REV_USERS_SINCE, in,
	    w.out, rev_row, &w);
}

enum pingoo_err
pingoo_revocations_purge(struct pingoo_store *s, int64_t before_s, int batch,
    uint64_t *n)
{
	MYSQL_BIND in[2];
	int64_t lim = batch;
	uint64_t a = 0, b = 0;
	enum pingoo_err e;

	pingoo_bind_i64(&in[0], &before_s);
	pingoo_bind_i64(&in[1], &lim);
	e = pingoo_store_run(s, PINGOO_SQL_REVOKE, REV_PURGE_TOKENS, in, NULL,
	    NULL, NULL, &a, NULL);
	if (e == PINGOO_OK)
		e = pingoo_store_run(s, PINGOO_SQL_REVOKE, REV_PURGE_USERS, in,
		    NULL, NULL, NULL, &b, NULL);
	*n = a + b;
	return e;
}
