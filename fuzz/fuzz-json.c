/* fuzz-json.c - libFuzzer harness: strict JSON parsing and the validators
 * every request body goes through. */
#include <stdint.h>
#include <stdlib.h>

#include <json.h>

#include "pingoo.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "count", "interval_ms", "client",
	    "seq", "client_sent_at", "receipts", NULL };
	struct json_object *o = NULL;
	struct pingoo_fault f;
	const char *s;
	char *client = NULL;
	int64_t v;

	if (pingoo_json_parse((const char *)data, size, 8, &o, &f) !=
	    PINGOO_OK)
		return 0;
	(void)pingoo_json_only(o, keys, &f);
	(void)pingoo_json_int(o, "count", 1, 1, 10000, &v, &f);
	(void)pingoo_json_int(o, "seq", 0, 0, INT32_MAX, &v, &f);
	(void)pingoo_json_str(o, "username", 0, 64, &s, &f);
	if (pingoo_valid_client(o, 1024, &client, &f) == PINGOO_OK)
		free(client);
	json_object_put(o);
	return 0;
}
