/*
 * sign.c - the server's signature over a sample's stamps.  The echo hands
 * it out with t1 and t2; a receipt that brings the stamps back with it can
 * then be trusted even if the echo's own write never reached MySQL.  A
 * throughput test's latency probes are signed the same way, their phase
 * in the message.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/auth.h"
#include "core/core.h"
#include "measure/measure.h"

/* The labels of the derived keys: a new label is a new key. */
#define TOKEN_KEY_LABEL		"pingoo token v1"
#define SAMPLE_KEY_LABEL	"pingoo sample v1"

/*
 * jwt_key signed tokens and stamps alike; now each has its own key, made
 * with HMAC from jwt_key and a label, so a signature of one can never be
 * offered as the other, and every host sharing jwt_key agrees on both.
 * The token key is as long as HS512's digest, so every HS algorithm gets a
 * key of its own digest's size at least.  OpenSSL's one-shot HMAC, not
 * mac.c's: jwt_key itself is kept in no thread's context.
 */
enum pingoo_err
pingoo_keys_derive(struct pingoo_config *c)
{
	size_t n = 0;
	enum pingoo_err e = PINGOO_ERR_INTERNAL;

	c->jwt_token_key_len = 0;
	c->jwt_sample_key_len = 0;
	if (c->jwt_key_len == 0)
		return PINGOO_ERR_CONFIG;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA512", NULL, c->jwt_key,
	    c->jwt_key_len, (const unsigned char *)TOKEN_KEY_LABEL,
	    strlen(TOKEN_KEY_LABEL), c->jwt_token_key,
	    sizeof(c->jwt_token_key), &n) == NULL ||
	    n != sizeof(c->jwt_token_key))
		goto out;
	c->jwt_token_key_len = n;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, c->jwt_key,
	    c->jwt_key_len, (const unsigned char *)SAMPLE_KEY_LABEL,
	    strlen(SAMPLE_KEY_LABEL), c->jwt_sample_key,
	    sizeof(c->jwt_sample_key), &n) == NULL ||
	    n != sizeof(c->jwt_sample_key))
		goto out;
	c->jwt_sample_key_len = n;
	e = PINGOO_OK;
out:
	if (e != PINGOO_OK) {
		OPENSSL_cleanse(c->jwt_token_key, sizeof(c->jwt_token_key));
		c->jwt_token_key_len = 0;
		c->jwt_sample_key_len = 0;
	}
	return e;
}

/*
 * derived, or jwt_key itself, in the order jwt_key_legacy says: 0 the
 * derived key alone; 1 the derived key signs, jwt_key's signatures are
 * still taken (hosts or tokens of the previous release); 2 jwt_key signs,
 * as the previous release did, and the derived key's are taken (the first
 * step of a rolling upgrade, while some hosts run the previous release).
 */
static size_t
keys(const struct pingoo_config *c, const unsigned char *derived,
    size_t dlen, const unsigned char *k[2], size_t len[2])
{
	const unsigned char *raw = c->jwt_key;
	size_t rlen = c->jwt_key_len;

	if (dlen == 0 || rlen == 0)
		return 0;
	k[0] = c->jwt_key_legacy == 2 ? raw : derived;
	len[0] = c->jwt_key_legacy == 2 ? rlen : dlen;
	k[1] = c->jwt_key_legacy == 2 ? derived : raw;
	len[1] = c->jwt_key_legacy == 2 ? dlen : rlen;
	return c->jwt_key_legacy == 0 ? 1 : 2;
}

size_t
pingoo_token_keys(const struct pingoo_config *c, const unsigned char *k[2],
    size_t len[2])
{
	return keys(c, c->jwt_token_key, c->jwt_token_key_len, k, len);
}

size_t
pingoo_sample_keys(const struct pingoo_config *c, const unsigned char *k[2],
    size_t len[2])
{
	return keys(c, c->jwt_sample_key, c->jwt_sample_key_len, k, len);
}

/* kind names what is signed ("sample", or "probe-<phase>"), so the MAC of
 * one can never stand for another.  Returns 0, or -1 when the MAC could not
 * be computed (out is then a string no receipt can match: verify refuses on
 * -1). */
static int
stamps_mac(const unsigned char *key, size_t keylen, const char *kind,
    uint64_t test_id, uint64_t user_id, const struct pingoo_sample *s,
    char out[PINGOO_SIG_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	char msg[160];
	int n, i;

	/* The prefix keeps these MACs apart from anything else the key signs. */
	n = snprintf(msg, sizeof(msg), "pingoo-%s-v1:%llu:%llu:%u:%lld:"
	    "%lld:%lld", kind, (unsigned long long)test_id,
	    (unsigned long long)user_id, s->seq, (long long)s->t0,
	    (long long)s->t1, (long long)s->t2);
	if (pingoo_hmac("SHA256", key, keylen, msg, (size_t)n, mac,
	    sizeof(mac), &maclen) != PINGOO_OK || maclen < PINGOO_SIG_LEN / 2) {
		memset(out, '-', PINGOO_SIG_LEN);
		out[PINGOO_SIG_LEN] = '\0';
		return -1;
	}
	for (i = 0; i < PINGOO_SIG_LEN / 2; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 0xf];
	}
	out[PINGOO_SIG_LEN] = '\0';
	return 0;
}

static enum pingoo_err
stamps_verify(const unsigned char *key, size_t keylen, const char *kind,
    uint64_t test_id, uint64_t user_id, const struct pingoo_sample *s,
    const char *sig)
{
	char want[PINGOO_SIG_LEN + 1];

	if (sig == NULL || strlen(sig) != PINGOO_SIG_LEN)
		return PINGOO_ERR_AUTH;
	if (stamps_mac(key, keylen, kind, test_id, user_id, s, want) != 0)
		return PINGOO_ERR_AUTH;
	return CRYPTO_memcmp(want, sig, PINGOO_SIG_LEN) == 0 ?
	    PINGOO_OK : PINGOO_ERR_AUTH;
}

void
pingoo_sample_sign(const unsigned char *key, size_t keylen, uint64_t test_id,
    uint64_t user_id, const struct pingoo_sample *s,
    char out[PINGOO_SIG_LEN + 1])
{
	(void)stamps_mac(key, keylen, "sample", test_id, user_id, s, out);
}

enum pingoo_err
pingoo_sample_verify(const unsigned char *key, size_t keylen,
    uint64_t test_id, uint64_t user_id, const struct pingoo_sample *s,
    const char *sig)
{
	return stamps_verify(key, keylen, "sample", test_id, user_id, s, sig);
}

/* "probe-<phase>"; phase is a small enum pingoo_phase. */
static void
probe_kind(int phase, char kind[32])
{
	snprintf(kind, 32, "probe-%d", phase);
}

void
pingoo_probe_sign(const unsigned char *key, size_t keylen, uint64_t test_id,
    uint64_t user_id, int phase, const struct pingoo_sample *s,
    char out[PINGOO_SIG_LEN + 1])
{
	char kind[32];

	probe_kind(phase, kind);
	(void)stamps_mac(key, keylen, kind, test_id, user_id, s, out);
}

enum pingoo_err
pingoo_probe_verify(const unsigned char *key, size_t keylen,
    uint64_t test_id, uint64_t user_id, int phase,
    const struct pingoo_sample *s, const char *sig)
{
	char kind[32];

	probe_kind(phase, kind);
	return stamps_verify(key, keylen, kind, test_id, user_id, s, sig);
}
