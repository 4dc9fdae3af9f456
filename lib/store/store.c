/*
 * store.c - one MySQL connection and its prepared statements, with the one
 * retry rule: on a lost connection, reconnect, re-prepare and try once more.
 * MYSQL_OPT_RECONNECT stays off because a silent reconnect invalidates every
 * prepared statement: each one then fails with error 1243 (unknown
 * prepared statement handler) ever after.
 *
 * On a Galera cluster (docs/deployment.md) two more rules hold.  A
 * transaction that loses certification against a write committed through
 * another node is rolled back whole and reported as ER_LOCK_DEADLOCK
 * (1213), on any statement or on COMMIT itself: it is retried like a
 * deadlock (pingoo_store_retryable covers the failed COMMIT, whose error
 * pingoo_store_commit notes; a single autocommit statement is run again
 * here).  And a node applies other nodes' writes after they commit, so a
 * read may miss a write made through another node a moment before (a test
 * created on one host, echoed on another): db_wsrep_sync_wait sets
 * wsrep_sync_wait on every session, making each read wait until the node
 * has applied everything committed before it began.  A node that is not
 * part of the primary component answers 1047 to everything: it is treated
 * as a lost connection (the store is unreachable until it is back).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "core/core.h"
#include "shm/shm.h"
#include "store_int.h"

struct pingoo_store {
	const struct pingoo_config	*cfg;
	int				 migrate;
	int				 in_txn;
	int				 connected;	/* once, ever */
	MYSQL				*m;
	/* Prepared statements: tables[d]'s statement i is stmts[d][i]; a
	 * table takes its row d the first time one of its statements runs. */
	const struct pingoo_sql_table	*tables[PINGOO_SQL__DOMAINS];
	MYSQL_STMT			*stmts[PINGOO_SQL__DOMAINS][PINGOO_SQL_PER_DOMAIN];
	unsigned			 errcode;	/* of the last failure */
	char				 errmsg[256];
};

enum pingoo_err
pingoo_store_library_init(void)
{
	return mysql_library_init(0, NULL, NULL) == 0 ? PINGOO_OK :
	    PINGOO_ERR_DB;
}

void
pingoo_store_library_end(void)
{
	mysql_library_end();
}

void
pingoo_store_thread_init(void)
{
	mysql_thread_init();
}

void
pingoo_store_thread_end(void)
{
	mysql_thread_end();
}

struct pingoo_store *
pingoo_store_new(const struct pingoo_config *cfg, int migrate)
{
	struct pingoo_store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = cfg;
	s->migrate = migrate;
	return s;
}

const struct pingoo_config *
pingoo_store_config(const struct pingoo_store *s)
{
	return s->cfg;
}

static void
store_disconnect(struct pingoo_store *s)
{
	int d, i;

	for (d = 0; d < PINGOO_SQL__DOMAINS; d++)
		for (i = 0; i < PINGOO_SQL_PER_DOMAIN; i++)
			if (s->stmts[d][i] != NULL) {
				mysql_stmt_close(s->stmts[d][i]);
				s->stmts[d][i] = NULL;
			}
	if (s->m != NULL) {
		mysql_close(s->m);
		s->m = NULL;
	}
	s->in_txn = 0;
}

void
pingoo_store_free(struct pingoo_store *s)
{
	if (s == NULL)
		return;
	store_disconnect(s);
	free(s);
}

const char *
pingoo_store_errmsg(const struct pingoo_store *s)
{
	return s->errmsg;
}

/* A failed call left no connection: the server is gone, not the query. */
int
pingoo_store_unreachable(const struct pingoo_store *s)
{
	return s->m == NULL;
}

int
pingoo_store_retryable(const struct pingoo_store *s)
{
	return s->m == NULL || s->errcode == ER_LOCK_DEADLOCK ||
	    s->errcode == ER_LOCK_WAIT_TIMEOUT;
}

void *
pingoo_store_grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t ncap;

	if (n < *cap)
		return v;
	ncap = *cap > 0 ? *cap * 2 : 64;
	if ((v = reallocarray(v, ncap, size)) != NULL)
		*cap = ncap;
	return v;
}

/* Marked as a deadlock's victim is: pingoo_store_again retries it. */
enum pingoo_err
pingoo_store_lost_race(struct pingoo_store *s)
{
	s->errcode = ER_LOCK_DEADLOCK;
	return PINGOO_ERR_DB;
}

/* A victim that starts again at once meets the same transaction at the
 * same point (the echo writer's next statement on the same test, say): a
 * pause of 1 to 2^tries ms, picked from the clock's low bits, lets it
 * through first. */
int
pingoo_store_again(struct pingoo_store *s, enum pingoo_err e, int *tries)
{
	if (e != PINGOO_ERR_DB || !pingoo_store_retryable(s) ||
	    ++*tries >= PINGOO_STORE_RETRIES)
		return 0;
	pingoo_sleep_ms(1 + (int)((uint64_t)pingoo_mono_us() %
	    ((uint64_t)1 << *tries)));
	return 1;
}

static void
store_note(struct pingoo_store *s, const char *what, unsigned code,
    const char *msg)
{
	s->errcode = code;
	if (code != ER_DUP_ENTRY)
		pingoo_metrics_add(PINGOO_M_DB_ERRORS, 1);
	snprintf(s->errmsg, sizeof(s->errmsg), "%s: %u %s", what, code, msg);
}

enum pingoo_err
pingoo_store_bad_name(const char *column, const char *value)
{
	char v[48];
	size_t i;

	/* Cut, and printable: it is the database's text, not ours. */
	snprintf(v, sizeof(v), "%s", value != NULL ? value : "");
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			v[i] = '?';
	fprintf(stderr, "pingoo: %s holds '%s', a name this build does not "
	    "know: the row is refused\n", column, v);
	pingoo_metrics_add(PINGOO_M_DB_ERRORS, 1);
	return PINGOO_ERR_DB;
}

/* The session's settings after connecting: 0, or non-zero on failure. */
static int
session_setup(struct pingoo_store *s)
{
	char sql[64];
	int n;

	if (s->cfg->db_wsrep_sync_wait == 0)
		return 0;
	n = snprintf(sql, sizeof(sql), "SET SESSION wsrep_sync_wait = %d",
	    s->cfg->db_wsrep_sync_wait);
	return mysql_real_query(s->m, sql, (unsigned long)n);
}

int
pingoo_store_tls(const struct pingoo_config *c, const char **ca, int *verify)
{
	*ca = NULL;
	*verify = 0;
	if (c->db_ssl_ca[0] == '\0' || c->db_socket[0] != '\0')
		return 0;
	*ca = c->db_ssl_ca;
	*verify = c->db_ssl_verify != 0;
	return 1;
}

static enum pingoo_err
store_connect(struct pingoo_store *s)
{
	const struct pingoo_config *c = s->cfg;
	const char *user, *password, *host, *sock, *ca;
	unsigned int ctimeout = (unsigned)c->db_connect_timeout;
	unsigned int rwtimeout = (unsigned)c->db_rw_timeout;
	my_bool off = 0, verify;
	int v;

	if (s->m != NULL)
		return PINGOO_OK;
	if ((s->m = mysql_init(NULL)) == NULL) {
		store_note(s, "mysql_init", 0, "out of memory");
		return PINGOO_ERR_NOMEM;
	}
	mysql_options(s->m, MYSQL_OPT_CONNECT_TIMEOUT, &ctimeout);
	mysql_options(s->m, MYSQL_OPT_READ_TIMEOUT, &rwtimeout);
	mysql_options(s->m, MYSQL_OPT_WRITE_TIMEOUT, &rwtimeout);
	mysql_options(s->m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(s->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* Set both ways when asked: the connector's own default for the
	 * check differs between its versions. */
	if (pingoo_store_tls(c, &ca, &v)) {
		verify = (my_bool)v;
		if (mysql_options(s->m, MYSQL_OPT_SSL_CA, ca) != 0 ||
		    mysql_options(s->m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
		    &verify) != 0) {
			store_note(s, "mysql_options", 0, "the connector refused "
			    "the TLS options (db_ssl_ca, db_ssl_verify)");
			mysql_close(s->m);
			s->m = NULL;
			return PINGOO_ERR_DB;
		}
	}

	user = c->db_user;
	password = c->db_password;
	if (s->migrate && c->migrate_db_user[0] != '\0') {
		user = c->migrate_db_user;
		password = c->migrate_db_password;
	}
	sock = c->db_socket[0] != '\0' ? c->db_socket : NULL;
	host = sock != NULL ? "localhost" : c->db_host;
	if (mysql_real_connect(s->m, host, user, password, c->db_name,
	    c->db_port, sock, 0) == NULL ||
	    session_setup(s) != 0) {
		store_note(s, "connect", mysql_errno(s->m), mysql_error(s->m));
		mysql_close(s->m);
		s->m = NULL;
		return PINGOO_ERR_DB;
	}
	if (s->connected)
		pingoo_metrics_add(PINGOO_M_DB_RECONNECTS, 1);
	s->connected = 1;
	return PINGOO_OK;
}

/* Errors after which the connection is unusable and worth one retry. */
static int
lost_connection(unsigned code)
{
	switch (code) {
	case CR_SERVER_GONE_ERROR:	/* 2006 */
	case CR_SERVER_LOST:		/* 2013 */
	case CR_COMMANDS_OUT_OF_SYNC:	/* 2014 */
	case 1927:			/* ER_CONNECTION_KILLED */
	case ER_UNKNOWN_STMT_HANDLER:	/* 1243 */
	case 4031:			/* idle client disconnected */
	/* A Galera node outside the primary component, or still joining,
	 * refuses every query ("WSREP has not yet prepared node for
	 * application use"): for Pingoo that node is away, like a lost
	 * server, and the echo's writer waits for it rather than drop. */
	case ER_UNKNOWN_COM_ERROR:	/* 1047 */
		return 1;
	default:
		return 0;
	}
}

enum pingoo_err
pingoo_store_check(struct pingoo_store *s)
{
	enum pingoo_err e;

	if ((e = store_connect(s)) != PINGOO_OK)
		return e;
	if (mysql_ping(s->m) == 0)
		return PINGOO_OK;
	store_note(s, "ping", mysql_errno(s->m), mysql_error(s->m));
	store_disconnect(s);
	return store_connect(s);
}

/* The row of s->stmts that holds t's statements, given it on first use;
 * -1 when t's index i is outside it or every row is taken. */
static int
store_table(struct pingoo_store *s, const struct pingoo_sql_table *t, int i)
{
	int d;

	if (t == NULL || i < 0 || i >= t->n || i >= PINGOO_SQL_PER_DOMAIN)
		return -1;
	for (d = 0; d < PINGOO_SQL__DOMAINS; d++) {
		if (s->tables[d] == NULL)
			s->tables[d] = t;
		if (s->tables[d] == t)
			return d;
	}
	return -1;
}

static MYSQL_STMT *
store_stmt(struct pingoo_store *s, int d, int i, const char *sql,
    unsigned *code)
{
	MYSQL_STMT *st;

	if (s->stmts[d][i] != NULL)
		return s->stmts[d][i];
	if ((st = mysql_stmt_init(s->m)) == NULL) {
		*code = mysql_errno(s->m);
		store_note(s, "stmt_init", *code, mysql_error(s->m));
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		*code = mysql_stmt_errno(st);
		store_note(s, "prepare", *code, mysql_stmt_error(st));
		mysql_stmt_close(st);
		return NULL;
	}
	s->stmts[d][i] = st;
	return st;
}

/* Terminates fetched strings in place so callers can use them as C strings. */
static void
terminate_strings(MYSQL_BIND *out, unsigned n)
{
	unsigned i;
	unsigned long len;

	for (i = 0; i < n; i++) {
		if (out[i].buffer_type != MYSQL_TYPE_STRING ||
		    out[i].buffer_length == 0)
			continue;
		len = out[i].length != NULL ? *out[i].length : 0;
		if (len >= out[i].buffer_length)
			len = out[i].buffer_length - 1;
		((char *)out[i].buffer)[len] = '\0';
	}
}

/* One attempt; *code gets the server's error number on failure. */
static enum pingoo_err
store_run_once(struct pingoo_store *s, MYSQL_STMT *st, MYSQL_BIND *in,
    MYSQL_BIND *out, enum pingoo_err (*row)(void *), void *arg,
    uint64_t *affected, uint64_t *insert_id, unsigned *code, int stream)
{
	enum pingoo_err e = PINGOO_OK;
	unsigned nout;
	int rc;

	if (in != NULL && mysql_stmt_bind_param(st, in) != 0)
		goto fail;
	if (mysql_stmt_execute(st) != 0)
		goto fail;
	if (affected != NULL)
		*affected = mysql_stmt_affected_rows(st);
	if (insert_id != NULL)
		*insert_id = mysql_stmt_insert_id(st);
	nout = mysql_stmt_field_count(st);
	if (nout == 0)
		return PINGOO_OK;
	/* Streamed, each row is read off the connection as it is fetched:
	 * nothing holds the whole result. */
	if (out == NULL || mysql_stmt_bind_result(st, out) != 0 ||
	    (!stream && mysql_stmt_store_result(st) != 0)) {
		if (out == NULL) {
			mysql_stmt_free_result(st);
			return PINGOO_OK;
		}
		/* The rows still wait on the connection: drop them, or the
		 * next statement finds it out of sync. */
		*code = mysql_stmt_errno(st);
		store_note(s, "result", *code, mysql_stmt_error(st));
		mysql_stmt_free_result(st);
		return PINGOO_ERR_DB;
	}
	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		terminate_strings(out, nout);
		if (row != NULL && (e = row(arg)) != PINGOO_OK) {
			/* The row's refusal, not the server's: never taken
			 * for an earlier deadlock, so never retried. */
			s->errcode = 0;
			break;
		}
	}
	if (rc == 1) {
		*code = mysql_stmt_errno(st);
		store_note(s, "fetch", *code, mysql_stmt_error(st));
		e = PINGOO_ERR_DB;
	}
	mysql_stmt_free_result(st);
	return e;
fail:
	*code = mysql_stmt_errno(st);
	store_note(s, "execute", *code, mysql_stmt_error(st));
	return *code == ER_DUP_ENTRY ? PINGOO_ERR_CONFLICT : PINGOO_ERR_DB;
}

enum pingoo_err
pingoo_store_run(struct pingoo_store *s, const struct pingoo_sql_table *t,
    int i, MYSQL_BIND *in, MYSQL_BIND *out, enum pingoo_err (*row)(void *),
    void *arg, uint64_t *affected, uint64_t *insert_id)
{
	enum pingoo_err e = PINGOO_ERR_DB;
	const char *sql;
	MYSQL_STMT *st;
	unsigned code;
	int attempt, d;

	if ((d = store_table(s, t, i)) < 0)
		return PINGOO_ERR_INTERNAL;
	sql = t->sql[i];
	for (attempt = 0; attempt < 2; attempt++) {
		code = 0;
		if (s->m == NULL && s->in_txn)
			return PINGOO_ERR_DB;	/* the transaction died with it */
		if ((e = store_connect(s)) != PINGOO_OK)
			return e;
		if ((st = store_stmt(s, d, i, sql, &code)) != NULL)
			e = store_run_once(s, st, in, out, row, arg, affected,
			    insert_id, &code, 0);
		else
			e = PINGOO_ERR_DB;
		/* An autocommit statement that lost certification (Galera) or
		 * a deadlock was rolled back: once more is safe. */
		if (e == PINGOO_ERR_DB && code == ER_LOCK_DEADLOCK &&
		    !s->in_txn)
			continue;
		if (e == PINGOO_OK || !lost_connection(code))
			return e;
		/* Lost: drop everything; retry only outside a transaction. */
		if (s->in_txn) {
			store_disconnect(s);
			s->in_txn = 1;
			return PINGOO_ERR_DB;
		}
		store_disconnect(s);
	}
	return e;
}

enum pingoo_err
pingoo_store_stream(struct pingoo_store *s, const struct pingoo_sql_table *t,
    int i, MYSQL_BIND *in, MYSQL_BIND *out, enum pingoo_err (*row)(void *),
    void *arg)
{
	enum pingoo_err e;
	MYSQL_STMT *st;
	unsigned code = 0;
	int d;

	if (s->in_txn || (d = store_table(s, t, i)) < 0)
		return PINGOO_ERR_INTERNAL;
	/* No retry once rows have gone out: check the connection first. */
	if ((e = pingoo_store_check(s)) != PINGOO_OK)
		return e;
	if ((st = store_stmt(s, d, i, t->sql[i], &code)) == NULL)
		e = PINGOO_ERR_DB;
	else
		e = store_run_once(s, st, in, out, row, arg, NULL, NULL, &code,
		    1);
	if (e != PINGOO_OK && lost_connection(code))
		store_disconnect(s);
	return e;
}

enum pingoo_err
pingoo_store_begin(struct pingoo_store *s)
{
	enum pingoo_err e;

	if ((e = store_connect(s)) != PINGOO_OK)
		return e;
	if (mysql_real_query(s->m, "START TRANSACTION", 17) != 0) {
		store_note(s, "begin", mysql_errno(s->m), mysql_error(s->m));
		if (lost_connection(mysql_errno(s->m))) {
			/* A stale connection: one fresh try is safe here. */
			store_disconnect(s);
			if ((e = store_connect(s)) != PINGOO_OK)
				return e;
			if (mysql_real_query(s->m, "START TRANSACTION", 17) == 0)
				goto ok;
		}
		return PINGOO_ERR_DB;
	}
ok:
	s->in_txn = 1;
	return PINGOO_OK;
}

enum pingoo_err
pingoo_store_commit(struct pingoo_store *s)
{
	s->in_txn = 0;
	if (s->m == NULL)
		return PINGOO_ERR_DB;
	if (mysql_commit(s->m) != 0) {
		store_note(s, "commit", mysql_errno(s->m), mysql_error(s->m));
		if (lost_connection(mysql_errno(s->m)))
			store_disconnect(s);
		return PINGOO_ERR_DB;
	}
	return PINGOO_OK;
}

void
pingoo_store_rollback(struct pingoo_store *s)
{
	s->in_txn = 0;
	if (s->m != NULL && mysql_rollback(s->m) != 0)
		store_disconnect(s);
}

enum pingoo_err
pingoo_store_exec_text(struct pingoo_store *s, const char *sql)
{
	enum pingoo_err e;
	MYSQL_RES *res;

	if ((e = store_connect(s)) != PINGOO_OK)
		return e;
	if (mysql_real_query(s->m, sql, strlen(sql)) != 0) {
		store_note(s, "query", mysql_errno(s->m), mysql_error(s->m));
		return PINGOO_ERR_DB;
	}
	if ((res = mysql_store_result(s->m)) != NULL)
		mysql_free_result(res);
	return PINGOO_OK;
}

void
pingoo_bind_u64(MYSQL_BIND *b, uint64_t *v)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = v;
	b->is_unsigned = 1;
}

void
pingoo_bind_i64(MYSQL_BIND *b, int64_t *v)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = v;
}

void
pingoo_bind_i32(MYSQL_BIND *b, int32_t *v)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONG;
	b->buffer = v;
}

void
pingoo_bind_str(MYSQL_BIND *b, const char *s, unsigned long *len)
{
	memset(b, 0, sizeof(*b));
	if (s == NULL) {
		b->buffer_type = MYSQL_TYPE_NULL;
		return;
	}
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = (void *)(uintptr_t)s;	/* the API is not const-correct */
	b->buffer_length = *len;
	b->length = len;
}

void
pingoo_bind_strout(MYSQL_BIND *b, char *buf, size_t cap, unsigned long *len,
    char *isnull)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = buf;
	b->buffer_length = cap;
	b->length = len;
	b->is_null = (my_bool *)isnull;
}

void
pingoo_bind_i64out(MYSQL_BIND *b, int64_t *v, char *isnull)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = v;
	b->is_null = (my_bool *)isnull;
}
