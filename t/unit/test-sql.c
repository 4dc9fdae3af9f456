/* test-sql.c - the store's tables of SQL text, one per domain, each
 * indexed by its own enum: every statement of every domain is there (the
 * tables' designated initializers would leave a gap NULL), and nothing is
 * found outside them.  No database is needed. */
#include <string.h>

#include "store/store_int.h"
#include "../tap.h"

int
main(void)
{
	const char *sql;
	int d, i, n, total = 0, filled = 1, sized = 1;

	for (d = 0; d < PINGOO_SQL__DOMAINS; d++) {
		n = pingoo_store_sql_count(d);
		if (n <= 0 || n > PINGOO_SQL_PER_DOMAIN) {
			diag("domain %d has %d statements", d, n);
			sized = 0;
		}
		for (i = 0; i < n; i++) {
			sql = pingoo_store_sql(d, i);
			if (sql == NULL || strlen(sql) < 10) {
				diag("domain %d statement %d is missing", d, i);
				filled = 0;
			}
		}
		if (pingoo_store_sql(d, n) != NULL || pingoo_store_sql(d, -1) !=
		    NULL)
			sized = 0;
		total += n;
	}
	ok(sized, "each of the %d domains has its statements, at most %d",
	    PINGOO_SQL__DOMAINS, PINGOO_SQL_PER_DOMAIN);
	ok(filled, "each of the %d statements has its SQL text", total);
	ok(pingoo_store_sql_count(PINGOO_SQL__DOMAINS) == 0 &&
	    pingoo_store_sql_count(-1) == 0 &&
	    pingoo_store_sql(PINGOO_SQL__DOMAINS, 0) == NULL,
	    "no domain outside the enum");
	ok(strncmp(pingoo_store_sql(PINGOO_SQL_USER, 0), "INSERT INTO users",
	    17) == 0, "a statement is found by its domain and index");
	return tap_done();
}
