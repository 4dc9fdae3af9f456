/*
 * fuzz-token.c - libFuzzer harness: bearer token verification.  The input
 * is tried twice: as a raw token (nothing a client sends may crash the
 * verifier or be accepted without the key), and, split at its first
 * newline into a header and a payload, as a token correctly signed with
 * the server's key, so the claim checks behind the signature are reached.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth.h"
#include "core/core.h"

#define KEY "fuzzing-key-fuzzing-key-fuzzing-key!"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
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

/* header.payload.signature with the harness's key; NULL without memory. */
static char *
signed_token(const uint8_t *data, size_t size, const uint8_t *nl)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t hn = (size_t)(nl - data), pn = size - hn - 1, n;
	char *tok;

	if ((tok = malloc(2 * size + 128)) == NULL)
		return NULL;
	n = b64url(data, hn, tok);
	tok[n++] = '.';
	n += b64url(nl + 1, pn, tok + n);
	HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (unsigned char *)tok, n, mac,
	    &maclen);
	tok[n++] = '.';
	b64url(mac, maclen, tok + n);
	return tok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pingoo_config cfg;
	static int ready;
	const uint8_t *nl;
	uint64_t uid;
	char *tok;

	if (!ready) {
		pingoo_config_defaults(&cfg);
		memcpy(cfg.jwt_key, KEY, strlen(KEY));
		cfg.jwt_key_len = strlen(KEY);
		(void)pingoo_keys_derive(&cfg);
		ready = 1;
	}
	if ((tok = malloc(size + 1)) == NULL)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	/* Fuzzed bytes carry no valid HMAC: acceptance is a bug. */
	if (strchr(tok, '\n') == NULL &&
	    pingoo_token_verify(&cfg, tok, 1700000000, &uid) == PINGOO_OK)
		__builtin_trap();
	free(tok);
	if ((nl = memchr(data, '\n', size)) != NULL &&
	    (tok = signed_token(data, size, nl)) != NULL) {
		(void)pingoo_token_verify(&cfg, tok, 1700000000, &uid);
		free(tok);
	}
	return 0;
}
