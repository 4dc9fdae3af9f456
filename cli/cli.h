/*
 * cli.h - the pingoo command-line client: a libcurl and json-c client of
 * the API of docs/api.md.  Nothing here links MySQL or FastCGI; the only
 * part of lib/ it uses is the clock.
 */
#ifndef PINGOO_CLI_H
#define PINGOO_CLI_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

struct json_object;

/* The header of a JSON request body. */
#define CLI_JSON_TYPE	"Content-Type: application/json; charset=utf-8"

/*
 * What went wrong, and the process's exit status for it (see cli_exit()).
 * The classes are what a script can act on: fix the command line, retry
 * later, log in again, or read the server's error code.
 */
enum cli_err {
	CLI_OK = 0,
	CLI_ERR_LOCAL,	/* a file, memory: exit 1 */
	CLI_ERR_USAGE,	/* the command line: exit 2 */
	CLI_ERR_NET,	/* no answer: DNS, connect, TLS, a cut: exit 3 */
	CLI_ERR_AUTH,	/* 401, or no saved login: exit 4 */
	CLI_ERR_SERVER,	/* any other refusal, a bad answer: exit 5 */
	CLI_ERR_INTR,	/* SIGINT or SIGTERM: exit 130 */
	CLI_ERR__MAX
};

/*
 * What a command returns for a command line it refuses: main() prints the
 * command's usage from its one table and exits 2.  No exit status is < 0.
 */
#define CLI_USAGE	(-1)

/* A failure with enough for stderr: its class, HTTP status and code. */
struct cli_fault {
	enum cli_err	 err;
	long		 status;	/* 0 = no HTTP answer */
	char		 code[64];	/* the server's, or ours */
	char		 message[512];
};

/* Everything the global options and the saved login say. */
struct cli_opts {
	int		 json;	/* --json: one document on stdout */
	int		 help;	/* --help: the command's usage */
	int		 http;	/* CURL_HTTP_VERSION_* */
	/* --cacert, else PINGOO_CA_FILE, else the saved one */
	const char	*cacert;
	const char	*url;	/* --url: overrides the saved URL */
	/* --resolve HOST:PORT:ADDRESS, as curl's */
	struct curl_slist *resolve;
};

/* The server a command talks to and the token it shows. */
struct cli_conn {
	char		 url[512];	/* base URL, no trailing / */
	char		 cacert[PATH_MAX]; /* "" = libcurl's default */
	char		 token[4096];	/* "" = none */
	int		 http;
	CURL		*easy;		/* its connection reused */
	struct curl_slist *headers;	/* Authorization, no Expect */
	struct curl_slist *resolve;	/* --resolve's; not owned */
	int		 interruptible;	/* 0: SIGINT cuts none */
};

/* One answer: the raw body (NUL-terminated) and, for 2xx, its JSON. */
struct cli_resp {
	long		 status;
	char		*body;
	size_t		 len;
	int64_t		 head_at;	/* stamp: the head complete */
	struct json_object *json;
};

/* A saved login: $XDG_CONFIG_HOME/pingoo/session.json (0600). */
struct cli_session {
	char		 url[512];
	char		 username[128];
	char		 cacert[PATH_MAX];
	char		 token[4096];
	int64_t		 expires_at;	/* epoch µs; 0 = unknown */
};

/* Set by the SIGINT/SIGTERM handler; every loop looks at it. */
extern volatile sig_atomic_t cli_interrupted;

/* fault.c */
enum cli_err	 cli_fail(struct cli_fault *, enum cli_err, long status,
		    const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
enum cli_err	 cli_nomem(struct cli_fault *);
enum cli_err	 cli_syserr(struct cli_fault *, const char *what);
int		 cli_exit(enum cli_err);
void		 cli_report(const struct cli_fault *);
int		 cli_failed(const struct cli_fault *);

/* stamp.c */
void		 cli_stamp_init(void);
int64_t		 cli_stamp(void);

/* http.c */
enum cli_err	 cli_conn_open(struct cli_conn *, const char *url,
		    const char *cacert, const char *token, int http,
		    struct cli_fault *);
void		 cli_conn_close(struct cli_conn *);
void		 cli_easy_setup(struct cli_conn *, CURL *);
struct curl_slist *cli_headers_plus(const struct curl_slist *,
		    const char *extra);
enum cli_err	 cli_call(struct cli_conn *, const char *method,
		    const char *path, const char *body, long timeout_ms,
		    struct cli_resp *, struct cli_fault *);
enum cli_err	 cli_answer(long status, const char *body, size_t len,
		    struct json_object **, struct cli_fault *);
void		 cli_resp_free(struct cli_resp *);
int		 cli_body_append(struct cli_resp *, size_t *cap,
		    const char *, size_t, size_t max);
int		 cli_head_end(const char *, size_t);
enum cli_err	 cli_create(struct cli_conn *, const char *path,
		    struct json_object *req, int64_t *id, struct cli_fault *);

/* session.c */
enum cli_err	 cli_session_path(char *, size_t, int mkdirs,
		    struct cli_fault *);
enum cli_err	 cli_session_load(struct cli_session *, struct cli_fault *);
enum cli_err	 cli_session_save(const struct cli_session *,
		    struct cli_fault *);
enum cli_err	 cli_session_remove(int *removed, struct cli_fault *);
enum cli_err	 cli_read_password(char *, size_t, struct cli_fault *);

/* jsonx.c */
int64_t		 cli_jint(struct json_object *, const char *key,
		    int64_t dflt);
const char	*cli_jstr(struct json_object *, const char *key);
struct json_object *cli_jget(struct json_object *, const char *key);
const char	*cli_jtext(struct json_object *);
void		 cli_print_json(const struct cli_resp *);
void		 cli_fmt_us(char *, size_t, struct json_object *,
		    const char *key);
void		 cli_fmt_bps(char *, size_t, double bps);
struct json_object *cli_client_json(void);

/* main.c */
int		 cli_num(const char *, long long min, long long max,
		    long long *);
int		 cli_size(const char *, long long *);

/* cmd_account.c */
int		 cmd_login(const struct cli_opts *, int, char **);
int		 cmd_logout(const struct cli_opts *, int, char **);
int		 cmd_me(const struct cli_opts *, int, char **);
enum cli_err	 cli_connect(const struct cli_opts *, struct cli_conn *,
		    struct cli_fault *);

/* cmd_ping.c */
int		 cmd_ping(const struct cli_opts *, int, char **);

/* cmd_tp.c */
int		 cmd_throughput(const struct cli_opts *, int, char **);

/* probe.c: a throughput test's latency probes, on a curl handle (and so a
 * connection) of their own; the loaded ones from a thread. */
struct cli_probes {
	/* The test's connection, with a handle of its own. */
	struct cli_conn	 conn;
	char		 path[96];	/* /throughput-tests/ID/probes */
	long		 every_ms;
	pthread_t	 thread;
	int		 running;
	int		 stop;		/* read, written atomically */
	const char	*phase;		/* the loaded ones' (static) */
	struct json_object *receipts;	/* every probe's, to send */
	long		 seq, answered, lost;
	int		 refused;	/* the server refused: no more */
};
/* Opens the probes' own connection; cli_probes_close() it even on error. */
enum cli_err	 cli_probes_open(struct cli_probes *,
		    const struct cli_conn *, int64_t id, long every_ms,
		    struct cli_fault *);
/* n idle probes, every_ms apart, before the first packet. */
void		 cli_probes_idle(struct cli_probes *, int n);
/* A probe of phase every every_ms from a thread until cli_probes_stop(). */
int		 cli_probes_load(struct cli_probes *, const char *phase);
void		 cli_probes_stop(struct cli_probes *);
/* Sends every probe's receipt (a lost one's client_received_at null). */
enum cli_err	 cli_probes_receipts(struct cli_probes *,
		    struct cli_fault *);
void		 cli_probes_close(struct cli_probes *);

/* cmd_history.c */
int		 cmd_history(const struct cli_opts *, int, char **);
int		 cmd_show(const struct cli_opts *, int, char **);
void		 cli_print_ping_summary(const struct cli_conn *,
		    struct json_object *);
void		 cli_print_tp_summary(struct json_object *);

#endif /* PINGOO_CLI_H */
