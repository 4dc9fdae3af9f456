/*
 * h_auth.c - bearer tokens: the gate in front of every private route, the
 * token route, and /me.
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
 * 401 for a missing or refused token, 503 when the user cannot be looked
 * up.  Only the Authorization header is read: never the query string.
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
	    pingoo_now_us() / 1000000, &r->user_id) != PINGOO_OK)
		return refuse(r, "the token is invalid or expired");
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
	if (pingoo_token_issue(r->cfg, u.id, pingoo_now_us() / 1000000, &tok)
	    != PINGOO_OK) {
		reply_err(r, PINGOO_ERR_INTERNAL);
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
 * GET /.well-known/jwks.json: the ES256 public key as a JWK set, 200; 404
 * when tokens are HMAC-signed (no public key exists); 500 for an unusable
 * key (pingoo_config_check refuses one at start).
 */
void
h_jwks(struct req *r)
{
	char x[PINGOO_JWK_COORD_MAX], y[PINGOO_JWK_COORD_MAX];
	char kid[PINGOO_KID_MAX];
	struct json_object *o, *k, *a;
	enum pingoo_err e;

	e = pingoo_token_jwk(r->cfg, x, y, kid);
	if (e == PINGOO_ERR_NOTFOUND) {
		reply_error(r, 404, "not_found", NULL, "tokens are signed "
		    "with a shared secret here: there is no public key");
		return;
	}
	if (e != PINGOO_OK) {
		reply_err(r, PINGOO_ERR_INTERNAL);
		return;
	}
	k = json_object_new_object();
	json_object_object_add(k, "kty", json_object_new_string("EC"));
	json_object_object_add(k, "crv", json_object_new_string("P-256"));
	json_object_object_add(k, "x", json_object_new_string(x));
	json_object_object_add(k, "y", json_object_new_string(y));
	json_object_object_add(k, "kid", json_object_new_string(kid));
	json_object_object_add(k, "alg", json_object_new_string("ES256"));
	json_object_object_add(k, "use", json_object_new_string("sig"));
	a = json_object_new_array();
	json_object_array_add(a, k);
	o = json_object_new_object();
	json_object_object_add(o, "keys", a);
	reply_json(r, 200, o);
	json_object_put(o);
}
