/* test-pingtab.c - the shared table of live ping tests, across fork(). */
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "../tap.h"

int
main(void)
{
	struct pingoo_pingtab *t = pingoo_pingtab_new(64, 1000), *more[6];
	uint32_t seen[2] = { 3, 999 };
	pid_t pid;
	int st, i, misses = 0;

	ok(t != NULL, "a table maps");
	ok(pingoo_pingtab_claim(t, 7, 1, 0) == PINGTAB_MISS,
	    "an unknown test misses");
	ok(pingoo_pingtab_put(t, 7, 1, 10, 0, NULL, 0) == PINGOO_OK,
	    "a test is put");
	ok(pingoo_pingtab_claim(t, 7, 1, 0) == PINGTAB_OK, "seq 0 is claimed");
	ok(pingoo_pingtab_claim(t, 7, 1, 0) == PINGTAB_DUP,
	    "seq 0 again is a duplicate");
	ok(pingoo_pingtab_claim(t, 7, 1, 10) == PINGTAB_RANGE,
	    "seq == count is out of range");
	ok(pingoo_pingtab_claim(t, 7, 2, 1) == PINGTAB_NOTOWNER,
	    "another user cannot claim");
	ok(pingoo_pingtab_claimed(t, 7, 0) && !pingoo_pingtab_claimed(t, 7, 1),
	    "claimed() tells echoed seqs");

	/* A child process claims; the parent sees it. */
	if ((pid = fork()) == 0)
		_exit(pingoo_pingtab_claim(t, 7, 1, 5) == PINGTAB_OK ? 0 : 1);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child process claims seq 5");
	ok(pingoo_pingtab_claim(t, 7, 1, 5) == PINGTAB_DUP,
	    "the parent sees the child's claim");

	pingoo_pingtab_close(t, 7);
	ok(pingoo_pingtab_claim(t, 7, 1, 6) == PINGTAB_CLOSED,
	    "a closed test refuses echoes");

	ok(pingoo_pingtab_put(t, 8, 1, 1000, 0, seen, 2) == PINGOO_OK &&
	    pingoo_pingtab_claim(t, 8, 1, 3) == PINGTAB_DUP &&
	    pingoo_pingtab_claim(t, 8, 1, 999) == PINGTAB_DUP &&
	    pingoo_pingtab_claim(t, 8, 1, 4) == PINGTAB_OK,
	    "a reloaded test keeps the seqs already echoed");
	ok(pingoo_pingtab_put(t, 9, 1, 1001, 0, NULL, 0) == PINGOO_ERR_RANGE,
	    "a count past the table's maximum is refused");

	/* More tests than slots: old ones are evicted, never corrupted. */
	for (i = 100; i < 400; i++)
		pingoo_pingtab_put(t, (uint64_t)i, 1, 10, 0, NULL, 0);
	for (i = 100; i < 400; i++) {
		enum pingtab_result r = pingoo_pingtab_claim(t, (uint64_t)i, 1, 1);
		if (r == PINGTAB_MISS)
			misses++;
		else if (r != PINGTAB_OK)
			break;
	}
	ok(i == 400 && misses >= 300 - 64,
	    "with 300 tests in 64 slots, each claim is fresh or a miss");
	pingoo_pingtab_free(t);
	for (i = 0; i < 6; i++)
		if ((more[i] = pingoo_pingtab_new(8, 64)) == NULL)
			break;
	ok(i == 6, "six tables can be made in one process");
	while (i > 0)
		pingoo_pingtab_free(more[--i]);
	ok(pingoo_pingtab_new(0, 64) == NULL && pingoo_pingtab_new(8, 0) ==
	    NULL, "a table of no slots or no samples is refused");
	{
		struct pingoo_sample v[3] = { { .seq = 2 }, { .seq = 40 },
		    { .seq = 70 } };
		uint64_t key = PINGOO_PINGTAB_TP(5);

		t = pingoo_pingtab_new(8, 64);
		ok(t != NULL && pingoo_pingtab_put_items(t, key, 9, 64, 0,
		    &v[0].seq, 3, sizeof(v[0])) == PINGOO_OK &&
		    pingoo_pingtab_claimed(t, key, 2) &&
		    pingoo_pingtab_claimed(t, key, 40) &&
		    !pingoo_pingtab_claimed(t, key, 3) &&
		    pingoo_pingtab_claim(t, 5, 9, 1) == PINGTAB_MISS,
		    "seqs are read from records a stride apart, one out of "
		    "range ignored, and a throughput test's key is not its id");
		pingoo_pingtab_free(t);
	}
	return tap_done();
}
