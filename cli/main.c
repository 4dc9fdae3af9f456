/* main.c - pingoo(1): the command table, the global options, the signals. */
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

#define WIDTH		80	/* of every line help prints */
#define SUMMARY_COL	23	/* where a command's summary starts */

/*
 * A command, as tmux's cmd_entry: pingoo help, pingoo COMMAND --help and
 * a usage error all print from this, so no usage is written twice.
 */
struct cmd_entry {
	const char	*name;
	int		(*run)(const struct cli_opts *, int, char **);
	const char	*usage;		/* after "pingoo NAME" */
	const char	*summary;	/* a line for pingoo help */
};

static int	cmd_help(const struct cli_opts *, int, char **);
static int	cmd_version(const struct cli_opts *, int, char **);

static const struct cmd_entry cmds[] = {
	{ "login", cmd_login, "[URL] USER",
	    "get a token (password on the terminal or standard input)" },
	{ "logout", cmd_logout, "[--all]",
	    "revoke the saved login (--all: every login of the user)" },
	{ "me", cmd_me, "",
	    "print the logged-in user" },
	{ "ping", cmd_ping, "[-c COUNT] [-i INTERVAL_MS]",
	    "run a ping test; print its samples and summary" },
	{ "throughput", cmd_throughput, "[-d download|upload|both] "
	    "[-t SECONDS | [-n PACKETS] [-s SIZE] [-P STREAMS]] [-B] [-N] [-q]",
	    "run a throughput test, timed or N x S: rates, latency" },
	{ "history", cmd_history, "[-k ping|throughput] [-l LIMIT] [-c CURSOR]",
	    "list the tests, newest first" },
	{ "show", cmd_show, "[-k ping|throughput] ID",
	    "print one test with its samples or transfers" },
	{ "help", cmd_help, "[COMMAND]",
	    "print this text, or a command's usage" },
	{ "version", cmd_version, "",
	    "print the client's version and libcurl's" },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static const char globals_usage[] = "[--json] [--cacert FILE] [--url URL] "
    "[--resolve HOST:PORT:ADDR] [--http1.1 | --http2] [--help] "
    "COMMAND [ARGS]";

static const char exits_text[] =
    "exit: 0 ok, 1 local error, 2 usage, 3 network, 4 authentication, "
    "5 server,\n      130 interrupted\n";

/* The length of the word at s: a [...] group is one, spaces and all. */
static size_t
word_len(const char *s)
{
	size_t	 n;
	int	 depth = 0;

	for (n = 0; s[n] != '\0' && (s[n] != ' ' || depth > 0); n++)
		depth += s[n] == '[' ? 1 : s[n] == ']' ? -1 : 0;
	return n;
}

/*
 * Prints lead, then text's words after it, a new line (indented to lead's
 * width) before a word that would pass WIDTH; so an option never parts
 * from its argument.  Returns the column it stopped at.
 */
static size_t
wrap(FILE *fp, const char *lead, const char *text)
{
	size_t	 indent = strlen(lead), col = indent, n;

	fputs(lead, fp);
	while (*(text += strspn(text, " ")) != '\0') {
		n = word_len(text);
		if (col > indent && col + 1 + n > WIDTH) {
			fprintf(fp, "\n%*s", (int)indent, "");
			col = indent;
		}
		fprintf(fp, " %.*s", (int)n, text);
		col += 1 + n;
		text += n;
	}
	return col;
}

/* The line a usage error prints: "usage: pingoo NAME USAGE". */
static void
print_usage(FILE *fp, const struct cmd_entry *c)
{
	char	 lead[64];

	snprintf(lead, sizeof(lead), "usage: pingoo %s", c->name);
	wrap(fp, lead, c->usage);
	fputc('\n', fp);
}

/* Everything: the global options, then every command with its summary. */
static void
print_help(FILE *fp)
{
	char	 lead[64];
	size_t	 i, col;

	wrap(fp, "usage: pingoo", globals_usage);
	fputs("\ncommands:\n", fp);
	for (i = 0; i < NCMDS; i++) {
		snprintf(lead, sizeof(lead), "  %s", cmds[i].name);
		col = wrap(fp, lead, cmds[i].usage);
		/* The summary beside a short usage, else below it. */
		if (strlen(lead) + strlen(cmds[i].usage) + 3 > SUMMARY_COL) {
			fputc('\n', fp);
			col = 0;
		}
		fprintf(fp, "%*s%s\n", (int)(SUMMARY_COL - col), "",
		    cmds[i].summary);
	}
	fputs(exits_text, fp);
	fputs("See pingoo(1).\n", fp);
}

/* The command of that name; -h and --version spell two as usual. */
static const struct cmd_entry *
find_cmd(const char *name)
{
	size_t	 i;

	if (strcmp(name, "-h") == 0)
		name = "help";
	else if (strcmp(name, "--version") == 0)
		name = "version";
	for (i = 0; i < NCMDS; i++)
		if (strcmp(name, cmds[i].name) == 0)
			return &cmds[i];
	return NULL;
}

/* The complaint about a name that is no command, and the whole help. */
static int
no_such_cmd(const char *name)
{
	fprintf(stderr, "pingoo: %s: no such command\n", name);
	print_help(stderr);
	return cli_exit(CLI_ERR_USAGE);
}

/* pingoo COMMAND --help: its usage and summary, on stdout. */
static int
help_of(const struct cmd_entry *c)
{
	print_usage(stdout, c);
	printf("%s\nSee pingoo(1).\n", c->summary);
	return 0;
}

/* pingoo help [COMMAND] (and -h): help asked for is no error. */
static int
cmd_help(const struct cli_opts *o, int argc, char **argv)
{
	const struct cmd_entry	*c;

	if (argc > 2)
		return CLI_USAGE;
	if (argc == 1) {
		print_help(stdout);
		return 0;
	}
	if ((c = find_cmd(argv[1])) == NULL)
		return no_such_cmd(argv[1]);
	return help_of(c);
}

/* pingoo version (and --version): libcurl's too, for its TLS and HTTP/2. */
static int
cmd_version(const struct cli_opts *o, int argc, char **argv)
{
	if (argc != 1)
		return CLI_USAGE;
	printf("pingoo %s (%s)\n", PACKAGE_VERSION, curl_version());
	return 0;
}

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
		fprintf(stderr, "pingoo: %s: not a number in %lld..%lld\n",
		    s, min, max);
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

/*
 * The value of --name VALUE or --name=VALUE at argv[*i]; NULL when argv[*i]
 * is not it.
 */
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
		else if (strcmp(argv[i], "--help") == 0)
			o->help = 1;
		else if (strcmp(argv[i], "--http1.1") == 0)
			o->http = CURL_HTTP_VERSION_1_1;
		else if (strcmp(argv[i], "--http2") == 0)
			o->http = CURL_HTTP_VERSION_2TLS;
		else if ((v = long_value(argc, argv, &i, "--cacert",
		    &bad)) != NULL)
			o->cacert = v;
		else if ((v = long_value(argc, argv, &i, "--url",
		    &bad)) != NULL)
			o->url = v;
		else if ((v = long_value(argc, argv, &i, "--resolve",
		    &bad)) != NULL) {
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

/*
 * Runs c with what is left of argv, its global options taken out; a
 * command line it refuses gets its usage.
 */
static int
run_cmd(const struct cmd_entry *c, struct cli_opts *o, int argc, char **argv)
{
	struct sigaction	 sa;
	const char		*ca;
	int			 rc;

	if (o->cacert == NULL && (ca = getenv("PINGOO_CA_FILE")) != NULL &&
	    ca[0] != '\0')
		o->cacert = ca;
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
		return cli_exit(CLI_ERR_LOCAL);
	}
	if ((rc = c->run(o, argc, argv)) == CLI_USAGE) {
		print_usage(stderr, c);
		rc = cli_exit(CLI_ERR_USAGE);
	}
	fflush(stdout);
	curl_global_cleanup();
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_opts		 o;
	const struct cmd_entry	*c;
	int			 n, rc;

	memset(&o, 0, sizeof(o));
	o.http = CURL_HTTP_VERSION_2TLS;
	if ((n = globals(argc - 1, argv + 1, &o)) == -1) {
		print_help(stderr);
		rc = cli_exit(CLI_ERR_USAGE);
	} else if (n == 0) {
		/* No command: help when asked for, else a usage error. */
		print_help(o.help ? stdout : stderr);
		rc = o.help ? 0 : cli_exit(CLI_ERR_USAGE);
	} else if ((c = find_cmd(argv[1])) == NULL)
		rc = no_such_cmd(argv[1]);
	else if (o.help)
		rc = help_of(c);
	else
		rc = run_cmd(c, &o, n, argv + 1);
	curl_slist_free_all(o.resolve);
	return rc;
}
