/*
 * metrics.h - the server's counters, in memory shared by every worker
 * process of a host (mapped before the supervisor forks, as the live-test
 * table is), and their Prometheus text exposition.  Adds are atomic and
 * take no lock; a scrape reads whatever the counters hold at that moment.
 */
#ifndef PINGOO_METRICS_H
#define PINGOO_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The plain counters; metrics.c names each family. */
enum pingoo_counter {
	PINGOO_M_PING_CREATED,
	PINGOO_M_TP_CREATED,
	PINGOO_M_PING_COMPLETED,
	PINGOO_M_TP_COMPLETED,
	PINGOO_M_SAMPLES,		/* ping samples written */
	PINGOO_M_DOWNLOAD_OK,		/* packets recorded, by direction */
	PINGOO_M_DOWNLOAD_FAILED,	/* and outcome */
	PINGOO_M_UPLOAD_OK,
	PINGOO_M_UPLOAD_FAILED,
	PINGOO_M_DB_ERRORS,		/* statements the server refused or lost */
	PINGOO_M_DB_RECONNECTS,		/* connections made again after a loss */
	PINGOO_M_WORKERS_REPLACED,
	PINGOO_M_PING_DELETED,		/* tests deleted by their user */
	PINGOO_M_TP_DELETED,
	PINGOO_M_PING_EXPIRED,		/* tests removed by the retention */
	PINGOO_M_TP_EXPIRED,
	PINGOO_M__COUNTERS
};

/* The latency histogram's upper bounds, in µs (then +Inf). */
#define PINGOO_M_BUCKETS 15

struct pingoo_metrics;

/* Maps a table for `routes` routes and `slots` worker processes (the
 * queue-depth gauge has one slot each).  NULL when mapping fails. */
struct pingoo_metrics	*pingoo_metrics_new(size_t routes, size_t slots);
void			 pingoo_metrics_free(struct pingoo_metrics *);
/* Makes m the table pingoo_metrics_add counts into in this process (the
 * store counts its errors there); NULL stops the counting. */
void			 pingoo_metrics_use(struct pingoo_metrics *m);
/* Adds n to a counter of the table in use; nothing when there is none. */
void			 pingoo_metrics_add(enum pingoo_counter, uint64_t n);
/* One request answered: its route index, HTTP status and duration. */
void			 pingoo_metrics_request(struct pingoo_metrics *,
			    size_t route, int status, int64_t duration_us);
/* Sets a worker process's slot of the echo writer's queue depth. */
void			 pingoo_metrics_queue(struct pingoo_metrics *,
			    size_t slot, uint64_t depth);
/* Writes the exposition (text format 0.0.4) to fp; route_name[i] labels
 * route i.  Returns 0, or -1 when fp failed. */
int			 pingoo_metrics_write(const struct pingoo_metrics *,
			    const char *const *route_name, FILE *fp);

#endif
