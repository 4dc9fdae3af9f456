/*
 * token.c - bearer tokens: JWTs through libjwt 1.10, HMAC-signed (HS256,
 * the default) or ECDSA-signed (ES256: the issuing host holds the private
 * key, every host verifies with the public keys, published as a JWK set).
 *
 * libjwt 1.10 checks the signature with whatever algorithm the token names
 * and validates no claim, so everything a verifier must insist on is done
 * here: the configured algorithm, exp, nbf, iat, iss, aud, sub and jti.
 * With ES256 the pin is what stops algorithm confusion: an HS256 token
 * whose HMAC secret is the public key's PEM text passes jwt_decode, and is
 * refused because its algorithm is not the configured one.
 *
 * Every token must be revocable, so jti and iat are required: a token
 * without jti could not be named by a logout, one without iat could not
 * be placed before a user's logout-all (the caller checks both against
 * the revocations, lib/shm/revtab.c).  And a token may not live longer
 * than jwt_ttl (exp - iat): that bounds how long a revocation must be
 * kept, since every token it refuses has expired jwt_ttl after the
 * revocation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/auth.h"
#include "core/core.h"

#define TOKEN_MAX	8192	/* far above what we issue (~300 bytes) */
#define JTI_BYTES	16
#define ID_MAX		((UINT64_C(1) << 53) - 1)

#define EC_COORD	32	/* bytes of a P-256 coordinate */
#define ES256_SIG_B64	86	/* base64url characters of r || s */

/*
 * The ES256 public keys, decoded once.  OpenSSL 3 takes milliseconds to
 * decode a PEM key (about 2.4 ms, against 0.1-0.4 ms for the signature
 * check itself), and libjwt would decode it on every verify, so ES256
 * signatures are checked here with these keys and libjwt only parses.
 *
 * jwt_public_key may hold several PEM keys (config.c appends every file
 * jwt_public_key_file lists): during a rotation the old key and the new
 * one are both live, each named by its kid (its RFC 7638 thumbprint), and
 * a token is checked with the key its header's kid names, never with
 * whichever key happens to fit.  A kid no configured key has is refused.
 */
struct es_key {
	EVP_PKEY	*pkey;
	char		 kid[PINGOO_KID_MAX];
	char		 x[PINGOO_JWK_COORD_MAX], y[PINGOO_JWK_COORD_MAX];
};

static pthread_mutex_t	 key_lock = PTHREAD_MUTEX_INITIALIZER;
static char		*keys_pem;	/* the text keys[] were decoded from */
static struct es_key	 keys[PINGOO_JWT_KEYS_MAX];
static size_t		 nkeys;		/* 0 when keys_pem is no key set */
static char		*priv_pem;	/* the private key priv_kid names */
static char		 priv_kid[PINGOO_KID_MAX];

/* The configured algorithm, or JWT_ALG_INVAL when it is not one we take. */
static jwt_alg_t
config_alg(const struct pingoo_config *cfg)
{
	jwt_alg_t alg = jwt_str_alg(cfg->jwt_alg);

	if (alg != JWT_ALG_HS256 && alg != JWT_ALG_HS384 &&
	    alg != JWT_ALG_HS512 && alg != JWT_ALG_ES256)
		return JWT_ALG_INVAL;
	return alg;
}

/* Base64url without padding of n bytes into out (room for 4n/3 + 4). */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
	size_t i, o;
	int w;

	w = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	for (i = 0, o = 0; i < (size_t)w && out[i] != '='; i++)
		out[o++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[o] = '\0';
}

/*
 * k's P-256 point as JWK members (x, y base64url) and its kid, the RFC
 * 7638 thumbprint: SHA-256 of the required members in lexicographic
 * order, base64url.  0 when k is not a P-256 key.
 */
static int
thumbprint(EVP_PKEY *k, struct es_key *out)
{
	unsigned char pt[1 + 2 * EC_COORD], md[EVP_MAX_MD_SIZE];
	char group[32], tp[160];
	unsigned mdlen = 0;
	size_t n = 0;
	int w;

	if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return 0;
	/* An uncompressed point: 0x04, then x, then y. */
	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &n) != 1 || n != sizeof(pt) || pt[0] != 0x04)
		return 0;
	b64url(pt + 1, EC_COORD, out->x);
	b64url(pt + 1 + EC_COORD, EC_COORD, out->y);
	w = snprintf(tp, sizeof(tp), "{\"crv\":\"P-256\",\"kty\":\"EC\","
	    "\"x\":\"%s\",\"y\":\"%s\"}", out->x, out->y);
	if (w < 0 || (size_t)w >= sizeof(tp) ||
	    EVP_Digest(tp, (size_t)w, md, &mdlen, EVP_sha256(), NULL) != 1)
		return 0;
	b64url(md, mdlen, out->kid);
	return 1;
}

/* Forgets the decoded keys; with key_lock held. */
static void
keys_clear(void)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		EVP_PKEY_free(keys[i].pkey);
	memset(keys, 0, sizeof(keys));
	nkeys = 0;
	free(keys_pem);
	keys_pem = NULL;
}

/* 1 when text holds nothing but blanks. */
static int
blank(const char *text)
{
	return text[strspn(text, " \t\r\n")] == '\0';
}

/*
 * Decodes pem's keys into keys[] unless they came from that text already;
 * with key_lock held.  The text must be PEM public keys and nothing else,
 * each a P-256 key, at most PINGOO_JWT_KEYS_MAX of them, no two the same:
 * otherwise nkeys is 0 (no token verifies, and the start-up check says
 * why).
 */
static void
keys_load(const char *pem)
{
	const char *p = pem, *end;
	EVP_PKEY *k;
	BIO *bio;
	size_t i;
	int bad = 0;

	if (keys_pem != NULL && strcmp(keys_pem, pem) == 0)
		return;
	keys_clear();
	if ((keys_pem = strdup(pem)) == NULL)
		return;
	/* One block at a time, so that text between or after the blocks
	 * (a truncated file, a private key pasted by mistake) is seen. */
	while (!bad && !blank(p)) {
		end = strstr(p, "-----END PUBLIC KEY-----");
		if (strncmp(p + strspn(p, " \t\r\n"), "-----BEGIN PUBLIC KEY-----",
		    26) != 0 || end == NULL || nkeys == PINGOO_JWT_KEYS_MAX) {
			bad = 1;
			break;
		}
		end += 24;
		k = NULL;
		if ((bio = BIO_new_mem_buf(p, (int)(end - p))) != NULL) {
			k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
			BIO_free(bio);
		}
		if (k == NULL || !thumbprint(k, &keys[nkeys]))
			bad = 1;
		for (i = 0; !bad && i < nkeys; i++)
			bad = strcmp(keys[i].kid, keys[nkeys].kid) == 0;
		if (bad) {
			EVP_PKEY_free(k);
			break;
		}
		keys[nkeys++].pkey = k;
		p = end;
	}
	ERR_clear_error();
	if (bad) {
		for (i = 0; i < nkeys; i++)
			EVP_PKEY_free(keys[i].pkey);
		memset(keys, 0, sizeof(keys));
		nkeys = 0;
	}
}

/*
 * The public key of pem's set whose kid is kid: a new reference the caller
 * frees with EVP_PKEY_free, or NULL when no key of the set has it.
 */
static EVP_PKEY *
key_by_kid(const char *pem, const char *kid)
{
	EVP_PKEY *k = NULL;
	size_t i;

	if (kid == NULL)
		return NULL;
	pthread_mutex_lock(&key_lock);
	keys_load(pem);
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].kid, kid) == 0) {
			if (EVP_PKEY_up_ref(keys[i].pkey) == 1)
				k = keys[i].pkey;
			break;
		}
	pthread_mutex_unlock(&key_lock);
	return k;
}

/* Key i of pem's set into *out, its EVP_PKEY left out: 1, or 0 past the
 * last.  *n gets the number of keys (0 when pem is no key set). */
static int
key_at(const char *pem, size_t i, struct es_key *out, size_t *n)
{
	int found = 0;

	pthread_mutex_lock(&key_lock);
	keys_load(pem);
	*n = nkeys;
	if (i < nkeys) {
		*out = keys[i];
		out->pkey = NULL;
		found = 1;
	}
	pthread_mutex_unlock(&key_lock);
	return found;
}

/* The kid of the private key in pem (the thumbprint of its public half),
 * kept for the next call with the same text: 1, or 0 when pem is not a
 * P-256 private key. */
static int
private_kid(const char *pem, char kid[PINGOO_KID_MAX])
{
	struct es_key e;
	EVP_PKEY *k;
	BIO *bio;
	char *copy;
	int ok = 0;

	pthread_mutex_lock(&key_lock);
	if (priv_pem != NULL && strcmp(priv_pem, pem) == 0) {
		memcpy(kid, priv_kid, PINGOO_KID_MAX);
		ok = 1;
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		goto out;
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (k == NULL)
		goto out;
	if (thumbprint(k, &e) && (copy = strdup(pem)) != NULL) {
		if (priv_pem != NULL) {
			OPENSSL_cleanse(priv_pem, strlen(priv_pem));
			free(priv_pem);
		}
		priv_pem = copy;
		memcpy(priv_kid, e.kid, PINGOO_KID_MAX);
		memcpy(kid, e.kid, PINGOO_KID_MAX);
		ok = 1;
	}
	EVP_PKEY_free(k);
out:
	pthread_mutex_unlock(&key_lock);
	return ok;
}

/* The DER form of a JWS ES256 signature (r || s in base64url); its
 * length, or 0 when s is not one.  der has room for 80 bytes. */
static size_t
es256_der(const char *s, size_t n, unsigned char der[80])
{
	char b64[ES256_SIG_B64 + 3];
	unsigned char raw[66];
	ECDSA_SIG *sig;
	BIGNUM *r, *v;
	unsigned char *p = der;
	size_t i;
	int len = 0;

	if (n != ES256_SIG_B64)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '+' || s[i] == '/' || s[i] == '=')
			return 0;
		b64[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	memcpy(b64 + n, "==", 3);
	/* The last character's low four bits land in raw[64]: padding, zero
	 * in the one spelling a signature has (as signature_ok compares
	 * HMACs by their text, one signed token has one text). */
	if (EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n + 2) != 66 ||
	    raw[2 * EC_COORD] != 0)
		return 0;
	if ((sig = ECDSA_SIG_new()) == NULL)
		return 0;
	r = BN_bin2bn(raw, EC_COORD, NULL);
	v = BN_bin2bn(raw + EC_COORD, EC_COORD, NULL);
	if (r != NULL && v != NULL && ECDSA_SIG_set0(sig, r, v) == 1) {
		r = v = NULL;	/* sig owns them now */
		if ((len = i2d_ECDSA_SIG(sig, NULL)) > 0 && len <= 80)
			len = i2d_ECDSA_SIG(sig, &p);
		else
			len = 0;
	}
	BN_free(r);
	BN_free(v);
	ECDSA_SIG_free(sig);
	return len > 0 ? (size_t)len : 0;
}

/* 1 when token (len bytes, NUL-terminated) carries a valid ES256
 * signature by the key of pem's set that kid names. */
static int
es256_ok(const char *pem, const char *kid, const char *token, size_t len)
{
	const char *dot = strrchr(token, '.');
	unsigned char der[80];
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	size_t dlen;
	int ok = 0;

	if (dot == NULL || (dlen = es256_der(dot + 1,
	    len - (size_t)(dot + 1 - token), der)) == 0)
		return 0;
	if ((k = key_by_kid(pem, kid)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, der, dlen, (const unsigned char *)token,
	    (size_t)(dot - token)) == 1;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return ok;
}

/*
 * The key that checks signatures: the HMAC key that signs (the token key
 * derived from jwt_key, sign.c; signature_ok may take another), or the
 * public keys' PEM text for ES256.  0 when the configuration holds none.
 */
static int
verify_key(const struct pingoo_config *cfg, jwt_alg_t alg,
    const unsigned char **key, size_t *len)
{
	const unsigned char *k[2];
	size_t n[2];

	if (alg == JWT_ALG_ES256) {
		*key = (const unsigned char *)cfg->jwt_public_key;
		*len = strlen(cfg->jwt_public_key);
		return *len > 0;
	}
	if (pingoo_token_keys(cfg, k, n) == 0)
		return 0;
	*key = k[0];
	*len = n[0];
	return *len > 0 && *len <= sizeof(cfg->jwt_key);
}

/* The key that signs: the HMAC secret, or the private key's PEM text. */
static int
sign_key(const struct pingoo_config *cfg, jwt_alg_t alg,
    const unsigned char **key, size_t *len)
{
	if (alg != JWT_ALG_ES256)
		return verify_key(cfg, alg, key, len);
	*key = (const unsigned char *)cfg->jwt_private_key;
	*len = strlen(cfg->jwt_private_key);
	return *len > 0;
}

int
pingoo_token_can_issue(const struct pingoo_config *cfg)
{
	const unsigned char *key;
	size_t len;
	jwt_alg_t alg;

	return (alg = config_alg(cfg)) != JWT_ALG_INVAL &&
	    sign_key(cfg, alg, &key, &len);
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
	char jti[2 * JTI_BYTES + 1], kid[PINGOO_KID_MAX];
	const unsigned char *key;
	size_t keylen;
	jwt_t *j = NULL;
	jwt_alg_t alg;
	enum pingoo_err rc;
	int e;

	*out = NULL;
	if ((alg = config_alg(cfg)) == JWT_ALG_INVAL ||
	    !sign_key(cfg, alg, &key, &keylen))
		return PINGOO_ERR_CONFIG;
	if (alg == JWT_ALG_ES256 && !private_kid(cfg->jwt_private_key, kid))
		return PINGOO_ERR_CONFIG;
	if (user_id == 0 || user_id > ID_MAX)
		return PINGOO_ERR_INVAL;
	if ((rc = make_jti(jti)) != PINGOO_OK)
		return rc;
	if ((e = jwt_new(&j)) != 0)
		return jwt_error(e);
	/* kid names the verifying key in the published JWK set: the private
	 * key's own, whichever other public keys are configured. */
	if ((e = add_claims(j, cfg, user_id, now_s, jti)) != 0 ||
	    (alg == JWT_ALG_ES256 && (e = jwt_add_header(j, "kid", kid)) != 0) ||
	    (e = jwt_set_alg(j, alg, key, (int)keylen)) != 0) {
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
	const unsigned char *key[2];
	const char *d1, *d2, *sig, *digest;
	size_t maclen, siglen, i, keylen[2], nk, k;
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
	/* The signing key, then, during an upgrade (jwt_key_legacy), the
	 * other one. */
	nk = pingoo_token_keys(cfg, key, keylen);
	for (k = 0; k < nk; k++) {
		if (pingoo_hmac(digest, key[k], keylen[k], token,
		    (size_t)(d2 - token), mac, sizeof(mac), &maclen) !=
		    PINGOO_OK)
			return 0;
		/* base64 to base64url: '+' and '/' become '-' and '_', no
		 * padding. */
		n = EVP_EncodeBlock(enc, mac, (int)maclen);
		while (n > 0 && enc[n - 1] == '=')
			n--;
		for (i = 0; i < (size_t)n; i++)
			enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' :
			    enc[i];
		if ((size_t)n == siglen && CRYPTO_memcmp(enc, sig, siglen) == 0)
			return 1;
	}
	return 0;
}

/* What verification takes from a token's claims. */
struct claims {
	struct pingoo_token_info info;	/* sub, jti, iat, exp */
	long		 exp, nbf, iat;
	int		 has_nbf, has_iat;
};

/* Reads exp (required), nbf and iat (optional here; claims_ok requires
 * iat); 0 when one is malformed. */
static int
times_read(jwt_t *j, struct claims *c)
{
	if (time_claim(j, "exp", &c->exp) != 1)
		return 0;
	if ((c->has_nbf = time_claim(j, "nbf", &c->nbf)) == -1 ||
	    (c->has_iat = time_claim(j, "iat", &c->iat)) == -1)
		return 0;
	return 1;
}

/* The token's times hold at now_s, each with jwt_leeway. */
static int
times_ok(const struct claims *c, const struct pingoo_config *cfg,
    int64_t now_s)
{
	if (c->exp <= now_s - cfg->jwt_leeway)
		return 0;
	if (c->has_nbf && c->nbf > now_s + cfg->jwt_leeway)
		return 0;
	if (c->has_iat && c->iat > now_s + cfg->jwt_leeway)
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

/* 1 when jti is one we take: 1 to PINGOO_JTI_MAX characters of RFC
 * 3986's unreserved set (it is stored in MySQL: nothing that needs
 * quoting). */
static int
jti_valid(const char *v)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~";
	size_t n;

	return v != NULL && (n = strlen(v)) > 0 && n <= PINGOO_JTI_MAX &&
	    strspn(v, ok) == n;
}

enum pingoo_err
pingoo_token_jti_hash(const char *jti, uint64_t out[2])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!jti_valid(jti))
		return PINGOO_ERR_INVAL;
	if (EVP_Digest(jti, strlen(jti), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 16)
		return PINGOO_ERR_INTERNAL;
	memcpy(out, md, 16);
	/* 0, 0 marks a free slot of the table. */
	if (out[0] == 0 && out[1] == 0)
		out[0] = 1;
	return PINGOO_OK;
}

/* The jti claim into c, with its hash; 0 when absent or malformed. */
static int
jti_read(jwt_t *j, struct claims *c)
{
	const char *v = jwt_get_grant(j, "jti");

	if (pingoo_token_jti_hash(v, c->info.jti_hash) != PINGOO_OK)
		return 0;
	memcpy(c->info.jti, v, strlen(v) + 1);
	return 1;
}

/* Everything about a decoded (signature-checked) token but its subject
 * and whether its times hold now, which go to c. */
static int
claims_ok(jwt_t *j, const struct pingoo_config *cfg, struct claims *c)
{
	const char *hdr_alg = jwt_get_header(j, "alg");

	/* The signature was checked with our algorithm and key
	 * (signature_ok, es256_ok); the token must name that algorithm too
	 * (never "none", never another one).  libjwt, given no key, leaves
	 * its own algorithm unset, so the header is what is compared. */
	if (hdr_alg == NULL || strcmp(hdr_alg, cfg->jwt_alg) != 0)
		return 0;
	if (!times_read(j, c) || !c->has_iat || !jti_read(j, c))
		return 0;
	/* No token outlives jwt_ttl: a revocation is kept that long. */
	if (c->exp - c->iat > (long)cfg->jwt_ttl)
		return 0;
	c->info.iat = c->iat;
	c->info.exp = c->exp;
	return claim_is(j, "iss", cfg->jwt_issuer) &&
	    claim_is(j, "aud", cfg->jwt_audience);
}

/*
 * Everything but the times: the signature with the configured algorithm
 * and key (ES256: the key the header's kid names), the header, iss, aud,
 * sub, jti, iat and the lifetime.  The claims the time checks need go to
 * c.  PINGOO_ERR_AUTH or PINGOO_ERR_CONFIG as pingoo_token_verify.
 */
static enum pingoo_err
verify(const struct pingoo_config *cfg, const char *token, size_t len,
    struct claims *c)
{
	const unsigned char *key;
	size_t keylen;
	jwt_t *j = NULL;
	jwt_alg_t alg;
	const char *sub;
	enum pingoo_err rc = PINGOO_ERR_AUTH;

	if ((alg = config_alg(cfg)) == JWT_ALG_INVAL ||
	    !verify_key(cfg, alg, &key, &keylen))
		return PINGOO_ERR_CONFIG;
	/* The signature is checked here, with our algorithm and key (a
	 * NULL key would make libjwt skip its own check, which takes the
	 * algorithm from the token); libjwt only parses, and claims_ok
	 * still requires the header's algorithm to be ours.  An HMAC is
	 * checked before any parsing; an ES256 signature once the header
	 * has named its key. */
	if (alg != JWT_ALG_ES256 && !signature_ok(cfg, alg, token, len))
		return PINGOO_ERR_AUTH;
	if (jwt_decode(&j, token, NULL, 0) != 0)
		return PINGOO_ERR_AUTH;
	if (alg == JWT_ALG_ES256 && !es256_ok(cfg->jwt_public_key,
	    jwt_get_header(j, "kid"), token, len))
		goto out;
	if (!claims_ok(j, cfg, c))
		goto out;
	if ((sub = jwt_get_grant(j, "sub")) == NULL ||
	    pingoo_parse_id(sub, strlen(sub), &c->info.user_id) != PINGOO_OK)
		goto out;
	rc = PINGOO_OK;
out:
	jwt_free(j);
	return rc;
}

/* 1 when the configuration names an algorithm we take and its key. */
static int
verifiable(const struct pingoo_config *cfg)
{
	const unsigned char *key;
	size_t keylen;
	jwt_alg_t alg;

	return (alg = config_alg(cfg)) != JWT_ALG_INVAL &&
	    verify_key(cfg, alg, &key, &keylen);
}

/* The token's length, or 0 when it is NULL, empty or too long. */
static size_t
token_len(const char *token)
{
	size_t len;

	if (token == NULL)
		return 0;
	len = strnlen(token, TOKEN_MAX + 1);
	return len > TOKEN_MAX ? 0 : len;
}

/*
 * Verifies token at now_s and fills *out from its claims.  Every refusal
 * is PINGOO_ERR_AUTH (the reason is not told to the client);
 * PINGOO_ERR_CONFIG when the configured algorithm is unusable.
 */
enum pingoo_err
pingoo_token_check(const struct pingoo_config *cfg, const char *token,
    int64_t now_s, struct pingoo_token_info *out)
{
	struct claims c;
	size_t len = token_len(token);
	enum pingoo_err rc;

	if (!verifiable(cfg))
		return PINGOO_ERR_CONFIG;
	if (len == 0)
		return PINGOO_ERR_AUTH;
	memset(&c, 0, sizeof(c));
	if ((rc = verify(cfg, token, len, &c)) != PINGOO_OK)
		return rc;
	if (!times_ok(&c, cfg, now_s))
		return PINGOO_ERR_AUTH;
	*out = c.info;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_token_verify(const struct pingoo_config *cfg, const char *token,
    int64_t now_s, uint64_t *user_id)
{
	struct pingoo_token_info info;
	enum pingoo_err rc;

	if ((rc = pingoo_token_check(cfg, token, now_s, &info)) == PINGOO_OK)
		*user_id = info.user_id;
	return rc;
}

/*
 * A thread's verified tokens.  Verifying costs an HMAC, a JSON parse of
 * the header and the payload by libjwt (jansson) and a dozen allocations,
 * about 61,000 instructions, and a client sends the same token on every
 * request (each echo of a test).  What decides whether a token verifies
 * is its bytes and the configuration (keys, algorithm, issuer, audience,
 * jwt_ttl), which is read once per process; its times and its revocation
 * change, so a token that verified under the cache's configuration is
 * matched again by all of its bytes, its times are checked at each use,
 * and the caller checks its claims against the revocations at each use
 * too (lib/shm/revtab.c: a few loads of shared memory).
 */
#define CACHE_SLOTS	8
#define CACHE_TOKEN_MAX	1024	/* longer tokens are verified every time */

struct pingoo_token_cache {
	const struct pingoo_config	*cfg;
	int				 usable;	/* cfg's algorithm and key */
	uint64_t			 clock;	/* for least recently used */
	struct {
		size_t		 len;	/* 0: an empty slot */
		uint64_t	 used;
		struct claims	 c;
		char		 token[CACHE_TOKEN_MAX];
	} slot[CACHE_SLOTS];
};

struct pingoo_token_cache *
pingoo_token_cache_new(const struct pingoo_config *cfg)
{
	struct pingoo_token_cache *tc;

	if ((tc = calloc(1, sizeof(*tc))) != NULL) {
		tc->cfg = cfg;
		tc->usable = verifiable(cfg);
	}
	return tc;
}

void
pingoo_token_cache_free(struct pingoo_token_cache *tc)
{
	if (tc != NULL)
		OPENSSL_cleanse(tc, sizeof(*tc));
	free(tc);
}

/* The slot holding exactly token, or -1.  Compared in constant time: the
 * slots hold other users' tokens. */
static int
cache_find(struct pingoo_token_cache *tc, const char *token, size_t len)
{
	int i;

	for (i = 0; i < CACHE_SLOTS; i++)
		if (tc->slot[i].len == len &&
		    CRYPTO_memcmp(tc->slot[i].token, token, len) == 0)
			return i;
	return -1;
}

/* Keeps a verified token in the least recently used slot. */
static void
cache_put(struct pingoo_token_cache *tc, const char *token, size_t len,
    const struct claims *c)
{
	int i, lru = 0;

	if (len > CACHE_TOKEN_MAX)
		return;
	for (i = 1; i < CACHE_SLOTS; i++)
		if (tc->slot[i].used < tc->slot[lru].used)
			lru = i;
	memcpy(tc->slot[lru].token, token, len);
	tc->slot[lru].len = len;
	tc->slot[lru].c = *c;
	tc->slot[lru].used = ++tc->clock;
}

enum pingoo_err
pingoo_token_verify_cached(struct pingoo_token_cache *tc,
    const struct pingoo_config *cfg, const char *token, int64_t now_s,
    struct pingoo_token_info *out)
{
	struct claims c;
	size_t len = token_len(token);
	enum pingoo_err rc;
	int i;

	/* An unusable configuration gets pingoo_token_check's answer. */
	if (tc == NULL || tc->cfg != cfg || !tc->usable || len == 0)
		return pingoo_token_check(cfg, token, now_s, out);
	if ((i = cache_find(tc, token, len)) >= 0) {
		tc->slot[i].used = ++tc->clock;
		c = tc->slot[i].c;
	} else {
		memset(&c, 0, sizeof(c));
		if ((rc = verify(cfg, token, len, &c)) != PINGOO_OK)
			return rc;
		if (times_ok(&c, cfg, now_s))
			cache_put(tc, token, len, &c);
	}
	if (!times_ok(&c, cfg, now_s))
		return PINGOO_ERR_AUTH;
	*out = c.info;
	return PINGOO_OK;
}

/*
 * Public key i of the configured ES256 set as JWK parts: x and y in
 * base64url (PINGOO_JWK_COORD_MAX bytes of room each, either may be NULL)
 * and kid, its RFC 7638 thumbprint.  PINGOO_ERR_NOTFOUND when the
 * algorithm is an HMAC one (nothing to publish) or past the last key,
 * PINGOO_ERR_CONFIG when the public keys are missing or unusable.
 */
enum pingoo_err
pingoo_token_jwk(const struct pingoo_config *cfg, size_t i, char *xs,
    char *ys, char kid[PINGOO_KID_MAX])
{
	struct es_key e;
	size_t n;

	if (config_alg(cfg) != JWT_ALG_ES256)
		return PINGOO_ERR_NOTFOUND;
	if (!key_at(cfg->jwt_public_key, i, &e, &n))
		return n == 0 ? PINGOO_ERR_CONFIG : PINGOO_ERR_NOTFOUND;
	memcpy(kid, e.kid, PINGOO_KID_MAX);
	if (xs != NULL)
		memcpy(xs, e.x, PINGOO_JWK_COORD_MAX);
	if (ys != NULL)
		memcpy(ys, e.y, PINGOO_JWK_COORD_MAX);
	return PINGOO_OK;
}

/*
 * Checks that the configured keys can do their work: for ES256 a set of
 * P-256 public keys, and, when this host issues tokens, a private key that
 * signs tokens the set verifies (a private key whose public half is not
 * configured is caught here, at start, rather than as every token
 * refused).
 */
static enum pingoo_err
check_keys(const struct pingoo_config *cfg)
{
	struct pingoo_token_info info;
	char kid[PINGOO_KID_MAX];
	char *tok = NULL;
	enum pingoo_err rc;

	if (config_alg(cfg) != JWT_ALG_ES256)
		return PINGOO_OK;
	if ((rc = pingoo_token_jwk(cfg, 0, NULL, NULL, kid)) != PINGOO_OK)
		return PINGOO_ERR_CONFIG;
	if (!pingoo_token_can_issue(cfg))
		return PINGOO_OK;
	if ((rc = pingoo_token_issue(cfg, 1, 1700000000, &tok)) != PINGOO_OK)
		return PINGOO_ERR_CONFIG;
	rc = pingoo_token_check(cfg, tok, 1700000000, &info);
	free(tok);
	return rc == PINGOO_OK && info.user_id == 1 ? PINGOO_OK :
	    PINGOO_ERR_CONFIG;
}

enum pingoo_err
pingoo_token_check_keys(const struct pingoo_config *cfg,
    struct pingoo_fault *f)
{
	if (check_keys(cfg) == PINGOO_OK)
		return PINGOO_OK;
	return pingoo_fault_set(f, PINGOO_ERR_CONFIG, "invalid_config",
	    "jwt_public_key_file", "the ES256 keys are unusable: every file "
	    "of jwt_public_key_file must be a P-256 public key (PEM; at most "
	    "%d, no two the same), and the private key must be the pair of "
	    "one of them", PINGOO_JWT_KEYS_MAX);
}
