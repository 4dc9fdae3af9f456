/*
 * micro.c - the cost of the echo's own work, call by call, outside the
 * network: token verification (in full and from a thread's cache), the
 * strict JSON parse of its body and the sample signature.  Build with `make bench/micro` in a build directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "auth/auth.h"
#include "core/core.h"
#include "input/input.h"
#include "measure/measure.h"
#include "shm/shm.h"

#define N 20000

static void
report(const char *what, int64_t t0)
{
	printf("%-28s %6.2f us\n", what, (double)(pingoo_mono_us() - t0) / N);
}

int
main(void)
{
	static struct pingoo_config c;
	static const char body[] = "{\"seq\":12,\"client_sent_at\":1795538000123456}";
	struct pingoo_sample s = { 1, 2, 3, 4, 5, 1 };
	struct pingoo_fault f;
	struct json_object *o;
	struct pingoo_token_cache *tc;
	struct pingoo_token_info info;
	struct pingoo_revtab *rt;
	int revoked = 0;
	char *tok, sig[PINGOO_SIG_LEN + 1];
	uint64_t uid;
	int64_t t0;
	int i;

	pingoo_config_defaults(&c);
	memset(c.jwt_key, 'k', 48);
	c.jwt_key_len = 48;
	if (pingoo_keys_derive(&c) != PINGOO_OK)
		return 1;
	if (pingoo_token_issue(&c, 7, 1795538000, &tok) != PINGOO_OK)
		return 1;
	t0 = pingoo_mono_us();
	for (i = 0; i < N; i++)
		pingoo_token_verify(&c, tok, 1795538000, &uid);
	report("token verification", t0);
	tc = pingoo_token_cache_new(&c);
	t0 = pingoo_mono_us();
	for (i = 0; i < N; i++)
		pingoo_token_verify_cached(tc, &c, tok, 1795538000, &info);
	report("token verification, cached", t0);
	pingoo_token_cache_free(tc);
	/* The revocation check every request adds, in a table holding as
	 * many revocations as the pool's (half full: windows searched to
	 * their end). */
	if ((rt = pingoo_revtab_new(65536, 16384)) == NULL)
		return 1;
	for (i = 0; i < 32768; i++) {
		uint64_t h[2] = { (uint64_t)i * 0x9E3779B97F4A7C15ULL + 1, 7 };

		pingoo_revtab_token(rt, h, (uint64_t)i + 100, 1795530000,
		    1795540000, 1795538000);
		if (i < 8192)
			pingoo_revtab_user(rt, (uint64_t)i + 100, 1795530000,
			    1795540000, 1795538000);
	}
	t0 = pingoo_mono_us();
	for (i = 0; i < N; i++)
		revoked += pingoo_revtab_revoked(rt, info.jti_hash, 7,
		    info.iat);
	report("revocation check (shared table, half full)", t0);
	pingoo_revtab_free(rt);
	if (revoked != 0)
		return 1;
	t0 = pingoo_mono_us();
	for (i = 0; i < N; i++) {
		pingoo_json_parse(body, sizeof(body) - 1, 8, &o, &f);
		json_object_put(o);
	}
	report("strict JSON parse of a body", t0);
	t0 = pingoo_mono_us();
	for (i = 0; i < N; i++)
		pingoo_sample_sign(c.jwt_sample_key, c.jwt_sample_key_len, 1,
		    2, &s, sig);
	report("sample signature", t0);
	free(tok);
	return 0;
}
