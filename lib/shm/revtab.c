/*
 * revtab.c - the revoked tokens, in memory shared by every worker process
 * of a host (mapped MAP_SHARED before the supervisor forks).
 *
 * Why: the echo, the probes and the packet routes answer without MySQL,
 * yet must refuse a revoked token within a second, on every host.  Each
 * worker process's background thread copies the revocations MySQL holds
 * into this table (app/background.c), and every request's token is looked
 * up here: a few loads of shared memory, no system call, no lock.
 *
 * Two tables of fixed size, so the memory is bounded and known at start:
 *   - revoked tokens, keyed by the first 128 bits of SHA-256(jti);
 *   - per-user floors: a token of the user whose iat is at or before the
 *     floor is refused (logout-all, a password change, a deletion).
 * A key lives in a window of WINDOW slots from its home slot; an entry past
 * its `until` (its token, or every token it refuses, has expired) is free
 * for reuse, and pingoo_revtab_prune clears them.
 *
 * Full: when a token finds no room in its window, its user's floor is
 * raised to the token's iat instead: that refuses the token and any of
 * the user's tokens issued in the same second or before it (fail closed
 * for that user: they sign in again).  When the user's window is full
 * too, the table's own floor is raised: every token issued at or before
 * that second, anyone's, is refused.  Both are counted.  Never is a
 * revocation dropped.
 *
 * Concurrency: writers (the pollers, the logout routes) take one lock
 * whose value is the holder's pid, taken over when that process is dead.
 * Readers take no lock: each slot has a sequence number, odd while its
 * entry is written, read before and after the entry (a seqlock).  A
 * reader that keeps finding a slot mid-write (its writer died there)
 * calls the token revoked rather than wait: fail closed.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm/shm.h"
#include "core/core.h"

#define WINDOW			16	/* slots a key may use from its home */
#define SPINS_BEFORE_CHECK	20000
#define READ_TRIES		1000	/* of a slot being written */

struct rv_token {
	uint32_t	seq;		/* odd while written */
	uint32_t	pad;
	uint64_t	a, b;		/* SHA-256(jti)'s first 128 bits; 0, 0: free */
	int64_t		until;		/* seconds: useless after */
};

struct rv_user {
	uint32_t	seq;
	uint32_t	pad;
	uint64_t	user_id;	/* 0: free */
	int64_t		floor;		/* seconds: iat <= floor is refused */
	int64_t		until;
};

struct rv_head {
	int32_t		lock;		/* 0 or the holder's pid */
	uint32_t	loaded;		/* a full load has succeeded */
	int64_t		since_us;	/* wall clock: the last poll's start */
	int64_t		polled_mono;	/* monotonic µs: the last poll's end */
	int64_t		poll_due;	/* monotonic µs: the next poll's claim */
	int64_t		floor;		/* anyone's iat <= floor is refused */
	int64_t		floor_until;
	uint64_t	overflow_tokens, overflow_users;
};

struct pingoo_revtab {
	unsigned char	*base;
	size_t		 maplen;
	size_t		 ntokens, nusers;
	struct rv_head	*head;
	struct rv_token	*tokens;
	struct rv_user	*users;
};

struct pingoo_revtab *
pingoo_revtab_new(size_t ntokens, size_t nusers)
{
	struct pingoo_revtab *t;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	/* The struct is private memory, copied into children by fork(); the
	 * tables it points to are the shared mapping. */
	if (ntokens < WINDOW || nusers < WINDOW ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ntokens = ntokens;
	t->nusers = nusers;
	t->maplen = page + ntokens * sizeof(struct rv_token) +
	    nusers * sizeof(struct rv_user);
	if ((p = pingoo_shm_map(t->maplen)) == NULL) {
		free(t);
		return NULL;
	}
	t->base = p;
	t->head = p;
	t->tokens = (struct rv_token *)(void *)(t->base + page);
	t->users = (struct rv_user *)(void *)(t->base + page +
	    ntokens * sizeof(struct rv_token));
	return t;
}

void
pingoo_revtab_free(struct pingoo_revtab *t)
{
	if (t == NULL)
		return;
	if (t->base != NULL)
		munmap(t->base, t->maplen);
	free(t);
}

size_t
pingoo_revtab_bytes(const struct pingoo_revtab *t)
{
	return t->maplen;
}

void
pingoo_revtab_prefault(struct pingoo_revtab *t)
{
	pingoo_shm_prefault(t->base, t->maplen);
}

/* Makes every slot left mid-write by a dead writer whole again: its
 * entry is freed (a dead writer's entry may be torn), so the table must
 * be reloaded (loaded is cleared: the poller's next pass reads all). */
static void
repair(struct pingoo_revtab *t)
{
	size_t i;
	int torn = 0;

	for (i = 0; i < t->ntokens; i++)
		if (t->tokens[i].seq & 1) {
			t->tokens[i].a = t->tokens[i].b = 0;
			__atomic_store_n(&t->tokens[i].seq,
			    t->tokens[i].seq + 1, __ATOMIC_RELEASE);
			torn = 1;
		}
	for (i = 0; i < t->nusers; i++)
		if (t->users[i].seq & 1) {
			t->users[i].user_id = 0;
			__atomic_store_n(&t->users[i].seq,
			    t->users[i].seq + 1, __ATOMIC_RELEASE);
			torn = 1;
		}
	if (torn)
		__atomic_store_n(&t->head->loaded, 0, __ATOMIC_RELEASE);
}

static void
lock(struct pingoo_revtab *t)
{
	int32_t me = (int32_t)getpid(), holder, zero;
	unsigned spins = 0;

	for (;;) {
		zero = 0;
		if (__atomic_compare_exchange_n(&t->head->lock, &zero, me, 0,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (++spins % SPINS_BEFORE_CHECK != 0)
			continue;
		/* Held for long: take it over if its holder is dead, and
		 * mend what it may have left half written. */
		holder = __atomic_load_n(&t->head->lock, __ATOMIC_RELAXED);
		if (holder != 0 && holder != me && kill(holder, 0) != 0 &&
		    errno == ESRCH && __atomic_compare_exchange_n(
		    &t->head->lock, &holder, me, 0, __ATOMIC_ACQUIRE,
		    __ATOMIC_RELAXED)) {
			repair(t);
			return;
		}
		sched_yield();
	}
}

static void
unlock(struct pingoo_revtab *t)
{
	__atomic_store_n(&t->head->lock, 0, __ATOMIC_RELEASE);
}

static size_t
home(uint64_t key, size_t n)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 17) % n;
}

/* Writes: the sequence odd, the fields, the sequence even again. */
static void
write_begin(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
write_end(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
}

static void
max_store(int64_t *p, int64_t v)
{
	if (__atomic_load_n(p, __ATOMIC_RELAXED) < v)
		__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* The table's own floor, when a user's window had no room. */
static void
floor_all(struct pingoo_revtab *t, int64_t floor, int64_t until)
{
	max_store(&t->head->floor_until, until);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	max_store(&t->head->floor, floor);
	__atomic_add_fetch(&t->head->overflow_users, 1, __ATOMIC_RELAXED);
}

/* With the lock held. */
static enum pingoo_revtab_put
put_user(struct pingoo_revtab *t, uint64_t user_id, int64_t floor,
    int64_t until, int64_t now_s)
{
	struct rv_user *u, *free_slot = NULL;
	size_t h = home(user_id, t->nusers), i;

	for (i = 0; i < WINDOW; i++) {
		u = &t->users[(h + i) % t->nusers];
		if (u->user_id == user_id) {
			if (u->floor >= floor && u->until >= until)
				return PINGOO_REVTAB_STORED;
			write_begin(&u->seq);
			if (u->floor < floor)
				__atomic_store_n(&u->floor, floor,
				    __ATOMIC_RELAXED);
			if (u->until < until)
				__atomic_store_n(&u->until, until,
				    __ATOMIC_RELAXED);
			write_end(&u->seq);
			return PINGOO_REVTAB_STORED;
		}
		if (free_slot == NULL && (u->user_id == 0 || u->until < now_s))
			free_slot = u;
	}
	if (free_slot == NULL) {
		floor_all(t, floor, until);
		return PINGOO_REVTAB_FLOOR_ALL;
	}
	u = free_slot;
	write_begin(&u->seq);
	__atomic_store_n(&u->user_id, user_id, __ATOMIC_RELAXED);
	__atomic_store_n(&u->floor, floor, __ATOMIC_RELAXED);
	__atomic_store_n(&u->until, until, __ATOMIC_RELAXED);
	write_end(&u->seq);
	return PINGOO_REVTAB_STORED;
}

enum pingoo_revtab_put
pingoo_revtab_user(struct pingoo_revtab *t, uint64_t user_id, int64_t floor,
    int64_t until, int64_t now_s)
{
	enum pingoo_revtab_put r;

	if (user_id == 0)
		return PINGOO_REVTAB_STORED;
	lock(t);
	r = put_user(t, user_id, floor, until, now_s);
	unlock(t);
	return r;
}

enum pingoo_revtab_put
pingoo_revtab_token(struct pingoo_revtab *t, const uint64_t hash[2],
    uint64_t user_id, int64_t iat, int64_t until, int64_t now_s)
{
	struct rv_token *e, *free_slot = NULL;
	size_t h = home(hash[0], t->ntokens), i;
	enum pingoo_revtab_put r = PINGOO_REVTAB_STORED;

	if (hash[0] == 0 && hash[1] == 0)
		return PINGOO_REVTAB_STORED;	/* no token has this key */
	lock(t);
	for (i = 0; i < WINDOW; i++) {
		e = &t->tokens[(h + i) % t->ntokens];
		if (e->a == hash[0] && e->b == hash[1]) {
			if (e->until < until) {
				write_begin(&e->seq);
				__atomic_store_n(&e->until, until,
				    __ATOMIC_RELAXED);
				write_end(&e->seq);
			}
			goto out;
		}
		if (free_slot == NULL && ((e->a == 0 && e->b == 0) ||
		    e->until < now_s))
			free_slot = e;
	}
	if (free_slot == NULL) {
		/* No room: the user's floor refuses the token instead. */
		__atomic_add_fetch(&t->head->overflow_tokens, 1,
		    __ATOMIC_RELAXED);
		r = put_user(t, user_id, iat, until, now_s);
		if (r == PINGOO_REVTAB_STORED)
			r = PINGOO_REVTAB_FLOOR_USER;
		goto out;
	}
	e = free_slot;
	write_begin(&e->seq);
	__atomic_store_n(&e->a, hash[0], __ATOMIC_RELAXED);
	__atomic_store_n(&e->b, hash[1], __ATOMIC_RELAXED);
	__atomic_store_n(&e->until, until, __ATOMIC_RELAXED);
	write_end(&e->seq);
out:
	unlock(t);
	return r;
}

/* 1 when slot e holds hash; -1 when it stayed mid-write. */
static int
token_is(struct rv_token *e, const uint64_t hash[2])
{
	uint32_t s1, s2;
	uint64_t a, b;
	int tries;

	for (tries = 0; tries < READ_TRIES; tries++) {
		s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		a = __atomic_load_n(&e->a, __ATOMIC_RELAXED);
		b = __atomic_load_n(&e->b, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return a == hash[0] && b == hash[1];
	}
	return -1;
}

/* The floor slot u holds for user_id, INT64_MIN when it holds another
 * user; -1 in *torn when it stayed mid-write. */
static int64_t
user_floor(struct rv_user *u, uint64_t user_id, int *torn)
{
	uint32_t s1, s2;
	uint64_t id;
	int64_t floor;
	int tries;

	for (tries = 0; tries < READ_TRIES; tries++) {
		s1 = __atomic_load_n(&u->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		id = __atomic_load_n(&u->user_id, __ATOMIC_RELAXED);
		floor = __atomic_load_n(&u->floor, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&u->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return id == user_id ? floor : INT64_MIN;
	}
	*torn = 1;
	return INT64_MIN;
}

int64_t
pingoo_revtab_floor(struct pingoo_revtab *t, uint64_t user_id)
{
	size_t h = home(user_id, t->nusers), i;
	int64_t floor = __atomic_load_n(&t->head->floor, __ATOMIC_ACQUIRE), f;
	int torn = 0;

	if (floor == 0)		/* the table's floor is unset */
		floor = INT64_MIN;
	for (i = 0; i < WINDOW; i++) {
		f = user_floor(&t->users[(h + i) % t->nusers], user_id, &torn);
		if (f > floor)
			floor = f;
	}
	return torn ? INT64_MAX : floor;
}

int
pingoo_revtab_revoked(struct pingoo_revtab *t, const uint64_t hash[2],
    uint64_t user_id, int64_t iat)
{
	size_t h = home(hash[0], t->ntokens), i;
	int r;

	if (iat <= pingoo_revtab_floor(t, user_id))
		return 1;
	for (i = 0; i < WINDOW; i++)
		if ((r = token_is(&t->tokens[(h + i) % t->ntokens], hash)) != 0)
			return 1;	/* a match, or a torn slot */
	return 0;
}

void
pingoo_revtab_prune(struct pingoo_revtab *t, int64_t now_s, size_t *tokens,
    size_t *users)
{
	size_t i, nt = 0, nu = 0;

	lock(t);
	for (i = 0; i < t->ntokens; i++) {
		struct rv_token *e = &t->tokens[i];

		if (e->a == 0 && e->b == 0)
			continue;
		if (e->until < now_s) {
			write_begin(&e->seq);
			__atomic_store_n(&e->a, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&e->b, 0, __ATOMIC_RELAXED);
			write_end(&e->seq);
		} else
			nt++;
	}
	for (i = 0; i < t->nusers; i++) {
		struct rv_user *u = &t->users[i];

		if (u->user_id == 0)
			continue;
		if (u->until < now_s) {
			write_begin(&u->seq);
			__atomic_store_n(&u->user_id, 0, __ATOMIC_RELAXED);
			write_end(&u->seq);
		} else
			nu++;
	}
	/* The table's floor refuses nothing once every token issued before
	 * it has expired. */
	if (t->head->floor != 0 && t->head->floor_until < now_s) {
		__atomic_store_n(&t->head->floor, 0, __ATOMIC_RELEASE);
		t->head->floor_until = 0;
	}
	unlock(t);
	if (tokens != NULL)
		*tokens = nt;
	if (users != NULL)
		*users = nu;
}

int
pingoo_revtab_claim_poll(struct pingoo_revtab *t, int64_t mono_us,
    int64_t every_us)
{
	int64_t due = __atomic_load_n(&t->head->poll_due, __ATOMIC_RELAXED);

	if (mono_us < due)
		return 0;
	return __atomic_compare_exchange_n(&t->head->poll_due, &due,
	    mono_us + every_us, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void
pingoo_revtab_polled(struct pingoo_revtab *t, int64_t since_us,
    int64_t mono_us)
{
	lock(t);
	max_store(&t->head->since_us, since_us);
	max_store(&t->head->polled_mono, mono_us);
	__atomic_store_n(&t->head->loaded, 1, __ATOMIC_RELEASE);
	unlock(t);
}

int64_t
pingoo_revtab_since(struct pingoo_revtab *t)
{
	if (!__atomic_load_n(&t->head->loaded, __ATOMIC_ACQUIRE))
		return -1;
	return __atomic_load_n(&t->head->since_us, __ATOMIC_RELAXED);
}

int64_t
pingoo_revtab_polled_at(struct pingoo_revtab *t)
{
	if (!__atomic_load_n(&t->head->loaded, __ATOMIC_ACQUIRE))
		return 0;
	return __atomic_load_n(&t->head->polled_mono, __ATOMIC_RELAXED);
}

void
pingoo_revtab_overflows(struct pingoo_revtab *t, uint64_t *tokens,
    uint64_t *users)
{
	*tokens = __atomic_load_n(&t->head->overflow_tokens, __ATOMIC_RELAXED);
	*users = __atomic_load_n(&t->head->overflow_users, __ATOMIC_RELAXED);
}
