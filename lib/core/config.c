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
 * The keys are the table `keys` below, each with its type, default,
 * range and one line of meaning: the one list.  pingoo_config_defaults
 * takes its defaults from it, pingoo_config_key hands it out,
 * docs/configuration.md documents exactly these keys with the same
 * defaults and ranges (t/unit/test-config-doc checks it) and
 * `pingoo-admin config-keys` prints it.
 *
 * *_file keys name a file holding the secret; a relative path is taken
 * from the configuration file's directory, and one trailing newline ("\n"
 * or "\r\n") is dropped.  Setting both a secret and its *_file is a duplicate.
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
	K_FILES,	/* files, separated by blanks, appended into the K_STR */
};

struct key {
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	size_t		 size;		/* K_STR: capacity with the NUL */
	uint64_t	 min, max;	/* numbers */
	int		 filekey;	/* K_FILE: target is the jwt key */
	const char	*def;		/* the default as a file would write it;
					 * NULL = none (zero, empty) */
	const char	*desc;		/* one line */
};

#define OFF(f)		offsetof(struct pingoo_config, f)
#define CAP(f)		sizeof(((struct pingoo_config *)0)->f)
#define STR(f, def, desc) { #f, K_STR, OFF(f), CAP(f), 0, 0, 0, def, desc }
#define NUM(t, f, lo, hi, def, desc) \
	{ #f, t, OFF(f), 0, lo, hi, 0, def, desc }
#define SECRETFILE(n, f, desc) \
	{ n, K_FILE, OFF(f), CAP(f), 0, 0, 0, NULL, desc }

static const struct key keys[] = {
	STR(listen, "",
	    "FastCGI socket path or host:port; empty: the socket on fd 0"),
	NUM(K_INT, processes, 0, 64, "2",
	    "worker processes (0: serve in this process, no supervisor)"),
	NUM(K_INT, threads, 1, 1024, "16", "threads per process"),
	NUM(K_INT, active_threads, 1, 1024, "1",
	    "of a process's threads, how many serve at once (at most threads)"),
	NUM(K_INT, log_requests, 0, 1, "1",
	    "one line per request on standard error"),
	STR(db_host, "127.0.0.1", "MySQL host, over TCP when db_socket is empty"),
	NUM(K_UINT, db_port, 1, 65535, "3306", "MySQL TCP port"),
	STR(db_socket, "", "MySQL unix socket path; when set, used instead of TCP"),
	STR(db_name, "pingoo", "database name"),
	STR(db_user, "pingoo", "the runtime account"),
	STR(db_password, "", "the runtime account's password"),
	SECRETFILE("db_password_file", db_password,
	    "a file holding db_password"),
	NUM(K_INT, db_connect_timeout, 1, 3600, "3",
	    "seconds to connect to MySQL"),
	NUM(K_INT, db_rw_timeout, 1, 3600, "5",
	    "seconds a MySQL read or write may take"),
	NUM(K_INT, db_wsrep_sync_wait, 0, 15, "0",
	    "wsrep_sync_wait of every session (1 on a Galera cluster)"),
	STR(db_ssl_ca, "", "CA file (PEM, an absolute path) of the MySQL "
	    "server's certificate: TLS over TCP; empty: no TLS asked for"),
	NUM(K_INT, db_ssl_verify, 0, 1, "1",
	    "with db_ssl_ca: verify the server's certificate and host name"),
	STR(migrate_db_user, "",
	    "the account of pingoo-admin migrate and user; empty: db_user"),
	STR(migrate_db_password, "", "the migration account's password"),
	SECRETFILE("migrate_db_password_file", migrate_db_password,
	    "a file holding migrate_db_password"),
	STR(jwt_alg, "HS256", "HS256, HS384, HS512 or ES256"),
	{ "jwt_key", K_KEY, OFF(jwt_key), CAP(jwt_key), 0, 0, 0, NULL,
	    "HMAC secret of at least 32 bytes: tokens (HS*), sample signatures" },
	{ "jwt_key_file", K_FILE, OFF(jwt_key), CAP(jwt_key), 0, 0, 1, NULL,
	    "a file holding jwt_key" },
	NUM(K_INT, jwt_key_legacy, 0, 2, "2",
	    "HS tokens and stamp signatures: 0 derived keys only; 1 signs with "
	    "them, also takes jwt_key's own; 2 signs with jwt_key, takes both"),
	SECRETFILE("jwt_private_key_file", jwt_private_key,
	    "ES256: the P-256 private key (PEM) that signs tokens"),
	{ "jwt_public_key_file", K_FILES, OFF(jwt_public_key),
	    CAP(jwt_public_key), 0, 0, 0, NULL,
	    "ES256: the P-256 public keys (PEM) that verify tokens, up to 4 "
	    "files separated by spaces" },
	STR(jwt_issuer, "pingoo", "the iss claim issued and required"),
	STR(jwt_audience, "pingoo-api", "the aud claim issued and required"),
	NUM(K_INT, jwt_ttl, 60, 2592000, "3600", "token lifetime, seconds"),
	NUM(K_INT, jwt_leeway, 0, 3600, "30",
	    "clock skew allowed on exp, nbf and iat, seconds"),
	NUM(K_SIZE, max_body, 64, 64 * MIB, "65536",
	    "bytes of a JSON request body"),
	NUM(K_SIZE, max_client_bytes, 2, PINGOO_CLIENT_BYTES_MAX, "1024",
	    "bytes of the client object serialized"),
	NUM(K_INT, list_max_limit, 1, 10000, "100",
	    "largest limit of a list request"),
	NUM(K_INT, ping_max_count, 1, 1000000, "10000",
	    "samples per ping test"),
	NUM(K_INT, ping_max_interval_ms, 0, 3600000, "60000",
	    "largest interval_ms of a ping test"),
	NUM(K_INT, ping_max_receipts, 1, 100000, "250",
	    "receipts per request"),
	NUM(K_SIZE, tp_min_packet_size, 1, GIB, "1",
	    "smallest packet, bytes"),
	NUM(K_SIZE, tp_max_packet_size, 1, GIB, "67108864",
	    "largest packet, bytes"),
	NUM(K_INT, tp_max_packets, 1, 1000000, "10000",
	    "packets per direction"),
	NUM(K_U64, tp_max_total_bytes, 1, 1024 * GIB, "4294967296",
	    "packets times packet size, per direction"),
	NUM(K_INT, tp_max_reports, 1, 100000, "500",
	    "packet reports per request"),
	NUM(K_INT, tp_stale_after, 60, 604800, "900",
	    "seconds a packet still started may go without its bytes moving "
	    "before it is failed (its worker died)"),
	STR(cors_origins, "",
	    "space-separated origins allowed to call the API"),
	STR(metrics_allow, "127.0.0.1 ::1",
	    "addresses and CIDR networks that may read /metrics (nginx)"),
	NUM(K_INT, retention_days, 0, 36500, "0",
	    "tests older are removed; 0 keeps them"),
	NUM(K_INT, retention_batch, 1, 100000, "500",
	    "rows per delete statement of the retention"),
	NUM(K_INT, retention_every, 1, 86400, "300",
	    "seconds between retention passes"),
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* One line being applied: where it came from, for faults. */
struct line {
	size_t		 no;
	const char	*basedir;
	struct pingoo_fault *f;
};

static enum pingoo_err set_number(struct pingoo_config *, const struct key *,
    const char *, size_t, const struct line *);
static enum pingoo_err set_bytes(struct pingoo_config *, const struct key *,
    int, const char *, size_t, const struct line *);

/* Every field zero, then each key's default from the table, parsed as a
 * line of the file would be (test-config checks the values). */
void
pingoo_config_defaults(struct pingoo_config *c)
{
	struct pingoo_fault f;
	struct line l = { 0, NULL, &f };
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].def == NULL)
			continue;
		if (keys[i].type == K_STR)
			(void)set_bytes(c, &keys[i], 0, keys[i].def,
			    strlen(keys[i].def), &l);
		else
			(void)set_number(c, &keys[i], keys[i].def,
			    strlen(keys[i].def), &l);
	}
}

/* Key i of the table: 1, or 0 past the last. */
int
pingoo_config_key(size_t i, struct pingoo_config_key *out)
{
	const struct key *k;

	if (i >= NKEYS)
		return 0;
	k = &keys[i];
	memset(out, 0, sizeof(*out));
	out->name = k->name;
	out->def = k->def;
	out->desc = k->desc;
	switch (k->type) {
	case K_STR:
	case K_KEY:
		out->type = PINGOO_CONFIG_STRING;
		break;
	case K_FILE:
	case K_FILES:
		out->type = PINGOO_CONFIG_FILE;
		break;
	default:
		out->type = PINGOO_CONFIG_NUMBER;
		out->min = k->min;
		out->max = k->max;
		break;
	}
	return 1;
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

static int
is_blank_char(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The file v[0..len) names (relative to the configuration's folder) into
 * *buf, *n bytes, one trailing newline dropped; max bounds what is read. */
static enum pingoo_err
read_named(const struct key *k, const char *v, size_t len, size_t max,
    const struct line *l, char **buf, size_t *n)
{
	char path[PATH_MAX];
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
	if ((*buf = pingoo_slurp(path, max, n)) == NULL)
		return pingoo_fault_set(l->f, PINGOO_ERR_CONFIG,
		    "invalid_config", k->name, "line %zu: %s: cannot read "
		    "%.96s: %s", l->no, k->name, path, strerror(errno));
	/* A "\r" goes only with the "\n" after it (a file saved with CRLF
	 * line ends): anywhere else it is a byte of the secret, as a binary
	 * jwt_key may end in 0x0d. */
	if (*n > 0 && (*buf)[*n - 1] == '\n') {
		(*n)--;
		if (*n > 0 && (*buf)[*n - 1] == '\r')
			(*n)--;
	}
	return PINGOO_OK;
}

/* The secret named by a *_file key, one trailing newline dropped. */
static enum pingoo_err
set_from_file(struct pingoo_config *c, const struct key *k, const char *v,
    size_t len, const struct line *l)
{
	char *buf;
	size_t n;
	enum pingoo_err rc;

	/* Twice the field so an overlong secret is reported as such. */
	if ((rc = read_named(k, v, len, 2 * k->size + 2, l, &buf, &n)) !=
	    PINGOO_OK)
		return rc;
	rc = set_bytes(c, k, k->filekey, buf, n, l);
	explicit_bzero(buf, n);
	free(buf);
	return rc;
}

/* Several files, separated by blanks (so no path may hold one), each
 * ended by a newline in the string field: the public keys of a key
 * rotation. */
static enum pingoo_err
set_from_files(struct pingoo_config *c, const struct key *k, const char *v,
    size_t len, const struct line *l)
{
	char *all, *buf;
	size_t used = 0, n, w;
	enum pingoo_err rc = PINGOO_OK;

	if (len == 0)
		return line_fault(l, k, "needs a path");
	if ((all = calloc(1, k->size + 1)) == NULL)
		return pingoo_fault_set(l->f, PINGOO_ERR_NOMEM, "invalid_config",
		    k->name, "line %zu: out of memory", l->no);
	while (rc == PINGOO_OK && len > 0) {
		while (len > 0 && is_blank_char(*v))
			v++, len--;
		for (w = 0; w < len && !is_blank_char(v[w]); w++)
			;
		if (w == 0)
			break;
		if ((rc = read_named(k, v, w, 2 * k->size + 2, l, &buf, &n)) !=
		    PINGOO_OK)
			break;
		if (used + n + 1 > k->size - 1)
			rc = pingoo_fault_set(l->f, PINGOO_ERR_CONFIG,
			    "invalid_config", k->name, "line %zu: %s: the files "
			    "hold more than %zu bytes", l->no, k->name,
			    k->size - 1);
		else {
			memcpy(all + used, buf, n);
			used += n;
			all[used++] = '\n';
		}
		free(buf);
		v += w;
		len -= w;
	}
	if (rc == PINGOO_OK)
		rc = set_bytes(c, k, 0, all, used, l);
	free(all);
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
	case K_FILES:
		return set_from_files(c, k, v, len, l);
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
	/* Read by each worker at its (re)connect: a relative path would
	 * depend on the directory it runs in.  TLS is for TCP: a unix socket
	 * never leaves the host. */
	if (c->db_ssl_ca[0] != '\0' && c->db_ssl_ca[0] != '/')
		return check_fault(f, "db_ssl_ca", "db_ssl_ca must be an "
		    "absolute path");
	if (c->db_ssl_ca[0] != '\0' && c->db_socket[0] != '\0')
		return check_fault(f, "db_ssl_ca", "db_ssl_ca is for TCP "
		    "(db_host); db_socket is set");
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
