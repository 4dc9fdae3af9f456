/* test-sql.c - the store's tables of SQL text, one per concern, each
 * indexed by its own enum: every statement of every table is there (the
 * tables' designated initializers would leave a gap NULL, for the runner
 * to hand to MySQL).  No database is needed. */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "../tap.h"

static const struct {
	const char			*file;
	const struct pingoo_sql_table	*t;
} tables[] = {
	{ "user.c", &pingoo_sql_user },
	{ "ping.c", &pingoo_sql_ping },
	{ "tp.c", &pingoo_sql_tp },
	{ "migrate.c", &pingoo_sql_misc },
	{ "probe.c", &pingoo_sql_probe },
	{ "data.c", &pingoo_sql_data },
	{ "revoke.c", &pingoo_sql_revoke },
	{ "deletion.c", &pingoo_sql_deletion },
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* A client description stored at the largest max_client_bytes the
 * configuration takes reads back whole: the buffer the store reads it into
 * holds that many bytes and a NUL, and the TEXT columns hold 65535. */
static void
test_client_cap(void)
{
	struct pingoo_config_key key;
	size_t i;
	int found = 0;

	for (i = 0; pingoo_config_key(i, &key); i++)
		if (strcmp(key.name, "max_client_bytes") == 0) {
			found = 1;
			break;
		}
	ok(found && key.max + 1 <= PINGOO_STORE_CLIENT_CAP,
	    "the store's client buffer (%d bytes) holds a description of "
	    "max_client_bytes' ceiling (%llu) and a NUL",
	    (int)PINGOO_STORE_CLIENT_CAP,
	    found ? (unsigned long long)key.max : 0ULL);
	ok(found && key.max <= 65535, "max_client_bytes' ceiling fits a TEXT "
	    "column (65535 bytes)");
}

/* The connector's TLS options follow db_ssl_ca and db_ssl_verify. */
static void
test_tls(void)
{
	struct pingoo_config c;
	const char *ca;
	int verify;

	pingoo_config_defaults(&c);
	ok(pingoo_store_tls(&c, &ca, &verify) == 0 && ca == NULL,
	    "no db_ssl_ca: no TLS option is set");
	snprintf(c.db_ssl_ca, sizeof(c.db_ssl_ca), "/etc/pingoo/db-ca.pem");
	ok(pingoo_store_tls(&c, &ca, &verify) == 1 && ca == c.db_ssl_ca &&
	    verify == 1, "db_ssl_ca: MYSQL_OPT_SSL_CA, and the server's "
	    "certificate verified by default");
	c.db_ssl_verify = 0;
	ok(pingoo_store_tls(&c, &ca, &verify) == 1 && verify == 0,
	    "db_ssl_verify = 0: TLS without the verification");
	snprintf(c.db_socket, sizeof(c.db_socket), "/run/mysqld.sock");
	ok(pingoo_store_tls(&c, &ca, &verify) == 0,
	    "over a unix socket no TLS option is set");
}

int
main(void)
{
	const char *sql;
	size_t k;
	int i, n, total = 0, filled = 1, sized = 1;

	for (k = 0; k < NTABLES; k++) {
		n = tables[k].t->n;
		if (n <= 0 || n > PINGOO_SQL_PER_DOMAIN) {
			diag("%s has %d statements", tables[k].file, n);
			sized = 0;
		}
		for (i = 0; i < n; i++) {
			sql = tables[k].t->sql[i];
			if (sql == NULL || strlen(sql) < 10) {
				diag("%s: statement %d is missing",
				    tables[k].file, i);
				filled = 0;
			}
		}
		total += n;
	}
	ok(NTABLES == PINGOO_SQL__DOMAINS, "the %d tables are the store's %d",
	    (int)NTABLES, PINGOO_SQL__DOMAINS);
	ok(sized, "each table has statements, at most %d",
	    PINGOO_SQL_PER_DOMAIN);
	ok(filled, "each of the %d statements has its SQL text", total);
	ok(strncmp(pingoo_sql_user.sql[0], "INSERT INTO users", 17) == 0,
	    "a statement is found by its table and index");
	test_client_cap();
	test_tls();
	return tap_done();
}
