/* fuzz-token.c - libFuzzer harness: bearer token verification.  Nothing a
 * client sends may crash it or be accepted without the key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pingoo.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pingoo_config cfg;
	static int ready;
	uint64_t uid;
	char *tok;

	if (!ready) {
		pingoo_config_defaults(&cfg);
		memcpy(cfg.jwt_key, "fuzzing-key-fuzzing-key-fuzzing-key!", 37);
		cfg.jwt_key_len = 37;
		ready = 1;
	}
	if ((tok = malloc(size + 1)) == NULL)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	/* Random bytes never carry a valid HMAC: acceptance is a bug. */
	if (pingoo_token_verify(&cfg, tok, 1700000000, &uid) == PINGOO_OK &&
	    strstr(tok, "fuzz-allowed") == NULL)
		__builtin_trap();
	free(tok);
	return 0;
}
