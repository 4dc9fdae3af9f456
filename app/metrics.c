/*
 * metrics.c - the counters of this host's worker processes, as a service:
 * mapped by the pool before the supervisor forks (the table itself is
 * lib/shm/metrics.c), counted into by the pool, the writer and the route
 * at the end of each request, written out for GET /metrics (h_metrics.c).
 * The routes' names are given at the start, as data: nothing here calls
 * the route.
 */
#include <stdio.h>

#include "app.h"
#include "core/core.h"
#include "shm/shm.h"

/* Every route, then requests that matched none, then CORS preflights. */
#define ROUTE_NONE	ROUTE__MAX
#define ROUTE_PREFLIGHT	(ROUTE__MAX + 1)
#define METRIC_ROUTES	(ROUTE__MAX + 2)

static struct pingoo_metrics *table;
static size_t slot;		/* this worker process's queue-depth slot */
static const char *name[METRIC_ROUTES];

int
metrics_init(const struct pingoo_config *cfg,
    const char *const route_names[ROUTE__MAX])
{
	size_t slots = cfg->processes > 0 ? (size_t)cfg->processes : 1, i;

	for (i = 0; i < ROUTE__MAX; i++)
		name[i] = route_names[i];
	name[ROUTE_NONE] = "none";
	name[ROUTE_PREFLIGHT] = "preflight";
	if ((table = pingoo_metrics_new(METRIC_ROUTES, slots)) == NULL)
		return -1;
	pingoo_metrics_use(table);
	return 0;
}

void
metrics_worker(size_t i, int replaced)
{
	slot = i;
	if (replaced) {
		pingoo_metrics_add(PINGOO_M_WORKERS_REPLACED, 1);
		pingoo_metrics_queue(table, i, 0);	/* died with it */
	}
}

void
metrics_queue_depth(uint64_t depth)
{
	pingoo_metrics_queue(table, slot, depth);
}

void
metrics_request(const struct req *r)
{
	size_t route = ROUTE_NONE;

	/* Dispatched to its route: the route named it by its pattern. */
	if (r->route_name != NULL && (unsigned)r->m.route < ROUTE__MAX &&
	    r->route_name == name[r->m.route])
		route = r->m.route;
	else if (r->preflight)
		route = ROUTE_PREFLIGHT;
	pingoo_metrics_request(table, route, r->status,
	    pingoo_mono_us() - r->mono_start);
}

int
metrics_write(FILE *fp)
{
	return pingoo_metrics_write(table, name, fp);
}
