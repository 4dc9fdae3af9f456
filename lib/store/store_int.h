/*
 * store_int.h - inside the store only (the .c files of lib/store): the
 * MySQL bindings and the runner of prepared statements.  Each of them but
 * store.c owns one table of SQL text indexed by its own enum and declares
 * it here; a statement is named by (table, index) and nothing else.  The
 * caller names its own table, so the runner (store.c) never reaches up to
 * the files that use it.
 */
#ifndef PINGOO_STORE_INT_H
#define PINGOO_STORE_INT_H

#include <mysql.h>

#include "store.h"

/* One table of SQL text per concern; a statement is (table, index).  A
 * connection prepares the statements of at most PINGOO_SQL__DOMAINS
 * tables, of at most PINGOO_SQL_PER_DOMAIN each. */
#define PINGOO_SQL__DOMAINS 8
#define PINGOO_SQL_PER_DOMAIN 48

struct pingoo_sql_table {
	const char *const	*sql;
	int			 n;
};
/* Each domain's table of SQL text (designated initializers, one statement
 * per value of its enum, core.h) and no more statements than a connection
 * keeps prepared for a domain.  t/unit/test-sql.c walks them for gaps. */
#define PINGOO_SQL_TABLE_CHECK(a, n) PINGOO_TABLE_CHECK(a, n); \
	_Static_assert((n) <= PINGOO_SQL_PER_DOMAIN, \
	    #a ": more statements than PINGOO_SQL_PER_DOMAIN")
/*
 * The one policy for a name read from the database that names no value of
 * its enum (a state, direction, status or phase; lib/core/name.c): the row
 * is refused, never read as a default.  Logs the column and the value on
 * stderr, counts a database error (pingoo_db_errors_total) and returns
 * PINGOO_ERR_DB, for the row callback to return: the statement then fails
 * as one the server refused would, and is not retried.
 */
enum pingoo_err		 pingoo_store_bad_name(const char *column,
			    const char *value);
/* Defined beside their statements' callers. */
extern const struct pingoo_sql_table pingoo_sql_user;	/* user.c */
extern const struct pingoo_sql_table pingoo_sql_ping;	/* ping.c */
extern const struct pingoo_sql_table pingoo_sql_tp;	/* tp.c */
extern const struct pingoo_sql_table pingoo_sql_misc;	/* migrate.c */
extern const struct pingoo_sql_table pingoo_sql_probe;	/* probe.c */
extern const struct pingoo_sql_table pingoo_sql_data;	/* data.c */
extern const struct pingoo_sql_table pingoo_sql_revoke;	/* revoke.c */
extern const struct pingoo_sql_table pingoo_sql_deletion;	/* deletion.c */
/* The tables as the runner's callers name them. */
#define PINGOO_SQL_USER		(&pingoo_sql_user)
#define PINGOO_SQL_PING		(&pingoo_sql_ping)
#define PINGOO_SQL_TP		(&pingoo_sql_tp)
#define PINGOO_SQL_MISC		(&pingoo_sql_misc)
#define PINGOO_SQL_PROBE	(&pingoo_sql_probe)
#define PINGOO_SQL_DATA		(&pingoo_sql_data)
#define PINGOO_SQL_REVOKE	(&pingoo_sql_revoke)
#define PINGOO_SQL_DELETION	(&pingoo_sql_deletion)

/* The TLS options of a connection c asks for: 1 with the CA file in *ca
 * and whether the server's certificate and name are verified in *verify
 * (db_ssl_ca, db_ssl_verify; TCP only), 0 when c asks for no TLS and the
 * connector's defaults stand. */
int			 pingoo_store_tls(const struct pingoo_config *c,
			    const char **ca, int *verify);

/* Room for a client description read back: the largest max_client_bytes
 * allows, and a NUL.  t/unit/test-sql checks it against the key's range. */
#define PINGOO_STORE_CLIENT_CAP (PINGOO_CLIENT_BYTES_MAX + 1)

/* How many times a transaction that failed retryably (see
 * pingoo_store_retryable) is tried in all. */
#define PINGOO_STORE_RETRIES 6
/* After an attempt at a transaction that returned e: 1 when it is worth
 * another (a retryable PINGOO_ERR_DB: it was rolled back whole) and fewer
 * than PINGOO_STORE_RETRIES attempts were made, after a pause of a few ms;
 * counts them in *tries, which starts at 0. */
int			 pingoo_store_again(struct pingoo_store *,
			    enum pingoo_err e, int *tries);
/* For a transaction that found another had done its work meanwhile (a
 * duplicate key where its own read said there was none): marks it to be
 * rolled back and tried again, as a deadlock victim is, and returns
 * PINGOO_ERR_DB. */
enum pingoo_err		 pingoo_store_lost_race(struct pingoo_store *);

/*
 * Runs statement idx of table t, binding `in` (may be NULL).  When
 * `out` is not NULL, each result row is fetched into it and row(arg) is
 * called; a non-OK return from row stops and is returned.  *affected and
 * *insert_id are set when not NULL.  Outside a transaction a lost
 * connection is reconnected, the statement re-prepared and the call
 * retried once, and a statement chosen as a deadlock's victim (or, on
 * Galera, failing certification) is run once more.  Duplicate keys give
 * PINGOO_ERR_CONFLICT; anything else from the server PINGOO_ERR_DB; an
 * index outside the table (or a table past the first PINGOO_SQL__DOMAINS
 * the connection ran) PINGOO_ERR_INTERNAL.
 */
enum pingoo_err		 pingoo_store_run(struct pingoo_store *,
			    const struct pingoo_sql_table *t, int idx, MYSQL_BIND *in, MYSQL_BIND *out,
			    enum pingoo_err (*row)(void *), void *arg,
			    uint64_t *affected, uint64_t *insert_id);
/* The configuration the store was made with (its limits). */
const struct pingoo_config *pingoo_store_config(const struct pingoo_store *);
/* Room for item n of the growing array v of `size`-byte items (room for
 * *cap), for result rows: doubles it when full.  Returns the array, moved
 * or not, or NULL when out of memory (v is then left as it was). */
void			*pingoo_store_grow(void *v, size_t n, size_t *cap,
			    size_t size);
/* As pingoo_store_run, for a SELECT whose rows are not held: each is
 * fetched off the connection and handed to row(arg) in turn, so a result
 * of any size takes constant memory.  Never retried (rows may have gone
 * out); not inside a transaction.  A row callback that fails stops the
 * fetch and the rest of the result is discarded. */
enum pingoo_err		 pingoo_store_stream(struct pingoo_store *,
			    const struct pingoo_sql_table *t, int idx, MYSQL_BIND *in, MYSQL_BIND *out,
			    enum pingoo_err (*row)(void *), void *arg);
/* Transactions: no automatic retry inside one (the store function retries
 * the whole transaction on a retryable PINGOO_ERR_DB). */
enum pingoo_err		 pingoo_store_begin(struct pingoo_store *);
enum pingoo_err		 pingoo_store_commit(struct pingoo_store *);
void			 pingoo_store_rollback(struct pingoo_store *);
/* Runs plain SQL text (migrations only: DDL cannot be parameterized). */
enum pingoo_err		 pingoo_store_exec_text(struct pingoo_store *,
			    const char *sql);

/* Bind helpers: fill one MYSQL_BIND.  Buffers must outlive the call. */
void	pingoo_bind_u64(MYSQL_BIND *, uint64_t *);
void	pingoo_bind_i64(MYSQL_BIND *, int64_t *);
void	pingoo_bind_i32(MYSQL_BIND *, int32_t *);
/* Input string of length *len (NULL value when s is NULL). */
void	pingoo_bind_str(MYSQL_BIND *, const char *s, unsigned long *len);
/* Output string into buf[cap]; *len gets the length, *isnull the NULL flag;
 * pingoo_store_run NUL-terminates the fetched value, cut to cap - 1 bytes
 * when it is longer. */
void	pingoo_bind_strout(MYSQL_BIND *, char *buf, size_t cap,
	    unsigned long *len, char *isnull);
/* Nullable integer output. */
void	pingoo_bind_i64out(MYSQL_BIND *, int64_t *, char *isnull);

#endif
