/*
 * tpclient.c - the benchmark's bulk load client: N keep-alive HTTP/1.1
 * streams (plain or TLS) that download (GET) or upload (PUT) packets of
 * one size for a fixed time, and report bytes/s.  Written for bench/run;
 * not part of Pingoo.
 *
 * Why not wrk: wrk reads in 8 KiB pieces and builds each request in Lua,
 * which at GiB/s makes the client, not the server, the thing measured on a
 * two-core machine.  Here a stream is one thread doing blocking I/O with
 * 1 MiB buffers.
 *
 * usage: tpclient -p PORT [-s] [-m get|put] [-n streams] [-d seconds]
 *                 [-z size] [-a token] [-i idsfile -k per_test] [-c pids]
 *                 [-e expected_statuses] PATHFMT
 *
 * PATHFMT is the request path.  With -i, it takes the test id and the
 * sequence number ("%llu" then "%u"): request k (counted over all streams)
 * goes to test ids[k / per_test], seq k % per_test, so each packet is asked
 * for once.  -c names processes whose CPU time (utime + stime) is sampled
 * at the start and at the end of the timed window.  Prints one line of
 * key=value pairs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUF_SIZE	(1024 * 1024)
#define MAX_PIDS	128

static int		 port, use_tls, streams = 1, put_mode, duration = 10;
static uint64_t		 size = 1024 * 1024, per_test;
static const char	*token, *pathfmt;
static unsigned long long *ids;
static size_t		 nids;
static atomic_ullong	 next_req;
static SSL_CTX		*ctx;
static unsigned char	*upbuf;
static double		 t_start, t_end;
static int		 expect[8] = { 200 }, nexpect = 1;
static pid_t		 pids[MAX_PIDS];
static int		 npids;

static atomic_ullong	 total_bytes, total_reqs, total_errs, total_conns;
static atomic_int	 exhausted;

struct conn {
	int	 fd;
	SSL	*ssl;
	char	*buf;
	size_t	 pos, end;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "tpclient: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of the named processes, in clock ticks. */
static unsigned long long
cpu_ticks(void)
{
	unsigned long long sum = 0, ut, st;
	char path[64], line[4096], *p;
	FILE *f;
	int i;

	for (i = 0; i < npids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %llu %llu", &ut, &st) == 2)
			sum += ut + st;
		fclose(f);
	}
	return sum;
}

static int
conn_open(struct conn *c)
{
	struct sockaddr_in sa;
	struct timeval tv = { 5, 0 };
	int one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->pos = c->end = 0;
	c->ssl = NULL;
	if (use_tls) {
		c->ssl = SSL_new(ctx);
		SSL_set_fd(c->ssl, c->fd);
		SSL_set_tlsext_host_name(c->ssl, "localhost");
		if (SSL_connect(c->ssl) != 1) {
			ERR_print_errors_fp(stderr);
			SSL_free(c->ssl);
			close(c->fd);
			c->ssl = NULL;
			c->fd = -1;
			return -1;
		}
	}
	atomic_fetch_add(&total_conns, 1);
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	if (c->ssl != NULL)
		SSL_free(c->ssl);	/* no close_notify: we are leaving */
	close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
}

static ssize_t
raw_read(struct conn *c, void *p, size_t n)
{
	int r;

	if (c->ssl == NULL)
		return read(c->fd, p, n);
	r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
	return r > 0 ? r : -1;
}

static int
raw_write_all(struct conn *c, const void *p, size_t n)
{
	const char *q = p;
	ssize_t w;

	while (n > 0) {
		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, q, n > INT32_MAX ? INT32_MAX :
			    (int)n);
			w = r > 0 ? r : -1;
		} else
			w = write(c->fd, q, n);
		if (w < 0) {
			if (errno == EINTR && c->ssl == NULL)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more into the buffer; 0 on EOF or error. */
static int
fill(struct conn *c)
{
	ssize_t n;

	if (c->pos > 0 && c->pos == c->end)
		c->pos = c->end = 0;
	if (c->end == BUF_SIZE) {
		if (c->pos == 0)
			return 0;	/* a header larger than the buffer */
		memmove(c->buf, c->buf + c->pos, c->end - c->pos);
		c->end -= c->pos;
		c->pos = 0;
	}
	n = raw_read(c, c->buf + c->end, BUF_SIZE - c->end);
	if (n <= 0)
		return 0;
	c->end += (size_t)n;
	return 1;
}

/* One line (without CRLF) into line; -1 on a closed connection. */
static int
read_line(struct conn *c, char *line, size_t cap)
{
	char *nl;
	size_t n;

	while ((nl = memchr(c->buf + c->pos, '\n', c->end - c->pos)) == NULL)
		if (!fill(c))
			return -1;
	n = (size_t)(nl - (c->buf + c->pos));
	if (n > 0 && nl[-1] == '\r')
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(line, c->buf + c->pos, n);
	line[n] = '\0';
	c->pos = (size_t)(nl - c->buf) + 1;
	return 0;
}

/* Skips n body bytes; counts them when count is set.  -1 on failure. */
static int
skip(struct conn *c, uint64_t n, int count)
{
	size_t take;
	ssize_t r;

	while (n > 0) {
		if (c->pos < c->end) {
			take = c->end - c->pos;
			if (take > n)
				take = (size_t)n;
			c->pos += take;
		} else {
			r = raw_read(c, c->buf, n < BUF_SIZE ? (size_t)n :
			    BUF_SIZE);
			if (r <= 0)
				return -1;
			take = (size_t)r;
		}
		n -= take;
		if (count)
			atomic_fetch_add_explicit(&total_bytes, take,
			    memory_order_relaxed);
		if (count && now() >= t_end)
			return -1;	/* time is up: leave mid-body */
	}
	return 0;
}

/* Reads one response; returns its status, or -1 when the connection must
 * be dropped.  *keep is cleared on "Connection: close". */
static int
read_response(struct conn *c, int count, int *keep)
{
	char line[8192], *v;
	int status = -1, chunked = 0;
	long long clen = -1;
	unsigned long long csz;

	*keep = 1;
	if (read_line(c, line, sizeof(line)) < 0 ||
	    sscanf(line, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (;;) {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
		if (line[0] == '\0')
			break;
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (*v == ' ')
			v++;
		if (strcasecmp(line, "Content-Length") == 0)
			clen = strtoll(v, NULL, 10);
		else if (strcasecmp(line, "Transfer-Encoding") == 0 &&
		    strcasestr(v, "chunked") != NULL)
			chunked = 1;
		else if (strcasecmp(line, "Connection") == 0 &&
		    strcasecmp(v, "close") == 0)
			*keep = 0;
	}
	if (status == 204 || status == 304)
		return status;
	if (chunked) {
		for (;;) {
			if (read_line(c, line, sizeof(line)) < 0)
				return -1;
			csz = strtoull(line, NULL, 16);
			if (csz == 0)
				break;
			if (skip(c, csz, count) < 0 ||
			    read_line(c, line, sizeof(line)) < 0)
				return -1;
		}
		while (read_line(c, line, sizeof(line)) == 0 && line[0] != '\0')
			;
		return status;
	}
	if (clen < 0) {
		*keep = 0;
		while (fill(c))
			c->pos = c->end;
		return status;
	}
	return skip(c, (uint64_t)clen, count) < 0 ? -1 : status;
}

/* The path of the next request; NULL when the packets ran out. */
static int
next_path(char *path, size_t cap)
{
	unsigned long long k;

	if (ids == NULL) {
		snprintf(path, cap, "%s", pathfmt);
		return 0;
	}
	k = atomic_fetch_add(&next_req, 1);
	if (k / per_test >= nids) {
		atomic_store(&exhausted, 1);
		return -1;
	}
	snprintf(path, cap, pathfmt, ids[k / per_test],
	    (unsigned)(k % per_test));
	return 0;
}

static int
status_ok(int st)
{
	int i;

	for (i = 0; i < nexpect; i++)
		if (expect[i] == st)
			return 1;
	return 0;
}

static void *
stream_main(void *arg)
{
	struct conn c = { .fd = -1 };
	char head[4096], path[512], auth[2048];
	uint64_t left;
	size_t n;
	int st, keep, hl;

	(void)arg;
	c.buf = malloc(BUF_SIZE);
	auth[0] = '\0';
	if (token != NULL)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n",
		    token);
	while (now() < t_end) {
		if (c.fd < 0 && conn_open(&c) != 0) {
			atomic_fetch_add(&total_errs, 1);
			usleep(10000);
			continue;
		}
		if (next_path(path, sizeof(path)) != 0)
			break;
		if (put_mode)
			hl = snprintf(head, sizeof(head), "PUT %s HTTP/1.1\r\n"
			    "Host: localhost\r\n%s"
			    "Content-Type: application/octet-stream\r\n"
			    "Content-Length: %llu\r\n\r\n", path, auth,
			    (unsigned long long)size);
		else
			hl = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n"
			    "Host: localhost\r\n%s\r\n", path, auth);
		if (raw_write_all(&c, head, (size_t)hl) != 0) {
			conn_close(&c);
			atomic_fetch_add(&total_errs, 1);
			continue;
		}
		if (put_mode) {
			for (left = size; left > 0; left -= n) {
				n = left < BUF_SIZE ? (size_t)left : BUF_SIZE;
				if (now() >= t_end ||
				    raw_write_all(&c, upbuf, n) != 0)
					break;
				atomic_fetch_add_explicit(&total_bytes, n,
				    memory_order_relaxed);
			}
			if (left > 0) {
				conn_close(&c);
				break;
			}
		}
		st = read_response(&c, !put_mode, &keep);
		if (st < 0) {
			conn_close(&c);
			if (now() < t_end)
				atomic_fetch_add(&total_errs, 1);
			continue;
		}
		atomic_fetch_add(&total_reqs, 1);
		if (!status_ok(st)) {
			if (atomic_fetch_add(&total_errs, 1) < 3)
				fprintf(stderr, "tpclient: %s: status %d\n",
				    path, st);
		}
		if (!keep)
			conn_close(&c);
	}
	conn_close(&c);
	free(c.buf);
	return NULL;
}

static void
load_ids(const char *file)
{
	FILE *f = fopen(file, "r");
	unsigned long long v;
	size_t cap = 0;

	if (f == NULL)
		die("%s: %s", file, strerror(errno));
	while (fscanf(f, "%llu", &v) == 1) {
		if (nids == cap) {
			cap = cap ? cap * 2 : 64;
			ids = realloc(ids, cap * sizeof(*ids));
		}
		ids[nids++] = v;
	}
	fclose(f);
	if (nids == 0)
		die("%s: no test ids", file);
}

int
main(int argc, char *argv[])
{
	pthread_t th[256];
	struct rusage ru;
	unsigned long long c0, c1;
	double t0, elapsed, ccpu;
	char *s, *tok;
	int ch, i;

	while ((ch = getopt(argc, argv, "p:sm:n:d:z:a:i:k:c:e:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 's': use_tls = 1; break;
		case 'm': put_mode = strcmp(optarg, "put") == 0; break;
		case 'n': streams = atoi(optarg); break;
		case 'd': duration = atoi(optarg); break;
		case 'z': size = strtoull(optarg, NULL, 10); break;
		case 'a': token = optarg; break;
		case 'i': load_ids(optarg); break;
		case 'k': per_test = strtoull(optarg, NULL, 10); break;
		case 'c':
			s = strdup(optarg);
			for (tok = strtok(s, ","); tok != NULL && npids < MAX_PIDS;
			    tok = strtok(NULL, ","))
				pids[npids++] = (pid_t)atoi(tok);
			break;
		case 'e':
			nexpect = 0;
			s = strdup(optarg);
			for (tok = strtok(s, ","); tok != NULL && nexpect < 8;
			    tok = strtok(NULL, ","))
				expect[nexpect++] = atoi(tok);
			break;
		default:
			die("bad usage (see the comment at the top)");
		}
	}
	if (optind + 1 != argc || port <= 0 || streams < 1 || streams > 256 ||
	    duration < 1 || size == 0 || (ids != NULL && per_test == 0))
		die("bad usage (see the comment at the top)");
	pathfmt = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	if (use_tls) {
		static const unsigned char alpn[] = "\x08http/1.1";

		ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);	/* loopback */
		SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
		SSL_CTX_set_read_ahead(ctx, 1);
		SSL_CTX_set_default_read_buffer_len(ctx, 256 * 1024);
	}
	if ((upbuf = malloc(BUF_SIZE)) == NULL)
		die("out of memory");
	srandom((unsigned)getpid());
	for (i = 0; i < BUF_SIZE; i++)
		upbuf[i] = (unsigned char)(random() >> 7);

	t0 = t_start = now();
	t_end = t_start + duration;
	c0 = cpu_ticks();
	getrusage(RUSAGE_SELF, &ru);
	ccpu = -(ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	for (i = 0; i < streams; i++)
		if (pthread_create(&th[i], NULL, stream_main, NULL) != 0)
			die("pthread_create failed");
	/* The window closes at t_end for CPU too, whatever is in flight. */
	while (now() < t_end)
		usleep(20000);
	c1 = cpu_ticks();
	elapsed = now() - t0;
	for (i = 0; i < streams; i++)
		pthread_join(th[i], NULL);
	getrusage(RUSAGE_SELF, &ru);
	ccpu += ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("bytes=%llu secs=%.3f bps=%.0f reqs=%llu errors=%llu conns=%llu "
	    "cpu_s=%.2f client_cpu_s=%.2f exhausted=%d\n",
	    (unsigned long long)total_bytes, elapsed,
	    (double)total_bytes / elapsed, (unsigned long long)total_reqs,
	    (unsigned long long)total_errs, (unsigned long long)total_conns,
	    (double)(c1 - c0) / (double)sysconf(_SC_CLK_TCK), ccpu,
	    (int)exhausted);
	return 0;
}
