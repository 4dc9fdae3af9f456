/* test-revtab.c - the shared table of revoked tokens: insert, lookup,
 * prune, what a full table does (never drop a revocation: refuse more),
 * across fork(), and lookups racing a writer. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "measure/measure.h"
#include "shm/shm.h"
#include "../tap.h"

#define NOW	1700000000

/* A token's key: distinct for each n, never 0, 0. */
static void
key(uint64_t n, uint64_t h[2])
{
	h[0] = n * 0x9E3779B97F4A7C15ULL + 1;
	h[1] = ~n;
}

static void
test_basics(void)
{
	struct pingoo_revtab *t = pingoo_revtab_new(1024, 64);
	uint64_t a[2], b[2];
	size_t nt = 9, nu = 9;

	key(1, a);
	key(2, b);
	ok(t != NULL, "a table maps");
	if (t == NULL)
		return;
	ok(pingoo_revtab_bytes(t) >= 1024 * 32 + 64 * 32,
	    "its memory is fixed at start: %zu bytes", pingoo_revtab_bytes(t));
	ok(!pingoo_revtab_revoked(t, a, 7, NOW), "an empty table revokes "
	    "nothing");
	ok(pingoo_revtab_floor(t, 7) == INT64_MIN, "and has no floor");
	ok(pingoo_revtab_token(t, a, 7, NOW, NOW + 3600, NOW) ==
	    PINGOO_REVTAB_STORED, "a token is revoked");
	ok(pingoo_revtab_revoked(t, a, 7, NOW), "it is found revoked");
	ok(!pingoo_revtab_revoked(t, b, 7, NOW), "another token of the same "
	    "user is not");
	ok(pingoo_revtab_token(t, a, 7, NOW, NOW + 3600, NOW) ==
	    PINGOO_REVTAB_STORED, "revoking it again is harmless");
	ok(pingoo_revtab_user(t, 9, NOW + 10, NOW + 3610, NOW) ==
	    PINGOO_REVTAB_STORED, "a user's tokens are revoked (a floor)");
	ok(pingoo_revtab_revoked(t, b, 9, NOW + 10) &&
	    pingoo_revtab_revoked(t, b, 9, NOW - 100),
	    "the user's tokens issued at or before the floor are revoked");
	ok(!pingoo_revtab_revoked(t, b, 9, NOW + 11),
	    "one issued after it is not");
	ok(!pingoo_revtab_revoked(t, b, 10, NOW), "nor another user's");
	ok(pingoo_revtab_user(t, 9, NOW + 5, NOW + 3605, NOW) ==
	    PINGOO_REVTAB_STORED && pingoo_revtab_floor(t, 9) == NOW + 10,
	    "a floor never goes down");
	ok(pingoo_revtab_user(t, 9, NOW + 20, NOW + 3620, NOW) ==
	    PINGOO_REVTAB_STORED && pingoo_revtab_floor(t, 9) == NOW + 20,
	    "and goes up");

	pingoo_revtab_prune(t, NOW + 3605, &nt, &nu);
	ok(nt == 0 && nu == 1, "prune frees the token past its until and keeps "
	    "the floor that is not (%zu, %zu left)", nt, nu);
	ok(!pingoo_revtab_revoked(t, a, 7, NOW) &&
	    pingoo_revtab_revoked(t, b, 9, NOW), "the pruned token is no "
	    "longer listed; the floor still refuses");
	pingoo_revtab_prune(t, NOW + 3621, &nt, &nu);
	ok(nt == 0 && nu == 0 && pingoo_revtab_floor(t, 9) == INT64_MIN,
	    "the floor goes once past its until");
	pingoo_revtab_free(t);
}

/* With 16 slots a window, a table of 16 entries fills its only window. */
static void
test_full(void)
{
	struct pingoo_revtab *t = pingoo_revtab_new(16, 16);
	uint64_t h[2], tok, usr;
	int i, stored = 1;

	if (t == NULL) {
		ok(0, "a small table maps");
		return;
	}
	for (i = 0; i < 16; i++) {
		key((uint64_t)i + 100, h);
		stored &= pingoo_revtab_token(t, h, 1, NOW, NOW + 3600, NOW) ==
		    PINGOO_REVTAB_STORED;
	}
	ok(stored, "16 tokens fill a table of 16");
	key(500, h);
	ok(pingoo_revtab_token(t, h, 2, NOW + 50, NOW + 3650, NOW) ==
	    PINGOO_REVTAB_FLOOR_USER, "the 17th finds no room: its user's "
	    "floor goes to its iat instead");
	ok(pingoo_revtab_revoked(t, h, 2, NOW + 50),
	    "so it is refused all the same (fail closed)");
	key(501, h);
	ok(pingoo_revtab_revoked(t, h, 2, NOW + 49) &&
	    !pingoo_revtab_revoked(t, h, 2, NOW + 51),
	    "with the user's older tokens; a newer one still works");
	key(502, h);
	ok(!pingoo_revtab_revoked(t, h, 3, NOW), "other users are untouched");
	for (i = 0; i < 15; i++)
		(void)pingoo_revtab_user(t, (uint64_t)i + 1000, NOW, NOW + 3600,
		    NOW);
	ok(pingoo_revtab_user(t, 77, NOW + 60, NOW + 3660, NOW) ==
	    PINGOO_REVTAB_FLOOR_ALL, "a floor that finds no room raises the "
	    "table's own");
	key(503, h);
	ok(pingoo_revtab_revoked(t, h, 77, NOW + 60) &&
	    pingoo_revtab_revoked(t, h, 4, NOW + 60) &&
	    !pingoo_revtab_revoked(t, h, 4, NOW + 61),
	    "which refuses everyone's tokens issued at or before it, no "
	    "newer one");
	ok(pingoo_revtab_floor(t, 4) == NOW + 60, "a new token of anyone is "
	    "issued after it (pingoo_revtab_floor)");
	pingoo_revtab_overflows(t, &tok, &usr);
	ok(tok == 1 && usr == 1, "both overflows are counted");
	key(100, h);
	ok(pingoo_revtab_token(t, h, 1, NOW, NOW + 3600, NOW + 4000) ==
	    PINGOO_REVTAB_STORED, "an entry past its until makes room for a "
	    "new one without a prune");
	pingoo_revtab_prune(t, NOW + 3661, NULL, NULL);
	ok(!pingoo_revtab_revoked(t, h, 4, NOW + 60),
	    "the table's floor goes once every token before it has expired");
	pingoo_revtab_free(t);
}

static void
test_fork_and_poll(void)
{
	struct pingoo_revtab *t = pingoo_revtab_new(1024, 64);
	uint64_t h[2];
	pid_t pid;
	int st;

	if (t == NULL) {
		ok(0, "a table maps");
		return;
	}
	key(42, h);
	ok(pingoo_revtab_since(t) == -1 && pingoo_revtab_polled_at(t) == 0,
	    "a new table is not loaded");
	if ((pid = fork()) == 0) {
		(void)pingoo_revtab_token(t, h, 5, NOW, NOW + 3600, NOW);
		pingoo_revtab_polled(t, 123456789, 555);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && pingoo_revtab_revoked(t, h, 5, NOW),
	    "a child process's revocation is seen by the parent");
	ok(pingoo_revtab_since(t) == 123456789 &&
	    pingoo_revtab_polled_at(t) == 555, "and its poll");
	pingoo_revtab_polled(t, 100, 500);
	ok(pingoo_revtab_since(t) == 123456789 &&
	    pingoo_revtab_polled_at(t) == 555, "a slower poll ending later "
	    "does not move them back");
	ok(pingoo_revtab_claim_poll(t, 1000000, 250000) &&
	    !pingoo_revtab_claim_poll(t, 1100000, 250000) &&
	    pingoo_revtab_claim_poll(t, 1250000, 250000),
	    "the processes take turns to poll, one every 250 ms");
	pingoo_revtab_free(t);
}

/* A reader racing the writer never misses a revocation that was in the
 * table before it looked. */
struct race {
	struct pingoo_revtab	*t;
	volatile int		 stop;
	int			 missed;
};

static void *
writer(void *arg)
{
	struct race *r = arg;
	uint64_t h[2], n = 10000;

	while (!r->stop) {
		key(n, h);
		(void)pingoo_revtab_token(r->t, h, 9, NOW, NOW + 1, NOW);
		(void)pingoo_revtab_user(r->t, n % 50 + 100, NOW, NOW + 1,
		    NOW);
		if (++n % 500 == 0)
			pingoo_revtab_prune(r->t, NOW + 2, NULL, NULL);
	}
	return NULL;
}

static void
test_race(void)
{
	struct race r = { pingoo_revtab_new(4096, 256), 0, 0 };
	pthread_t w;
	uint64_t h[2];
	int i, j;

	if (r.t == NULL) {
		ok(0, "a table maps");
		return;
	}
	for (i = 0; i < 64; i++) {
		key((uint64_t)i, h);
		(void)pingoo_revtab_token(r.t, h, 1, NOW, NOW + 3600, NOW);
	}
	if (pthread_create(&w, NULL, writer, &r) != 0) {
		ok(0, "a writer thread starts");
		return;
	}
	for (j = 0; j < 2000; j++)
		for (i = 0; i < 64; i++) {
			key((uint64_t)i, h);
			if (!pingoo_revtab_revoked(r.t, h, 1, NOW))
				r.missed++;
		}
	r.stop = 1;
	pthread_join(w, NULL);
	ok(r.missed == 0, "128,000 lookups racing a writer (inserts, "
	    "floors, prunes) found every revocation (%d missed)", r.missed);
	pingoo_revtab_free(r.t);
}

int
main(void)
{
	ok(pingoo_revtab_new(8, 64) == NULL && pingoo_revtab_new(64, 8) == NULL,
	    "a table smaller than one window is refused");
	test_basics();
	test_full();
	test_fork_and_poll();
	test_race();
	return tap_done();
}
