/*
 * password.c - password hashes: yescrypt through the C library's
 * crypt_gensalt_rn and crypt_r (libxcrypt), compared in constant time.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"

/*
 * The hash of 32 random bytes nobody kept: verifying against it costs what
 * a real verify costs and never matches.
 */
static const char dummy_hash[] =
    "$y$j9T$m/Bbw2l7u/cN4aqDWoxjr.$Q021W0Vu2g.dJkOVTmTQuADJi3.kdHy4Ee7y9euVljD";

/*
 * struct crypt_data is about 32 KiB: allocated, because worker threads
 * have small stacks.  Wiped before free since it held the password.
 */
static struct crypt_data *
crypt_data_new(void)
{
	return calloc(1, sizeof(struct crypt_data));
}

static void
crypt_data_free(struct crypt_data *cd)
{
	if (cd == NULL)
		return;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
}

/* crypt_r reports failure as NULL or a string starting with '*'. */
static int
crypt_failed(const char *h)
{
	return h == NULL || h[0] == '*';
}

/*
 * Hashes password with a fresh random salt into out ("$y$...", NUL
 * terminated).  PINGOO_ERR_INTERNAL if the C library refuses.
 */
enum pingoo_err
pingoo_password_hash(const char *password, char out[PINGOO_HASH_MAX])
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	const char *h;
	enum pingoo_err rc = PINGOO_ERR_INTERNAL;

	out[0] = '\0';
	if (password == NULL)
		return PINGOO_ERR_INVAL;
	/* Count 0 and no random bytes: libxcrypt's default cost, salt
	 * from the kernel. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return PINGOO_ERR_INTERNAL;
	if ((cd = crypt_data_new()) == NULL)
		return PINGOO_ERR_NOMEM;
	h = crypt_r(password, salt, cd);
	if (crypt_failed(h) || strlen(h) >= PINGOO_HASH_MAX)
		goto out;
	memcpy(out, h, strlen(h) + 1);
	rc = PINGOO_OK;
out:
	crypt_data_free(cd);
	return rc;
}

/* Equal strings in time that depends on their lengths only. */
static int
equal_const(const char *a, const char *b)
{
	size_t i, n = strlen(a);
	unsigned char diff = 0;

	if (strlen(b) != n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/*
 * PINGOO_OK when password hashes to hash, PINGOO_ERR_AUTH otherwise (also
 * for a malformed hash), PINGOO_ERR_NOMEM when memory is short.
 */
enum pingoo_err
pingoo_password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd = NULL;
	const char *h;
	enum pingoo_err rc = PINGOO_ERR_AUTH;

	/* Only modular hashes: a bare DES "salt" would accept weak input. */
	if (password == NULL || hash == NULL || hash[0] != '$')
		return PINGOO_ERR_AUTH;
	if ((cd = crypt_data_new()) == NULL)
		return PINGOO_ERR_NOMEM;
	h = crypt_r(password, hash, cd);
	if (!crypt_failed(h) && equal_const(h, hash))
		rc = PINGOO_OK;
	crypt_data_free(cd);
	return rc;
}

const char *
pingoo_password_dummy(void)
{
	return dummy_hash;
}
