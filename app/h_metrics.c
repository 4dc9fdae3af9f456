/*
 * h_metrics.c - GET /metrics: the counters of every worker process of this
 * host in the Prometheus text format.  nginx answers only the addresses of
 * metrics_allow; the table itself is lib/shm/metrics.c, mapped here before the
 * supervisor forks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "core/core.h"
#include "shm/shm.h"

/* Every route, then requests that matched none, then CORS preflights. */
#define ROUTE_NONE	ROUTE__MAX
#define ROUTE_PREFLIGHT	(ROUTE__MAX + 1)
#define METRIC_ROUTES	(ROUTE__MAX + 2)

static struct pingoo_metrics *table;
static size_t slot;		/* this worker process's queue-depth slot */

int
metrics_init(const struct pingoo_config *cfg)
{
	size_t slots = cfg->processes > 0 ? (size_t)cfg->processes : 1;

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

	if (r->route_name != NULL && r->route_name == route_name(r->m.route))
		route = r->m.route;
	else if (r->preflight)
		route = ROUTE_PREFLIGHT;
	pingoo_metrics_request(table, route, r->status,
	    pingoo_mono_us() - r->mono_start);
}

/* 200 text/plain; 500 when the text cannot be made. */
void
h_metrics(struct req *r)
{
	const char *name[METRIC_ROUTES];
	char *text = NULL;
	size_t len = 0, i;
	FILE *fp;

	for (i = 0; i < ROUTE__MAX; i++)
		name[i] = route_name((enum route)i);
	name[ROUTE_NONE] = "none";
	name[ROUTE_PREFLIGHT] = "preflight";
	if ((fp = open_memstream(&text, &len)) == NULL) {
		reply_err(r, PINGOO_ERR_NOMEM);
		return;
	}
	if (pingoo_metrics_write(table, name, fp) != 0 || fclose(fp) != 0) {
		free(text);
		reply_err(r, PINGOO_ERR_NOMEM);
		return;
	}
	if (reply_head(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (int64_t)len) == 0)
		FCGX_PutStr(text, (int)len, r->fcgx->out);
	free(text);
}
