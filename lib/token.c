/*
 * token.c - bearer tokens: HMAC-signed JWTs through libjwt 1.10.
 *
 * libjwt 1.10 checks the signature with whatever algorithm the token names
 * and validates no claim, so everything a verifier must insist on is done
 * here: the configured algorithm, exp, nbf, iat, iss, aud and sub.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "pingoo.h"

#define TOKEN_MAX	8192	/* far above what we issue (~300 bytes) */
#define JTI_BYTES	16
#define ID_MAX		((UINT64_C(1) << 53) - 1)

/* The configured algorithm, or JWT_ALG_INVAL when it is not an HMAC one. */
static jwt_alg_t
config_alg(const struct pingoo_config *cfg)
{
	jwt_alg_t alg = jwt_str_alg(cfg->jwt_alg);

	if (alg != JWT_ALG_HS256 && alg != JWT_ALG_HS384 &&
	    alg != JWT_ALG_HS512)
		return JWT_ALG_INVAL;
	return alg;
}

/* libjwt returns errno values. */
static enum pingoo_err
jwt_error(int e)
{
	return e == ENOMEM ? PINGOO_ERR_NOMEM : PINGOO_ERR_INTERNAL;
}

/* A fresh token id: 16 random bytes in hex. */
static enum pingoo_err
make_jti(char out[2 * JTI_BYTES + 1])
{
	unsigned char b[JTI_BYTES];
	enum pingoo_err rc;
	size_t i;

	if ((rc = pingoo_random(b, sizeof(b))) != PINGOO_OK)
		return rc;
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return PINGOO_OK;
}

/* Adds every claim Pingoo issues; 0 or an errno value from libjwt. */
static int
add_claims(jwt_t *j, const struct pingoo_config *cfg, uint64_t user_id,
    int64_t now_s, const char *jti)
{
	char sub[24];
	int e;

	snprintf(sub, sizeof(sub), "%llu", (unsigned long long)user_id);
	if ((e = jwt_add_grant(j, "sub", sub)) != 0 ||
	    (e = jwt_add_grant(j, "iss", cfg->jwt_issuer)) != 0 ||
	    (e = jwt_add_grant(j, "aud", cfg->jwt_audience)) != 0 ||
	    (e = jwt_add_grant(j, "jti", jti)) != 0 ||
	    (e = jwt_add_grant_int(j, "iat", (long)now_s)) != 0 ||
	    (e = jwt_add_grant_int(j, "exp", (long)(now_s + cfg->jwt_ttl))) != 0)
		return e;
	return 0;
}

/*
 * Issues a token for user_id valid from now_s for jwt_ttl seconds.  On
 * success *out is a malloc'd compact JWT the caller frees; otherwise it is
 * NULL.  PINGOO_ERR_CONFIG for an unusable algorithm or key.
 */
enum pingoo_err
pingoo_token_issue(const struct pingoo_config *cfg, uint64_t user_id,
    int64_t now_s, char **out)
{
	char jti[2 * JTI_BYTES + 1];
	jwt_t *j = NULL;
	jwt_alg_t alg;
	enum pingoo_err rc;
	int e;

	*out = NULL;
	if ((alg = config_alg(cfg)) == JWT_ALG_INVAL || cfg->jwt_key_len == 0 ||
	    cfg->jwt_key_len > sizeof(cfg->jwt_key))
		return PINGOO_ERR_CONFIG;
	if (user_id == 0 || user_id > ID_MAX)
		return PINGOO_ERR_INVAL;
	if ((rc = make_jti(jti)) != PINGOO_OK)
		return rc;
	if ((e = jwt_new(&j)) != 0)
		return jwt_error(e);
	if ((e = add_claims(j, cfg, user_id, now_s, jti)) != 0 ||
	    (e = jwt_set_alg(j, alg, cfg->jwt_key, (int)cfg->jwt_key_len)) != 0) {
		rc = jwt_error(e);
		goto out;
	}
	/* Allocated by libjwt with malloc (no jwt_set_alloc here). */
	if ((*out = jwt_encode_str(j)) == NULL)
		rc = jwt_error(errno);
	else
		rc = PINGOO_OK;
out:
	jwt_free(j);
	return rc;
}

/*
 * An integer time claim: 1 and *v when present, 0 when absent, -1 when
 * present but not an integer.
 */
static int
time_claim(jwt_t *j, const char *name, long *v)
{
	char *js;
	size_t n;
	int rc = -1;

	/* jwt_get_grant_int() reads a string, a float or an object as 0 with
	 * no error, so the claim's JSON text is checked: digits only. */
	if ((js = jwt_get_grants_json(j, name)) == NULL)
		return 0;
	n = strlen(js);
	if (n > 0 && n <= 15 && strspn(js, "0123456789") == n) {
		*v = strtol(js, NULL, 10);
		rc = 1;
	}
	free(js);
	return rc;
}

/* exp is required; nbf and iat are optional; all allow jwt_leeway. */
static int
times_ok(jwt_t *j, const struct pingoo_config *cfg, int64_t now_s)
{
	long exp, nbf, iat;
	int has;

	if (time_claim(j, "exp", &exp) != 1 || exp <= now_s - cfg->jwt_leeway)
		return 0;
	if ((has = time_claim(j, "nbf", &nbf)) == -1 ||
	    (has == 1 && nbf > now_s + cfg->jwt_leeway))
		return 0;
	if ((has = time_claim(j, "iat", &iat)) == -1 ||
	    (has == 1 && iat > now_s + cfg->jwt_leeway))
		return 0;
	return 1;
}

/* A string claim equal to want (libjwt reads an array claim as NULL). */
static int
claim_is(jwt_t *j, const char *name, const char *want)
{
	const char *v = jwt_get_grant(j, name);

	return v != NULL && strcmp(v, want) == 0;
}

/* Everything about a decoded (signature-checked) token but its subject. */
static int
claims_ok(jwt_t *j, const struct pingoo_config *cfg, jwt_alg_t alg,
    int64_t now_s)
{
	const char *hdr_alg = jwt_get_header(j, "alg");

	/* The signature was checked with the token's own algorithm: it
	 * must be ours, or "none" and HS384-with-our-key would pass. */
	if (jwt_get_alg(j) != alg || hdr_alg == NULL ||
	    strcmp(hdr_alg, cfg->jwt_alg) != 0)
		return 0;
	return times_ok(j, cfg, now_s) &&
	    claim_is(j, "iss", cfg->jwt_issuer) &&
	    claim_is(j, "aud", cfg->jwt_audience);
}

/*
 * Verifies token at now_s and sets *user_id from its subject.  Every
 * refusal is PINGOO_ERR_AUTH (the reason is not told to the client);
 * PINGOO_ERR_CONFIG when the configured algorithm is unusable.
 */
enum pingoo_err
pingoo_token_verify(const struct pingoo_config *cfg, const char *token,
    int64_t now_s, uint64_t *user_id)
{
	jwt_t *j = NULL;
	jwt_alg_t alg;
	const char *sub;
	size_t len;
	enum pingoo_err rc = PINGOO_ERR_AUTH;

	if ((alg = config_alg(cfg)) == JWT_ALG_INVAL || cfg->jwt_key_len == 0 ||
	    cfg->jwt_key_len > sizeof(cfg->jwt_key))
		return PINGOO_ERR_CONFIG;
	if (token == NULL)
		return PINGOO_ERR_AUTH;
	len = strnlen(token, TOKEN_MAX + 1);
	if (len == 0 || len > TOKEN_MAX)
		return PINGOO_ERR_AUTH;
	/* Always with the key: a NULL key makes libjwt skip the check. */
	if (jwt_decode(&j, token, cfg->jwt_key, (int)cfg->jwt_key_len) != 0)
		return PINGOO_ERR_AUTH;
	if (!claims_ok(j, cfg, alg, now_s))
		goto out;
	if ((sub = jwt_get_grant(j, "sub")) == NULL ||
	    pingoo_parse_id(sub, strlen(sub), user_id) != PINGOO_OK)
		goto out;
	rc = PINGOO_OK;
out:
	jwt_free(j);
	return rc;
}
