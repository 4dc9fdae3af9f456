/*
 * store.h - the only way into MySQL.  One struct pingoo_store per thread,
 * owning one connection and its prepared statements.  Statements live in
 * per-concern tables (store_user.c, store_ping.c, store_tp.c), each entry
 * prepared on first use and re-prepared after a reconnect.
 */
#ifndef PINGOO_STORE_H
#define PINGOO_STORE_H

#include <mysql.h>
#include "pingoo.h"

/* One table of SQL text per concern; a statement is (domain, index). */
enum pingoo_sql_domain {
	PINGOO_SQL_USER = 0,
	PINGOO_SQL_PING,
	PINGOO_SQL_TP,
	PINGOO_SQL_MISC,
	PINGOO_SQL__DOMAINS
};
#define PINGOO_SQL_PER_DOMAIN 48

struct pingoo_store;

/* store.c */
/* Allocates a store; connects lazily.  `migrate` selects the migration
 * account.  NULL when out of memory.  The config must outlive the store. */
struct pingoo_store	*pingoo_store_new(const struct pingoo_config *, int migrate);
void			 pingoo_store_free(struct pingoo_store *);
/* Connects if needed and checks the server answers (health). */
enum pingoo_err		 pingoo_store_check(struct pingoo_store *);
/* The last database error, for logs only (never sent to clients). */
const char		*pingoo_store_errmsg(const struct pingoo_store *);
/* After a PINGOO_ERR_DB: 1 when the connection is gone (retry later), 0
 * when the server refused the statement itself (retrying cannot help). */
int			 pingoo_store_unreachable(const struct pingoo_store *);
/* After a PINGOO_ERR_DB: 1 when the same work is worth doing again — the
 * connection was lost, or InnoDB chose this transaction as a deadlock's
 * victim or timed out a lock wait (it rolled back; nothing was done). */
int			 pingoo_store_retryable(const struct pingoo_store *);
/* How many times the callers retry such a transaction. */
#define PINGOO_STORE_RETRIES 4
/*
 * Runs statement (domain, idx) whose text is `sql`, binding `in` (may be
 * NULL).  When `out` is not NULL, each result row is fetched into it and
 * row(arg) is called; a non-OK return from row stops and is returned.
 * *affected and *insert_id are set when not NULL.  Outside a transaction a
 * lost connection is reconnected, the statement re-prepared and the call
 * retried once.  Duplicate keys give PINGOO_ERR_CONFLICT; anything else
 * from the server PINGOO_ERR_DB.
 */
enum pingoo_err		 pingoo_store_run(struct pingoo_store *, int domain,
			    int idx, const char *sql, MYSQL_BIND *in,
			    MYSQL_BIND *out, enum pingoo_err (*row)(void *),
			    void *arg, uint64_t *affected, uint64_t *insert_id);
/* Transactions: no automatic retry inside one (the caller retries the
 * whole transaction on PINGOO_ERR_DB if it wants). */
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
 * the fetched value is NUL-terminated by pingoo_store_run when it fits. */
void	pingoo_bind_strout(MYSQL_BIND *, char *buf, size_t cap,
	    unsigned long *len, char *isnull);
/* Nullable integer output. */
void	pingoo_bind_i64out(MYSQL_BIND *, int64_t *, char *isnull);

/* store_user.c */
struct pingoo_user {
	uint64_t	id;
	char		name[65];
	int64_t		created_at;	/* µs since epoch */
};
enum pingoo_err	pingoo_user_add(struct pingoo_store *, const char *name,
		    const char *hash, uint64_t *id);
/* hash may be NULL when not wanted. */
enum pingoo_err	pingoo_user_by_name(struct pingoo_store *, const char *name,
		    struct pingoo_user *, char hash[PINGOO_HASH_MAX]);
enum pingoo_err	pingoo_user_by_id(struct pingoo_store *, uint64_t id,
		    struct pingoo_user *);
enum pingoo_err	pingoo_user_passwd(struct pingoo_store *, const char *name,
		    const char *hash);
enum pingoo_err	pingoo_user_del(struct pingoo_store *, const char *name);
/* Calls cb for each user in name order; a non-OK return stops the walk. */
enum pingoo_err	pingoo_user_each(struct pingoo_store *,
		    enum pingoo_err (*cb)(const struct pingoo_user *, void *),
		    void *arg);

/* migrate.c */
#define PINGOO_MIGRATIONS_MAX	256
struct pingoo_migrations {
	char	*name[PINGOO_MIGRATIONS_MAX];
	size_t	 n;
};
/* Lists dir's migration files (NNN_words.sql) in the order they apply.
 * copy duplicates each name (strdup when NULL).  On success m holds m->n
 * names the caller frees with pingoo_migrations_free; on error m holds
 * none and f says why. */
enum pingoo_err	pingoo_migrations_list(struct pingoo_migrations *m,
		    const char *dir, char *(*copy)(const char *),
		    struct pingoo_fault *);
void		pingoo_migrations_free(struct pingoo_migrations *);
/* Applies every NNN_*.sql in dir not yet recorded in schema_migrations, in
 * order, each recorded after it succeeds.  Nothing is applied when the
 * folder cannot be listed whole; a file that fails stops the run before
 * any later one.  log(arg, name) is called per
 * applied file.  Idempotent. */
enum pingoo_err	pingoo_migrate(struct pingoo_store *, const char *dir,
		    void (*log)(void *, const char *), void *arg,
		    struct pingoo_fault *);

#endif
