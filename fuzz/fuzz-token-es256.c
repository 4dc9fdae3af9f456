/*
 * fuzz-token-es256.c - libFuzzer harness: bearer token verification with
 * jwt_alg = ES256, the path where the header names its key by kid and the
 * signature is checked with that P-256 public key (lib/auth/token.c:
 * es256_ok and what comes before and after it).  The input is tried as a
 * raw token, accepted only when an independent check (this file's, with
 * OpenSSL) finds a canonical ES256 signature by the harness's key; and,
 * split at its first newline into a header and a payload, as a token
 * signed with the harness's private key, so the claim checks behind the
 * signature are reached.  The same header and payload HMAC-signed with the
 * public key's PEM text (algorithm confusion) or unsigned must be refused.
 * An accepted token must hold what auth.h promises (sub, iat, exp within
 * jwt_ttl, jti), and cached and uncached verification must agree on every
 * token.  The host's key set holds a second key, as during a rotation.
 * The keys below exist for this harness only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/auth.h"
#include "core/core.h"

#define NOW	1700000000
#define COORD	32	/* bytes of a P-256 coordinate */
#define SIG_B64	86	/* base64url characters of r || s */

static const char PRIV[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiwlXQyGyQ1Y7yp/e\n"
    "CUL6fjgykDlC+2vFfVsFbxkJjlKhRANCAATyuqUL8gW21qJQZF+4XxFbi/TJyz1U\n"
    "/Wnp+DcXg1T2f7ZiddmY3dYWeaIIt5o8kCSVfIXdug9maenoNccz+dLf\n"
    "-----END PRIVATE KEY-----\n";
static const char PUB[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8rqlC/IFttaiUGRfuF8RW4v0ycs9\n"
    "VP1p6fg3F4NU9n+2YnXZmN3WFnmiCLeaPJAklXyF3boPZmnp6DXHM/nS3w==\n"
    "-----END PUBLIC KEY-----\n";
/* Another key of the set, whose private key nobody kept. */
static const char OTHER_PUB[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEkv2Z1Wf/RNM7ZJEUQGxU0cR1iiNX\n"
    "aSn8abaSXG4Qia+qtRVvZvEigXLOWJzm8j/AELJeKWGuiVRNtIFhvaG9Bg==\n"
    "-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pingoo_config cfg;
static struct pingoo_token_cache *cache;
static EVP_PKEY *priv, *pub;

/* A broken promise: says which, then stops as a crash, so libFuzzer keeps
 * the input. */
static void
bug(const char *what)
{
	fprintf(stderr, "fuzz-token-es256: %s\n", what);
	__builtin_trap();
}

static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "0123456789-_";

/* Base64url without padding of n bytes into out (room for 4n/3 + 4). */
static size_t
b64url(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

static EVP_PKEY *
pem_key(const char *pem, int private)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k;

	if (bio == NULL)
		abort();
	k = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
	    PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL)
		abort();
	return k;
}

/*
 * The independent check: tok (len bytes) is header.payload.signature,
 * the signature exactly the base64url text of 64 bytes r || s (the
 * canonical text, so one signed token has one spelling) that the
 * harness's public key verifies over header.payload.
 */
static int
genuine(const char *tok, size_t len)
{
	const char *d1, *d2, *s;
	unsigned char raw[2 * COORD], der[80], *p = der;
	char again[SIG_B64 + 1];
	ECDSA_SIG *sig;
	EVP_MD_CTX *ctx;
	BIGNUM *r, *v;
	size_t i, j;
	int dlen, ok = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL)
		return 0;
	s = d2 + 1;
	if (len - (size_t)(s - tok) != SIG_B64)
		return 0;
	for (i = 0, j = 0; i < SIG_B64; i++) {
		const char *c = memchr(tab, s[i], 64);

		if (c == NULL)
			return 0;
		acc = acc << 6 | (uint32_t)(c - tab);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (j < sizeof(raw))
				raw[j++] = (unsigned char)(acc >> bits);
		}
	}
	b64url(raw, sizeof(raw), again);
	if (j != sizeof(raw) || memcmp(again, s, SIG_B64) != 0)
		return 0;
	if ((sig = ECDSA_SIG_new()) == NULL)
		abort();
	r = BN_bin2bn(raw, COORD, NULL);
	v = BN_bin2bn(raw + COORD, COORD, NULL);
	if (r == NULL || v == NULL || ECDSA_SIG_set0(sig, r, v) != 1)
		abort();
	dlen = i2d_ECDSA_SIG(sig, &p);
	ECDSA_SIG_free(sig);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	ok = dlen > 0 &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, der, (size_t)dlen, (const unsigned char *)tok,
	    (size_t)(d2 - tok)) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/*
 * Verifies tok both ways; they must give the same answer, and an accepted
 * token must hold what auth.h promises.  Returns 1 when it was accepted.
 */
static int
accepted(const char *tok)
{
	struct pingoo_token_info a, b;
	enum pingoo_err rc, rc2;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	rc = pingoo_token_check(&cfg, tok, NOW, &a);
	rc2 = pingoo_token_verify_cached(cache, &cfg, tok, NOW, &b);
	if (rc != rc2)
		bug("cached and uncached verification disagree");
	if (rc != PINGOO_OK)
		return 0;
	if (a.user_id != b.user_id || a.iat != b.iat || a.exp != b.exp ||
	    strcmp(a.jti, b.jti) != 0 || a.jti_hash[0] != b.jti_hash[0] ||
	    a.jti_hash[1] != b.jti_hash[1])
		bug("cached and uncached verification give other claims");
	if (a.user_id == 0 || a.user_id > (UINT64_C(1) << 53) - 1)
		bug("a token was accepted for a user id out of range");
	if (a.exp <= NOW - cfg.jwt_leeway || a.iat > NOW + cfg.jwt_leeway ||
	    a.exp - a.iat > cfg.jwt_ttl)
		bug("a token was accepted out of its time or past jwt_ttl");
	if (a.jti[0] == '\0' || strlen(a.jti) > PINGOO_JTI_MAX ||
	    (a.jti_hash[0] == 0 && a.jti_hash[1] == 0))
		bug("a token was accepted without a jti to revoke it by");
	return 1;
}

/* header.payload of the split input into tok; its length. */
static size_t
signing_input(const uint8_t *data, size_t size, const uint8_t *nl, char *tok)
{
	size_t hn = (size_t)(nl - data), n;

	n = b64url(data, hn, tok);
	tok[n++] = '.';
	n += b64url(nl + 1, size - hn - 1, tok + n);
	return n;
}

/* Appends ".signature" by the harness's private key to tok (n bytes). */
static void
sign_es256(char *tok, size_t n)
{
	unsigned char der[80], raw[2 * COORD];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	size_t dlen = sizeof(der);
	EVP_MD_CTX *ctx;
	ECDSA_SIG *sig;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, priv) != 1 ||
	    EVP_DigestSign(ctx, der, &dlen, (unsigned char *)tok, n) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL)
		abort();
	EVP_MD_CTX_free(ctx);
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, COORD) != COORD ||
	    BN_bn2binpad(s, raw + COORD, COORD) != COORD)
		abort();
	ECDSA_SIG_free(sig);
	tok[n++] = '.';
	b64url(raw, sizeof(raw), tok + n);
}

/* Appends ".HMAC-SHA256" keyed with the public key's PEM text. */
static void
sign_confused(char *tok, size_t n)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	HMAC(EVP_sha256(), PUB, (int)strlen(PUB), (unsigned char *)tok, n,
	    mac, &maclen);
	tok[n++] = '.';
	b64url(mac, maclen, tok + n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pingoo_fault f;
	const uint8_t *nl;
	char *tok;
	size_t n;

	if (cache == NULL) {
		pingoo_config_defaults(&cfg);
		memcpy(cfg.jwt_alg, "ES256", sizeof("ES256"));
		/* A verifying host: the public keys only, the harness's
		 * second. */
		memcpy(cfg.jwt_public_key, OTHER_PUB, strlen(OTHER_PUB));
		memcpy(cfg.jwt_public_key + strlen(OTHER_PUB), PUB,
		    sizeof(PUB));
		priv = pem_key(PRIV, 1);
		pub = pem_key(PUB, 0);
		/* A key set the host would refuse would verify nothing. */
		if (pingoo_token_check_keys(&cfg, &f) != PINGOO_OK ||
		    (cache = pingoo_token_cache_new(&cfg)) == NULL)
			abort();
	}
	if ((tok = malloc(size + 1)) == NULL)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	/* Without the private key no input is a token to accept. */
	if (strchr(tok, '\n') == NULL && accepted(tok) &&
	    !genuine(tok, strlen(tok)))
		bug("a token was accepted without a canonical signature by "
		    "the key");
	free(tok);
	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	if ((tok = malloc(2 * size + 256)) == NULL)
		return 0;
	n = signing_input(data, size, nl, tok);
	/* Unsigned, then HMAC-signed with the public key: both refused. */
	tok[n] = '.';
	tok[n + 1] = '\0';
	if (accepted(tok))
		bug("an unsigned token was accepted");
	sign_confused(tok, n);
	if (accepted(tok))
		bug("an HS256 token keyed with the public key's PEM text was "
		    "accepted (algorithm confusion)");
	tok[n] = '\0';
	sign_es256(tok, n);
	(void)accepted(tok);
	free(tok);
	return 0;
}
