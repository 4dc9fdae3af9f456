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
	return tap_done();
}
