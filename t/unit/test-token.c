/*
 * test-token.c - issuing and verifying JWTs, and every way a forged or
 * stale token must be refused.  Hostile tokens are made with libjwt itself
 * (other algorithms, other claims) or by hand (headers libjwt will not
 * write, tampered parts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/evp.h>

#include "auth/auth.h"
#include "core/core.h"
#include "../tap.h"

#define NOW	1700000000
#define KEY	"0123456789abcdef0123456789abcdef-test-key"

static struct pingoo_config cfg;

/* Base64url without padding of s, into a malloc'd string. */
static char *
b64url(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n * 4 / 3 + 4);
	unsigned v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tab[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
	return out;
}

/*
 * A token with the given algorithm and key and the claims in json (a JSON
 * object), or NULL.  The caller frees it.
 */
/* A token signed with the key a server whose jwt_key is key signs with:
 * HMAC-SHA512(key, "pingoo token v1") (NULL: unsigned). */
static char *
make(jwt_alg_t alg, const char *key, const char *json)
{
	unsigned char tk[64];
	size_t tklen = 0;
	jwt_t *j = NULL;
	char *tok = NULL;

	if (key != NULL && EVP_Q_mac(NULL, "HMAC", NULL, "SHA512", NULL, key,
	    strlen(key), (const unsigned char *)"pingoo token v1", 15, tk,
	    sizeof(tk), &tklen) == NULL)
		return NULL;
	if (jwt_new(&j) != 0)
		return NULL;
	if (jwt_add_grants_json(j, json) == 0 &&
	    jwt_set_alg(j, alg, key ? tk : NULL, (int)tklen) == 0)
		tok = jwt_encode_str(j);
	jwt_free(j);
	return tok;
}

/* Claims of a good token with one change spliced in by printf. */
static char *
claims(const char *extra)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "{\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"iat\":%d,\"exp\":%d,\"jti\":\"t-1\"%s%s}",
	    NOW, NOW + 600, extra[0] ? "," : "", extra);
	return buf;
}

/* Verifies tok (freeing it) and says whether it was refused as AUTH. */
static int
refused(char *tok)
{
	uint64_t uid = 777;
	enum pingoo_err rc;

	if (tok == NULL) {
		diag("could not build the token");
		return 0;
	}
	rc = pingoo_token_verify(&cfg, tok, NOW, &uid);
	free(tok);
	return rc == PINGOO_ERR_AUTH && uid == 777;
}

static int
accepted(char *tok)
{
	uint64_t uid = 0;
	enum pingoo_err rc;

	if (tok == NULL)
		return 0;
	rc = pingoo_token_verify(&cfg, tok, NOW, &uid);
	free(tok);
	return rc == PINGOO_OK && uid == 42;
}

/* hdr.payload.sig built from JSON texts and a raw signature part. */
static char *
by_hand(const char *hdr, const char *payload, const char *sig)
{
	char *h = b64url(hdr), *p = b64url(payload), *out;
	size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;

	out = malloc(n);
	snprintf(out, n, "%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return out;
}

/* A copy of tok with part (0 header, 1 payload, 2 signature) replaced. */
/* tok with suffix appended, malloc'd. */
static char *
with_suffix(const char *tok, const char *suffix)
{
	size_t a = strlen(tok), b = strlen(suffix);
	char *s = malloc(a + b + 1);

	if (s != NULL) {
		memcpy(s, tok, a);
		memcpy(s + a, suffix, b + 1);
	}
	return s;
}

static char *
splice(const char *tok, int part, const char *with)
{
	const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
	size_t n = strlen(tok) + strlen(with) + 1;
	char *out = malloc(n);

	if (part == 0)
		snprintf(out, n, "%s%s", with, d1);
	else if (part == 1)
		snprintf(out, n, "%.*s.%s%s", (int)(d1 - tok), tok, with, d2);
	else
		snprintf(out, n, "%.*s.%s", (int)(d2 - tok), tok, with);
	return out;
}

/* Claims added to a good token, and whether it stays good.  libjwt reads
 * a non-integer claim as 0: the type must be checked. */
static const struct {
	const char	*extra;
	int		 accept;
	const char	*sentence;
} nbf[] = {
	{ "\"nbf\":\"9999999999\"", 0, "an nbf that is a string is refused" },
	{ "\"nbf\":1.5", 0, "an nbf that is a float is refused" },
	{ "\"nbf\":{}", 0, "an nbf that is an object is refused" },
	{ "\"nbf\":1000", 1, "an integer nbf in the past is accepted" },
	{ "", 1, "a hand-made HS256 token with every claim is accepted" },
};

static void
test_roundtrip(void)
{
	char *tok = NULL;
	uint64_t uid = 0;
	size_t i;

	ok(pingoo_token_issue(&cfg, 42, NOW, &tok) == PINGOO_OK && tok != NULL,
	    "a token is issued");
	ok(pingoo_token_verify(&cfg, tok, NOW + 10, &uid) == PINGOO_OK &&
	    uid == 42, "the issued token verifies and names its user");
	ok(pingoo_token_verify(&cfg, tok, NOW + 3600 + 29, &uid) == PINGOO_OK,
	    "the token is still accepted within the leeway after exp");
	ok(pingoo_token_verify(&cfg, tok, NOW + 3600 + 30, &uid) ==
	    PINGOO_ERR_AUTH, "the token is refused once exp + leeway is past");
	free(tok);
	ok(pingoo_token_issue(&cfg, 0, NOW, &tok) != PINGOO_OK && tok == NULL,
	    "no token is issued for user 0");
	for (i = 0; i < sizeof(nbf) / sizeof(nbf[0]); i++) {
		tok = make(JWT_ALG_HS256, KEY, claims(nbf[i].extra));
		ok(nbf[i].accept ? accepted(tok) : refused(tok), "%s",
		    nbf[i].sentence);
	}
}

static void
test_algorithms(void)
{
	char *good = make(JWT_ALG_HS256, KEY, claims(""));
	char *p;

	ok(refused(make(JWT_ALG_NONE, NULL, claims(""))),
	    "an unsigned token (alg none) is refused");
	ok(refused(make(JWT_ALG_HS384, KEY, claims(""))),
	    "an HS384 token signed with our key is refused");
	ok(refused(make(JWT_ALG_HS512, KEY, claims(""))),
	    "an HS512 token signed with our key is refused");
	ok(refused(make(JWT_ALG_HS256, KEY "x", claims(""))),
	    "a token signed with another key is refused");
	p = strchr(good, '.') + 1;
	ok(refused(by_hand("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims(""),
	    strchr(p, '.') + 1)), "a token with an RS256 header is refused");
	ok(refused(by_hand("{\"alg\":\"none\"}", claims(""), "")),
	    "a hand-made alg none token is refused");
	ok(refused(by_hand("{\"alg\":\"HS256\"}", claims(""), "")),
	    "an HS256 token with an empty signature is refused");
	free(good);
}

static void
test_tampering(void)
{
	char *good = make(JWT_ALG_HS256, KEY, claims(""));
	char *part;

	part = b64url("{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"x\"}");
	ok(refused(splice(good, 0, part)), "a tampered header is refused");
	free(part);
	part = b64url("{\"sub\":\"1\",\"iss\":\"pingoo\",\"aud\":\"pingoo-api\","
	    "\"exp\":1800000000}");
	ok(refused(splice(good, 1, part)), "a tampered payload is refused");
	free(part);
	part = strdup(strrchr(good, '.') + 1);
	part[0] = part[0] == 'A' ? 'B' : 'A';
	ok(refused(splice(good, 2, part)), "a tampered signature is refused");
	free(part);
	ok(refused(splice(good, 2, "")), "a token without signature is refused");
	ok(refused(with_suffix(good, ".x")),
	    "a token with a fourth part is refused");
	ok(refused(with_suffix(good, "=")),
	    "a signature with base64 padding added is refused");
	free(good);
}

/* Tokens signed right (HS256, our key) whose claims must be refused. */
static const struct {
	const char	*claims;
	const char	*sentence;
} bad_claims[] = {
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":1699999000}",
	    "an expired token is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\"}",
	    "a token without exp is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":\"1800000000\"}",
	    "a token whose exp is a string is refused" },
	{ "{\"jti\":\"t-1\",\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"iat\":1700000100,\"exp\":1700000600}",
	    "a token issued in the future (iat) is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"42\",\"iss\":\"evil\","
	    "\"aud\":\"pingoo-api\",\"exp\":1700000600}",
	    "a token from another issuer is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"42\","
	    "\"aud\":\"pingoo-api\",\"exp\":1700000600}",
	    "a token without iss is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"other-api\",\"exp\":1700000600}",
	    "a token for another audience is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":[\"pingoo-api\"],\"exp\":1700000600}",
	    "a token whose aud is an array is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":1700000600}",
	    "a token without sub is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"bob\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":1700000600}",
	    "a token with a non-numeric sub is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":42,\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":1700000600}",
	    "a token whose sub is a JSON number is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"042\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":1700000600}",
	    "a sub with a leading zero is refused" },
	{ "{\"jti\":\"t-1\",\"iat\":1699999000,\"sub\":\"0\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":1700000600}",
	    "a sub of 0 is refused" },
};

static void
test_claims(void)
{
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++)
		ok(refused(make(JWT_ALG_HS256, KEY, bad_claims[i].claims)), "%s",
		    bad_claims[i].sentence);
	snprintf(buf, sizeof(buf), "\"nbf\":%d", NOW + 120);
	ok(refused(make(JWT_ALG_HS256, KEY, claims(buf))),
	    "a token not yet valid (nbf in the future) is refused");
	snprintf(buf, sizeof(buf), "\"nbf\":%d", NOW + 20);
	ok(accepted(make(JWT_ALG_HS256, KEY, claims(buf))),
	    "an nbf within the leeway is accepted");
}

/* A good token's claims but for jti (its JSON value, or NULL: none), iat
 * (0: none) and exp. */
static char *
revocable(const char *jti, long iat, long exp)
{
	char buf[512], j[160] = "", i[40] = "";

	if (jti != NULL)
		snprintf(j, sizeof(j), ",\"jti\":%s", jti);
	if (iat != 0)
		snprintf(i, sizeof(i), ",\"iat\":%ld", iat);
	snprintf(buf, sizeof(buf), "{\"sub\":\"42\",\"iss\":\"pingoo\","
	    "\"aud\":\"pingoo-api\",\"exp\":%ld%s%s}", exp, j, i);
	return make(JWT_ALG_HS256, KEY, buf);
}

/*
 * Every token must be revocable: a jti to name it by (a logout), an iat to
 * place it before a user's floor (a logout-all), and no lifetime past
 * jwt_ttl (how long revocations are kept).  What verification hands back
 * is what the revocation checks use.
 */
static void
test_revocable(void)
{
	struct pingoo_token_cache *tc = pingoo_token_cache_new(&cfg);
	struct pingoo_token_info a, b;
	uint64_t h[2];
	char jti64[80], jti65[80], *tok = NULL;

	ok(refused(revocable(NULL, NOW, NOW + 600)),
	    "a token without jti is refused: no logout could name it");
	ok(refused(revocable("\"j-1\"", 0, NOW + 600)),
	    "a token without iat is refused: no logout-all could place it");
	ok(refused(revocable("42", NOW, NOW + 600)),
	    "a jti that is a number is refused");
	ok(refused(revocable("\"\"", NOW, NOW + 600)),
	    "an empty jti is refused");
	ok(refused(revocable("\"a b\"", NOW, NOW + 600)) &&
	    refused(revocable("\"a'b\"", NOW, NOW + 600)) &&
	    refused(revocable("\"a/b\"", NOW, NOW + 600)),
	    "a jti with a character outside RFC 3986's unreserved set is "
	    "refused");
	snprintf(jti64, sizeof(jti64), "\"%064d\"", 7);
	snprintf(jti65, sizeof(jti65), "\"%065d\"", 7);
	ok(accepted(revocable(jti64, NOW, NOW + 600)) &&
	    refused(revocable(jti65, NOW, NOW + 600)),
	    "a jti of 64 characters is accepted, one of 65 refused");
	ok(accepted(revocable("\"A-z_0.9~\"", NOW - 3000, NOW + 600)),
	    "a jti of unreserved characters is accepted (an hour's lifetime)");
	ok(refused(revocable("\"j-1\"", NOW - 3001, NOW + 600)),
	    "a token living longer than jwt_ttl (exp - iat) is refused");

	if (pingoo_token_issue(&cfg, 42, NOW, &tok) != PINGOO_OK) {
		ok(0, "a token to read back");
		pingoo_token_cache_free(tc);
		return;
	}
	memset(&a, 0, sizeof(a));
	ok(pingoo_token_check(&cfg, tok, NOW, &a) == PINGOO_OK &&
	    a.user_id == 42 && a.iat == NOW && a.exp == NOW + 3600 &&
	    strlen(a.jti) == 32 && strspn(a.jti, "0123456789abcdef") == 32,
	    "verification hands back the user, iat, exp and the 32-hex jti");
	ok(pingoo_token_jti_hash(a.jti, h) == PINGOO_OK &&
	    h[0] == a.jti_hash[0] && h[1] == a.jti_hash[1] &&
	    (h[0] != 0 || h[1] != 0), "with the jti's hash, as "
	    "pingoo_token_jti_hash makes it from the jti stored in MySQL");
	memset(&b, 0, sizeof(b));
	ok(pingoo_token_verify_cached(tc, &cfg, tok, NOW, &b) == PINGOO_OK &&
	    pingoo_token_verify_cached(tc, &cfg, tok, NOW + 1, &b) ==
	    PINGOO_OK && memcmp(&a, &b, sizeof(a)) == 0,
	    "the cache hands back the same claims, for the revocation check "
	    "at every use");
	ok(pingoo_token_jti_hash("a b", h) == PINGOO_ERR_INVAL &&
	    pingoo_token_jti_hash(NULL, h) == PINGOO_ERR_INVAL,
	    "a jti no token may carry has no hash");
	free(tok);
	pingoo_token_cache_free(tc);
}

static void
test_sizes(void)
{
	char *big;
	uint64_t uid;

	ok(pingoo_token_verify(&cfg, "", NOW, &uid) == PINGOO_ERR_AUTH,
	    "an empty token is refused");
	ok(pingoo_token_verify(&cfg, NULL, NOW, &uid) == PINGOO_ERR_AUTH,
	    "a missing token is refused");
	ok(pingoo_token_verify(&cfg, "not.a.jwt", NOW, &uid) == PINGOO_ERR_AUTH &&
	    pingoo_token_verify(&cfg, "garbage", NOW, &uid) == PINGOO_ERR_AUTH,
	    "garbage is refused");
	big = malloc(100 * 1024 + 1);
	memset(big, 'A', 100 * 1024);
	big[100] = '.';
	big[200] = '.';
	big[100 * 1024] = '\0';
	ok(pingoo_token_verify(&cfg, big, NOW, &uid) == PINGOO_ERR_AUTH,
	    "a 100 KB token is refused");
	free(big);
}

static void
test_config(void)
{
	struct pingoo_config c = cfg;
	char *tok = NULL;
	uint64_t uid;

	snprintf(c.jwt_alg, sizeof(c.jwt_alg), "HS512");
	ok(pingoo_token_issue(&c, 42, NOW, &tok) == PINGOO_OK &&
	    pingoo_token_verify(&c, tok, NOW, &uid) == PINGOO_OK && uid == 42,
	    "a server configured for HS512 issues and verifies HS512 tokens");
	ok(pingoo_token_verify(&cfg, tok, NOW, &uid) == PINGOO_ERR_AUTH,
	    "that HS512 token is refused by an HS256 server with the same key");
	free(tok);
	snprintf(c.jwt_alg, sizeof(c.jwt_alg), "none");
	tok = NULL;
	ok(pingoo_token_issue(&c, 42, NOW, &tok) == PINGOO_ERR_CONFIG &&
	    tok == NULL, "alg none in the configuration is refused");
}

/* Verifies tok through tc at now and says whether it gave want_uid (0:
 * whether it was refused as AUTH). */
static int
cached(struct pingoo_token_cache *tc, const struct pingoo_config *c,
    const char *tok, int64_t now, uint64_t want_uid)
{
	struct pingoo_token_info info = { .user_id = 777 };
	enum pingoo_err rc = pingoo_token_verify_cached(tc, c, tok, now, &info);

	if (want_uid == 0)
		return rc == PINGOO_ERR_AUTH && info.user_id == 777;
	return rc == PINGOO_OK && info.user_id == want_uid;
}

static void
test_cache(void)
{
	struct pingoo_token_cache *tc = pingoo_token_cache_new(&cfg);
	struct pingoo_config other = cfg;
	char *tok = NULL, *late = NULL, *bad, *many[12];
	size_t i;
	int all;

	ok(tc != NULL && pingoo_token_issue(&cfg, 42, NOW, &tok) == PINGOO_OK,
	    "a token cache is made and a token issued");
	ok(cached(tc, &cfg, tok, NOW + 10, 42) && cached(tc, &cfg, tok,
	    NOW + 20, 42), "a token verifies through the cache, twice");
	ok(cached(tc, &cfg, tok, NOW + 3600 + 29, 42) &&
	    cached(tc, &cfg, tok, NOW + 3600 + 30, 0),
	    "a cached token is refused once its exp (with leeway) has passed");
	ok(cached(tc, &cfg, tok, NOW + 10, 42),
	    "the cache keeps no verdict, only the claims: earlier it is good");
	bad = strdup(tok);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
	ok(cached(tc, &cfg, bad, NOW + 10, 0),
	    "a cached token with its last byte changed is refused");
	free(bad);
	bad = with_suffix(tok, "x");
	ok(cached(tc, &cfg, bad, NOW + 10, 0),
	    "a cached token with a byte appended is refused");
	free(bad);
	memcpy(other.jwt_key, "another key, thirty-two bytes long!!", 36);
	other.jwt_key_len = 36;
	(void)pingoo_keys_derive(&other);
	ok(cached(tc, &other, tok, NOW + 10, 0),
	    "a token the cache holds is refused under another configuration");
	ok(cached(NULL, &cfg, tok, NOW + 10, 42),
	    "without a cache, verification is done in full");

	late = make(JWT_ALG_HS256, KEY, claims("\"nbf\":1700000100"));
	ok(cached(tc, &cfg, late, NOW, 0) && cached(tc, &cfg, late, NOW + 100,
	    42), "a token is refused before its nbf and accepted after");
	ok(cached(tc, &cfg, late, NOW, 0),
	    "a cached token is refused again before its nbf");

	for (i = 0, all = 1; i < 12; i++) {
		many[i] = NULL;
		all &= pingoo_token_issue(&cfg, 100 + i, NOW, &many[i]) ==
		    PINGOO_OK && cached(tc, &cfg, many[i], NOW, 100 + i);
	}
	for (i = 0; i < 12; i++)
		all &= cached(tc, &cfg, many[i], NOW + 1, 100 + i);
	ok(all, "more tokens than the cache holds each give their own user, "
	    "twice round");
	for (i = 0; i < 12; i++)
		free(many[i]);
	free(late);
	free(tok);
	pingoo_token_cache_free(tc);
}

/* A token signed with key itself, as the release before the derived keys
 * signed them. */
static char *
make_raw(const char *key, const char *json)
{
	jwt_t *j = NULL;
	char *tok = NULL;

	if (jwt_new(&j) != 0)
		return NULL;
	if (jwt_add_grants_json(j, json) == 0 &&
	    jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)key,
	    (int)strlen(key)) == 0)
		tok = jwt_encode_str(j);
	jwt_free(j);
	return tok;
}

/*
 * Tokens are signed with the key derived from jwt_key, never jwt_key
 * itself; jwt_key_legacy takes a host through an upgrade from a release
 * that signed with jwt_key: 2 signs as that release and takes both, 1
 * signs with the derived key and takes both, 0 takes the derived key's
 * alone.
 */
static void
test_derived_keys(void)
{
	char *tok = NULL, *old = make_raw(KEY, claims(""));
	uint64_t uid = 0;

	cfg.jwt_key_legacy = 0;
	ok(accepted(make(JWT_ALG_HS256, KEY, claims(""))) &&
	    refused(make_raw(KEY, claims(""))),
	    "a token signed with jwt_key itself is refused; with the derived "
	    "token key, taken");
	cfg.jwt_key_legacy = 1;
	ok(old != NULL && pingoo_token_verify(&cfg, old, NOW, &uid) ==
	    PINGOO_OK && accepted(make(JWT_ALG_HS256, KEY, claims(""))),
	    "jwt_key_legacy 1: the previous release's tokens are taken too");
	cfg.jwt_key_legacy = 2;
	if (pingoo_token_issue(&cfg, 42, NOW, &tok) == PINGOO_OK) {
		cfg.jwt_key_legacy = 0;
		ok(pingoo_token_verify(&cfg, tok, NOW, &uid) == PINGOO_ERR_AUTH,
		    "jwt_key_legacy 2 issues what 0 refuses: jwt_key's own");
		cfg.jwt_key_legacy = 1;
		ok(pingoo_token_verify(&cfg, tok, NOW, &uid) == PINGOO_OK &&
		    uid == 42, "and what 1 (and the previous release) takes");
	} else {
		ok(0, "jwt_key_legacy 2 issues a token");
		ok(0, "and what 1 takes");
	}
	cfg.jwt_key_legacy = 0;
	free(tok);
	free(old);
}

int
main(void)
{
	pingoo_config_defaults(&cfg);
	memcpy(cfg.jwt_key, KEY, strlen(KEY));
	cfg.jwt_key_len = strlen(KEY);
	if (pingoo_keys_derive(&cfg) != PINGOO_OK)
		diag("the keys could not be derived");
	test_roundtrip();
	test_derived_keys();
	test_algorithms();
	test_tampering();
	test_claims();
	test_revocable();
	test_sizes();
	test_config();
	test_cache();
	return tap_done();
}
