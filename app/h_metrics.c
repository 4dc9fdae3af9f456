/*
 * h_metrics.c - GET /metrics: the counters of every worker process of this
 * host in the Prometheus text format.  nginx answers only the addresses of
 * metrics_allow; the counters are metrics.c's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "core/core.h"

/* 200 text/plain; 500 when the text cannot be made. */
void
h_metrics(struct req *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL) {
		reply_err(r, PINGOO_ERR_NOMEM);
		return;
	}
	if (metrics_write(fp) != 0 || fclose(fp) != 0) {
		free(text);
		reply_err(r, PINGOO_ERR_NOMEM);
		return;
	}
	if (reply_head(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (int64_t)len) == 0)
		FCGX_PutStr(text, (int)len, r->fcgx->out);
	free(text);
}
