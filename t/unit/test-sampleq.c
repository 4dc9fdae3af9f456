/* test-sampleq.c - the queue between the echo and its writer thread. */
#include <pthread.h>
#include <string.h>

#include "shm/shm.h"
#include "../tap.h"

static struct pingoo_queued_sample
Q(uint64_t id, uint32_t seq)
{
	struct pingoo_queued_sample q;

	memset(&q, 0, sizeof(q));
	q.test_id = id;
	q.s.seq = seq;
	return q;
}

static void *
producer(void *arg)
{
	struct pingoo_sampleq *q = arg;
	struct pingoo_queued_sample s;
	uint32_t i;

	for (i = 0; i < 10000; i++) {
		s = Q(2, i);
		while (pingoo_sampleq_push(q, &s) != 0)
			;	/* full: the consumer catches up */
	}
	return NULL;
}

int
main(void)
{
	struct pingoo_sampleq *q = pingoo_sampleq_new(4);
	struct pingoo_queued_sample out[8], s;
	pthread_t t;
	size_t n, total = 0;
	uint32_t next = 0;
	int inorder = 1, i;

	ok(q != NULL, "a queue of 4 is made");
	ok(pingoo_sampleq_pop(q, out, 8, 10) == 0,
	    "popping an empty queue times out with nothing");
	for (i = 0; i < 4; i++) {
		s = Q(1, (uint32_t)i);
		pingoo_sampleq_push(q, &s);
	}
	s = Q(1, 4);
	ok(pingoo_sampleq_push(q, &s) == -1, "a full queue refuses a push");
	ok(pingoo_sampleq_len(q) == 4, "it holds four");
	n = pingoo_sampleq_pop(q, out, 3, 10);
	ok(n == 3 && out[0].s.seq == 0 && out[2].s.seq == 2,
	    "pop takes at most max, oldest first");
	pingoo_sampleq_pop(q, out, 8, 10);

	/* Ten thousand through a queue of four, across threads, in order. */
	pthread_create(&t, NULL, producer, q);
	while (total < 10000) {
		n = pingoo_sampleq_pop(q, out, 8, 1000);
		for (i = 0; i < (int)n; i++)
			inorder &= out[i].s.seq == next++;
		total += n;
	}
	pthread_join(t, NULL);
	ok(total == 10000 && inorder,
	    "10000 samples pass between threads, none lost, in order");

	s = Q(3, 0);
	pingoo_sampleq_push(q, &s);
	pingoo_sampleq_stop(q);
	ok(pingoo_sampleq_stopped(q), "a stopped queue says so");
	ok(pingoo_sampleq_push(q, &s) == -1, "a stopped queue refuses pushes");
	ok(pingoo_sampleq_pop(q, out, 8, 1000) == 1,
	    "a stopped queue still drains what it holds");
	ok(pingoo_sampleq_pop(q, out, 8, 1000) == 0,
	    "then pop returns at once with nothing");
	pingoo_sampleq_free(q);
	return tap_done();
}
