/*
 * sampleq.c - the queue between the echo and the thread that writes its
 * samples to MySQL.  The echo must not wait for the database; one writer
 * per process takes what has piled up and writes it in a few multi-row
 * statements, which costs MariaDB a small fraction of one insert per row.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shm/shm.h"

struct pingoo_sampleq {
	pthread_mutex_t			 mu;
	pthread_cond_t			 cv;
	struct pingoo_queued_sample	*v;
	size_t				 cap, head, len;
	int				 stopped;
};

struct pingoo_sampleq *
pingoo_sampleq_new(size_t cap)
{
	struct pingoo_sampleq *q;

	if (cap == 0 || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->v = calloc(cap, sizeof(*q->v))) == NULL) {
		free(q);
		return NULL;
	}
	q->cap = cap;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	return q;
}

void
pingoo_sampleq_free(struct pingoo_sampleq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->v);
	free(q);
}

int
pingoo_sampleq_push(struct pingoo_sampleq *q,
    const struct pingoo_queued_sample *s)
{
	int rc = -1;

	pthread_mutex_lock(&q->mu);
	if (q->len < q->cap && !q->stopped) {
		q->v[(q->head + q->len) % q->cap] = *s;
		q->len++;
		rc = 0;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

size_t
pingoo_sampleq_pop(struct pingoo_sampleq *q, struct pingoo_queued_sample *out,
    size_t max, int wait_ms)
{
	struct timespec until;
	size_t n = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->mu);
	while (q->len == 0 && !q->stopped)
		if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT)
			break;
	while (n < max && q->len > 0) {
		out[n++] = q->v[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	/* An empty queue starts again at its first slot: only as many slots
	 * as the deepest backlog are ever touched, so a worker's memory does
	 * not creep up by the ring's pages (3.5 MiB) as the head goes round. */
	if (q->len == 0)
		q->head = 0;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* The queue's length and, when stopped is not NULL, whether it was
 * stopped: both read under its lock. */
static size_t
peek(struct pingoo_sampleq *q, int *stopped)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->len;
	if (stopped != NULL)
		*stopped = q->stopped;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t
pingoo_sampleq_len(struct pingoo_sampleq *q)
{
	return peek(q, NULL);
}

void
pingoo_sampleq_stop(struct pingoo_sampleq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopped = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

int
pingoo_sampleq_stopped(struct pingoo_sampleq *q)
{
	int stopped;

	(void)peek(q, &stopped);
	return stopped;
}
