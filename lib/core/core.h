/*
 * core.h - what every room of lib/ stands on: the error enum and the fault
 * a refusal carries, the two clocks, whole files, the configuration and
 * its keys, decimal numbers and random bytes.  Nothing in lib/ knows about FastCGI or HTTP; app/ maps
 * these errors to statuses.
 */
#ifndef PINGOO_CORE_H
#define PINGOO_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Every lib function that can fail returns one of these (PINGOO_OK == 0). */
enum pingoo_err {
	PINGOO_OK = 0,
	PINGOO_ERR_NOMEM,	/* allocation failed */
	PINGOO_ERR_INVAL,	/* malformed input (bad JSON, wrong type) */
	PINGOO_ERR_RANGE,	/* well-formed but outside the allowed range */
	PINGOO_ERR_TOOBIG,	/* past a configured size limit */
	PINGOO_ERR_NOTFOUND,	/* no such object for this owner */
	PINGOO_ERR_CONFLICT,	/* already done (duplicate sequence, packet) */
	PINGOO_ERR_STATE,	/* not allowed in the object's current state */
	PINGOO_ERR_AUTH,	/* credentials or token refused */
	PINGOO_ERR_DB,		/* database unreachable or failed */
	PINGOO_ERR_IO,		/* file or socket error */
	PINGOO_ERR_CONFIG,	/* bad configuration */
	PINGOO_ERR_INTERNAL,	/* a bug: should never be seen */
	PINGOO_ERR__MAX
};

/*
 * A refusal with enough detail for a person: which field, a stable machine
 * code and a sentence.  Validators fill it; app/ turns it into the JSON
 * error body.  Strings are static or live in the struct.
 */
struct pingoo_fault {
	enum pingoo_err	 err;
	const char	*code;		/* e.g. "invalid_field", NULL = derive */
	char		 field[64];	/* "" when no single field is at fault */
	char		 message[192];
};

/* error.c */
const char	*pingoo_strerror(enum pingoo_err);
const char	*pingoo_errcode(enum pingoo_err);
enum pingoo_err	 pingoo_fault_set(struct pingoo_fault *, enum pingoo_err,
		    const char *code, const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

/* The number of elements of an array (never a pointer). */
#define PINGOO_NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/*
 * Every table indexed by an enum is written with designated initializers
 * ([X_A] = ...) and sized by them, not by the enum; this checks that its
 * length is the enum's count n, so a value added at the end without its
 * row, or a row past the enum, does not compile.  A gap below the last row
 * is zero (NULL): each table's unit test walks the enum for those.
 */
#define PINGOO_TABLE_CHECK(a, n) _Static_assert(PINGOO_NELEM(a) == \
	    (size_t)(n), #a ": one row per value of its enum")

/* name.c: an enum's names, a table names[0..n) indexed by the enum. */
/* The name of v; NULL when v is outside [0, n) or its slot is empty. */
const char	*pingoo_name_of(const char *const *names, size_t n, int v);
/* The value named exactly (bytes, case) by s[0..len), which need not be
 * NUL-terminated; -1 when no value has that name.  The caller refuses an
 * unknown name by its source (name.c): a request's is a 400, the
 * database's is PINGOO_ERR_DB, logged, never a default. */
int		 pingoo_name_find(const char *const *names, size_t n,
		    const char *s, size_t len);

/* clock.c: wall-clock stamps are microseconds since the Unix epoch
 * (CLOCK_REALTIME); durations come from CLOCK_MONOTONIC. */
int64_t		 pingoo_now_us(void);
int64_t		 pingoo_mono_us(void);
/* Sleeps ms milliseconds (less when a signal arrives). */
void		 pingoo_sleep_ms(long ms);

/* file.c */
/* Reads the whole file at path, at most max bytes, into a malloc'd buffer
 * with a NUL after its last byte (the caller frees it); *len gets the
 * length.  NULL with errno set on failure: EFBIG when the file is larger
 * than max (never a silent cut). */
char		*pingoo_slurp(const char *path, size_t max, size_t *len);

/* config.c */
struct pingoo_config {
	/* worker */
	char		 listen[256];	/* "" = FastCGI socket on fd 0 */
	int		 processes;	/* 0 = no supervisor, serve in this process */
	int		 threads;
	int		 active_threads;	/* of those, serving at once */
	int		 log_requests;
	/* database */
	char		 db_host[256];
	unsigned	 db_port;
	char		 db_socket[256];
	char		 db_name[64];
	char		 db_user[64];
	char		 db_password[256];
	int		 db_connect_timeout;	/* seconds */
	int		 db_rw_timeout;		/* seconds */
	int		 db_wsrep_sync_wait;	/* Galera: per session, 0 = off */
	/* TLS to a database over TCP: the CA of its certificate ("" = no
	 * TLS asked for), and whether the certificate and host name are
	 * verified against it (1 unless turned off) */
	char		 db_ssl_ca[256];
	int		 db_ssl_verify;
	/* migrations run as a separate, more privileged account when set */
	char		 migrate_db_user[64];	/* "" = db_user */
	char		 migrate_db_password[256];
	/* tokens */
	char		 jwt_alg[16];		/* HS256/HS384/HS512 or ES256 */
	/* The HMAC secret of HS* tokens; always the sample signatures' key
	 * (lib/auth/sign.c), shared by every host that answers echoes and receipts. */
	unsigned char	 jwt_key[512];
	size_t		 jwt_key_len;
	/* Made from jwt_key by pingoo_keys_derive (lib/auth/sign.c), never
	 * read from the file: the tokens' HMAC key and the key of the
	 * samples' and probes' signatures, so neither can stand for the
	 * other.  0..2: which of them a host signs and accepts during an
	 * upgrade from a release that used jwt_key itself for both. */
	unsigned char	 jwt_token_key[64];
	size_t		 jwt_token_key_len;
	unsigned char	 jwt_sample_key[32];
	size_t		 jwt_sample_key_len;
	int		 jwt_key_legacy;
	char		 jwt_issuer[128];
	char		 jwt_audience[128];
	int		 jwt_ttl;		/* seconds */
	int		 jwt_leeway;		/* seconds of clock skew allowed */
	/* ES256: PEM text; the private key only on the issuing host */
	char		 jwt_private_key[2048];
	char		 jwt_public_key[2048];
	/* limits */
	size_t		 max_body;		/* bytes of a JSON request body */
	size_t		 max_client_bytes;	/* serialized "client" object,
						 * up to PINGOO_CLIENT_BYTES_MAX */
	int		 list_max_limit;
	int		 ping_max_count;
	int		 ping_max_interval_ms;
	int		 ping_max_receipts;	/* per request */
	size_t		 tp_min_packet_size;
	size_t		 tp_max_packet_size;
	int		 tp_max_packets;
	uint64_t	 tp_max_total_bytes;	/* packets * size, per direction */
	int		 tp_max_reports;	/* per request */
	int		 tp_stale_after;	/* seconds; see lib/store/tp.c */
	/* CORS: space-separated origins allowed to call the API */
	char		 cors_origins[1024];
	/* Addresses and networks (CIDR) nginx lets read /metrics; the pool
	 * never reads it: deploy/local/up renders it into nginx's allow
	 * list, so it is checked here to hold nothing else. */
	char		 metrics_allow[1024];
	/* Tests older than retention_days are removed by the background
	 * thread (0 keeps them forever), retention_batch rows per statement,
	 * a pass every retention_every seconds. */
	int		 retention_days;
	int		 retention_batch;
	int		 retention_every;
};

void		 pingoo_config_defaults(struct pingoo_config *);
/* Reads "key = value" lines into cfg (defaults first).  Keys ending in
 * _file read the named file for the secret (db_password_file, jwt_key_file,
 * ...), a relative path from path's directory.  On error, fault says why
 * (for a bad line, which line and key); cfg is left partly filled.  Does
 * not run pingoo_config_check. */
enum pingoo_err	 pingoo_config_load(struct pingoo_config *, const char *path,
		    struct pingoo_fault *);
/* Applies text's lines onto cfg as it is (no defaults first); basedir
 * anchors relative *_file paths (NULL: the working directory).  Stops at
 * the first bad line. */
enum pingoo_err	 pingoo_config_parse(struct pingoo_config *, const char *text,
		    const char *basedir, struct pingoo_fault *);
/* Checks what one line cannot: jwt_key present, jwt_alg one of four and
 * its key files, names not empty, limits ordered, metrics_allow's
 * characters; and again the ranges a caller filling cfg could break. */
enum pingoo_err	 pingoo_config_check(const struct pingoo_config *,
		    struct pingoo_fault *);

/* The keys of the file, as config.c's table has them: the one list
 * (docs/configuration.md documents exactly these; test-config-doc checks
 * it).  A secret and its *_file are two keys. */
enum pingoo_config_type {
	PINGOO_CONFIG_NUMBER,	/* plain decimal in min..max */
	PINGOO_CONFIG_STRING,	/* the rest of the line, "" allowed */
	PINGOO_CONFIG_FILE	/* a path: the file holds a secret */
};
/* max_client_bytes' ceiling: the client columns are TEXT, which holds
 * 65535 bytes, and the store reads a description back into a buffer of
 * this many bytes and a NUL, so one stored at any allowed limit is
 * written and read back whole. */
#define PINGOO_CLIENT_BYTES_MAX 65535

struct pingoo_config_key {
	const char		*name;
	enum pingoo_config_type	 type;
	const char		*def;		/* as a file writes it; NULL:
						 * none (empty) */
	uint64_t		 min, max;	/* numbers only */
	const char		*desc;		/* one line */
};
/* Fills *k with key i of the table (0, 1, ... in the table's order): 1,
 * or 0 when i is past the last key. */
int		 pingoo_config_key(size_t i, struct pingoo_config_key *k);

/* number.c: decimal integers with no sign, spaces or leading 0;
 * PINGOO_ERR_INVAL for bad syntax, PINGOO_ERR_RANGE out of range. */
/* Parses a positive decimal id (1..2^53-1, exact in a JavaScript number). */
enum pingoo_err	 pingoo_parse_id(const char *s, size_t len, uint64_t *out);
/* Parses a non-negative decimal integer <= max. */
enum pingoo_err	 pingoo_parse_uint(const char *s, size_t len, uint64_t max,
		    uint64_t *out);

/* random.c */
enum pingoo_err	 pingoo_random(void *buf, size_t len);

#endif
