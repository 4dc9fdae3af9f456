/*
 * idle.c - where a worker process's threads wait for work: one epoll set
 * per process holding the listening socket and every FastCGI connection
 * nginx keeps open between two requests.
 *
 * libfcgi reads the next request of a kept connection in the thread that
 * served the last one, so left to itself an idle kept connection pins its
 * thread in read().  Under load nginx then holds connections that pin
 * threads while the requests it sends on new connections wait in the
 * listen backlog until nginx closes a kept one, for up to seconds under
 * load (docs/performance.md).  Here a thread that has answered
 * parks its connection in the set and waits for whichever comes first: a
 * request on any parked connection or a new connection.  No thread is ever
 * bound to an idle connection, so any number of them can be kept.
 *
 * New connections are accepted here too, by one thread at a time (the
 * listening socket is one-shot in the set: a level-triggered one wakes
 * thread after thread for the same connection, and nearly every accept()
 * but the first fails with EAGAIN), and parked like the others until
 * nginx's request is there to read, so a connection that sends nothing
 * holds no thread either.  The listening socket is non-blocking, so a
 * wake-up that another process answered first costs one EAGAIN.  Accepted
 * connections do not inherit the flag (Linux): libfcgi's reads and writes
 * still block.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "app.h"

static int ep = -1;
static int lfd = -1;
static int tcp;		/* the listening socket is TCP (a cluster host) */

/* Watches fd in the set for one readiness report, then none until armed
 * again.  -1 on failure. */
static int
arm(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };

	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	return errno == ENOENT ? epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) : -1;
}

int
idle_init(int listen_fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int fl;

	if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0 ||
	    (fl = fcntl(listen_fd, F_GETFL)) < 0 ||
	    fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	tcp = sa.ss_family == AF_INET || sa.ss_family == AF_INET6;
	lfd = listen_fd;
	if (arm(lfd) != 0) {
		idle_end();
		return -1;
	}
	return 0;
}

/* Parks one connection of the backlog, then watches the listening socket
 * again: one at a time, so the next one may wake another process. */
static void
accept_one(void)
{
	int fd, one = 1;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		/* No replies to wait for: Nagle would only delay answers. */
		if (tcp)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		if (arm(fd) != 0)
			close(fd);
	} else if (errno == EMFILE || errno == ENFILE)
		pingoo_sleep_ms(10);	/* until a descriptor is closed */
	(void)arm(lfd);
}

int
idle_wait(FCGX_Request *f, const sigset_t *open, int timeout_ms)
{
	struct epoll_event ev;
	int n;

	for (;;) {
		if ((n = epoll_pwait(ep, &ev, 1, timeout_ms, open)) == 0)
			return 1;
		if (n != 1)
			return -1;
		if (ev.data.fd != lfd)
			break;
		accept_one();
	}
	/* FCGX_Accept_r first finishes the last request, which would close
	 * the descriptor unless that one kept its connection. */
	f->ipcFd = ev.data.fd;
	f->keepConnection = 1;
	return 0;
}

void
idle_park(FCGX_Request *f)
{
	int fd = f->ipcFd;

	if (fd < 0)
		return;
	f->ipcFd = -1;
	/* One-shot: the thread that takes a request off a connection is its
	 * only reader until it parks it again.  A connection no thread would
	 * watch is closed: nginx drops it from its idle ones. */
	if (arm(fd) != 0)
		close(fd);
}

void
idle_end(void)
{
	if (ep >= 0)
		close(ep);
	ep = -1;
}
