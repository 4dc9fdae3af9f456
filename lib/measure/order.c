/*
 * order.c - order statistics of integer samples: sort, nearest-rank
 * percentile, median.  Pure functions, shared by the ping and throughput
 * summaries so both round the same way.
 */
#include <math.h>
#include <stdlib.h>

#include "measure/measure.h"

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void
pingoo_sort_i64(int64_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_i64);
}

int64_t
pingoo_percentile(const int64_t *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* The mean of a and b rounded half away from zero, in halves first so
 * that no sum overflows. */
static int64_t
mean2(int64_t a, int64_t b)
{
	int64_t h = a / 2 + b / 2, r = a % 2 + b % 2;

	switch (r) {
	case 2:
		return h + 1;
	case -2:
		return h - 1;
	case 1:		/* h + 0.5 */
		return h >= 0 ? h + 1 : h;
	case -1:	/* h - 0.5 */
		return h > 0 ? h : h - 1;
	default:
		return h;
	}
}

int64_t
pingoo_median(const int64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	if (n % 2 == 1)
		return v[n / 2];
	return mean2(v[n / 2 - 1], v[n / 2]);
}
