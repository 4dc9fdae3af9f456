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
