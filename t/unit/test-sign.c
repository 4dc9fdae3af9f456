/* test-sign.c - the server's MAC over a sample's stamps, which lets a
 * receipt bring t0, t1 and t2 back when the echo's own write was lost. */
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"
#include "measure/measure.h"
#include "../tap.h"

static const unsigned char key[] = "a test key of thirty-two bytes!!";
#define KEYLEN 32

/* 1 when the signature of s no longer verifies as that of (7, 3, good). */
static int
refused(uint64_t test, uint64_t user, const struct pingoo_sample *s,
    const char *sig)
{
	return pingoo_sample_verify(key, KEYLEN, test, user, s, sig) ==
	    PINGOO_ERR_AUTH;
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/*
 * The keys derived from jwt_key: known answers computed apart (Python's
 * hmac), the samples' signature made with the derived key, and which key
 * signs and which are taken under each jwt_key_legacy.
 */
static void
test_derived(void)
{
	const struct pingoo_sample good = { 4, 100, 200, 300, 0, 0 };
	struct pingoo_config c, d;
	const unsigned char *k[2];
	size_t len[2];
	char h[129], sig[PINGOO_SIG_LEN + 1], raw[PINGOO_SIG_LEN + 1];

	pingoo_config_defaults(&c);
	ok(pingoo_keys_derive(&c) == PINGOO_ERR_CONFIG &&
	    pingoo_sample_keys(&c, k, len) == 0 &&
	    pingoo_token_keys(&c, k, len) == 0,
	    "no jwt_key: no key is derived, none signs");
	memcpy(c.jwt_key, key, KEYLEN);
	c.jwt_key_len = KEYLEN;
	c.jwt_key_legacy = 0;	/* the contracted setting: derived keys alone */
	ok(pingoo_keys_derive(&c) == PINGOO_OK, "the keys are derived");
	hex(c.jwt_token_key, c.jwt_token_key_len, h);
	ok(c.jwt_token_key_len == 64 && strcmp(h, "837200710b69de2d2a5bc28cda"
	    "62a28624192319e97caa2cf7b432fbde03c9ded781188556cc15337d57c17147"
	    "0e9e82449ccd2fccc543d801652aa606e60396") == 0,
	    "the token key is HMAC-SHA512(jwt_key, \"pingoo token v1\")");
	hex(c.jwt_sample_key, c.jwt_sample_key_len, h);
	ok(c.jwt_sample_key_len == 32 && strcmp(h, "5f6f73fbe9f789c96c3dddb2"
	    "067c730861798fcd03d9fc181875ad31bbca1da0") == 0,
	    "the sample key is HMAC-SHA256(jwt_key, \"pingoo sample v1\")");
	d = c;
	ok(pingoo_keys_derive(&d) == PINGOO_OK && memcmp(d.jwt_token_key,
	    c.jwt_token_key, 64) == 0 && memcmp(d.jwt_sample_key,
	    c.jwt_sample_key, 32) == 0,
	    "a second host with the same jwt_key derives the same keys");
	ok(pingoo_sample_keys(&c, k, len) == 1 && k[0] == c.jwt_sample_key &&
	    len[0] == 32, "jwt_key_legacy 0: the derived sample key alone");
	pingoo_sample_sign(k[0], len[0], 7, 3, &good, sig);
	/* HMAC-SHA256 of "pingoo-sample-v1:7:3:4:100:200:300" under the
	 * sample key above, computed apart. */
	ok(strcmp(sig, "945a567e5f662e22b5e7d20041c5e07c") == 0,
	    "a sample is signed with the derived key");
	ok(pingoo_sample_verify(c.jwt_token_key, c.jwt_token_key_len, 7, 3,
	    &good, sig) == PINGOO_ERR_AUTH && pingoo_sample_verify(key,
	    KEYLEN, 7, 3, &good, sig) == PINGOO_ERR_AUTH,
	    "neither the token key nor jwt_key itself verifies it");
	ok(pingoo_token_keys(&c, k, len) == 1 && k[0] == c.jwt_token_key &&
	    len[0] == 64, "jwt_key_legacy 0: the derived token key alone");
	c.jwt_key_legacy = 1;
	ok(pingoo_sample_keys(&c, k, len) == 2 && k[0] == c.jwt_sample_key &&
	    k[1] == c.jwt_key && len[1] == KEYLEN &&
	    pingoo_token_keys(&c, k, len) == 2 && k[0] == c.jwt_token_key &&
	    k[1] == c.jwt_key, "jwt_key_legacy 1: the derived keys sign, "
	    "jwt_key's signatures are still taken");
	c.jwt_key_legacy = 2;
	ok(pingoo_sample_keys(&c, k, len) == 2 && k[0] == c.jwt_key &&
	    k[1] == c.jwt_sample_key && pingoo_token_keys(&c, k, len) == 2 &&
	    k[0] == c.jwt_key && k[1] == c.jwt_token_key,
	    "jwt_key_legacy 2: jwt_key signs, as before, the derived keys' "
	    "signatures are taken");
	pingoo_sample_keys(&c, k, len);
	pingoo_sample_sign(k[0], len[0], 7, 3, &good, raw);
	ok(strcmp(raw, "2bdf65e931664b6bc416a25af73c3d2a") == 0,
	    "under 2 a sample is signed as the previous release signed it");
}

int
main(void)
{
	const struct pingoo_sample good = { 4, 100, 200, 300, 0, 0 };
	struct pingoo_sample s;
	int64_t *stamp[3] = { &s.t0, &s.t1, &s.t2 };
	char sig[PINGOO_SIG_LEN + 1], upper[PINGOO_SIG_LEN + 1];
	size_t i;

	pingoo_sample_sign(key, KEYLEN, 7, 3, &good, sig);
	/* HMAC-SHA256 of "pingoo-sample-v1:7:3:4:100:200:300", computed
	 * apart (Python's hmac), its first 16 bytes in lower-case hex. */
	ok(strcmp(sig, "2bdf65e931664b6bc416a25af73c3d2a") == 0,
	    "the signature is the first half of HMAC-SHA256 over the stamps");
	ok(pingoo_sample_verify(key, KEYLEN, 7, 3, &good, sig) == PINGOO_OK,
	    "the signature verifies");
	s = good;
	s.t3 = 999;
	s.has_t3 = 1;
	ok(pingoo_sample_verify(key, KEYLEN, 7, 3, &s, sig) == PINGOO_OK,
	    "t3 is the client's and not covered");
	ok(refused(8, 3, &good, sig), "another test's signature is refused");
	ok(refused(7, 4, &good, sig), "another user's signature is refused");
	s = good;
	s.seq++;
	ok(refused(7, 3, &s, sig), "a changed seq is refused");
	for (i = 0; i < 3; i++) {
		s = good;
		*stamp[i] += 1;
		ok(refused(7, 3, &s, sig), "a changed t%zu is refused", i);
	}
	ok(pingoo_sample_verify((const unsigned char *)"another key of 32 "
	    "bytes, really", KEYLEN, 7, 3, &good, sig) == PINGOO_ERR_AUTH,
	    "another key's signature is refused");
	for (i = 0; i <= PINGOO_SIG_LEN; i++)
		upper[i] = (char)(sig[i] >= 'a' && sig[i] <= 'f' ?
		    sig[i] - 'a' + 'A' : sig[i]);
	ok(refused(7, 3, &good, upper), "upper-case hex is refused");
	ok(refused(7, 3, &good, "2bdf65e931664b6bc416a25af73c3d2") &&
	    refused(7, 3, &good, "2bdf65e931664b6bc416a25af73c3d2a0"),
	    "a signature one character short or long is refused");
	ok(refused(7, 3, &good, NULL) && refused(7, 3, &good, ""),
	    "no signature is refused");
	pingoo_probe_sign(key, KEYLEN, 7, 3, 2, &good, upper);
	ok(strcmp(upper, sig) != 0 && pingoo_probe_verify(key, KEYLEN, 7, 3, 2,
	    &good, upper) == PINGOO_OK, "a probe's signature verifies and is "
	    "not the sample's over the same stamps");
	ok(pingoo_probe_verify(key, KEYLEN, 7, 3, 1, &good, upper) ==
	    PINGOO_ERR_AUTH && pingoo_probe_verify(key, KEYLEN, 7, 3, 2, &good,
	    sig) == PINGOO_ERR_AUTH, "a probe's signature holds for its phase "
	    "only, and a sample's does not hold for a probe");
	test_derived();
	return tap_done();
}
