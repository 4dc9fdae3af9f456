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
#include <openssl/crypto.h>
#include <openssl/evp.h>

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

/*
 * The token's signature, checked with the configured algorithm and key over
 * its first two parts: exactly three parts, the last base64url without
 * padding.  libjwt's own check does the same through OpenSSL's one-shot
 * HMAC() and a BIO per call, about half of the echo's CPU in libjwt (perf,
 * bench/run); this one reuses the thread's keyed context (mac.c).
 * Returns 1 when the signature matches.
 */
static int
signature_ok(const struct pingoo_config *cfg, jwt_alg_t alg,
    const char *token, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned char enc[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	const char *d1, *d2, *sig, *digest;
	size_t maclen, siglen, i;
	int n;

	digest = alg == JWT_ALG_HS256 ? "SHA256" : alg == JWT_ALG_HS384 ?
	    "SHA384" : "SHA512";
	if ((d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) == NULL)
		return 0;
	sig = d2 + 1;
	siglen = len - (size_t)(sig - token);
	if (memchr(sig, '.', siglen) != NULL)
		return 0;
	if (pingoo_hmac(digest, cfg->jwt_key, cfg->jwt_key_len, token,
	    (size_t)(d2 - token), mac, sizeof(mac), &maclen) != PINGOO_OK)
		return 0;
	/* base64 to base64url: '+' and '/' become '-' and '_', no padding. */
	n = EVP_EncodeBlock(enc, mac, (int)maclen);
	while (n > 0 && enc[n - 1] == '=')
		n--;
	for (i = 0; i < (size_t)n; i++)
		enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
	return (size_t)n == siglen && CRYPTO_memcmp(enc, sig, siglen) == 0;
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
claims_ok(jwt_t *j, const struct pingoo_config *cfg, int64_t now_s)
{
	const char *hdr_alg = jwt_get_header(j, "alg");

	/* The signature was checked with our algorithm; the token must
	 * name that one too (never "none", never another HMAC).  libjwt
	 * reports JWT_ALG_NONE for a token it parsed without a key, so the
	 * header is what is compared. */
	if (hdr_alg == NULL || strcmp(hdr_alg, cfg->jwt_alg) != 0)
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
	/* The signature is checked here, with our algorithm and key; libjwt
	 * then only parses (a NULL key makes it skip its own check, which
	 * would take the algorithm from the token).  claims_ok() still
	 * requires the header's algorithm to be ours. */
	if (!signature_ok(cfg, alg, token, len))
		return PINGOO_ERR_AUTH;
	if (jwt_decode(&j, token, NULL, 0) != 0)
		return PINGOO_ERR_AUTH;
	if (!claims_ok(j, cfg, now_s))
		goto out;
	if ((sub = jwt_get_grant(j, "sub")) == NULL ||
	    pingoo_parse_id(sub, strlen(sub), user_id) != PINGOO_OK)
		goto out;
	rc = PINGOO_OK;
out:
	jwt_free(j);
	return rc;
}
