/*
 * app.h - the FastCGI glue: the request, the route table, replies and the
 * handlers.  Everything here may know HTTP; lib/ may not.
 */
#ifndef PINGOO_APP_H
#define PINGOO_APP_H

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <fcgiapp.h>

#include "core/core.h"
#include "input/input.h"
#include "shm/shm.h"
#include "store/store.h"

enum method {
	METHOD_GET,
	METHOD_POST,
	METHOD_PUT,
	METHOD_DELETE,
	METHOD_OPTIONS,
	METHOD_HEAD,
	METHOD_PATCH,
	METHOD_OTHER,
	METHOD__MAX
};

/* Routes: an enum indexing const tables in route.c. */
enum route {
	ROUTE_HEALTH,
	ROUTE_TOKEN,
	ROUTE_ME,
	ROUTE_PING_CREATE,
	ROUTE_PING_LIST,
	ROUTE_PING_ECHO,
	ROUTE_PING_RECEIPTS,
	ROUTE_PING_CLOSE,
	ROUTE_PING_GET,
	ROUTE_TP_CREATE,
	ROUTE_TP_LIST,
	ROUTE_TP_DOWNLOAD,
	ROUTE_TP_UPLOAD,
	ROUTE_TP_REPORTS,
	ROUTE_TP_ABORT,
	ROUTE_TP_GET,
	ROUTE_TP_PROBE,
	ROUTE_TP_PROBE_RECEIPTS,
	ROUTE_METRICS,
	ROUTE_EXPORT_CSV,
	ROUTE_EXPORT_NDJSON,
	ROUTE_AGGREGATES,
	ROUTE_PING_DELETE,
	ROUTE_TP_DELETE,
	ROUTE_TESTS_DELETE,
	ROUTE_JWKS,
	ROUTE_TP_CLOSE,
	ROUTE_TESTS_DELETION,
	ROUTE_LOGOUT,
	ROUTE_LOGOUT_ALL,
	ROUTE__MAX
};

enum match {
	MATCH_FOUND,		/* route and method */
	MATCH_NOMETHOD,		/* a route's path, another method: 405 */
	MATCH_BADPATH,		/* a route's shape, a bad id or seq: 400 */
	MATCH_NOTFOUND		/* 404 */
};

struct route_match {
	enum route	 route;
	uint64_t	 id;		/* {id} in the path, 0 when none */
	uint64_t	 seq;		/* {seq} in the path */
	unsigned	 allow;		/* bitmask of methods, for 405 */
};

struct worker;

/* One request, from accept to finish.  Strings are copies: libfcgi frees
 * its parameters at the next accept. */
struct req {
	FCGX_Request			*fcgx;
	struct worker			*w;
	const struct pingoo_config	*cfg;
	struct pingoo_store		*store;
	int64_t				 arrived_at;	/* wall clock, µs */
	int64_t				 mono_start;	/* monotonic, µs */
	enum method			 method;
	char				 method_name[16];
	char				 path[2048];
	size_t				 pathlen;
	char				 query[1024];
	int				 uri_too_long;	/* path or query did not fit */
	char				 content_type[128];
	/* CONTENT_LENGTH: >= 0 as declared; -1 when absent or empty (a
	 * chunked body, read to its end); -2 when not plain decimal digits
	 * or above INT64_MAX (req_read_json answers 400). */
	int64_t				 content_length;
	char				 origin[256];
	const char			*route_name;
	struct route_match		 m;
	uint64_t			 user_id;	/* after authentication */
	struct pingoo_token_info	 token;		/* the same token's claims */
	struct pingoo_user		 user;		/* when looked up */
	struct json_object		*body;		/* JSON routes */
	struct pingoo_input		 in;		/* the route's validator's */
	int				 status;	/* for the log */
	int				 preflight;	/* a CORS preflight */
	int				 replied;
	int				 finished;	/* FCGX_Finish_r done */
	int				 sndbuf_raised;	/* rawout.c, once a request */
	char				 extra[1024];	/* extra header lines */
	size_t				 extralen;
};

/* The per-thread worker state. */
struct worker {
	const struct pingoo_config	*cfg;
	struct pingoo_store		*store;
	int				 listen_fd;
	int				 index;
	int				 pid;	/* for the log, read once */
	struct pingoo_token_cache	*tokens;	/* NULL: none kept */
	int				 pipe_in, pipe_out;	/* rawout.c's, or -1 */
	char				 log[4096];	/* request lines not yet written */
	size_t				 loglen;
	int				 active;	/* holds a turn (active.c) */
};

/* pool.c */
int	pool_run(const struct pingoo_config *, int listen_fd);
extern volatile int pool_stopping;

/* active.c */
/* Per process, before its threads start: n threads may serve at once. */
int	active_init(int n);
/* Takes one of the process's turns: 0.  When none is free, waits for one
 * if wait, else returns -1 (the caller writes its request lines before it
 * waits).  A thread that holds one keeps it. */
int	active_take(struct worker *, int wait);
/* Gives the turn back before the thread may wait on MySQL or a client. */
void	active_leave(struct worker *);
/* Stopping: n turns more, so no thread stays waiting for one. */
void	active_release_all(int n);
void	active_end(void);

/* idle.c */
/* Per process, before its threads start: watch listen_fd (made
 * non-blocking) for new connections.  -1 on failure. */
int	idle_init(int listen_fd);
/* Waits up to timeout_ms (-1: for ever), with the signals of `open`
 * deliverable, for a request on a parked connection, and puts that
 * connection in f for FCGX_Accept_r: 0.  1 when none came in time, -1
 * when a signal ended the wait. */
int	idle_wait(FCGX_Request *, const sigset_t *open, int timeout_ms);
/* After a request: the connection, when kept, is watched for the next
 * one by every thread of the process. */
void	idle_park(FCGX_Request *);
void	idle_end(void);

/* http.c */
/* The method of a REQUEST_METHOD (exact, upper case), METHOD_OTHER for any
 * other; and its name (method_text). */
enum method	method_parse(const char *);
const char	*method_text(enum method);
void	req_init(struct req *, FCGX_Request *, struct worker *);
/* REQUEST_URI into path and query; -1, both empty, when either does not
 * fit its buffer (the request is answered 414, never cut). */
int	req_split_uri(const char *, char *, size_t, size_t *, char *, size_t);
void	req_free(struct req *);
/* Reads and strictly parses a JSON body into req->body.  Replies with the
 * error itself (413/415/400) and returns -1 on failure. */
int	req_read_json(struct req *);
/* Finishes the request early so the client has its answer now; the
 * handler may then do more work (database writes) off the clock. */
void	req_finish(struct req *);
/* Adds the request's line to its thread's log lines; log_flush writes
 * them, in one write(), before the thread waits for work. */
void	req_log(const struct req *);
void	log_flush(struct worker *);

/* reply.c */
void	reply_header(struct req *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	reply_json(struct req *, int status, struct json_object *);
/* A body already serialized (the echo's, built without allocating). */
void	reply_json_text(struct req *, int status, const char *, size_t);
void	reply_error(struct req *, int status, const char *code,
	    const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	reply_fault(struct req *, const struct pingoo_fault *);
/* A lib error without detail: the status and a generic sentence. */
void	reply_err(struct req *, enum pingoo_err);
/* Replies o with status and puts it; replies e when o is NULL. */
void	reply_result(struct req *, int status, struct json_object *o,
	    enum pingoo_err e);
/* 201 for a test just committed, with o (its body rendered from what the
 * create knows; may be NULL) or, when o cannot be written, {"id","kind",
 * "state"}: never an error for a test that exists.  Puts o. */
void	reply_created(struct req *, struct json_object *o, const char *kind,
	    uint64_t id);
/* 200 {"tests": tests, "next_cursor"} for a list route: next_cursor is
 * the last id of the page when more follow, else null.  Takes tests. */
void	reply_page(struct req *, struct json_object *tests, uint64_t last,
	    int more);
int	status_of(enum pingoo_err);
const char *status_text(int);
/* Writes the status line and headers only (downloads stream the body). */
int	reply_head(struct req *, int status, const char *content_type,
	    int64_t content_length);

/* route.c */
/* Route flags. */
#define R_AUTH		0x01	/* bearer token required */
#define R_USERCHECK	0x02	/* ... and the user looked up in MySQL */
#define R_JSON		0x04	/* a JSON body is required */
#define R_QUICK		0x08	/* waits on neither MySQL nor a client: keeps
				 * the thread's turn (active.c) */
#define R_ISSUER	0x10	/* only where tokens are issued: 503 elsewhere,
				 * after the body parses, before its fields */

/* One row of the route table, indexed by enum route. */
struct route_def {
	enum method	  method;
	const char	 *pattern;	/* {id} and {seq} are numbers */
	void		(*handler)(struct req *);
	unsigned	  flags;
	/* Reads the body (R_JSON) or the query into req->in; NULL when the
	 * route takes neither. */
	pingoo_validator  valid;
};

enum match	route_match(enum method, const char *path, size_t len,
		    struct route_match *);
const char	*route_name(enum route);
/* The table's row of r (for its unit test); NULL out of range. */
const struct route_def *route_get(enum route);
/* One request from accept to finish: read, dispatch, answer, log. */
void		serve_request(struct worker *, FCGX_Request *);

/* h_health.c */
void	h_health(struct req *);

/* h_auth.c */
/* Checks the bearer token; with check_user also that the user exists.
 * Replies 401 (or the user lookup's database error) itself and returns -1
 * on refusal. */
int	auth_require(struct req *, int check_user);
/* 503 not_token_issuer and -1 on a host that verifies tokens but does not
 * issue them (R_ISSUER). */
int	auth_issuer(struct req *);
/* Takes req->in.u.token (PINGOO_IN_TOKEN). */
void	h_token(struct req *);
void	h_logout(struct req *);
void	h_logout_all(struct req *);
void	h_me(struct req *);
void	h_jwks(struct req *);

/* background.c */
/* Maps the shared tables of live tests and revoked tokens: before the
 * pool forks. */
int	background_init(const struct pingoo_config *);
/* Per worker process (index: 0..processes-1, 0 without a supervisor): the
 * thread that writes echoed samples, in batches, sweeps packets left
 * `started` and, in the first process, runs the retention; and the thread
 * that reads the revoked tokens (the first read done before it returns). */
int	background_start(const struct pingoo_config *, int index);
/* Drains the queue (retrying a database that is down for a while). */
void	background_stop(void);
/* The shared table of live ping tests (after background_init). */
struct pingoo_pingtab *background_pingtab(void);
/* 1 while an echo may be acknowledged: the database takes the writer's
 * samples and the queue has room.  Otherwise the echo answers 503. */
int	background_accepts(void);
/* Queues an answered echo for the writer; -1 when full or stopping. */
int	background_push(const struct pingoo_queued_sample *);
/* A write of an acknowledged sample failed outside the writer: the echo
 * answers 503 until the writer next writes. */
void	background_refused(void);
/* Packets whose bytes move in this process, for the background thread to
 * stamp their progress in MySQL (the sweep's evidence that they live):
 * add gives a slot (-1 when every slot is taken: the packet is then only
 * stamped at its claim), touch says bytes moved at mono, del frees it. */
int	background_moving_add(uint64_t test_id, int dir, uint32_t seq,
	    int64_t mono);
void	background_moving_touch(int slot, int64_t mono);
void	background_moving_del(int slot);
/* A verified token against the host's revoked tokens (shared memory, no
 * database): good, revoked, or unchecked when the host has not read the
 * revocations for a second (its database is away) and cannot tell. */
enum token_state {
	TOKEN_GOOD,
	TOKEN_REVOKED,
	TOKEN_UNCHECKED
};
enum token_state background_token_state(const struct pingoo_token_info *);
/* After the revocation is in MySQL: this host refuses the token, or every
 * token of the user issued up to now_us, at once (the others within
 * their next read). */
void	background_revoke_token(const struct pingoo_token_info *);
void	background_revoke_user(uint64_t user_id, int64_t now_us);
/* The newest iat this host refuses for the user (INT64_MIN: none). */
int64_t	background_token_floor(uint64_t user_id);

/* metrics.c */
/* Maps the shared counters: before the pool forks.  route_names[i], a
 * string that lives as long as the process, labels route i. */
int	metrics_init(const struct pingoo_config *,
	    const char *const route_names[ROUTE__MAX]);
/* In a worker process: its slot i of the queue-depth gauge; replaced says
 * it takes the place of one that died (counted, its depth zeroed). */
void	metrics_worker(size_t i, int replaced);
void	metrics_queue_depth(uint64_t depth);
/* Counts one answered request: its route when it was dispatched to one
 * (r->route_name is that route's name), else none or preflight; status,
 * time since arrival. */
void	metrics_request(const struct req *);
/* Writes the counters of every process in the Prometheus text format to
 * fp: 0, or -1 when fp failed. */
int	metrics_write(FILE *fp);

/* h_metrics.c */
void	h_metrics(struct req *);

/* h_data.c */
void	h_export(struct req *);
void	h_aggregates(struct req *);
void	h_test_delete(struct req *);
void	h_tests_delete(struct req *);
void	h_tests_deletion(struct req *);

/* h_ping.c */
void	h_ping_create(struct req *);
void	h_ping_list(struct req *);
void	h_ping_echo(struct req *);
void	h_ping_receipts(struct req *);
void	h_ping_close(struct req *);
void	h_ping_get(struct req *);

/* h_tp.c */
void	h_tp_create(struct req *);
void	h_tp_list(struct req *);
void	h_tp_download(struct req *);
void	h_tp_upload(struct req *);
void	h_tp_reports(struct req *);
void	h_tp_abort(struct req *);
void	h_tp_close(struct req *);
void	h_tp_get(struct req *);
/* h_probe.c */
void	h_tp_probe(struct req *);
void	h_tp_probe_receipts(struct req *);

/* echo.c: the echo's path, shared by the ping echo (h_ping.c) and the
 * probes of throughput tests (h_probe.c).
 * Claims seq of the live table's entry key (what: "sample", "probe"),
 * loading test id with load() on a miss; replies the refusal (404, 409,
 * 422, or the load's database error) and returns -1. */
int	echo_claim(struct req *, uint64_t key, uint32_t seq, const char *what,
	    enum pingoo_err (*load)(struct req *, uint64_t), uint64_t id);
/* Stamps t1 and t2 of q, answers 200 with them and their sig, then queues
 * q for the writer (or writes it, when the queue is full). */
struct pingoo_queued_sample;
void	echo_answer(struct req *, struct pingoo_queued_sample *q);
/* Runs apply(r, arg, f) again while it is refused because an echo answered
 * a moment ago is still writing its row (PINGOO_RECEIPT_IN_FLIGHT), up to
 * 100 times 5 ms apart; one that outlasts them is 422 not_echoed.  f says
 * why on an error. */
enum pingoo_err receipts_apply(struct req *, enum pingoo_err (*apply)(
	    struct req *, void *, struct pingoo_fault *), void *arg,
	    struct pingoo_fault *f);
/* Puts a new throughput test in the live table, for its probes; it is
 * closed there (pingoo_pingtab_close of PINGOO_PINGTAB_TP(id)) when it
 * ends. */
void	probe_table_put(uint64_t test_id, uint64_t user_id);

/* rawout.c: FCGI_STDOUT records of up to 65528 bytes written straight to
 * the connection (libfcgi's own are 8 KiB, one write() each, a hard-coded
 * size no API changes).  Flushes libfcgi's buffer first.  buf's pages are
 * lent to the kernel, not copied: it must never change while the process
 * lives.  Returns 0, or -1 when the client has gone. */
int	rawout_write(struct req *, const void *buf, size_t len);
/* Releases the thread's pipe. */
void	rawout_thread_end(struct worker *);

/* json output helpers (reply.c) */
struct json_object *json_i64(int64_t);
struct json_object *json_i64_or_null(int64_t v, int isnull);

#endif
