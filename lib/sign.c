/*
 * sign.c - the server's signature over a sample's stamps.  The echo hands
 * it out with t1 and t2; a receipt that brings the stamps back with it can
 * then be trusted even if the echo's own write never reached MySQL.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pingoo.h"
#include "ping.h"

/* Returns 0, or -1 when the MAC could not be computed (out is then a
 * string no receipt can match: verify refuses on -1). */
static int
sample_mac(const unsigned char *key, size_t keylen, uint64_t test_id,
    uint64_t user_id, const struct pingoo_sample *s,
    char out[PINGOO_SIG_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	char msg[160];
	int n, i;

	/* The prefix keeps these MACs apart from anything else the key signs. */
	n = snprintf(msg, sizeof(msg), "pingoo-sample-v1:%llu:%llu:%u:%lld:"
	    "%lld:%lld", (unsigned long long)test_id,
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

void
pingoo_sample_sign(const unsigned char *key, size_t keylen, uint64_t test_id,
    uint64_t user_id, const struct pingoo_sample *s,
    char out[PINGOO_SIG_LEN + 1])
{
	(void)sample_mac(key, keylen, test_id, user_id, s, out);
}

enum pingoo_err
pingoo_sample_verify(const unsigned char *key, size_t keylen,
    uint64_t test_id, uint64_t user_id, const struct pingoo_sample *s,
    const char *sig)
{
	char want[PINGOO_SIG_LEN + 1];

	if (sig == NULL || strlen(sig) != PINGOO_SIG_LEN)
		return PINGOO_ERR_AUTH;
	if (sample_mac(key, keylen, test_id, user_id, s, want) != 0)
		return PINGOO_ERR_AUTH;
	return CRYPTO_memcmp(want, sig, PINGOO_SIG_LEN) == 0 ?
	    PINGOO_OK : PINGOO_ERR_AUTH;
}
