/*
 * mac.c - HMAC with the key set up once per thread.  OpenSSL 3's one-shot
 * HMAC() fetches the algorithm, allocates a context and derives the key's
 * inner and outer blocks on every call; the echo needs two MACs per
 * request (the token's and its own signature), and that was the largest
 * part of the worker's CPU after the system calls.  Here each thread keeps
 * keyed contexts and re-initializes them, which reuses the derived key.
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

/* One keyed context.  A thread keeps two: the echo's two MACs are made
 * with two keys (the token's and the samples', both derived from jwt_key:
 * sign.c), and one context re-keyed twice a request would derive the key's
 * blocks again each time. */
struct mac_slot {
	EVP_MAC_CTX	*ctx;
	char		 digest[16];
	unsigned char	 key[512];
	size_t		 keylen;
	int		 keyed;
};

#define MAC_SLOTS 2

struct mac_cache {
	struct mac_slot	 slot[MAC_SLOTS];
	int		 next;		/* the slot re-keyed next */
};

static pthread_key_t	mac_tls;
static pthread_once_t	mac_once = PTHREAD_ONCE_INIT;
static int		mac_tls_ok;

static void
mac_cache_free(void *p)
{
	struct mac_cache *c = p;
	int i;

	for (i = 0; i < MAC_SLOTS; i++) {
		EVP_MAC_CTX_free(c->slot[i].ctx);
		OPENSSL_cleanse(c->slot[i].key, sizeof(c->slot[i].key));
	}
	free(c);
}

static void
mac_tls_init(void)
{
	mac_tls_ok = pthread_key_create(&mac_tls, mac_cache_free) == 0;
}

static struct mac_cache *
mac_cache(void)
{
	struct mac_cache *c;
	EVP_MAC *m;
	int i, ok = 1;

	pthread_once(&mac_once, mac_tls_init);
	if (!mac_tls_ok)
		return NULL;
	if ((c = pthread_getspecific(mac_tls)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL)
		for (i = 0; i < MAC_SLOTS; i++)
			if ((c->slot[i].ctx = EVP_MAC_CTX_new(m)) == NULL)
				ok = 0;
	EVP_MAC_free(m);
	if (m == NULL || !ok || pthread_setspecific(mac_tls, c) != 0) {
		mac_cache_free(c);
		return NULL;
	}
	return c;
}

static int
slot_has(const struct mac_slot *c, const char *digest,
    const unsigned char *key, size_t keylen)
{
	return c->keyed && c->keylen == keylen &&
	    strcmp(c->digest, digest) == 0 &&
	    CRYPTO_memcmp(c->key, key, keylen) == 0;
}

/* The slot keyed with (digest, key), started; or the other one re-keyed. */
static struct mac_slot *
mac_start(struct mac_cache *m, const char *digest, const unsigned char *key,
    size_t keylen)
{
	OSSL_PARAM params[2];
	struct mac_slot *c;
	int i;

	for (i = 0; i < MAC_SLOTS; i++)
		if (slot_has(&m->slot[i], digest, key, keylen)) {
			if (EVP_MAC_init(m->slot[i].ctx, NULL, 0, NULL))
				return &m->slot[i];
			m->slot[i].keyed = 0;
			return NULL;
		}
	c = &m->slot[m->next];
	m->next = (m->next + 1) % MAC_SLOTS;
	c->keyed = 0;
	/* EVP_MAC_init given no key keeps the context's last one: a MAC
	 * asked for with no key must fail, never be made with another. */
	if (key == NULL || keylen == 0 || keylen > sizeof(c->key) ||
	    strlen(digest) >= sizeof(c->digest))
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(c->ctx, key, keylen, params))
		return NULL;
	memcpy(c->key, key, keylen);
	c->keylen = keylen;
	snprintf(c->digest, sizeof(c->digest), "%s", digest);
	c->keyed = 1;
	return c;
}

enum pingoo_err
pingoo_hmac(const char *digest, const unsigned char *key, size_t keylen,
    const void *msg, size_t len, unsigned char *out, size_t cap,
    size_t *outlen)
{
	struct mac_cache *m;
	struct mac_slot *c;

	*outlen = 0;
	if ((m = mac_cache()) == NULL)
		return PINGOO_ERR_NOMEM;
	if ((c = mac_start(m, digest, key, keylen)) == NULL)
		return PINGOO_ERR_INTERNAL;
	if (!EVP_MAC_update(c->ctx, msg, len) ||
	    !EVP_MAC_final(c->ctx, out, outlen, cap)) {
		c->keyed = 0;
		return PINGOO_ERR_INTERNAL;
	}
	return PINGOO_OK;
}
