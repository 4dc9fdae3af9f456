/*
 * pingtab.c - the live ping tests, in memory shared by every worker
 * process of a host (mapped MAP_SHARED before the supervisor forks).
 *
 * Why: the echo must answer without a database round trip between its
 * two stamps, yet refuse a reused or out-of-range sequence number.  Each
 * slot holds one test's owner, count, state and a bitmap of echoed seqs.
 * MySQL stays the truth: a test not found here is loaded from it.
 *
 * Locking: one spin lock per slot, held for a few hundred instructions and
 * never across a system call.  The holder's pid is the lock value, so a
 * lock left by a worker killed inside that window is taken over.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>

#include "shm/shm.h"
#include "core/core.h"

#define PROBES 8		/* slots looked at per test id */
#define SPINS_BEFORE_CHECK 20000

struct pt_slot {
	uint64_t	test_id;	/* 0: free; written last, read first */
	uint64_t	user_id;
	uint32_t	count;
	uint32_t	closed;
	int32_t		lock;		/* 0 or the holder's pid */
	uint32_t	pad;
	int64_t		touched;	/* seconds; the oldest is evicted */
	uint64_t	bits[];		/* count bits: echoed seqs */
};

struct pingoo_pingtab {
	unsigned char	*base;
	size_t		 maplen;
	size_t		 nslots;
	size_t		 slotsize;
	size_t		 words;
	uint32_t	 max_count;
};

/* This process's id, the lock's holder mark: read once per process rather
 * than with a system call per claim (glibc does not cache getpid); a fork
 * clears it in the child. */
static int32_t self_pid;

static void
self_pid_reset(void)
{
	__atomic_store_n(&self_pid, 0, __ATOMIC_RELAXED);
}

static int32_t
self(void)
{
	int32_t p = __atomic_load_n(&self_pid, __ATOMIC_RELAXED);

	if (p == 0) {
		p = (int32_t)getpid();
		__atomic_store_n(&self_pid, p, __ATOMIC_RELAXED);
	}
	return p;
}

static void
self_pid_atfork(void)
{
	pthread_atfork(NULL, NULL, self_pid_reset);
}

struct pingoo_pingtab *
pingoo_pingtab_new(size_t nslots, uint32_t max_count)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct pingoo_pingtab *t;
	void *p;

	/* Before the fork that shares the table: children re-read their id. */
	pthread_once(&once, self_pid_atfork);

	/* The struct is private memory, copied into children by fork(); the
	 * slots it points to are the shared mapping. */
	if (nslots == 0 || max_count == 0 ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nslots = nslots;
	t->max_count = max_count;
	t->words = (max_count + 63) / 64;
	t->slotsize = sizeof(struct pt_slot) + t->words * sizeof(uint64_t);
	t->maplen = t->slotsize * nslots;
	if ((p = pingoo_shm_map(t->maplen)) == NULL) {
		free(t);
		return NULL;
	}
	t->base = p;
	return t;
}

void
pingoo_pingtab_prefault(struct pingoo_pingtab *t)
{
	pingoo_shm_prefault(t->base, t->maplen);
}

void
pingoo_pingtab_free(struct pingoo_pingtab *t)
{
	if (t == NULL)
		return;
	if (t->base != NULL)
		munmap(t->base, t->maplen);
	free(t);
}

static struct pt_slot *
slot_at(struct pingoo_pingtab *t, size_t i)
{
	return (struct pt_slot *)(void *)(t->base + (i % t->nslots) *
	    t->slotsize);
}

static size_t
home(const struct pingoo_pingtab *t, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 17) % t->nslots;
}

static void
slot_lock(struct pt_slot *s)
{
	int32_t me = self(), holder, zero;
	unsigned spins = 0;

	for (;;) {
		zero = 0;
		if (__atomic_compare_exchange_n(&s->lock, &zero, me, 0,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (++spins % SPINS_BEFORE_CHECK != 0)
			continue;
		/* Held for long: take it over if its holder is dead. */
		holder = __atomic_load_n(&s->lock, __ATOMIC_RELAXED);
		if (holder != 0 && holder != me && kill(holder, 0) != 0 &&
		    errno == ESRCH)
			__atomic_compare_exchange_n(&s->lock, &holder, 0, 0,
			    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		sched_yield();
	}
}

static void
slot_unlock(struct pt_slot *s)
{
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

static int64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* The slot holding test id, or NULL.  Unlocked: confirm under the lock. */
static struct pt_slot *
find(struct pingoo_pingtab *t, uint64_t id)
{
	struct pt_slot *s;
	size_t h = home(t, id), i;

	for (i = 0; i < PROBES; i++) {
		s = slot_at(t, h + i);
		if (__atomic_load_n(&s->test_id, __ATOMIC_ACQUIRE) == id)
			return s;
	}
	return NULL;
}

/* A free slot among the probes, else the least recently used one. */
static struct pt_slot *
victim(struct pingoo_pingtab *t, uint64_t id)
{
	struct pt_slot *s, *old = NULL;
	size_t h = home(t, id), i;

	for (i = 0; i < PROBES; i++) {
		s = slot_at(t, h + i);
		if (__atomic_load_n(&s->test_id, __ATOMIC_ACQUIRE) == 0)
			return s;
		if (old == NULL || s->touched < old->touched)
			old = s;
	}
	return old;
}

enum pingoo_err
pingoo_pingtab_put(struct pingoo_pingtab *t, uint64_t id, uint64_t user_id,
    uint32_t count, int closed, const uint32_t *seen, size_t nseen)
{
	return pingoo_pingtab_put_items(t, id, user_id, count, closed, seen,
	    nseen, sizeof(*seen));
}

enum pingoo_err
pingoo_pingtab_put_items(struct pingoo_pingtab *t, uint64_t id,
    uint64_t user_id, uint32_t count, int closed, const uint32_t *seq,
    size_t n, size_t stride)
{
	struct pt_slot *s;
	const unsigned char *item = (const unsigned char *)seq;
	uint32_t v;
	size_t i;

	if (id == 0 || count > t->max_count)
		return PINGOO_ERR_RANGE;
	if ((s = find(t, id)) == NULL)
		s = victim(t, id);
	slot_lock(s);
	/* Readers that see test_id == 0 miss and go to MySQL meanwhile. */
	__atomic_store_n(&s->test_id, 0, __ATOMIC_RELEASE);
	s->user_id = user_id;
	s->count = count;
	s->closed = closed != 0;
	memset(s->bits, 0, ((count + 63) / 64) * sizeof(uint64_t));
	for (i = 0; i < n; i++, item += stride) {
		memcpy(&v, item, sizeof(v));
		if (v < count)
			s->bits[v / 64] |= 1ULL << (v % 64);
	}
	s->touched = now_s();
	__atomic_store_n(&s->test_id, id, __ATOMIC_RELEASE);
	slot_unlock(s);
	return PINGOO_OK;
}

enum pingtab_result
pingoo_pingtab_claim(struct pingoo_pingtab *t, uint64_t id, uint64_t user_id,
    uint32_t seq)
{
	struct pt_slot *s;
	enum pingtab_result r;
	uint64_t bit;

	if ((s = find(t, id)) == NULL)
		return PINGTAB_MISS;
	slot_lock(s);
	if (s->test_id != id)
		r = PINGTAB_MISS;	/* evicted while we looked */
	else if (s->user_id != user_id)
		r = PINGTAB_NOTOWNER;
	else if (s->closed)
		r = PINGTAB_CLOSED;
	else if (seq >= s->count)
		r = PINGTAB_RANGE;
	else {
		bit = 1ULL << (seq % 64);
		if (s->bits[seq / 64] & bit)
			r = PINGTAB_DUP;
		else {
			s->bits[seq / 64] |= bit;
			s->touched = now_s();
			r = PINGTAB_OK;
		}
	}
	slot_unlock(s);
	return r;
}

int
pingoo_pingtab_claimed(struct pingoo_pingtab *t, uint64_t id, uint32_t seq)
{
	struct pt_slot *s;
	int r = 0;

	if ((s = find(t, id)) == NULL)
		return 0;
	slot_lock(s);
	if (s->test_id == id && seq < s->count)
		r = (s->bits[seq / 64] >> (seq % 64)) & 1;
	slot_unlock(s);
	return r;
}

void
pingoo_pingtab_close(struct pingoo_pingtab *t, uint64_t id)
{
	struct pt_slot *s;

	if ((s = find(t, id)) == NULL)
		return;
	slot_lock(s);
	if (s->test_id == id)
		s->closed = 1;
	slot_unlock(s);
}

void
pingoo_pingtab_forget(struct pingoo_pingtab *t, uint64_t id)
{
	struct pt_slot *s;

	if ((s = find(t, id)) == NULL)
		return;
	slot_lock(s);
	if (s->test_id == id)
		__atomic_store_n(&s->test_id, 0, __ATOMIC_RELEASE);
	slot_unlock(s);
}
