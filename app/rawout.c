/*
 * rawout.c - large response bodies straight onto the FastCGI connection.
 *
 * libfcgi cuts its output into 8 KiB FCGI_STDOUT records, one write() each.
 * Records of up to 65528 bytes halve the worker's CPU per GiB and make
 * downloads faster (docs/performance.md has the figures), so here the
 * body goes out in those.  libfcgi's own buffer is flushed first so the
 * bytes stay in order, and FCGX_Finish_r still ends the request (empty
 * STDOUT record, END_REQUEST).
 *
 * Full records are not copied: vmsplice() lends the pages of the caller's
 * buffer and of a constant record header to the thread's pipe, and
 * splice() moves them to the socket, where nginx's read() is their one
 * copy (writev() would copy them into the socket first, the worker's
 * largest cost on a download).  The pages are lent, not copied, so the
 * buffer must never change while the process lives.  A short last record,
 * or a request id other than the one nginx uses, goes out with writev().
 *
 * While a large body goes out on a unix socket, its send buffer is raised
 * to SNDBUF_BYTES: with the default one (net.core.wmem_default) the thread
 * blocks whenever about 150 KiB wait for nginx's read.  The connection
 * keeps it for its later requests; it holds memory only while bytes wait
 * in it.  A TCP connection (a pool on another host) is left alone: a set
 * SO_SNDBUF would end the kernel's own sizing of its buffer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "app.h"

#define FCGI_VERSION_1	1
#define FCGI_STDOUT	6
/* The largest content length that keeps a record 8-byte aligned without
 * padding: 65535 rounded down to a multiple of 8. */
#define RECORD_MAX	65528
/* The thread's pipe holds this much: 16 full records per splice(). */
#define PIPE_BYTES	(1024 * 1024)
#define PIPE_RECORDS	(PIPE_BYTES / (RECORD_MAX + 8))
/* The send buffer a large body gets: one pipe's worth, so the worker
 * switches context about half as often per MiB and spends less CPU per GiB
 * (docs/performance.md).  The kernel doubles the value (its bookkeeping)
 * and caps it at net.core.wmem_max. */
#define SNDBUF_BYTES	PIPE_BYTES

/* The header of a full record of request 1 (nginx numbers every request
 * 1): constant, so its page may be lent to the pipe. */
static const unsigned char full_head[8] = {
	FCGI_VERSION_1, FCGI_STDOUT, 0, 1,
	(RECORD_MAX >> 8) & 0xff, RECORD_MAX & 0xff, 0, 0
};

/* Fills the 8-byte FastCGI record header (big-endian fields). */
static void
record_header(unsigned char h[8], int request_id, size_t len)
{
	h[0] = FCGI_VERSION_1;
	h[1] = FCGI_STDOUT;
	h[2] = (unsigned char)((request_id >> 8) & 0xff);
	h[3] = (unsigned char)(request_id & 0xff);
	h[4] = (unsigned char)((len >> 8) & 0xff);
	h[5] = (unsigned char)(len & 0xff);
	h[6] = 0;	/* paddingLength */
	h[7] = 0;	/* reserved */
}

/* Drops the first n bytes of iov[0..*cnt) (a partial write). */
static struct iovec *
iov_advance(struct iovec *iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= iov->iov_len) {
		n -= iov->iov_len;
		iov++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		iov->iov_base = (char *)iov->iov_base + n;
		iov->iov_len -= n;
	}
	return iov;
}

/*
 * Writes the pieces of iov completely, restarting after EINTR and partial
 * writes.  Returns 0, or -1 when the connection failed (nginx went away
 * because its client did).
 */
static int
writev_all(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt > 0) {
		n = writev(fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		iov = iov_advance(iov, &cnt, (size_t)n);
	}
	return 0;
}

static void
pipe_close(struct worker *w)
{
	if (w->pipe_out >= 0) {
		close(w->pipe_in);
		close(w->pipe_out);
	}
	w->pipe_in = w->pipe_out = -1;
}

/* The thread's pipe, made on first use; -1 when there is none (the copy
 * path is used then). */
static int
pipe_ready(struct worker *w)
{
	int p[2];

	if (w->pipe_out >= 0)
		return 0;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if (fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES) < PIPE_BYTES) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	w->pipe_out = p[0];
	w->pipe_in = p[1];
	return 0;
}

void
rawout_thread_end(struct worker *w)
{
	pipe_close(w);
}

/* Moves len bytes from the pipe to fd.  Returns 0 or -1. */
static int
splice_all(int pipe_out, int fd, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = splice(pipe_out, NULL, fd, NULL, len, SPLICE_F_MOVE |
		    SPLICE_F_MORE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Sends *len bytes of p in full records through the pipe, as many records
 * as there are whole ones; advances p and len.  Returns 0, or -1 when the
 * connection failed (the pipe is then dropped: it may hold bytes).
 */
static int
splice_records(struct worker *w, int fd, const unsigned char **p,
    size_t *len)
{
	struct iovec iov[2 * PIPE_RECORDS], *v;
	size_t total;
	ssize_t n;
	int k, cnt;

	while (*len >= RECORD_MAX) {
		for (k = 0, total = 0; k < PIPE_RECORDS && *len - total >=
		    RECORD_MAX; k++, total += RECORD_MAX) {
			iov[2 * k].iov_base = (void *)(uintptr_t)full_head;
			iov[2 * k].iov_len = sizeof(full_head);
			iov[2 * k + 1].iov_base = (void *)(uintptr_t)(*p + total);
			iov[2 * k + 1].iov_len = RECORD_MAX;
		}
		*p += total;
		*len -= total;
		v = iov;
		cnt = 2 * k;
		while (cnt > 0) {
			/* Lends the pages to the pipe; then the pipe to fd. */
			n = vmsplice(w->pipe_in, v, (unsigned long)cnt, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || splice_all(w->pipe_out, fd, (size_t)n) != 0) {
				pipe_close(w);
				return -1;
			}
			v = iov_advance(v, &cnt, (size_t)n);
		}
	}
	return 0;
}

/* Raises fd's send buffer for a large body when fd is a unix socket.  A
 * refusal leaves the default, which only costs speed: it is not checked. */
static void
sndbuf_raise(int fd)
{
	int domain = -1, want = SNDBUF_BYTES;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	    domain == AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
}

int
rawout_write(struct req *r, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	unsigned char head[8];
	struct iovec iov[2];
	int fd = r->fcgx->ipcFd;
	size_t n;

	if (FCGX_FFlush(r->fcgx->out) != 0 || FCGX_GetError(r->fcgx->out) != 0)
		return -1;
	if (len >= RECORD_MAX && !r->sndbuf_raised) {
		sndbuf_raise(fd);
		r->sndbuf_raised = 1;
	}
	if (r->fcgx->requestId == 1 && pipe_ready(r->w) == 0 &&
	    splice_records(r->w, fd, &p, &len) != 0)
		return -1;
	while (len > 0) {
		n = len < RECORD_MAX ? len : RECORD_MAX;
		record_header(head, r->fcgx->requestId, n);
		iov[0].iov_base = head;
		iov[0].iov_len = sizeof(head);
		iov[1].iov_base = (void *)(uintptr_t)p;	/* writev is not const */
		iov[1].iov_len = n;
		if (writev_all(fd, iov, 2) != 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}
