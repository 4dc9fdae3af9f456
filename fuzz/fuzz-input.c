/* fuzz-input.c - libFuzzer harness: every request validator.  The first
 * byte picks the validator (lib/input/input.h's kinds; 0 runs the strict JSON
 * parser alone); the rest is the query string of a list, export,
 * aggregates or download route, or the JSON body the validator reads after
 * strict parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "auth/auth.h"
#include "core/core.h"
#include "input/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pingoo_config cfg;
	struct pingoo_input_src src;
	struct pingoo_input in;
	struct pingoo_fault f;
	enum pingoo_input_kind k;
	pingoo_validator v;
	char *query = NULL;

	if (size < 1)
		return 0;
	if (cfg.list_max_limit == 0) {
		pingoo_config_defaults(&cfg);
		memcpy(cfg.jwt_key, "fuzzing key, thirty-two bytes!!!", 32);
		cfg.jwt_key_len = 32;
		(void)pingoo_keys_derive(&cfg);
	}
	k = (enum pingoo_input_kind)(data[0] % PINGOO_IN__MAX);
	memset(&src, 0, sizeof(src));
	src.cfg = &cfg;
	src.query = "";
	src.test_id = 1;
	src.user_id = 1;
	if (k == PINGOO_IN_PAGE || k == PINGOO_IN_EXPORT ||
	    k == PINGOO_IN_AGGREGATES || k == PINGOO_IN_TP_PACKET) {
		if ((query = malloc(size)) == NULL)
			return 0;
		memcpy(query, data + 1, size - 1);
		query[size - 1] = '\0';
		src.query = query;
	} else if (pingoo_json_parse((const char *)data + 1, size - 1, 8,
	    &src.body, &f) != PINGOO_OK)
		return 0;
	if ((v = pingoo_input_validator(k)) != NULL &&
	    v(&src, &in, &f) == PINGOO_OK) {
		/* A success must say what it holds. */
		if (in.kind != k)
			__builtin_trap();
		pingoo_input_clear(&in);
	}
	if (src.body != NULL)
		json_object_put(src.body);
	free(query);
	return 0;
}
