/*
 * store.h - the only way into MySQL, for everything outside the store.
 * One struct pingoo_store per thread owns one connection and its prepared
 * statements; the functions of store_user.c, store_ping.c, store_tp.c and
 * migrate.c run them.  No MySQL type appears here: the SQL and its
 * bindings stay behind store_int.h.
 */
#ifndef PINGOO_STORE_H
#define PINGOO_STORE_H

#include "pingoo.h"

struct pingoo_store;

/* store.c */
/* Once per process, before any thread opens a store; and at its end. */
enum pingoo_err		 pingoo_store_library_init(void);
void			 pingoo_store_library_end(void);
/* Once in each thread that uses a store, first and last. */
void			 pingoo_store_thread_init(void);
void			 pingoo_store_thread_end(void);
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
