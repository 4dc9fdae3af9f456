/* h_health.c - GET /api/v1/health: is the worker up, can it reach MySQL. */
#include <json.h>

#include "config.h"
#include "app.h"

/* 200 when the database answers, 503 when it does not. */
void
h_health(struct req *r)
{
	struct json_object *o;
	int up = pingoo_store_check(r->store) == PINGOO_OK;

	o = json_object_new_object();
	json_object_object_add(o, "status",
	    json_object_new_string(up ? "ok" : "unavailable"));
	json_object_object_add(o, "database",
	    json_object_new_string(up ? "up" : "down"));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	reply_json(r, up ? 200 : 503, o);
	json_object_put(o);
}
