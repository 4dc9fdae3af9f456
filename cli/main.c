/* main.c - pingoo(1): the global options, the signals, and the command table. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "cli.h"

volatile sig_atomic_t cli_interrupted;

enum cmd {
	CMD_LOGIN,
	CMD_LOGOUT,
	CMD_ME,
	CMD_PING,
	CMD_THROUGHPUT,
	CMD_HISTORY,
	CMD_SHOW,
	CMD__MAX
};

static const char *const cmd_names[CMD__MAX] = {
	"login", /* CMD_LOGIN */
	"logout", /* CMD_LOGOUT */
	"me", /* CMD_ME */
	"ping", /* CMD_PING */
	"throughput", /* CMD_THROUGHPUT */
	"history", /* CMD_HISTORY */
	"show", /* CMD_SHOW */
};

static int (*const cmd_run[CMD__MAX])(const struct cli_opts *, int, char **) = {
	cmd_login, /* CMD_LOGIN */
	cmd_logout, /* CMD_LOGOUT */
	cmd_me, /* CMD_ME */
	cmd_ping, /* CMD_PING */
	cmd_throughput, /* CMD_THROUGHPUT */
	cmd_history, /* CMD_HISTORY */
	cmd_show, /* CMD_SHOW */
};

static const char usage_text[] =
"usage: pingoo [--json] [--cacert FILE] [--url URL] [--resolve HOST:PORT:ADDR]\n"
"              [--http1.1 | --http2] COMMAND [ARGS]\n"
"commands:\n"
"  login [URL] USER     get a token (password on the terminal or standard input)\n"
"  logout               forget the saved login\n"
"  me                   the logged-in user\n"
"  ping [-c COUNT] [-i INTERVAL_MS]\n"
"  throughput [-d download|upload|both] [-n PACKETS] [-s SIZE] [-P STREAMS]\n"
"  history [-k ping|throughput] [-l LIMIT] [-c CURSOR]\n"
"  show [-k ping|throughput] ID\n"
"exit: 0 ok, 1 local error, 2 usage, 3 network, 4 authentication, 5 server, 130 interrupted\n"
"See pingoo(1).\n";

static void
on_signal(int sig)
{
	cli_interrupted = 1;
}

/*
 * A decimal integer in [min, max] into *out; -1 (and a line on stderr) when
 * s is anything else.
 */
int
cli_num(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "pingoo: %s: not a number in %lld..%lld\n", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* A byte count, with an optional binary suffix (k, M, G: KiB, MiB, GiB). */
int
cli_size(const char *s, long long *out)
{
	char		 num[32];
	size_t		 n = strlen(s);
	long long	 mult = 1, v;

	if (n == 0 || n >= sizeof(num)) {
		fprintf(stderr, "pingoo: %s: not a size\n", s);
		return -1;
	}
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': mult = 1024; break;
	case 'm': case 'M': mult = 1024 * 1024; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; break;
	default: break;
	}
	if (mult != 1)
		num[n - 1] = '\0';
	if (cli_num(num, 1, LLONG_MAX / mult, &v) == -1)
		return -1;
	*out = v * mult;
	return 0;
}

/* The value of --name VALUE or --name=VALUE at argv[*i]; NULL when argv[*i] is not it. */
static const char *
long_value(int argc, char **argv, int *i, const char *name, int *bad)
{
	size_t	 n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "pingoo: %s needs a value\n", name);
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

/*
 * Takes the global options out of argv wherever they stand (before "--"),
 * so `pingoo ping --json` works as well as `pingoo --json ping`.  Returns
 * the new argc, or -1 on a usage error.
 */
static int
globals(int argc, char **argv, struct cli_opts *o)
{
	const char		*v;
	struct curl_slist	*l;
	int			 i, out = 0, bad = 0, rest = 0;

	for (i = 0; i < argc && !bad; i++) {
		if (rest || argv[i][0] != '-' || argv[i][1] != '-') {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0)
			rest = 1;
		else if (strcmp(argv[i], "--json") == 0)
			o->json = 1;
		else if (strcmp(argv[i], "--http1.1") == 0)
			o->http = CURL_HTTP_VERSION_1_1;
		else if (strcmp(argv[i], "--http2") == 0)
			o->http = CURL_HTTP_VERSION_2TLS;
		else if ((v = long_value(argc, argv, &i, "--cacert", &bad)) != NULL)
			o->cacert = v;
		else if ((v = long_value(argc, argv, &i, "--url", &bad)) != NULL)
			o->url = v;
		else if ((v = long_value(argc, argv, &i, "--resolve", &bad)) != NULL) {
			if ((l = curl_slist_append(o->resolve, v)) == NULL)
				bad = 1;
			else
				o->resolve = l;
		} else if (!bad) {
			argv[out++] = argv[i];
		}
	}
	return bad ? -1 : out;
}

int
main(int argc, char **argv)
{
	struct cli_opts		 o;
	struct sigaction	 sa;
	const char		*ca;
	int			 n, rc;
	size_t			 i;

	memset(&o, 0, sizeof(o));
	o.http = CURL_HTTP_VERSION_2TLS;
	if ((n = globals(argc - 1, argv + 1, &o)) == -1) {
		fputs(usage_text, stderr);
		return cli_exit(CLI_ERR_USAGE);
	}
	if (n == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, n == 0 ? stderr : stdout);
		curl_slist_free_all(o.resolve);
		return n == 0 ? cli_exit(CLI_ERR_USAGE) : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("pingoo %s (%s)\n", PACKAGE_VERSION, curl_version());
		curl_slist_free_all(o.resolve);
		return 0;
	}
	if (o.cacert == NULL && (ca = getenv("PINGOO_CA_FILE")) != NULL && ca[0] != '\0')
		o.cacert = ca;
	for (i = 0; i < CMD__MAX; i++)
		if (strcmp(argv[1], cmd_names[i]) == 0)
			break;
	if (i == CMD__MAX) {
		fprintf(stderr, "pingoo: %s: no such command\n%s", argv[1], usage_text);
		curl_slist_free_all(o.resolve);
		return cli_exit(CLI_ERR_USAGE);
	}
	/* No SA_RESTART: a password prompt or a sleep returns at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	cli_stamp_init();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("pingoo: libcurl could not start\n", stderr);
		curl_slist_free_all(o.resolve);
		return cli_exit(CLI_ERR_LOCAL);
	}
	rc = cmd_run[i](&o, n, argv + 1);
	fflush(stdout);
	curl_global_cleanup();
	curl_slist_free_all(o.resolve);
	return rc;
}
