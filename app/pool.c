/*
 * pool.c - the worker pool: a supervisor that keeps N processes alive, and
 * in each process M threads accepting on the shared FastCGI socket.
 *
 * Signals: a SIGTERM that lands while a thread writes a response makes
 * write() fail with EINTR and libfcgi cut the response without ending the
 * request, which leaves the client waiting.  So SIGTERM is blocked in
 * every thread except while it waits for work (idle_wait): a request being
 * served is never cut, and an idle thread wakes and leaves.  The main
 * thread keeps nudging the busy ones until they are all gone.
 *
 * Connections: nginx keeps connections alive (fastcgi_keep_conn).  A thread
 * that has answered parks its connection in the process's epoll set and
 * waits there for the next request on any parked connection or a new
 * connection (idle.c), so an idle kept connection holds no thread.
 *
 * Turns: of the M threads only active_threads wait for work and serve at
 * once; a thread hands its turn over before it may wait on MySQL or a
 * client (active.c).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"

volatile int pool_stopping;
/* This worker process's index, 0..processes-1 (0 without a supervisor). */
static int pool_worker;

struct thread_slot {
	pthread_t	 tid;
	struct worker	 w;
	volatile int	 done;
};

static void
on_term(int sig)
{
	(void)sig;
	pool_stopping = 1;
	FCGX_ShutdownPending();
}

static void *
thread_main(void *arg)
{
	struct thread_slot *t = arg;
	FCGX_Request f;
	sigset_t open;
	int rc;

	pthread_sigmask(SIG_BLOCK, NULL, &open);
	sigdelset(&open, SIGTERM);
	sigdelset(&open, SIGINT);
	pingoo_store_thread_init();
	t->w.pid = (int)getpid();
	t->w.store = pingoo_store_new(t->w.cfg, 0);
	t->w.tokens = pingoo_token_cache_new(t->w.cfg);
	if (t->w.store == NULL || FCGX_InitRequest(&f, t->w.listen_fd,
	    FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "pingoo: thread %d: out of memory\n",
		    t->w.index);
		goto out;
	}
	while (!pool_stopping) {
		/* Waiting for a turn may be long: the request lines go out
		 * first. */
		if (active_take(&t->w, 0) != 0) {
			log_flush(&t->w);
			(void)active_take(&t->w, 1);
		}
		if (pool_stopping)
			break;
		/* The request lines are written when the thread has nothing
		 * more to do: under load, one write() for many requests. */
		if ((rc = idle_wait(&f, &open, 0)) == 1) {
			log_flush(&t->w);
			rc = idle_wait(&f, &open, -1);
		}
		if (rc != 0)
			continue;	/* a signal: pool_stopping says which */
		rc = FCGX_Accept_r(&f);
		if (rc < 0) {
			/* -EAGAIN: the connection had ended (nginx closed
			 * it) and libfcgi found no new one in the backlog.
			 * Any other negative return may carry a stale errno
			 * from an earlier call: pause, then wait again. */
			if (rc != -EAGAIN && !pool_stopping)
				pingoo_sleep_ms(10);
			continue;
		}
		serve_request(&t->w, &f);
		idle_park(&f);
	}
	FCGX_Free(&f, 1);
	log_flush(&t->w);
out:
	active_leave(&t->w);
	rawout_thread_end(&t->w);
	pingoo_token_cache_free(t->w.tokens);
	pingoo_store_free(t->w.store);
	pingoo_store_thread_end();
	t->done = 1;
	return NULL;
}

/* Serves in this process until SIGTERM; returns the exit status. */
static int
serve(const struct pingoo_config *cfg, int fd)
{
	struct thread_slot *slots;
	struct sigaction sa;
	sigset_t term;
	int i, alive, n = cfg->threads;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: accept() must wake */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	pthread_sigmask(SIG_BLOCK, &term, NULL);

	/* glibc gives each busy thread an arena of its own, which keeps
	 * growing a worker's RSS long after the load has gone; a few shared
	 * arenas keep it flat at no measurable cost for our small requests. */
	mallopt(M_ARENA_MAX, 4);
	if (FCGX_Init() != 0 || pingoo_store_library_init() != PINGOO_OK) {
		fprintf(stderr, "pingoo: library initialisation failed\n");
		return 1;
	}
	if ((slots = calloc((size_t)n, sizeof(*slots))) == NULL ||
	    active_init(cfg->active_threads) != 0 || idle_init(fd) != 0 ||
	    background_start(cfg, pool_worker) != 0) {
		fprintf(stderr, "pingoo: cannot start the worker's threads\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		slots[i].w.cfg = cfg;
		slots[i].w.listen_fd = fd;
		slots[i].w.index = i;
		slots[i].w.pipe_in = slots[i].w.pipe_out = -1;
		if (pthread_create(&slots[i].tid, NULL, thread_main,
		    &slots[i]) != 0) {
			fprintf(stderr, "pingoo: pthread_create failed\n");
			slots[i].done = 1;
			slots[i].tid = 0;
		}
	}
	/* SIGTERM may land in any thread; the flag is what counts. */
	while (!pool_stopping) {
		struct timespec ts = { 0, 200 * 1000000L };
		if (sigtimedwait(&term, NULL, &ts) > 0)
			on_term(SIGTERM);
	}
	active_release_all(n);
	do {
		alive = 0;
		for (i = 0; i < n; i++)
			if (!slots[i].done && slots[i].tid != 0) {
				alive++;
				pthread_kill(slots[i].tid, SIGTERM);
			}
		if (alive > 0)
			pingoo_sleep_ms(50);
	} while (alive > 0);
	for (i = 0; i < n; i++)
		if (slots[i].tid != 0)
			pthread_join(slots[i].tid, NULL);
	/* Every answered echo is in the queue now: write them out. */
	background_stop();
	idle_end();
	active_end();
	free(slots);
	pingoo_store_library_end();
	return 0;
}

/* Forks worker i; replaced says it takes the place of one that died. */
static pid_t
spawn_child(const struct pingoo_config *cfg, int fd, int i, int replaced)
{
	sigset_t none;
	pid_t pid;

	if ((pid = fork()) != 0)
		return pid;
	pool_worker = i;
	metrics_worker((size_t)i, replaced);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);
	_exit(serve(cfg, fd));
}

/*
 * The supervisor: keeps cfg->processes children serving.  A child that
 * dies is replaced (after a second if it died young, so a crash loop does
 * not spin).  SIGTERM or SIGINT is forwarded; it then waits for them all.
 */
static int
supervise(const struct pingoo_config *cfg, int fd)
{
	pid_t *kids;
	time_t *born;
	sigset_t set;
	siginfo_t si;
	pid_t pid;
	int i, st, n = cfg->processes, live = 0, stopping = 0;

	if ((kids = calloc((size_t)n, sizeof(*kids))) == NULL ||
	    (born = calloc((size_t)n, sizeof(*born))) == NULL)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	/* SIG_IGN inherited from a launcher would auto-reap the children. */
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		kids[i] = spawn_child(cfg, fd, i, 0);
		born[i] = time(NULL);
		live += kids[i] > 0;
	}
	fprintf(stderr, "pingoo: supervisor %d serving with %d processes of "
	    "%d threads\n", (int)getpid(), n, cfg->threads);
	while (live > 0) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			if (!stopping)
				for (i = 0; i < n; i++)
					if (kids[i] > 0)
						kill(kids[i], SIGTERM);
			stopping = 1;
			continue;
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (i = 0; i < n && kids[i] != pid; i++)
				;
			if (i == n)
				continue;
			live--;
			kids[i] = 0;
			if (stopping)
				continue;
			fprintf(stderr, "pingoo: worker %d %s %d; replacing it\n",
			    (int)pid, WIFSIGNALED(st) ? "killed by signal" :
			    "exited with", WIFSIGNALED(st) ? WTERMSIG(st) :
			    WEXITSTATUS(st));
			if (time(NULL) - born[i] < 1)
				sleep(1);
			kids[i] = spawn_child(cfg, fd, i, 1);
			born[i] = time(NULL);
			live += kids[i] > 0;
		}
	}
	free(kids);
	free(born);
	fprintf(stderr, "pingoo: supervisor %d stopped\n", (int)getpid());
	return 0;
}

int
pool_run(const struct pingoo_config *cfg, int fd)
{
	const char *names[ROUTE__MAX];
	int i;

	/* The counters are by route, labelled with the routes' names. */
	for (i = 0; i < ROUTE__MAX; i++)
		names[i] = route_name((enum route)i);
	/* Shared memory must exist before the children are forked. */
	if (background_init(cfg) < 0 || metrics_init(cfg, names) < 0) {
		fprintf(stderr, "pingoo: cannot map the shared tables\n");
		return 1;
	}
	if (cfg->processes == 0)
		return serve(cfg, fd);
	return supervise(cfg, fd);
}
