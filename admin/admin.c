/*
 * admin.c - pingoo-admin: schema migrations and user accounts.  Passwords
 * come from standard input, never from argv (which any local user can read
 * in /proc).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "auth/auth.h"
#include "core/core.h"
#include "input/input.h"
#include "store/store.h"

/* Prints how to call pingoo-admin and exits with status 2. */
static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pingoo-admin [-c file] migrate [-d schemadir]\n"
	    "       pingoo-admin [-c file] user add|passwd name  "
	    "(password on standard input)\n"
	    "       pingoo-admin [-c file] user del name\n"
	    "       pingoo-admin [-c file] user list\n"
	    "       pingoo-admin config-keys\n"
	    "       pingoo-admin -V | --version\n");
	exit(2);
}

static void
log_applied(void *arg, const char *name)
{
	(void)arg;
	printf("applied %s\n", name);
}

static int
cmd_migrate(const struct pingoo_config *cfg, int argc, char *argv[])
{
	struct pingoo_store *s;
	struct pingoo_fault f;
	const char *dir = PINGOO_SCHEMADIR;
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt(argc, argv, "d:")) != -1) {
		if (ch != 'd')
			usage();
		dir = optarg;
	}
	if ((s = pingoo_store_new(cfg, 1)) == NULL)
		return 1;
	if (pingoo_migrate(s, dir, log_applied, NULL, &f) != PINGOO_OK)
		fprintf(stderr, "pingoo-admin: migrate: %s\n", f.message);
	else {
		printf("schema up to date\n");
		rc = 0;
	}
	pingoo_store_free(s);
	return rc;
}

/* The first line of standard input, without its newline. */
static int
read_password(char *buf, size_t cap)
{
	size_t n;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password: ");
	if (fgets(buf, (int)cap, stdin) == NULL)
		return -1;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

static enum pingoo_err
print_user(const struct pingoo_user *u, void *arg)
{
	(void)arg;
	printf("%llu\t%s\t%lld\n", (unsigned long long)u->id, u->name,
	    (long long)u->created_at);
	return PINGOO_OK;
}

static int
cmd_user(const struct pingoo_config *cfg, int argc, char *argv[])
{
	struct pingoo_store *s = NULL;
	struct pingoo_fault f;
	char pw[1100], hash[PINGOO_HASH_MAX];
	const char *verb, *name = NULL;
	uint64_t id;
	enum pingoo_err e = PINGOO_ERR_INVAL;
	int rc = 1;

	if (argc < 2)
		usage();
	verb = argv[1];
	if (strcmp(verb, "list") != 0) {
		if (argc != 3)
			usage();
		name = argv[2];
		if (pingoo_valid_username(name, &f) != PINGOO_OK) {
			fprintf(stderr, "pingoo-admin: %s\n", f.message);
			return 1;
		}
	}
	/* The migration account, when the file names one: the workers' may
	 * only read users, so that a compromised worker cannot make itself a
	 * user or change a password. */
	if ((s = pingoo_store_new(cfg, 1)) == NULL)
		return 1;
	if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
		if (read_password(pw, sizeof(pw)) != 0) {
			fprintf(stderr, "pingoo-admin: no password on standard "
			    "input\n");
			goto out;
		}
		if (pingoo_valid_password(pw, &f) != PINGOO_OK) {
			explicit_bzero(pw, sizeof(pw));
			fprintf(stderr, "pingoo-admin: %s\n", f.message);
			goto out;
		}
		if ((e = pingoo_password_hash(pw, hash)) == PINGOO_OK)
			e = strcmp(verb, "add") == 0 ?
			    pingoo_user_add(s, name, hash, &id) :
			    pingoo_user_passwd(s, name, hash);
		explicit_bzero(pw, sizeof(pw));
	} else if (strcmp(verb, "del") == 0)
		e = pingoo_user_del(s, name);
	else if (strcmp(verb, "list") == 0)
		e = pingoo_user_each(s, print_user, NULL);
	else
		usage();
	if (e == PINGOO_ERR_CONFLICT)
		fprintf(stderr, "pingoo-admin: user %s already exists\n", name);
	else if (e == PINGOO_ERR_NOTFOUND)
		fprintf(stderr, "pingoo-admin: no user %s\n", name);
	else if (e != PINGOO_OK)
		fprintf(stderr, "pingoo-admin: %s: %s\n", pingoo_strerror(e),
		    pingoo_store_errmsg(s));
	else
		rc = 0;
out:
	pingoo_store_free(s);
	return rc;
}

/* The configuration's keys, one a line: name, type, default (- when
 * none), range (- when not a number) and what it is, tab-separated. */
static int
cmd_config_keys(void)
{
	static const char *const types[] = { "number", "string", "file" };
	struct pingoo_config_key k;
	char range[48];
	size_t i;

	for (i = 0; pingoo_config_key(i, &k); i++) {
		if (k.type == PINGOO_CONFIG_NUMBER)
			snprintf(range, sizeof(range), "%llu..%llu",
			    (unsigned long long)k.min,
			    (unsigned long long)k.max);
		else
			snprintf(range, sizeof(range), "-");
		printf("%s\t%s\t%s\t%s\t%s\n", k.name, types[k.type],
		    k.def == NULL ? "-" : k.def[0] == '\0' ? "\"\"" : k.def,
		    range, k.desc);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct pingoo_config cfg;
	struct pingoo_fault f;
	const char *cfgfile = getenv("PINGOO_CONFIG");
	int ch, rc;

	memset(&f, 0, sizeof(f));
	while ((ch = getopt_long(argc, argv, "+c:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgfile = optarg; break;
		case 'V': printf("pingoo-admin %s\n", PACKAGE_VERSION); return 0;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	/* Needs no configuration: it describes it. */
	if (strcmp(argv[0], "config-keys") == 0) {
		if (argc != 1)
			usage();
		return cmd_config_keys();
	}
	if (cfgfile == NULL || *cfgfile == '\0') {
		fprintf(stderr, "pingoo-admin: no configuration: use -c FILE or "
		    "set PINGOO_CONFIG\n");
		return 1;
	}
	if (pingoo_config_load(&cfg, cfgfile, &f) != PINGOO_OK) {
		fprintf(stderr, "pingoo-admin: %s: %s\n", cfgfile, f.message);
		return 1;
	}
	if (pingoo_store_library_init() != PINGOO_OK) {
		fprintf(stderr, "pingoo-admin: the MySQL client library did "
		    "not start\n");
		return 1;
	}
	if (strcmp(argv[0], "migrate") == 0)
		rc = cmd_migrate(&cfg, argc, argv);
	else if (strcmp(argv[0], "user") == 0)
		rc = cmd_user(&cfg, argc, argv);
	else
		usage();
	pingoo_store_library_end();
	return rc;
}
