/* test-config.c - configuration defaults, parsing, secret files, checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "auth/auth.h"
#include "../tap.h"

#define KEY32 "0123456789abcdef0123456789abcdef"

static char dir[] = "/tmp/pingoo-test-config-XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		diag("cannot write %s", path);
		return;
	}
	fputs(text, fp);
	fclose(fp);
}

static void
remove_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* Parses text onto defaults; the fault is left in *f. */
static enum pingoo_err
parse(struct pingoo_config *c, const char *text, struct pingoo_fault *f)
{
	pingoo_config_defaults(c);
	memset(f, 0, sizeof(*f));
	return pingoo_config_parse(c, text, dir, f);
}

/* Refused as a configuration error whose message names line and key. */
static int
refused(const char *text, const char *line, const char *key)
{
	struct pingoo_config c;
	struct pingoo_fault f;

	if (parse(&c, text, &f) != PINGOO_ERR_CONFIG)
		return 0;
	if (strstr(f.message, line) == NULL || strstr(f.message, key) == NULL) {
		diag("message: %s", f.message);
		return 0;
	}
	return 1;
}

static void
test_defaults(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;

	pingoo_config_defaults(&c);
	ok(c.processes == 2 && c.threads == 16 && c.log_requests == 1,
	    "worker defaults are 2 processes of 16 threads, logging");
	ok(c.active_threads == 1, "one thread of a process serves at once");
	ok(strcmp(c.db_host, "127.0.0.1") == 0 && c.db_port == 3306 &&
	    c.db_socket[0] == '\0' && strcmp(c.db_name, "pingoo") == 0 &&
	    strcmp(c.db_user, "pingoo") == 0 && c.db_connect_timeout == 3 &&
	    c.db_rw_timeout == 5, "database defaults are TCP to local pingoo");
	ok(strcmp(c.jwt_alg, "HS256") == 0 && c.jwt_key_len == 0 &&
	    strcmp(c.jwt_issuer, "pingoo") == 0 &&
	    strcmp(c.jwt_audience, "pingoo-api") == 0 && c.jwt_ttl == 3600 &&
	    c.jwt_leeway == 30, "token defaults are HS256, 1 h, no key");
	ok(c.max_body == 65536 && c.max_client_bytes == 1024 &&
	    c.list_max_limit == 100 && c.ping_max_count == 10000 &&
	    c.ping_max_interval_ms == 60000 && c.ping_max_receipts == 250 &&
	    c.tp_min_packet_size == 1 && c.tp_max_packet_size == 64 << 20 &&
	    c.tp_max_packets == 10000 &&
	    c.tp_max_total_bytes == UINT64_C(4) << 30 &&
	    c.tp_max_reports == 500 && c.cors_origins[0] == '\0',
	    "limit defaults match the documentation");
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "jwt_key") == 0,
	    "the defaults alone fail the check for want of a key");
}

static void
test_parse(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;

	ok(parse(&c, "# a comment\n\n  threads = 4  \n"
	    "db_socket=/run/mysqld/mysqld.sock\r\n"
	    "tp_max_total_bytes = 1099511627776\n"
	    "db_password = p#ss = w rd \n"
	    "jwt_key = " KEY32 "\n"
	    "cors_origins = https://a.example https://b.example\n"
	    "   # indented comment\n"
	    "log_requests = 0", &f) == PINGOO_OK, "a valid file parses");
	ok(c.threads == 4 && c.log_requests == 0 && c.processes == 2,
	    "numbers are set and other keys keep their defaults");
	ok(strcmp(c.db_socket, "/run/mysqld/mysqld.sock") == 0,
	    "a CRLF line ending is not part of the value");
	ok(strcmp(c.db_password, "p#ss = w rd") == 0,
	    "a value keeps '#', '=' and inner spaces and loses outer blanks");
	ok(c.tp_max_total_bytes == UINT64_C(1) << 40,
	    "a 64-bit limit is read");
	ok(c.jwt_key_len == 32 && memcmp(c.jwt_key, KEY32, 32) == 0,
	    "the key and its length are set");
	ok(strcmp(c.cors_origins, "https://a.example https://b.example") == 0,
	    "a space-separated list is read whole");
	ok(pingoo_config_check(&c, &f) == PINGOO_OK, "the parsed file checks");
	ok(parse(&c, "listen =\n", &f) == PINGOO_OK && c.listen[0] == '\0',
	    "an empty value is allowed for a string");
}

static void
test_errors(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;
	char text[2048];

	ok(refused("threads = 4\nthreds = 5\n", "line 2", "threds"),
	    "an unknown key is refused with its line");
	ok(refused("# x\nthreads = four\n", "line 2", "threads"),
	    "a non-numeric number is refused with its line and key");
	ok(refused("threads = -1\n", "line 1", "threads") &&
	    refused("threads = +1\n", "line 1", "threads") &&
	    refused("threads = 08\n", "line 1", "threads"),
	    "signs and leading zeros are refused");
	ok(refused("\n\nthreads = 0\n", "line 3", "threads"),
	    "a number below its range is refused");
	ok(refused("threads = 1025\n", "line 1", "threads") &&
	    refused("db_port = 99999999999999999999999\n", "line 1", "db_port"),
	    "numbers above their range, even past 64 bits, are refused");
	ok(refused("threads = 4\nprocesses = 1\nthreads = 8\n", "line 3",
	    "threads"), "a duplicate key is refused at its second line");
	ok(refused("db_password = x\ndb_password_file = pw\n", "line 2",
	    "db_password_file"), "a secret and its file together are refused");
	ok(refused("threads\n", "line 1", "key = value"),
	    "a line without '=' is refused");
	snprintf(text, sizeof(text), "db_name = %0100d\n", 0);
	ok(refused(text, "line 1", "db_name"), "a string too long is refused");
	ok(parse(&c, "db_password = hunter2hunter2\nthreads = x\n", &f) ==
	    PINGOO_ERR_CONFIG && strstr(f.message, "hunter2") == NULL,
	    "a fault never shows a secret value");
	ok(parse(&c, "jwt_key = supersecret-value\nbogus = supersecret-value\n",
	    &f) == PINGOO_ERR_CONFIG && strstr(f.message, "supersecret") == NULL,
	    "an unknown key's fault does not show its value");
}

static void
test_files(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;
	char path[256];

	write_file("key", KEY32 "\n");
	write_file("pw", "s3cret\n\n");
	write_file("pingoo.conf", "jwt_key_file = key\n"
	    "db_password_file = pw\nthreads = 3\n");
	snprintf(path, sizeof(path), "%s/pingoo.conf", dir);
	ok(pingoo_config_load(&c, path, &f) == PINGOO_OK,
	    "a file with relative secret files loads");
	ok(c.jwt_key_len == 32 && memcmp(c.jwt_key, KEY32, 32) == 0,
	    "the key file is read and its trailing newline dropped");
	ok(strcmp(c.db_password, "s3cret\n") == 0,
	    "only one trailing newline is dropped from a secret file");
	ok(c.threads == 3 && c.processes == 2,
	    "load applies the defaults under the file");
	ok(pingoo_config_check(&c, &f) == PINGOO_OK, "the loaded file checks");
	ok(refused("jwt_key_file = missing\n", "line 1", "jwt_key_file"),
	    "a missing secret file is refused with its line");
	snprintf(path, sizeof(path), "%s/nope.conf", dir);
	ok(pingoo_config_load(&c, path, &f) == PINGOO_ERR_CONFIG,
	    "a missing configuration file is refused");
	/* A "\r" is dropped only before the last "\n": a CRLF line end. */
	write_file("pw", "s3cret\r\n");
	ok(parse(&c, "db_password_file = pw\n", &f) == PINGOO_OK &&
	    strcmp(c.db_password, "s3cret") == 0,
	    "a secret file ending in CRLF loses both");
	write_file("pw", "s3cret\r");
	ok(parse(&c, "db_password_file = pw\n", &f) == PINGOO_OK &&
	    strcmp(c.db_password, "s3cret\r") == 0,
	    "a secret ending in \\r without \\n keeps its \\r");
	write_file("pw", "s3\rcret\r\r\n");
	ok(parse(&c, "db_password_file = pw\n", &f) == PINGOO_OK &&
	    strcmp(c.db_password, "s3\rcret\r") == 0,
	    "a \\r inside a secret, or a second one before CRLF, is kept");
	write_file("key", KEY32 "\r");
	ok(parse(&c, "jwt_key_file = key\n", &f) == PINGOO_OK &&
	    c.jwt_key_len == 33 && c.jwt_key[32] == '\r',
	    "a key file's last byte 0x0d is kept");
	remove_file("key");
	remove_file("pw");
	remove_file("pingoo.conf");
}

/* The keys of several hosts: ES256 key files and db_wsrep_sync_wait. */
static void
test_cluster_keys(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;

	write_file("pub.pem", "-----BEGIN PUBLIC KEY-----\nnot a key\n"
	    "-----END PUBLIC KEY-----\n");
	ok(parse(&c, "jwt_alg = ES256\njwt_key = " KEY32 "\n"
	    "jwt_public_key_file = pub.pem\ndb_wsrep_sync_wait = 1\n", &f) ==
	    PINGOO_OK && strcmp(c.jwt_public_key, "-----BEGIN PUBLIC KEY-----"
	    "\nnot a key\n-----END PUBLIC KEY-----\n") == 0 &&
	    c.db_wsrep_sync_wait == 1,
	    "jwt_public_key_file is read (ended by one newline) and "
	    "db_wsrep_sync_wait set");
	ok(pingoo_config_check(&c, &f) == PINGOO_OK &&
	    pingoo_token_check_keys(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "jwt_public_key_file") == 0,
	    "a public key file that holds no P-256 key fails the key check");
	write_file("pub2.pem", "-----BEGIN PUBLIC KEY-----\nsecond\n"
	    "-----END PUBLIC KEY-----");
	ok(parse(&c, "jwt_public_key_file =  pub.pem \t pub2.pem \n", &f) ==
	    PINGOO_OK && strcmp(c.jwt_public_key, "-----BEGIN PUBLIC KEY-----"
	    "\nnot a key\n-----END PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----"
	    "\nsecond\n-----END PUBLIC KEY-----\n") == 0,
	    "jwt_public_key_file lists two files, blanks between: both are read, "
	    "one after the other (a key rotation)");
	ok(refused("jwt_public_key_file = pub.pem missing.pem\n", "line 1",
	    "jwt_public_key_file"), "a missing second public key file is "
	    "refused with its line");
	remove_file("pub2.pem");
	ok(refused("db_wsrep_sync_wait = 16\n", "line 1", "db_wsrep_sync_wait"),
	    "db_wsrep_sync_wait above 15 is refused");
	ok(refused("jwt_private_key_file = missing.pem\n", "line 1",
	    "jwt_private_key_file"), "a missing private key file is refused");
	pingoo_config_defaults(&c);
	ok(c.db_wsrep_sync_wait == 0 && c.jwt_public_key[0] == '\0' &&
	    c.jwt_private_key[0] == '\0', "by default: no sync wait, no "
	    "ES256 keys");
	remove_file("pub.pem");
}

static void
test_check(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;

	pingoo_config_defaults(&c);
	memcpy(c.jwt_key, KEY32, 31);
	c.jwt_key_len = 31;
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG,
	    "a 31-byte key fails the check");
	c.jwt_key_len = 32;
	ok(pingoo_config_check(&c, &f) == PINGOO_OK, "a 32-byte key passes");
	snprintf(c.jwt_alg, sizeof(c.jwt_alg), "RS256");
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "jwt_alg") == 0, "jwt_alg RS256 fails the check");
	snprintf(c.jwt_alg, sizeof(c.jwt_alg), "none");
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG,
	    "jwt_alg none fails the check");
	snprintf(c.jwt_alg, sizeof(c.jwt_alg), "HS512");
	ok(pingoo_config_check(&c, &f) == PINGOO_OK, "jwt_alg HS512 passes");
	ok(strcmp(c.metrics_allow, "127.0.0.1 ::1") == 0,
	    "metrics_allow defaults to loopback");
	snprintf(c.metrics_allow, sizeof(c.metrics_allow), "10.0.0.0/8 ::1");
	ok(pingoo_config_check(&c, &f) == PINGOO_OK,
	    "metrics_allow takes addresses and networks");
	snprintf(c.metrics_allow, sizeof(c.metrics_allow), "all; allow 1.2.3.4");
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "metrics_allow") == 0,
	    "metrics_allow refuses what would be nginx syntax");
	snprintf(c.metrics_allow, sizeof(c.metrics_allow), "127.0.0.1");
	c.threads = 0;
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG,
	    "zero threads fail the check");
	c.threads = 4;
	c.active_threads = 5;
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "active_threads") == 0,
	    "more active threads than threads fail the check");
	c.active_threads = 4;
	ok(pingoo_config_check(&c, &f) == PINGOO_OK,
	    "as many active threads as threads pass");
	c.active_threads = 0;
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "active_threads") == 0,
	    "zero active threads fail the check");
	c.active_threads = 1;
	c.threads = 16;
	c.processes = 65;
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG,
	    "65 processes fail the check");
	c.processes = 0;
	c.tp_min_packet_size = 2048;
	c.tp_max_packet_size = 1024;
	ok(pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "tp_min_packet_size") == 0,
	    "a minimum packet size above the maximum fails the check");
}

/* TLS to a remote database: db_ssl_ca asks for it, verifying by default. */
static void
test_db_tls(void)
{
	struct pingoo_config c;
	struct pingoo_fault f;

	pingoo_config_defaults(&c);
	ok(c.db_ssl_ca[0] == '\0' && c.db_ssl_verify == 1,
	    "by default no CA is named and verification is on");
	ok(parse(&c, "jwt_key = " KEY32 "\ndb_host = db.example\n"
	    "db_ssl_ca = /etc/pingoo/db-ca.pem\n", &f) == PINGOO_OK &&
	    strcmp(c.db_ssl_ca, "/etc/pingoo/db-ca.pem") == 0 &&
	    c.db_ssl_verify == 1 && pingoo_config_check(&c, &f) == PINGOO_OK,
	    "db_ssl_ca alone is read, verifies, and checks");
	ok(parse(&c, "jwt_key = " KEY32 "\ndb_ssl_ca = /ca.pem\n"
	    "db_ssl_verify = 0\n", &f) == PINGOO_OK && c.db_ssl_verify == 0 &&
	    pingoo_config_check(&c, &f) == PINGOO_OK,
	    "db_ssl_verify = 0 turns the check off");
	ok(refused("db_ssl_verify = 2\n", "line 1", "db_ssl_verify"),
	    "db_ssl_verify is 0 or 1");
	ok(parse(&c, "jwt_key = " KEY32 "\ndb_ssl_ca = ca.pem\n", &f) ==
	    PINGOO_OK && pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "db_ssl_ca") == 0,
	    "a relative db_ssl_ca fails the check");
	ok(parse(&c, "jwt_key = " KEY32 "\ndb_ssl_ca = /ca.pem\n"
	    "db_socket = /run/mysqld/mysqld.sock\n", &f) == PINGOO_OK &&
	    pingoo_config_check(&c, &f) == PINGOO_ERR_CONFIG &&
	    strcmp(f.field, "db_ssl_ca") == 0,
	    "db_ssl_ca with db_socket fails the check");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("1..0 # SKIP cannot make a temporary directory\n");
		return 0;
	}
	test_defaults();
	test_parse();
	test_errors();
	test_files();
	test_cluster_keys();
	test_check();
	test_db_tls();
	rmdir(dir);
	return tap_done();
}
