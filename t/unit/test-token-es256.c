/*
 * test-token-es256.c - ES256 tokens: a host with the private key issues,
 * a host with only the public key verifies, the public key is published
 * as a JWK, and the algorithm stays pinned (algorithm confusion, an ES256
 * token on an HS256 host, a token of another key pair), and a key
 * rotation: two public keys live, each token checked with the key its kid
 * names, the old key's tokens refused once it is removed.  The keys below
 * exist for this test only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "auth/auth.h"
#include "core/core.h"
#include "../tap.h"

#define NOW	1700000000
#define KEY	"0123456789abcdef0123456789abcdef-test-key"
/* A_PUB as a JWK, computed apart from Pingoo (RFC 7638 thumbprint). */
#define A_X	"u2xSsHXGvCJrZ7PqjUHfe6cmSSr5BbskFR-pP_2HLIY"
#define A_Y	"8zDvuZcM3TMKvCtHtO2OicM_axMivNK3c4hIIZrRG74"
#define A_KID	"UcbI2vAuEimBVOI7P2tZtmvIlmxQgb1IsA_3UKfxx-g"

#define A_PRIV \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgA8+i0ZF5y0ZEaMTQ\n" \
    "hUpIDdi0iONXdvTJIGKm+0SWU3ahRANCAAS7bFKwdca8Imtns+qNQd97pyZJKvkF\n" \
    "uyQVH6k//YcshvMw77mXDN0zCrwrR7TtjonDP2sTIrzSt3OISCGa0Ru+\n" \
    "-----END PRIVATE KEY-----\n"
#define A_PUB \
    "-----BEGIN PUBLIC KEY-----\n" \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEu2xSsHXGvCJrZ7PqjUHfe6cmSSr5\n" \
    "BbskFR+pP/2HLIbzMO+5lwzdMwq8K0e07Y6Jwz9rEyK80rdziEghmtEbvg==\n" \
    "-----END PUBLIC KEY-----\n"
#define B_PRIV \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTZtkWcEZOlQQiNFi\n" \
    "YUxnE3cM1/3OAw6ScHyNFNwm9r+hRANCAASaYZFoGJqRx3QziCcZ6mCTJNEnq0We\n" \
    "L/l+xcsUebte/H2cz120UWFvVwO3fuwbEQA3BinDAySKQ7Zo6bSRAcCh\n" \
    "-----END PRIVATE KEY-----\n"
/* The new key of the rotation. */
#define N_PRIV \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiiQ9KTQmoYjbr8Kk\n" \
    "A08OlrQKBd5K9I+0slq39sNmTW2hRANCAAQyNPOcwpXbHbfXy8Y57uqGyoDV9ff9\n" \
    "TjNr4o1uEOBs7T7o1eEHOuy/btny8dtvxwFVThzTMSh0ZZXO70X7SgCy\n" \
    "-----END PRIVATE KEY-----\n"
#define N_PUB \
    "-----BEGIN PUBLIC KEY-----\n" \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMjTznMKV2x2318vGOe7qhsqA1fX3\n" \
    "/U4za+KNbhDgbO0+6NXhBzrsv27Z8vHbb8cBVU4c0zEodGWVzu9F+0oAsg==\n" \
    "-----END PUBLIC KEY-----\n"
#define C_PUB \
    "-----BEGIN PUBLIC KEY-----\n" \
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEwqfuEJzvMegsTZaw6ZHeJ6cORBcJYwr/\n" \
    "KvL4andeLQXqSmWeDPY4ByQG9GcplF/0/SfgioMa7DNni97dgGjbNJTwgKJsDo9O\n" \
    "GNAziYVKyId+OAzhPqHYseQS6HrDaxgO\n" \
    "-----END PUBLIC KEY-----\n"

/* A configuration: alg, then the PEM keys (NULL = none). */
static void
setup(struct pingoo_config *c, const char *alg, const char *priv,
    const char *pub)
{
	pingoo_config_defaults(c);
	memcpy(c->jwt_key, KEY, strlen(KEY));
	c->jwt_key_len = strlen(KEY);
	(void)pingoo_keys_derive(c);
	snprintf(c->jwt_alg, sizeof(c->jwt_alg), "%s", alg);
	if (priv != NULL)
		snprintf(c->jwt_private_key, sizeof(c->jwt_private_key), "%s",
		    priv);
	if (pub != NULL)
		snprintf(c->jwt_public_key, sizeof(c->jwt_public_key), "%s",
		    pub);
}

/* A token of alg signed with key (len bytes) and good claims, or NULL. */
static char *
forge(jwt_alg_t alg, const void *key, size_t len)
{
	char json[256];
	jwt_t *j = NULL;
	char *tok = NULL;

	snprintf(json, sizeof(json), "{\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"iat\":%d,\"exp\":%d}", NOW, NOW + 600);
	if (jwt_new(&j) != 0)
		return NULL;
	if (jwt_add_grants_json(j, json) == 0 &&
	    jwt_set_alg(j, alg, key, (int)len) == 0)
		tok = jwt_encode_str(j);
	jwt_free(j);
	return tok;
}

/* 1 when tok verifies on c as user 42. */
static int
accepts(const struct pingoo_config *c, const char *tok)
{
	uint64_t uid = 0;

	return tok != NULL && pingoo_token_verify(c, tok, NOW, &uid) ==
	    PINGOO_OK && uid == 42;
}

static void
test_hosts(void)
{
	struct pingoo_config a, b;
	struct pingoo_fault f;
	char *tok = NULL, *tok2 = NULL;
	jwt_t *j = NULL;

	setup(&a, "ES256", A_PRIV, A_PUB);
	setup(&b, "ES256", NULL, A_PUB);
	ok(pingoo_config_check(&a, &f) == PINGOO_OK &&
	    pingoo_config_check(&b, &f) == PINGOO_OK,
	    "an issuing host (both keys) and a verifying host (public key "
	    "only) pass the configuration check");
	ok(pingoo_token_can_issue(&a) && !pingoo_token_can_issue(&b),
	    "only the host with the private key can issue");
	ok(pingoo_token_issue(&a, 42, NOW, &tok) == PINGOO_OK && accepts(&a, tok),
	    "host A issues an ES256 token and verifies it");
	ok(accepts(&b, tok), "host B, with only the public key, accepts "
	    "host A's token");
	ok(pingoo_token_issue(&b, 42, NOW, &tok2) == PINGOO_ERR_CONFIG &&
	    tok2 == NULL, "host B cannot issue: PINGOO_ERR_CONFIG, no token");
	ok(tok != NULL && jwt_decode(&j, tok, (const unsigned char *)A_PUB,
	    (int)strlen(A_PUB)) == 0 && jwt_get_header(j, "kid") != NULL &&
	    strcmp(jwt_get_header(j, "kid"), A_KID) == 0,
	    "the token's header names the key by its JWK thumbprint (kid)");
	jwt_free(j);
	free(tok);
}

/* Tokens an ES256 host with A_PUB must refuse: algorithm, key, sentence. */
static const struct {
	jwt_alg_t	 alg;
	const char	*key;
	size_t		 cut;	/* bytes dropped from the key's end */
	const char	*what;
} forgeries[] = {
	/* The PEM text as cfg holds it, with and without its newline. */
	{ JWT_ALG_HS256, A_PUB, 0, "an HS256 token whose secret is the "
	    "public key's PEM text is refused (algorithm confusion)" },
	{ JWT_ALG_HS256, A_PUB, 1, "... also with the PEM text's trailing "
	    "newline dropped" },
	{ JWT_ALG_HS256, KEY, 0, "an HS256 token signed with the sample "
	    "secret is refused by an ES256 host" },
	{ JWT_ALG_NONE, NULL, 0, "an unsigned (alg none) token is refused by "
	    "an ES256 host" },
	{ JWT_ALG_ES256, B_PRIV, 0, "an ES256 token of another key pair is "
	    "refused" },
};

static void
test_pinning(void)
{
	struct pingoo_config b, hs, a;
	char *tok = NULL, *forged;
	size_t i;

	setup(&b, "ES256", NULL, A_PUB);
	for (i = 0; i < sizeof(forgeries) / sizeof(forgeries[0]); i++) {
		forged = forge(forgeries[i].alg, forgeries[i].key,
		    forgeries[i].key == NULL ? 0 :
		    strlen(forgeries[i].key) - forgeries[i].cut);
		ok(forged != NULL && !accepts(&b, forged), "%s",
		    forgeries[i].what);
		free(forged);
	}
	setup(&hs, "HS256", NULL, NULL);
	setup(&a, "ES256", A_PRIV, A_PUB);
	ok(pingoo_token_issue(&a, 42, NOW, &tok) == PINGOO_OK &&
	    !accepts(&hs, tok), "an ES256 token is refused by an HS256 host");
	free(tok);
}

/* token with the character at i (counted from the end when negative)
 * changed; the caller frees it. */
static char *
altered(const char *token, long i)
{
	char *t = strdup(token);
	size_t n = strlen(t);
	size_t k = i < 0 ? n - (size_t)-i : (size_t)i;

	t[k] = t[k] == 'A' ? 'B' : 'A';
	return t;
}

static void
test_signature(void)
{
	struct pingoo_config a, b;
	char *tok = NULL, *bad, *dot;
	size_t n;

	setup(&a, "ES256", A_PRIV, A_PUB);
	setup(&b, "ES256", NULL, A_PUB);
	if (pingoo_token_issue(&a, 42, NOW, &tok) != PINGOO_OK) {
		ok(0, "an ES256 token to alter");
		return;
	}
	n = strlen(tok);
	dot = strchr(tok, '.');
	bad = altered(tok, -2);
	ok(!accepts(&b, bad), "an ES256 token with its signature altered is "
	    "refused");
	free(bad);
	bad = altered(tok, (long)(dot - tok) + 3);
	ok(!accepts(&b, bad), "an ES256 token with its payload altered is "
	    "refused");
	free(bad);
	bad = altered(tok, 3);
	ok(!accepts(&b, bad), "an ES256 token with its header altered is "
	    "refused");
	free(bad);
	bad = strdup(tok);
	bad[n - 1] = '\0';
	ok(!accepts(&b, bad), "an ES256 token with its signature one "
	    "character short is refused");
	free(bad);
	/* 86 characters carry 516 bits for 512: the last character's low
	 * four are padding, zero in the one spelling a signature has (A, Q,
	 * g or w; the next character differs in those bits only). */
	bad = strdup(tok);
	bad[n - 1] = (char)(bad[n - 1] + 1);
	ok(!accepts(&b, bad), "an ES256 token whose signature's last "
	    "character differs only in its padding bits is refused (one "
	    "signature, one spelling)");
	free(bad);
	ok(accepts(&b, tok) && accepts(&b, tok), "the genuine token is "
	    "accepted again (the decoded key is reused)");
	free(tok);
}

static void
test_jwk(void)
{
	struct pingoo_config c;
	char x[PINGOO_JWK_COORD_MAX], y[PINGOO_JWK_COORD_MAX];
	char kid[PINGOO_KID_MAX];

	setup(&c, "ES256", NULL, A_PUB);
	ok(pingoo_token_jwk(&c, 0, x, y, kid) == PINGOO_OK &&
	    strcmp(x, A_X) == 0 && strcmp(y, A_Y) == 0 &&
	    strcmp(kid, A_KID) == 0, "the JWK's x, y and kid match those "
	    "computed apart from Pingoo");
	ok(pingoo_token_jwk(&c, 1, x, y, kid) == PINGOO_ERR_NOTFOUND,
	    "one key configured, one key published");
	setup(&c, "HS256", NULL, NULL);
	ok(pingoo_token_jwk(&c, 0, x, y, kid) == PINGOO_ERR_NOTFOUND,
	    "an HS256 host has no JWK to publish");
}

/* Configurations the start-up checks (the configuration's rules, then the
 * keys') must refuse. */
static const struct {
	const char	*alg, *priv, *pub;
	const char	*what;
} bad_configs[] = {
	{ "ES256", NULL, NULL, "ES256 without a public key is refused at start" },
	{ "ES256", B_PRIV, A_PUB, "a private key that does not match the "
	    "public key is refused" },
	{ "ES256", NULL, C_PUB, "a P-384 public key is refused (ES256 is "
	    "P-256)" },
	{ "ES256", NULL, "-----BEGIN PUBLIC KEY-----\nnonsense\n", "a public "
	    "key that is not PEM is refused" },
	{ "HS256", NULL, A_PUB, "a public key with jwt_alg = HS256 is refused "
	    "(it would be unused)" },
	{ "ES256", NULL, A_PUB A_PUB, "the same public key twice is refused" },
	{ "ES256", NULL, A_PUB C_PUB, "a P-384 key beside a P-256 one is "
	    "refused" },
	{ "ES256", NULL, A_PUB A_PRIV, "a private key among the public keys is "
	    "refused" },
	{ "ES256", NULL, A_PUB "trailing words\n", "text after the public "
	    "keys is refused" },
	{ "ES256", NULL, A_PUB N_PUB A_PUB N_PUB A_PUB, "more than four public "
	    "keys are refused" },
	{ "ES256", B_PRIV, A_PUB N_PUB, "a private key whose public half is "
	    "not among two public keys is refused" },
};

static void
test_config(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;
	size_t i;

	for (i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		setup(&c, bad_configs[i].alg, bad_configs[i].priv,
		    bad_configs[i].pub);
		ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG ||
		    pingoo_token_check_keys(&c, &f) == PINGOO_ERR_CONFIG, "%s",
		    bad_configs[i].what);
	}
	setup(&c, "ES256", NULL, A_PUB);
	c.jwt_key_len = 0;
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG,
	    "ES256 still needs jwt_key: it signs the samples");
}

/* The kid in tok's header, into kid (PINGOO_KID_MAX bytes); 0 when none. */
static int
kid_of(const char *tok, char *kid)
{
	jwt_t *j = NULL;
	const char *k;
	int ok = 0;

	if (jwt_decode(&j, tok, NULL, 0) == 0 &&
	    (k = jwt_get_header(j, "kid")) != NULL &&
	    strlen(k) < PINGOO_KID_MAX) {
		memcpy(kid, k, strlen(k) + 1);
		ok = 1;
	}
	jwt_free(j);
	return ok;
}

/* A good token of key priv whose header names kid (NULL: none). */
static char *
forge_kid(const char *priv, const char *kid)
{
	char json[320];
	jwt_t *j = NULL;
	char *tok = NULL;

	snprintf(json, sizeof(json), "{\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"iat\":%d,\"exp\":%d,"
	    "\"jti\":\"forged-0001\"}", NOW, NOW + 600);
	if (jwt_new(&j) != 0)
		return NULL;
	if (jwt_add_grants_json(j, json) == 0 &&
	    (kid == NULL || jwt_add_header(j, "kid", kid) == 0) &&
	    jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)priv,
	    (int)strlen(priv)) == 0)
		tok = jwt_encode_str(j);
	jwt_free(j);
	return tok;
}

/*
 * A rotation as docs/deployment.md tells it: every host gets the new
 * public key beside the old one, then the issuer signs with the new
 * private key, then, once the old tokens have expired, the old public key
 * goes.
 */
static void
test_rotation(void)
{
	struct pingoo_config old_issuer, both, new_issuer, verifier_both,
	    verifier_new;
	struct pingoo_fault f;
	char x[PINGOO_JWK_COORD_MAX], y[PINGOO_JWK_COORD_MAX];
	char kid0[PINGOO_KID_MAX], kid1[PINGOO_KID_MAX], k[PINGOO_KID_MAX];
	char *told = NULL, *tnew = NULL, *tok;

	setup(&old_issuer, "ES256", A_PRIV, A_PUB);
	setup(&both, "ES256", A_PRIV, A_PUB N_PUB);
	setup(&new_issuer, "ES256", N_PRIV, A_PUB N_PUB);
	setup(&verifier_both, "ES256", NULL, N_PUB A_PUB);
	setup(&verifier_new, "ES256", NULL, N_PUB);
	ok(pingoo_token_check_keys(&both, &f) == PINGOO_OK &&
	    pingoo_token_check_keys(&new_issuer, &f) == PINGOO_OK &&
	    pingoo_token_check_keys(&verifier_both, &f) == PINGOO_OK,
	    "two public keys pass the start-up check, the private key being "
	    "either one's pair");
	ok(pingoo_token_jwk(&both, 0, x, y, kid0) == PINGOO_OK &&
	    strcmp(kid0, A_KID) == 0 &&
	    pingoo_token_jwk(&both, 1, x, y, kid1) == PINGOO_OK &&
	    strcmp(kid1, A_KID) != 0 &&
	    pingoo_token_jwk(&both, 2, x, y, k) == PINGOO_ERR_NOTFOUND,
	    "both public keys are published, each with its own kid");
	if (pingoo_token_issue(&old_issuer, 42, NOW, &told) != PINGOO_OK ||
	    pingoo_token_issue(&new_issuer, 42, NOW, &tnew) != PINGOO_OK) {
		ok(0, "tokens of both keys are issued");
		free(told);
		return;
	}
	ok(kid_of(told, k) && strcmp(k, A_KID) == 0 && kid_of(tnew, k) &&
	    strcmp(k, kid1) == 0, "each issuer signs with its private key's "
	    "kid");
	ok(pingoo_token_issue(&both, 42, NOW, &tok) == PINGOO_OK &&
	    kid_of(tok, k) && strcmp(k, A_KID) == 0, "an issuer configured "
	    "with both public keys still names its own private key's");
	free(tok);
	ok(accepts(&verifier_both, told) && accepts(&verifier_both, tnew),
	    "while both public keys are configured, tokens of the old key and "
	    "of the new one verify");
	ok(accepts(&both, tnew) && accepts(&new_issuer, told),
	    "... on the issuing hosts too, whichever key signs there");
	ok(!accepts(&verifier_new, told) && accepts(&verifier_new, tnew),
	    "once the old public key is removed, its tokens are refused and "
	    "the new key's verify");
	ok(!accepts(&old_issuer, tnew), "a host that has only the old key "
	    "refuses the new key's tokens");
	free(told);
	free(tnew);
	tok = forge_kid(N_PRIV, A_KID);
	ok(!accepts(&verifier_both, tok), "a token signed by one key whose kid "
	    "names the other is refused");
	free(tok);
	tok = forge_kid(N_PRIV, "no-such-kid");
	ok(!accepts(&verifier_both, tok), "a token whose kid no configured key "
	    "has is refused");
	free(tok);
	tok = forge_kid(N_PRIV, NULL);
	ok(!accepts(&verifier_both, tok), "an ES256 token without a kid is "
	    "refused");
	free(tok);
	tok = forge_kid(N_PRIV, kid1);
	ok(accepts(&verifier_both, tok), "the same token, naming its key's "
	    "kid, verifies (the refusals above are the kid's)");
	free(tok);
}

int
main(void)
{
	test_hosts();
	test_pinning();
	test_signature();
	test_jwk();
	test_config();
	test_rotation();
	return tap_done();
}
