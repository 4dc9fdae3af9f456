/*
 * h_auth.c - bearer tokens: the gate in front of every private route, the
 * token route, logout and logout-all, /me and the published keys.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "app.h"

/* Tokens longer than this are refused before any parsing. */
#define TOKEN_MAX 8192

static int
refuse(struct req *r, const char *why)
{
	reply_error(r, 401, "unauthorized", NULL, "%s", why);
	return -1;
}

/*
 * 401 for a missing, refused or revoked token, 503 when the user cannot be
 * looked up or the host cannot tell whether the token was revoked.  Only
 * the Authorization header is read: never the query string.  The
 * revocation check is shared memory (background.c): no database time, so
 * the echo keeps it.
 */
int
auth_require(struct req *r, int check_user)
{
	const char *h = FCGX_GetParam("HTTP_AUTHORIZATION", r->fcgx->envp);
	enum pingoo_err e;

	if (h == NULL || *h == '\0')
		return refuse(r, "a bearer token is required");
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return refuse(r, "use the Bearer authorization scheme");
	h += 7;
	while (*h == ' ')
		h++;
	if (strlen(h) > TOKEN_MAX)
		return refuse(r, "the token is too long");
	if (pingoo_token_verify_cached(r->w->tokens, r->cfg, h,
	    pingoo_now_us() / 1000000, &r->token) != PINGOO_OK)
		return refuse(r, "the token is invalid or expired");
	switch (background_token_state(&r->token)) {
	case TOKEN_REVOKED:
		return refuse(r, "the token has been revoked: sign in again");
	case TOKEN_UNCHECKED:
		reply_error(r, 503, "database_unavailable", NULL, "the server "
		    "cannot read the revoked tokens now: try again shortly");
		return -1;
	case TOKEN_GOOD:
		break;
	}
	r->user_id = r->token.user_id;
	if (!check_user)
		return 0;
	e = pingoo_user_by_id(r->store, r->user_id, &r->user);
	if (e == PINGOO_ERR_NOTFOUND)
		return refuse(r, "the token's user no longer exists");
	if (e != PINGOO_OK) {
		reply_err(r, e);
		return -1;
	}
	return 0;
}

/* Before the body's fields, so a verifying-only host does no work for
 * the password (route.c runs it after the body parses). */
int
auth_issuer(struct req *r)
{
	if (pingoo_token_can_issue(r->cfg))
		return 0;
	reply_error(r, 503, "not_token_issuer", NULL, "this host verifies "
	    "tokens but does not issue them: ask the issuing host");
	return -1;
}

/*
 * A new token for user_id, issued after the user's newest revocation:
 * a logout-all refuses every token whose iat is at or before its second
 * (iat has a second's precision), so a token asked for in that same
 * second waits for the next one (at most a second, once per logout-all).
 * The floor is the database's (another host's revocation a moment ago)
 * and this host's (one that raised it for lack of room).
 */
static enum pingoo_err
issue_after_floor(struct req *r, uint64_t user_id, char **tok)
{
	int64_t floor, db_floor, now_us = pingoo_now_us();
	enum pingoo_err e;

	if ((e = pingoo_revoked_floor(r->store, user_id, &db_floor)) !=
	    PINGOO_OK)
		return e;
	/* INT64_MAX: this host's floor was unreadable (torn by a writer
	 * that died; the next writer mends it). */
	if ((floor = background_token_floor(user_id)) == INT64_MAX)
		return PINGOO_ERR_DB;
	if (db_floor > floor)
		floor = db_floor;
	/* A floor further ahead than a second is another host's clock,
	 * ahead of ours: the token's iat goes past it (within jwt_leeway,
	 * as any skew). */
	if (floor >= now_us / 1000000 && floor < now_us / 1000000 + 2) {
		pingoo_sleep_ms((int)(((floor + 1) * 1000000 - now_us) / 1000
		    + 1));
		now_us = pingoo_now_us();
	}
	e = pingoo_token_issue(r->cfg, user_id, floor >= now_us / 1000000 ?
	    floor + 1 : now_us / 1000000, tok);
	return e == PINGOO_OK ? e : PINGOO_ERR_INTERNAL;
}

/*
 * POST /api/v1/auth/token: 200 with a token, 400 for a malformed body
 * (pingoo_in_token), 401 invalid_credentials for a wrong user or password
 * (the same answer and the same work for both), 503 without a database,
 * 503 not_token_issuer on a host that holds only the ES256 public key
 * (auth_issuer).
 */
void
h_token(struct req *r)
{
	const char *name = r->in.u.token.username, *pw = r->in.u.token.password;
	struct pingoo_user u;
	struct json_object *o;
	char hash[PINGOO_HASH_MAX];
	char *tok = NULL;
	enum pingoo_err e;

	/* A name no account can have is an unknown user, not a lookup. */
	if (pingoo_valid_username(name, NULL) != PINGOO_OK)
		e = PINGOO_ERR_NOTFOUND;
	else
		e = pingoo_user_by_name(r->store, name, &u, hash);
	if (e != PINGOO_OK && e != PINGOO_ERR_NOTFOUND) {
		reply_err(r, e);
		return;
	}
	if (e == PINGOO_ERR_NOTFOUND) {
		/* Same cost as a real check, so timing tells nothing. */
		(void)pingoo_password_verify(pw, pingoo_password_dummy());
		e = PINGOO_ERR_AUTH;
	} else
		e = pingoo_password_verify(pw, hash);
	if (e != PINGOO_OK) {
		reply_error(r, 401, "invalid_credentials", NULL,
		    "invalid username or password");
		return;
	}
	if ((e = issue_after_floor(r, u.id, &tok)) != PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(tok));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in", json_i64(r->cfg->jwt_ttl));
	reply_json(r, 200, o);
	json_object_put(o);
	free(tok);
}

/*
 * POST /api/v1/auth/logout: 204, this token revoked on every host (its own
 * at once, the others within their next read of the revocations); 401
 * from the gate, 503 without a database (nothing was revoked then).
 */
void
h_logout(struct req *r)
{
	enum pingoo_err e;

	if ((e = pingoo_revoke_token(r->store, &r->token, pingoo_now_us())) !=
	    PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	background_revoke_token(&r->token);
	reply_head(r, 204, NULL, -1);
}

/*
 * POST /api/v1/auth/logout-all: 204, every token of the user issued until
 * now revoked, this one included, as a password change does.
 */
void
h_logout_all(struct req *r)
{
	int64_t now_us = pingoo_now_us();
	enum pingoo_err e;

	if ((e = pingoo_revoke_user(r->store, r->user_id, now_us)) !=
	    PINGOO_OK) {
		reply_err(r, e);
		return;
	}
	background_revoke_user(r->user_id, now_us);
	reply_head(r, 204, NULL, -1);
}

/* GET /api/v1/me: the token's user. 401 / 503 from the gate. */
void
h_me(struct req *r)
{
	struct json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "id", json_i64((int64_t)r->user.id));
	json_object_object_add(o, "username",
	    json_object_new_string(r->user.name));
	json_object_object_add(o, "created_at", json_i64(r->user.created_at));
	reply_json(r, 200, o);
	json_object_put(o);
}

/*
 * GET /.well-known/jwks.json: the ES256 public keys as a JWK set, 200 (two
 * during a key rotation, each with its kid); 404 when tokens are
 * HMAC-signed (no public key exists); 500 for unusable keys
 * (pingoo_token_check_keys refuses them at start).
 */
void
h_jwks(struct req *r)
{
	char x[PINGOO_JWK_COORD_MAX], y[PINGOO_JWK_COORD_MAX];
	char kid[PINGOO_KID_MAX];
	struct json_object *o, *k, *a;
	enum pingoo_err e;
	size_t i;

	e = pingoo_token_jwk(r->cfg, 0, x, y, kid);
	if (e == PINGOO_ERR_NOTFOUND) {
		reply_error(r, 404, "not_found", NULL, "tokens are signed "
		    "with a shared secret here: there is no public key");
		return;
	}
	if (e != PINGOO_OK) {
		reply_err(r, PINGOO_ERR_INTERNAL);
		return;
	}
	a = json_object_new_array();
	for (i = 1; e == PINGOO_OK; i++) {
		k = json_object_new_object();
		json_object_object_add(k, "kty", json_object_new_string("EC"));
		json_object_object_add(k, "crv", json_object_new_string("P-256"));
		json_object_object_add(k, "x", json_object_new_string(x));
		json_object_object_add(k, "y", json_object_new_string(y));
		json_object_object_add(k, "kid", json_object_new_string(kid));
		json_object_object_add(k, "alg", json_object_new_string("ES256"));
		json_object_object_add(k, "use", json_object_new_string("sig"));
		json_object_array_add(a, k);
		e = pingoo_token_jwk(r->cfg, i, x, y, kid);
	}
	o = json_object_new_object();
	json_object_object_add(o, "keys", a);
	reply_json(r, 200, o);
	json_object_put(o);
}
