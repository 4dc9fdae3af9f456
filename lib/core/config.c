/*
 * config.c - the configuration file: defaults, parsing and cross-checks.
 *
 * The format is one "key = value" per line.  A line whose first non-blank
 * character is '#' is a comment; blank lines are ignored.  The value runs
 * from the first non-blank after '=' to the last non-blank of the line:
 * there are no quotes and no trailing comments, so a password may hold
 * '#', '=' or inner spaces.  Numbers are plain decimals (no sign, no
 * leading zero).  A key may appear once; an unknown key, a bad or
 * out-of-range number or a too-long value stops the load with the line
 * number and the key (values are never echoed: some are secrets).
 *
 * Keys and defaults (docs/configuration.md says the same at length):
 *
 *   listen = ""                  FastCGI socket path; "" = socket on fd 0
 *   processes = 2                worker processes, 0..64 (0 = this one)
 *   threads = 16                 threads per process, 1..1024
 *   active_threads = 1           of those, how many serve at once (the
 *                                others stand in while one waits on MySQL
 *                                or a client), 1..threads
 *   log_requests = 1             0 or 1
 *   db_host = 127.0.0.1          MySQL host (TCP) when db_socket is ""
 *   db_port = 3306               1..65535
 *   db_socket = ""               unix socket path; set = used instead of TCP
 *   db_name = pingoo
 *   db_user = pingoo
 *   db_password = ""             or db_password_file = PATH
 *   db_connect_timeout = 3       seconds, 1..3600
 *   db_rw_timeout = 5            seconds, 1..3600
 *   db_wsrep_sync_wait = 0       0..15: wsrep_sync_wait for every session
 *                                (1 on a Galera cluster: reads see writes
 *                                made through other nodes)
 *   migrate_db_user = ""         "" = db_user
 *   migrate_db_password = ""     or migrate_db_password_file = PATH
 *   jwt_alg = HS256              HS256, HS384, HS512 or ES256
 *   jwt_key = (none)             at least 32 bytes; or jwt_key_file = PATH;
 *                                with ES256 it signs samples, not tokens
 *   jwt_private_key_file = ""    ES256: PEM P-256 private key (issuer only)
 *   jwt_public_key_file = ""     ES256: PEM P-256 public key (every host)
 *   jwt_issuer = pingoo
 *   jwt_audience = pingoo-api
 *   jwt_ttl = 3600               seconds, 60..2592000
 *   jwt_leeway = 30              seconds, 0..3600
 *   max_body = 65536             bytes of a JSON body, 64..67108864
 *   max_client_bytes = 1024      bytes of "client" serialized, 2..65536
 *   list_max_limit = 100         1..10000
 *   ping_max_count = 10000       1..1000000
 *   ping_max_interval_ms = 60000 0..3600000
 *   ping_max_receipts = 250      per request, 1..100000
 *   tp_min_packet_size = 1       bytes, 1..1073741824
 *   tp_max_packet_size = 67108864 bytes, 1..1073741824
 *   tp_max_packets = 10000       per direction, 1..1000000
 *   tp_max_total_bytes = 4294967296  packets * size per direction, 1..2^40
 *   tp_max_reports = 500         per request, 1..100000
 *   tp_stale_after = 900         seconds before a packet still `started` is
 *                                failed (its worker died), 60..604800
 *   cors_origins = ""            space-separated origins
 *   metrics_allow = 127.0.0.1 ::1  addresses or CIDR networks that may read
 *                                /metrics (nginx enforces it)
 *   retention_days = 0           tests older are removed; 0 = kept, 0..36500
 *   retention_batch = 500        rows per delete statement, 1..100000
 *   retention_every = 300        seconds between retention passes, 1..86400
 *
 * *_file keys name a file holding the secret; a relative path is taken
 * from the configuration file's directory, and one trailing newline is
 * dropped.  Setting both a secret and its *_file is a duplicate.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

#define CONFIG_FILE_MAX	(1024 * 1024)
#define MIB		(UINT64_C(1) << 20)
#define GIB		(UINT64_C(1) << 30)

enum ktype {
	K_STR,		/* char[size] */
	K_INT,		/* int */
	K_UINT,		/* unsigned */
	K_SIZE,		/* size_t */
	K_U64,		/* uint64_t */
	K_KEY,		/* jwt_key bytes + jwt_key_len */
	K_FILE,		/* a file whose content goes to the K_STR/K_KEY at off */
};

struct key {
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	size_t		 size;		/* K_STR: capacity with the NUL */
	uint64_t	 min, max;	/* numbers */
	int		 filekey;	/* K_FILE: target is the jwt key */
};

#define OFF(f)		offsetof(struct pingoo_config, f)
#define CAP(f)		sizeof(((struct pingoo_config *)0)->f)
#define STR(f)		{ #f, K_STR, OFF(f), CAP(f), 0, 0, 0 }
#define NUM(t, f, lo, hi) { #f, t, OFF(f), 0, lo, hi, 0 }
#define SECRETFILE(n, f) { n, K_FILE, OFF(f), CAP(f), 0, 0, 0 }

static const struct key keys[] = {
	STR(listen),
	NUM(K_INT, processes, 0, 64),
	NUM(K_INT, threads, 1, 1024),
	NUM(K_INT, active_threads, 1, 1024),
	NUM(K_INT, log_requests, 0, 1),
	STR(db_host),
	NUM(K_UINT, db_port, 1, 65535),
	STR(db_socket),
	STR(db_name),
	STR(db_user),
	STR(db_password),
	SECRETFILE("db_password_file", db_password),
	NUM(K_INT, db_connect_timeout, 1, 3600),
	NUM(K_INT, db_rw_timeout, 1, 3600),
	NUM(K_INT, db_wsrep_sync_wait, 0, 15),
	STR(migrate_db_user),
	STR(migrate_db_password),
	SECRETFILE("migrate_db_password_file", migrate_db_password),
	STR(jwt_alg),
	{ "jwt_key", K_KEY, OFF(jwt_key), CAP(jwt_key), 0, 0, 0 },
	{ "jwt_key_file", K_FILE, OFF(jwt_key), CAP(jwt_key), 0, 0, 1 },
	SECRETFILE("jwt_private_key_file", jwt_private_key),
	SECRETFILE("jwt_public_key_file", jwt_public_key),
	STR(jwt_issuer),
	STR(jwt_audience),
	NUM(K_INT, jwt_ttl, 60, 2592000),
	NUM(K_INT, jwt_leeway, 0, 3600),
	NUM(K_SIZE, max_body, 64, 64 * MIB),
	NUM(K_SIZE, max_client_bytes, 2, 65536),
	NUM(K_INT, list_max_limit, 1, 10000),
	NUM(K_INT, ping_max_count, 1, 1000000),
	NUM(K_INT, ping_max_interval_ms, 0, 3600000),
	NUM(K_INT, ping_max_receipts, 1, 100000),
	NUM(K_SIZE, tp_min_packet_size, 1, GIB),
	NUM(K_SIZE, tp_max_packet_size, 1, GIB),
	NUM(K_INT, tp_max_packets, 1, 1000000),
	NUM(K_U64, tp_max_total_bytes, 1, 1024 * GIB),
	NUM(K_INT, tp_max_reports, 1, 100000),
	NUM(K_INT, tp_stale_after, 60, 604800),
	STR(cors_origins),
	STR(metrics_allow),
	NUM(K_INT, retention_days, 0, 36500),
	NUM(K_INT, retention_batch, 1, 100000),
	NUM(K_INT, retention_every, 1, 86400),
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* One line being applied: where it came from, for faults. */
struct line {
	size_t		 no;
	const char	*basedir;
	struct pingoo_fault *f;
};

void
pingoo_config_defaults(struct pingoo_config *c)
{
	memset(c, 0, sizeof(*c));
	c->processes = 2;
	c->threads = 16;
	c->active_threads = 1;
	c->log_requests = 1;
	snprintf(c->db_host, sizeof(c->db_host), "127.0.0.1");
	c->db_port = 3306;
	snprintf(c->db_name, sizeof(c->db_name), "pingoo");
	snprintf(c->db_user, sizeof(c->db_user), "pingoo");
	c->db_connect_timeout = 3;
	c->db_rw_timeout = 5;
	snprintf(c->jwt_alg, sizeof(c->jwt_alg), "HS256");
	snprintf(c->jwt_issuer, sizeof(c->jwt_issuer), "pingoo");
	snprintf(c->jwt_audience, sizeof(c->jwt_audience), "pingoo-api");
	c->jwt_ttl = 3600;
	c->jwt_leeway = 30;
	c->max_body = 65536;
	c->max_client_bytes = 1024;
	c->list_max_limit = 100;
	c->ping_max_count = 10000;
	c->ping_max_interval_ms = 60000;
	c->ping_max_receipts = 250;
	c->tp_min_packet_size = 1;
	c->tp_max_packet_size = 64 * MIB;
	c->tp_max_packets = 10000;
	c->tp_max_total_bytes = 4 * GIB;
	c->tp_max_reports = 500;
	c->tp_stale_after = 900;
	snprintf(c->metrics_allow, sizeof(c->metrics_allow), "127.0.0.1 ::1");
	c->retention_days = 0;
	c->retention_batch = 500;
	c->retention_every = 300;
}

/* "line N: KEY what": names the line and the key, never the value. */
static enum pingoo_err
line_fault(const struct line *l, const struct key *k, const char *what)
{
	return pingoo_fault_set(l->f, PINGOO_ERR_CONFIG, "invalid_config",
	    k->name, "line %zu: %s %s", l->no, k->name, what);
}

static enum pingoo_err
set_number(struct pingoo_config *c, const struct key *k, const char *v,
    size_t len, const struct line *l)
{
	char *p = (char *)c + k->off;
	uint64_t n = 0;
	enum pingoo_err rc;

	rc = pingoo_parse_uint(v, len, k->max, &n);
	if (rc == PINGOO_ERR_INVAL)
		return line_fault(l, k, "must be a decimal number");
	if (rc != PINGOO_OK || n < k->min)
		return pingoo_fault_set(l->f, PINGOO_ERR_CONFIG,
		    "invalid_config", k->name, "line %zu: %s must be between "
		    "%llu and %llu", l->no, k->name,
		    (unsigned long long)k->min, (unsigned long long)k->max);
	switch (k->type) {
	case K_INT:
		*(int *)(void *)p = (int)n;
		break;
	case K_UINT:
		*(unsigned *)(void *)p = (unsigned)n;
		break;
	case K_SIZE:
		*(size_t *)(void *)p = (size_t)n;
		break;
	default:
		*(uint64_t *)(void *)p = n;
		break;
	}
	return PINGOO_OK;
}

/* Stores len bytes of v into the string or key field k points at. */
static enum pingoo_err
set_bytes(struct pingoo_config *c, const struct key *k, int is_key,
    const char *v, size_t len, const struct line *l)
{
	char *p = (char *)c + k->off;

	/* Strings keep room for their NUL; the key is raw bytes. */
	if (len > k->size - (is_key ? 0 : 1))
		return pingoo_fault_set(l->f, PINGOO_ERR_CONFIG,
		    "invalid_config", k->name, "line %zu: %s is longer than "
		    "%zu bytes", l->no, k->name, k->size - (is_key ? 0 : 1));
	if (!is_key && memchr(v, '\0', len) != NULL)
		return line_fault(l, k, "holds a NUL byte");
	memset(p, 0, k->size);
	memcpy(p, v, len);
	if (is_key)
		c->jwt_key_len = len;
	return PINGOO_OK;
}

/* The secret named by a *_file key, one trailing newline dropped. */
static enum pingoo_err
set_from_file(struct pingoo_config *c, const struct key *k, const char *v,
    size_t len, const struct line *l)
{
	char path[PATH_MAX];
	char *buf;
	size_t n;
	enum pingoo_err rc;
	int w;

	if (len == 0)
		return line_fault(l, k, "needs a path");
	if (v[0] == '/' || l->basedir == NULL || l->basedir[0] == '\0')
		w = snprintf(path, sizeof(path), "%.*s", (int)len, v);
	else
		w = snprintf(path, sizeof(path), "%s/%.*s", l->basedir,
		    (int)len, v);
	if (w < 0 || (size_t)w >= sizeof(path))
		return line_fault(l, k, "has a path that is too long");
	/* Twice the field so an overlong secret is reported as such. */
	if ((buf = pingoo_slurp(path, 2 * k->size + 2, &n)) == NULL)
		return pingoo_fault_set(l->f, PINGOO_ERR_CONFIG,
		    "invalid_config", k->name, "line %zu: %s: cannot read "
		    "%.96s: %s", l->no, k->name, path, strerror(errno));
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	rc = set_bytes(c, k, k->filekey, buf, n, l);
	explicit_bzero(buf, n);
	free(buf);
	return rc;
}

static const struct key *
find_key(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

/* Applies one recognized key; seen[] marks fields already set. */
static enum pingoo_err
apply(struct pingoo_config *c, const struct key *k, const char *v,
    size_t len, unsigned char *seen, const struct line *l)
{
	size_t i;

	/* A secret and its *_file share a field: both count as one key. */
	for (i = 0; i < NKEYS; i++)
		if (seen[i] && keys[i].off == k->off)
			return line_fault(l, k, "is set twice");
	seen[k - keys] = 1;
	switch (k->type) {
	case K_STR:
		return set_bytes(c, k, 0, v, len, l);
	case K_KEY:
		return set_bytes(c, k, 1, v, len, l);
	case K_FILE:
		return set_from_file(c, k, v, len, l);
	default:
		return set_number(c, k, v, len, l);
	}
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Splits and applies one line s[0..len) (without its newline). */
static enum pingoo_err
parse_line(struct pingoo_config *c, const char *s, size_t len,
    unsigned char *seen, const struct line *l)
{
	const char *eq, *k = s, *v;
	size_t klen, vlen;
	const struct key *key;

	while (len > 0 && is_blank(*k))
		k++, len--;
	while (len > 0 && is_blank(k[len - 1]))
		len--;
	if (len == 0 || k[0] == '#')
		return PINGOO_OK;
	if ((eq = memchr(k, '=', len)) == NULL)
		return pingoo_fault_set(l->f, PINGOO_ERR_CONFIG,
		    "invalid_config", NULL, "line %zu: expected key = value",
		    l->no);
	klen = (size_t)(eq - k);
	while (klen > 0 && is_blank(k[klen - 1]))
		klen--;
	v = eq + 1;
	vlen = len - (size_t)(v - k);
	while (vlen > 0 && is_blank(*v))
		v++, vlen--;
	if ((key = find_key(k, klen)) == NULL)
		/* Keys are not secret, but bound what is echoed. */
		return pingoo_fault_set(l->f, PINGOO_ERR_CONFIG,
		    "invalid_config", NULL, "line %zu: unknown key \"%.*s\"",
		    l->no, (int)(klen > 48 ? 48 : klen), k);
	return apply(c, key, v, vlen, seen, l);
}

/*
 * Applies text's lines onto cfg as it is (pingoo_config_load sets the
 * defaults first).  basedir anchors relative *_file paths (NULL = the
 * working directory).  Stops at the first bad line.
 */
enum pingoo_err
pingoo_config_parse(struct pingoo_config *cfg, const char *text,
    const char *basedir, struct pingoo_fault *f)
{
	unsigned char seen[NKEYS] = { 0 };
	struct line l = { 0, basedir, f };
	const char *nl;
	size_t len;
	enum pingoo_err rc;

	while (*text != '\0') {
		l.no++;
		nl = strchr(text, '\n');
		len = nl != NULL ? (size_t)(nl - text) : strlen(text);
		if ((rc = parse_line(cfg, text, len, seen, &l)) != PINGOO_OK)
			return rc;
		text += len + (nl != NULL);
	}
	return PINGOO_OK;
}

/*
 * Sets the defaults, then reads the file at path.  Relative *_file paths
 * are taken from path's directory.  Does not run pingoo_config_check.
 */
enum pingoo_err
pingoo_config_load(struct pingoo_config *cfg, const char *path,
    struct pingoo_fault *f)
{
	char dir[PATH_MAX];
	const char *slash;
	char *text;
	size_t len;
	enum pingoo_err rc;

	pingoo_config_defaults(cfg);
	if ((text = pingoo_slurp(path, CONFIG_FILE_MAX, &len)) == NULL)
		return pingoo_fault_set(f, PINGOO_ERR_CONFIG, "invalid_config",
		    NULL, "cannot read %.128s: %s", path, strerror(errno));
	if (strlen(text) != len) {
		rc = pingoo_fault_set(f, PINGOO_ERR_CONFIG, "invalid_config",
		    NULL, "%.128s holds a NUL byte", path);
		goto out;
	}
	if ((slash = strrchr(path, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	rc = pingoo_config_parse(cfg, text, dir, f);
out:
	explicit_bzero(text, len);
	free(text);
	return rc;
}

static enum pingoo_err
check_fault(struct pingoo_fault *f, const char *key, const char *msg)
{
	return pingoo_fault_set(f, PINGOO_ERR_CONFIG, "invalid_config", key,
	    "%s", msg);
}

/* The rules that span keys, or that a caller filling cfg could break. */
enum pingoo_err
pingoo_config_check(const struct pingoo_config *c, struct pingoo_fault *f)
{
	if (c->jwt_key_len < 32 || c->jwt_key_len > sizeof(c->jwt_key))
		return check_fault(f, "jwt_key", "jwt_key must be at least 32 "
		    "bytes: set jwt_key or jwt_key_file");
	if (strcmp(c->jwt_alg, "HS256") != 0 &&
	    strcmp(c->jwt_alg, "HS384") != 0 &&
	    strcmp(c->jwt_alg, "HS512") != 0 &&
	    strcmp(c->jwt_alg, "ES256") != 0)
		return check_fault(f, "jwt_alg", "jwt_alg must be HS256, "
		    "HS384, HS512 or ES256");
	if (strcmp(c->jwt_alg, "ES256") != 0 &&
	    (c->jwt_private_key[0] != '\0' || c->jwt_public_key[0] != '\0'))
		return check_fault(f, "jwt_public_key_file", "jwt_private_key_file "
		    "and jwt_public_key_file need jwt_alg = ES256");
	if (strcmp(c->jwt_alg, "ES256") == 0 && c->jwt_public_key[0] == '\0')
		return check_fault(f, "jwt_public_key_file", "jwt_alg = ES256 "
		    "needs jwt_public_key_file");
	if (c->jwt_issuer[0] == '\0' || c->jwt_audience[0] == '\0')
		return check_fault(f, "jwt_issuer", "jwt_issuer and "
		    "jwt_audience must not be empty");
	if (c->jwt_ttl < 1 || c->jwt_leeway < 0)
		return check_fault(f, "jwt_ttl", "jwt_ttl must be positive "
		    "and jwt_leeway not negative");
	if (c->threads < 1 || c->threads > 1024)
		return check_fault(f, "threads", "threads must be 1..1024");
	if (c->active_threads < 1 || c->active_threads > c->threads)
		return check_fault(f, "active_threads", "active_threads must be "
		    "1..threads");
	if (c->processes < 0 || c->processes > 64)
		return check_fault(f, "processes", "processes must be 0..64");
	if (c->db_name[0] == '\0' || c->db_user[0] == '\0')
		return check_fault(f, "db_name", "db_name and db_user must "
		    "not be empty");
	if (c->tp_min_packet_size < 1 ||
	    c->tp_min_packet_size > c->tp_max_packet_size)
		return check_fault(f, "tp_min_packet_size", "tp_min_packet_size "
		    "must be 1..tp_max_packet_size");
	if (c->tp_min_packet_size > c->tp_max_total_bytes)
		return check_fault(f, "tp_max_total_bytes", "tp_max_total_bytes "
		    "must hold at least one packet of tp_min_packet_size");
	if (c->list_max_limit < 1 || c->ping_max_count < 1 ||
	    c->ping_max_receipts < 1 || c->tp_max_packets < 1 ||
	    c->tp_max_reports < 1 || c->max_client_bytes < 2 ||
	    c->max_body < 64)
		return check_fault(f, NULL, "limits must be positive");
	/* It becomes nginx configuration: addresses, networks and spaces. */
	if (c->metrics_allow[strspn(c->metrics_allow,
	    "0123456789abcdefABCDEF.:/ ")] != '\0')
		return check_fault(f, "metrics_allow", "metrics_allow must hold "
		    "only IP addresses and CIDR networks, separated by spaces");
	return PINGOO_OK;
}
