/*
 * main.c - pingoo-fcgi: reads the configuration, finds the FastCGI socket
 * (fd 0 from spawn-fcgi, or one it opens itself) and runs the pool; with
 * -u, started as root, it becomes that user only once the configuration
 * and every secret it names have been read, so those files can stay
 * root's alone (mode 0600) and the workers' account never reads them.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "app.h"

static void
usage(void)
{
	fprintf(stderr, "usage: pingoo-fcgi [-T] [-c file] [-l socket|host:port] "
	    "[-p processes] [-t threads] [-u user]\n"
	    "       pingoo-fcgi -V | --version\n");
	exit(2);
}

static int
int_arg(const char *s, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		usage();
	return (int)v;
}

/* fd 0 must be a listening socket when spawn-fcgi started us. */
static int
stdin_is_socket(void)
{
	struct stat st;

	return fstat(0, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int
open_listener(const char *where)
{
	int fd;

	if ((fd = FCGX_OpenSocket(where, 1024)) < 0)
		return -1;
	/* A unix socket is for nginx's group only (CVE-2025-23016). */
	if (where[0] == '/')
		chmod(where, 0660);
	return fd;
}

/*
 * Becomes the user called name: its groups, its group, then its uid, in
 * that order (a setuid first would leave no right to change the groups).
 * Refuses root, and checks that root cannot be had back.  The process is
 * then made non-dumpable (whatever fs.suid_dumpable says), so another
 * process of that account cannot ptrace it or read its memory for the
 * secrets either.
 */
static int
become(const char *name)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		fprintf(stderr, "pingoo-fcgi: -u %s: %s\n", name,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "pingoo-fcgi: -u %s: will not run as root\n",
		    name);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "pingoo-fcgi: -u %s: %s\n", name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || getegid() != pw->pw_gid) {
		fprintf(stderr, "pingoo-fcgi: -u %s: privileges not dropped\n",
		    name);
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "pingoo-fcgi: -u %s: PR_SET_DUMPABLE: %s\n",
		    name, strerror(errno));
		return -1;
	}
	return 0;
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
	const char *cfgfile = getenv("PINGOO_CONFIG"), *listen = NULL;
	const char *user = NULL;
	int ch, fd, processes = -1, threads = -1, testonly = 0;

	while ((ch = getopt_long(argc, argv, "c:l:p:t:Tu:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': cfgfile = optarg; break;
		case 'l': listen = optarg; break;
		case 'p': processes = int_arg(optarg, 0, 64); break;
		case 't': threads = int_arg(optarg, 1, 1024); break;
		case 'T': testonly = 1; break;
		case 'u': user = optarg; break;
		case 'V': printf("pingoo-fcgi %s\n", PACKAGE_VERSION); return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (cfgfile == NULL || *cfgfile == '\0') {
		fprintf(stderr, "pingoo-fcgi: no configuration: use -c FILE or "
		    "set PINGOO_CONFIG\n");
		return 1;
	}
	if (pingoo_config_load(&cfg, cfgfile, &f) != PINGOO_OK ||
	    pingoo_config_check(&cfg, &f) != PINGOO_OK) {
		fprintf(stderr, "pingoo-fcgi: %s: %s\n", cfgfile, f.message);
		return 1;
	}
	if (pingoo_keys_derive(&cfg) != PINGOO_OK) {
		fprintf(stderr, "pingoo-fcgi: %s: the keys of tokens and "
		    "samples could not be derived from jwt_key\n", cfgfile);
		return 1;
	}
	if (pingoo_token_check_keys(&cfg, &f) != PINGOO_OK) {
		fprintf(stderr, "pingoo-fcgi: %s: %s\n", cfgfile, f.message);
		return 1;
	}
	if (processes >= 0)
		cfg.processes = processes;
	if (threads > 0)
		cfg.threads = threads;
	if (testonly) {
		printf("pingoo-fcgi: %s: configuration ok\n", cfgfile);
		return 0;
	}
	if (listen == NULL && cfg.listen[0] != '\0')
		listen = cfg.listen;
	if (listen != NULL) {
		if ((fd = open_listener(listen)) < 0) {
			fprintf(stderr, "pingoo-fcgi: cannot listen on %s: %s\n",
			    listen, strerror(errno));
			return 1;
		}
	} else if (stdin_is_socket())
		fd = 0;
	else {
		fprintf(stderr, "pingoo-fcgi: standard input is not a socket: "
		    "start me with spawn-fcgi or give -l\n");
		return 1;
	}
	/* Everything that needs root is done: the secrets are in cfg. */
	if (user != NULL && become(user) != 0)
		return 1;
	return pool_run(&cfg, fd);
}
