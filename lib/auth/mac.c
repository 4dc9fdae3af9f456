/*
 * mac.c - HMAC with the key set up once per thread.  OpenSSL 3's one-shot
 * HMAC() fetches the algorithm, allocates a context and derives the key's
 * inner and outer blocks on every call; the echo needs two MACs per
 * request (the token's and its own signature), and that was the largest
 * part of the worker's CPU after the system calls.  Here each thread keeps
 * one keyed context and re-initializes it, which reuses the derived key.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auth/auth.h"
#include "core/core.h"

struct mac_cache {
	EVP_MAC_CTX	*ctx;
	char		 digest[16];
	unsigned char	 key[512];
	size_t		 keylen;
	int		 keyed;
};

static pthread_key_t	mac_tls;
static pthread_once_t	mac_once = PTHREAD_ONCE_INIT;
static int		mac_tls_ok;

static void
mac_cache_free(void *p)
{
	struct mac_cache *c = p;

	EVP_MAC_CTX_free(c->ctx);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}

static void
mac_tls_init(void)
{
	mac_tls_ok = pthread_key_create(&mac_tls, mac_cache_free) == 0;
}

/* This thread's context, made on first use; NULL without memory. */
static struct mac_cache *
mac_cache(void)
{
	struct mac_cache *c;
	EVP_MAC *m;

	pthread_once(&mac_once, mac_tls_init);
	if (!mac_tls_ok)
		return NULL;
	if ((c = pthread_getspecific(mac_tls)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL)
		c->ctx = EVP_MAC_CTX_new(m);
	EVP_MAC_free(m);
	if (c->ctx == NULL || pthread_setspecific(mac_tls, c) != 0) {
		mac_cache_free(c);
		return NULL;
	}
	return c;
}

/* Keys the context, or re-initializes it when key and digest are the
 * ones it holds.  Returns 1 on success. */
static int
mac_start(struct mac_cache *c, const char *digest, const unsigned char *key,
    size_t keylen)
{
	OSSL_PARAM params[2];

	if (c->keyed && c->keylen == keylen && strcmp(c->digest, digest) == 0 &&
	    CRYPTO_memcmp(c->key, key, keylen) == 0)
		return EVP_MAC_init(c->ctx, NULL, 0, NULL);
	c->keyed = 0;
	if (keylen > sizeof(c->key) || strlen(digest) >= sizeof(c->digest))
		return 0;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(c->ctx, key, keylen, params))
		return 0;
	memcpy(c->key, key, keylen);
	c->keylen = keylen;
	snprintf(c->digest, sizeof(c->digest), "%s", digest);
	c->keyed = 1;
	return 1;
}

enum pingoo_err
pingoo_hmac(const char *digest, const unsigned char *key, size_t keylen,
    const void *msg, size_t len, unsigned char *out, size_t cap,
    size_t *outlen)
{
	struct mac_cache *c;

	*outlen = 0;
	if ((c = mac_cache()) == NULL)
		return PINGOO_ERR_NOMEM;
	if (!mac_start(c, digest, key, keylen) ||
	    !EVP_MAC_update(c->ctx, msg, len) ||
	    !EVP_MAC_final(c->ctx, out, outlen, cap)) {
		c->keyed = 0;
		return PINGOO_ERR_INTERNAL;
	}
	return PINGOO_OK;
}
