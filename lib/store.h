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

/* store_data.c: a user's data as a whole (lib/export.h's types). */
struct pingoo_export_query;
struct pingoo_export_rec;
struct pingoo_agg;
/* Calls each(rec, arg) for every test of user in the query, each test's
 * record before its items (samples by seq; transfers by direction, then
 * seq), ping tests first; rows are streamed from MySQL, never held.  A
 * non-OK return from each stops it and is returned.  *tests and *records
 * count what was handed over (on success). */
enum pingoo_err	pingoo_export(struct pingoo_store *, uint64_t user,
		    const struct pingoo_export_query *,
		    enum pingoo_err (*each)(const struct pingoo_export_rec *,
		    void *), void *arg, uint64_t *tests, uint64_t *records);
/* The groups of user's tests in the query, in key order (no key first);
 * *out is malloc'd (the caller frees it), NULL with *n 0 when none. */
enum pingoo_err	pingoo_aggregates(struct pingoo_store *, uint64_t user,
		    const struct pingoo_export_query *, struct pingoo_agg **out,
		    size_t *n);
/* Deletes user's test id, a throughput test when tp, with its items;
 * PINGOO_ERR_NOTFOUND when user has no such test. */
enum pingoo_err	pingoo_test_delete(struct pingoo_store *, uint64_t user,
		    int tp, uint64_t id);
/* Deletes every test of user, the items of each in deletes of at most
 * batch rows, each committed on its own; counts what went. */
enum pingoo_err	pingoo_tests_delete_all(struct pingoo_store *, uint64_t user,
		    int batch, uint64_t *ping, uint64_t *tp);
/* One step of the retention: removes at most batch items (or, once it has
 * none, the row) of the oldest test created before `before`, of any user,
 * in one committed statement or two.  *more is 1 when it found such a
 * test (call again), 0 when none is left. */
enum pingoo_err	pingoo_retention_step(struct pingoo_store *, int64_t before,
		    int batch, int *more);

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
