/* test-password.c - yescrypt hashing and constant-time verification. */
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"
#include "../tap.h"

int
main(void)
{
	char h1[PINGOO_HASH_MAX], h2[PINGOO_HASH_MAX];
	char bad[PINGOO_HASH_MAX];

	ok(pingoo_password_hash("correct horse", h1) == PINGOO_OK,
	    "a password hashes");
	ok(strncmp(h1, "$y$", 3) == 0, "the hash is yescrypt ($y$)");
	ok(pingoo_password_verify("correct horse", h1) == PINGOO_OK,
	    "the right password verifies");
	ok(pingoo_password_verify("correct horsf", h1) == PINGOO_ERR_AUTH,
	    "a wrong password is refused");
	ok(pingoo_password_verify("", h1) == PINGOO_ERR_AUTH,
	    "an empty password is refused");
	ok(pingoo_password_hash("correct horse", h2) == PINGOO_OK &&
	    strcmp(h1, h2) != 0, "two hashes of one password differ (salt)");
	ok(pingoo_password_verify("correct horse", h2) == PINGOO_OK,
	    "the second hash verifies too");
	ok(strncmp(pingoo_password_dummy(), "$y$", 3) == 0,
	    "the dummy hash is a yescrypt hash");
	ok(pingoo_password_verify("correct horse", pingoo_password_dummy()) ==
	    PINGOO_ERR_AUTH, "the dummy hash refuses a password");
	ok(pingoo_password_verify("", pingoo_password_dummy()) ==
	    PINGOO_ERR_AUTH, "the dummy hash refuses the empty password");
	memcpy(bad, h1, sizeof(bad));
	bad[strlen(bad) - 1] ^= 1;
	ok(pingoo_password_verify("correct horse", bad) == PINGOO_ERR_AUTH,
	    "a hash with one changed byte refuses the right password");
	ok(pingoo_password_verify("correct horse", "") == PINGOO_ERR_AUTH &&
	    pingoo_password_verify("correct horse", "*0") == PINGOO_ERR_AUTH &&
	    pingoo_password_verify("correct horse", "ab") == PINGOO_ERR_AUTH,
	    "malformed and DES-style hashes are refused");
	ok(pingoo_password_verify(NULL, h1) == PINGOO_ERR_AUTH &&
	    pingoo_password_verify("x", NULL) == PINGOO_ERR_AUTH,
	    "NULL arguments are refused");
	ok(pingoo_password_hash("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91", h1) ==
	    PINGOO_OK && pingoo_password_verify("p\xc3\xa4ssw\xc3\xb6rd "
	    "\xf0\x9f\x94\x91", h1) == PINGOO_OK,
	    "a UTF-8 password round-trips");
	return tap_done();
}
