/*
 * active.c - how many of a worker process's threads serve at once.
 *
 * A thread must hold one of the process's `active_threads` turns to wait
 * for work (idle.c) and to serve a request that never waits on anything
 * but the CPU: the echo and the probes (their token matched or verified,
 * their seq claimed in shared memory, the sample queued), a preflight, an
 * error.  Before anything that may wait on MySQL or on a slow client
 * (every other route, a body still on its way, a test to load) the thread
 * hands its turn over, and another thread takes the waiting for work on;
 * it takes a turn again before it waits for work itself.  So a slow
 * download or a database round trip never holds the echo up, and the
 * threads that compete for the cores are only as many as the turns.
 *
 * With all 16 threads of a process serving, a request is preempted midway
 * and waits behind the others for a core, and every request wakes a
 * sleeping thread where a busy one would have taken it next without
 * sleeping.  One turn per process serves more echoes with a lower median
 * for the same work; docs/performance.md has the figures.
 *
 * A thread holds its turn from one request to the next: the echo path
 * costs no atomic operation, only a hand-over does (a semaphore post, and
 * the next thread's wake-up).
 */
#include "config.h"

#include <errno.h>
#include <semaphore.h>

#include "app.h"

static sem_t turns;
static int ready;

int
active_init(int n)
{
	if (sem_init(&turns, 0, (unsigned)n) != 0)
		return -1;
	ready = 1;
	return 0;
}

int
active_take(struct worker *w, int wait)
{
	if (w->active || !ready)
		return 0;
	if (sem_trywait(&turns) != 0) {
		if (!wait)
			return -1;
		while (sem_wait(&turns) != 0 && errno == EINTR)
			;
	}
	w->active = 1;
	return 0;
}

void
active_leave(struct worker *w)
{
	if (!w->active)
		return;
	w->active = 0;
	sem_post(&turns);
}

void
active_release_all(int n)
{
	/* Stopping: every thread waiting for a turn gets one and sees
	 * pool_stopping. */
	while (n-- > 0)
		sem_post(&turns);
}

void
active_end(void)
{
	if (ready)
		sem_destroy(&turns);
	ready = 0;
}
