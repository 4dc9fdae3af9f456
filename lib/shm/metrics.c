/*
 * metrics.c - counters shared by the worker processes and their
 * Prometheus exposition.  Every cell is a uint64_t updated with an atomic
 * add in a MAP_SHARED mapping made before fork(), so the sum over all
 * processes is simply what the cells hold; no lock is taken anywhere.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "shm/shm.h"

/* The statuses counted on their own; any other is counted as "other". */
static const int statuses[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409,
    413, 415, 422, 429, 500, 503 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

static const int64_t bucket_us[] = { 100, 250, 500, 1000,
    2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
    2500000, 10000000 };
PINGOO_TABLE_CHECK(bucket_us, PINGOO_M_BUCKETS);

struct route_cells {
	uint64_t	status[NSTATUS];
	uint64_t	bucket[PINGOO_M_BUCKETS + 1];	/* not cumulative */
	uint64_t	sum_us;
};

struct cells {
	uint64_t		counter[PINGOO_M__COUNTERS];
	uint64_t		pad[8];
	/* then queue[slots], then route[routes] */
};

struct pingoo_metrics {
	struct cells		*c;
	uint64_t		*queue;
	struct route_cells	*route;
	size_t			 routes, slots, maplen;
};

/* One family of plain counters: its name, help, and the label of each
 * counter in it (NULL: a family with no label).  Every enum pingoo_counter
 * is in exactly one family (t/unit/test-metrics.c walks them). */
struct family {
	const char	*name;
	const char	*type;
	const char	*help;
	const char	*label;
	struct { enum pingoo_counter c; const char *value; } v[4];
	size_t		 n;
};

static const struct family families[] = {
	{ "pingoo_tests_created_total", "counter", "Tests created, by kind.",
	  "kind", { { PINGOO_M_PING_CREATED, "ping" },
	  { PINGOO_M_TP_CREATED, "throughput" } }, 2 },
	{ "pingoo_tests_completed_total", "counter",
	  "Tests that became complete, by kind.", "kind",
	  { { PINGOO_M_PING_COMPLETED, "ping" },
	  { PINGOO_M_TP_COMPLETED, "throughput" } }, 2 },
	{ "pingoo_tests_deleted_total", "counter",
	  "Tests deleted by their user, by kind.", "kind",
	  { { PINGOO_M_PING_DELETED, "ping" },
	  { PINGOO_M_TP_DELETED, "throughput" } }, 2 },
	{ "pingoo_tests_expired_total", "counter",
	  "Tests removed by the retention period, by kind.", "kind",
	  { { PINGOO_M_PING_EXPIRED, "ping" },
	  { PINGOO_M_TP_EXPIRED, "throughput" } }, 2 },
	{ "pingoo_ping_samples_recorded_total", "counter",
	  "Ping samples written to the database.", NULL,
	  { { PINGOO_M_SAMPLES, NULL } }, 1 },
	{ "pingoo_throughput_packets_recorded_total", "counter",
	  "Throughput packets recorded, by direction and outcome.", NULL,
	  { { PINGOO_M_DOWNLOAD_OK, "direction=\"download\",status=\"ok\"" },
	  { PINGOO_M_DOWNLOAD_FAILED,
	  "direction=\"download\",status=\"failed\"" },
	  { PINGOO_M_UPLOAD_OK, "direction=\"upload\",status=\"ok\"" },
	  { PINGOO_M_UPLOAD_FAILED, "direction=\"upload\",status=\"failed\"" } },
	  4 },
	{ "pingoo_db_errors_total", "counter",
	  "Database statements that failed (duplicate keys excepted).", NULL,
	  { { PINGOO_M_DB_ERRORS, NULL } }, 1 },
	{ "pingoo_db_reconnects_total", "counter",
	  "Database connections made again after one was lost.", NULL,
	  { { PINGOO_M_DB_RECONNECTS, NULL } }, 1 },
	{ "pingoo_workers_replaced_total", "counter",
	  "Worker processes that died and were replaced by the supervisor.",
	  NULL, { { PINGOO_M_WORKERS_REPLACED, NULL } }, 1 },
};

static struct pingoo_metrics *in_use;

struct pingoo_metrics *
pingoo_metrics_new(size_t routes, size_t slots)
{
	struct pingoo_metrics *m;
	unsigned char *p;

	if (routes == 0 || slots == 0 || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->routes = routes;
	m->slots = slots;
	m->maplen = sizeof(struct cells) + slots * sizeof(uint64_t) +
	    routes * sizeof(struct route_cells);
	if ((p = pingoo_shm_map(m->maplen)) == NULL) {
		free(m);
		return NULL;
	}
	m->c = (struct cells *)p;
	m->queue = (uint64_t *)(p + sizeof(struct cells));
	m->route = (struct route_cells *)(m->queue + slots);
	return m;
}

void
pingoo_metrics_free(struct pingoo_metrics *m)
{
	if (m == NULL)
		return;
	if (in_use == m)
		in_use = NULL;
	munmap(m->c, m->maplen);
	free(m);
}

void
pingoo_metrics_use(struct pingoo_metrics *m)
{
	in_use = m;
}

static void
add(uint64_t *cell, uint64_t n)
{
	__atomic_fetch_add(cell, n, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *cell)
{
	return __atomic_load_n(cell, __ATOMIC_RELAXED);
}

void
pingoo_metrics_add(enum pingoo_counter c, uint64_t n)
{
	struct pingoo_metrics *m = in_use;

	if (m != NULL && (unsigned)c < PINGOO_M__COUNTERS)
		add(&m->c->counter[c], n);
}

void
pingoo_metrics_request(struct pingoo_metrics *m, size_t route, int status,
    int64_t us)
{
	struct route_cells *rc;
	size_t s, b;

	if (m == NULL || route >= m->routes)
		return;
	rc = &m->route[route];
	for (s = 0; s < NSTATUS - 1 && statuses[s] != status; s++)
		;
	for (b = 0; b < PINGOO_M_BUCKETS && us > bucket_us[b]; b++)
		;
	add(&rc->status[s], 1);
	add(&rc->bucket[b], 1);
	add(&rc->sum_us, us > 0 ? (uint64_t)us : 0);
}

void
pingoo_metrics_queue(struct pingoo_metrics *m, size_t slot, uint64_t depth)
{
	if (m != NULL && slot < m->slots)
		__atomic_store_n(&m->queue[slot], depth, __ATOMIC_RELAXED);
}

static void
write_family(const struct pingoo_metrics *m, const struct family *f,
    FILE *fp)
{
	size_t i;

	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
	    f->type);
	for (i = 0; i < f->n; i++) {
		if (f->v[i].value == NULL)
			fprintf(fp, "%s", f->name);
		else if (f->label == NULL)
			fprintf(fp, "%s{%s}", f->name, f->v[i].value);
		else
			fprintf(fp, "%s{%s=\"%s\"}", f->name, f->label,
			    f->v[i].value);
		fprintf(fp, " %" PRIu64 "\n", get(&m->c->counter[f->v[i].c]));
	}
}

/* Route patterns hold only [a-z0-9/{}.-]: nothing to escape in a label. */
static void
write_requests(const struct pingoo_metrics *m, const char *const *name,
    FILE *fp)
{
	size_t r, s;
	uint64_t v;

	fputs("# HELP pingoo_http_requests_total Requests answered, by route "
	    "and status.\n# TYPE pingoo_http_requests_total counter\n", fp);
	for (r = 0; r < m->routes; r++)
		for (s = 0; s < NSTATUS; s++) {
			if ((v = get(&m->route[r].status[s])) == 0)
				continue;
			if (s < NSTATUS - 1)
				fprintf(fp, "pingoo_http_requests_total{route=\"%s\","
				    "status=\"%d\"} %" PRIu64 "\n", name[r],
				    statuses[s], v);
			else
				fprintf(fp, "pingoo_http_requests_total{route=\"%s\","
				    "status=\"other\"} %" PRIu64 "\n", name[r], v);
		}
}

static void
write_histogram(const struct pingoo_metrics *m, const char *const *name,
    FILE *fp)
{
	const char *h = "pingoo_http_request_duration_seconds";
	uint64_t cum;
	size_t r, b;

	fprintf(fp, "# HELP %s Time from a request's arrival at the worker to "
	    "its answer, by route.\n# TYPE %s histogram\n", h, h);
	for (r = 0; r < m->routes; r++) {
		cum = 0;
		for (b = 0; b <= PINGOO_M_BUCKETS; b++)
			cum += get(&m->route[r].bucket[b]);
		if (cum == 0)
			continue;
		cum = 0;
		for (b = 0; b < PINGOO_M_BUCKETS; b++) {
			cum += get(&m->route[r].bucket[b]);
			fprintf(fp, "%s_bucket{route=\"%s\",le=\"%g\"} %" PRIu64
			    "\n", h, name[r], (double)bucket_us[b] / 1e6, cum);
		}
		cum += get(&m->route[r].bucket[PINGOO_M_BUCKETS]);
		fprintf(fp, "%s_bucket{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
		    h, name[r], cum);
		fprintf(fp, "%s_sum{route=\"%s\"} %.6f\n", h, name[r],
		    (double)get(&m->route[r].sum_us) / 1e6);
		fprintf(fp, "%s_count{route=\"%s\"} %" PRIu64 "\n", h, name[r],
		    cum);
	}
}

int
pingoo_metrics_write(const struct pingoo_metrics *m,
    const char *const *name, FILE *fp)
{
	uint64_t depth = 0;
	size_t i;

	write_requests(m, name, fp);
	write_histogram(m, name, fp);
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		write_family(m, &families[i], fp);
	for (i = 0; i < m->slots; i++)
		depth += get(&m->queue[i]);
	fprintf(fp, "# HELP pingoo_echo_queue_depth Echoed samples waiting for "
	    "the writer, summed over the worker processes.\n"
	    "# TYPE pingoo_echo_queue_depth gauge\n"
	    "pingoo_echo_queue_depth %" PRIu64 "\n", depth);
	return ferror(fp) ? -1 : 0;
}
