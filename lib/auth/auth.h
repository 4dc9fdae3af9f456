/*
 * auth.h - who is calling and what the server vouches for: bearer tokens
 * (JWTs), password hashes, HMAC, and the signature over a sample's or a
 * probe's stamps that lets a receipt bring them back.
 */
#ifndef PINGOO_AUTH_H
#define PINGOO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "measure/measure.h"

/* mac.c: HMAC (digest "SHA256", "SHA384", "SHA512") of msg into out[0..cap),
 * *outlen bytes, with a keyed context kept per thread (freed at its exit).
 * PINGOO_ERR_NOMEM or PINGOO_ERR_INTERNAL on failure. */
enum pingoo_err	 pingoo_hmac(const char *digest, const unsigned char *key,
		    size_t keylen, const void *msg, size_t len,
		    unsigned char *out, size_t cap, size_t *outlen);

/* token.c: JWTs.  The algorithm is pinned by the configuration; `exp`,
 * `iat`, `iss`, `aud`, `sub` and `jti` are required, exp - iat is at most
 * jwt_ttl; `nbf`/`iat` allow jwt_leeway.  ES256 tokens name their key by
 * `kid`: jwt_public_key holds up to PINGOO_JWT_KEYS_MAX keys (a rotation
 * has two live), and a kid none of them has is refused. */
#define PINGOO_JTI_MAX		64
#define PINGOO_JWT_KEYS_MAX	4
/* What a verified token says, for its revocation checks. */
struct pingoo_token_info {
	uint64_t	user_id;		/* sub */
	int64_t		iat, exp;		/* seconds since the epoch */
	char		jti[PINGOO_JTI_MAX + 1];
	/* The first 128 bits of SHA-256(jti), never both 0: its key in
	 * the shared table of revoked tokens (lib/shm/revtab.c). */
	uint64_t	jti_hash[2];
};
/* The jti_hash of a token whose jti is jti; INVAL for a jti no token may
 * carry. */
enum pingoo_err	 pingoo_token_jti_hash(const char *jti, uint64_t out[2]);
/* On success *out is a malloc'd compact token the caller frees. */
enum pingoo_err	 pingoo_token_issue(const struct pingoo_config *,
		    uint64_t user_id, int64_t now_s, char **out);
/* Verifies token at now_s; *out gets its claims. */
enum pingoo_err	 pingoo_token_check(const struct pingoo_config *,
		    const char *token, int64_t now_s,
		    struct pingoo_token_info *out);
/* The same, giving only the user. */
enum pingoo_err	 pingoo_token_verify(const struct pingoo_config *,
		    const char *token, int64_t now_s, uint64_t *user_id);
/* pingoo_token_check remembering the tokens that verified (a few, by all
 * of their bytes; their times are checked at every use, their revocation
 * is the caller's to check at every use).  A cache belongs to one
 * configuration, given to _new and never changed; with another, or a NULL
 * cache, this is pingoo_token_check.  One per thread. */
struct pingoo_token_cache;
struct pingoo_token_cache *pingoo_token_cache_new(const struct pingoo_config *);
void		 pingoo_token_cache_free(struct pingoo_token_cache *);
enum pingoo_err	 pingoo_token_verify_cached(struct pingoo_token_cache *,
		    const struct pingoo_config *, const char *token,
		    int64_t now_s, struct pingoo_token_info *out);
/* 1 when this host holds the key that signs tokens (ES256: the private
 * key; a verifying-only host answers the token route with an error). */
int		 pingoo_token_can_issue(const struct pingoo_config *);
/* ES256 public key i (0 first) as JWK members (x, y base64url; kid = RFC
 * 7638 thumbprint); xs and ys may be NULL.  NOTFOUND for HMAC algorithms
 * and past the last key; CONFIG when the keys are unusable. */
#define PINGOO_JWK_COORD_MAX	48
#define PINGOO_KID_MAX		48
enum pingoo_err	 pingoo_token_jwk(const struct pingoo_config *, size_t i,
		    char *xs, char *ys, char kid[PINGOO_KID_MAX]);
/* CONFIG, with f naming jwt_public_key_file, when the ES256 keys are
 * unusable or do not match; the configuration's other rules are
 * pingoo_config_check's. */
enum pingoo_err	 pingoo_token_check_keys(const struct pingoo_config *,
		    struct pingoo_fault *f);

/* password.c: yescrypt through the C library's crypt_r. */
#define PINGOO_HASH_MAX 256
enum pingoo_err	 pingoo_password_hash(const char *password,
		    char out[PINGOO_HASH_MAX]);
/* PINGOO_OK on a match, PINGOO_ERR_AUTH on a mismatch.  Constant time in
 * the hash comparison. */
enum pingoo_err	 pingoo_password_verify(const char *password, const char *hash);
/* A fixed dummy hash: verify against it for unknown users so a wrong user
 * and a wrong password cost the same. */
const char	*pingoo_password_dummy(void);

/*
 * sign.c: the keys made from jwt_key.  pingoo_keys_derive fills the
 * configuration's token key, HMAC-SHA512(jwt_key, "pingoo token v1"), and
 * sample key, HMAC-SHA256(jwt_key, "pingoo sample v1"): every host that
 * shares jwt_key makes the same two.  Call it once the configuration is
 * loaded; a configuration never derived signs and accepts nothing.
 */
enum pingoo_err	 pingoo_keys_derive(struct pingoo_config *);
/* The keys of tokens (HS256/384/512) and of stamp signatures: k[0] signs,
 * and with k[1] verifying too, returns 2 (jwt_key_legacy 1 or 2: jwt_key
 * itself beside the derived key).  0 when there is no key. */
size_t		 pingoo_token_keys(const struct pingoo_config *,
		    const unsigned char *k[2], size_t len[2]);
size_t		 pingoo_sample_keys(const struct pingoo_config *,
		    const unsigned char *k[2], size_t len[2]);

/* sign.c: the server's signature over its stamps, so a receipt can bring
 * them back.  Hex, NUL-terminated, PINGOO_SIG_LEN chars. */
#define PINGOO_SIG_LEN 32
void		pingoo_sample_sign(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id,
		    const struct pingoo_sample *, char out[PINGOO_SIG_LEN + 1]);
/* PINGOO_OK when sig matches (constant-time compare). */
enum pingoo_err	pingoo_sample_verify(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id,
		    const struct pingoo_sample *, const char *sig);
/* The signature over a probe's stamps: as a sample's, its phase named too. */
enum pingoo_err	pingoo_probe_verify(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id, int phase,
		    const struct pingoo_sample *, const char *sig);
void		pingoo_probe_sign(const unsigned char *key, size_t keylen,
		    uint64_t test_id, uint64_t user_id, int phase,
		    const struct pingoo_sample *, char out[PINGOO_SIG_LEN + 1]);

#endif
