/* fault.c - a failure's class, its exit status and its line on stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The exit statuses documented in pingoo(1), indexed by enum cli_err. */
static const int exits[CLI_ERR__MAX] = {
	0,	/* CLI_OK */
	1,	/* CLI_ERR_LOCAL */
	2,	/* CLI_ERR_USAGE */
	3,	/* CLI_ERR_NET */
	4,	/* CLI_ERR_AUTH */
	5,	/* CLI_ERR_SERVER */
	130,	/* CLI_ERR_INTR */
};

/*
 * Fills f and returns err, so a caller can write `return cli_fail(...)`.
 * code may be NULL (nothing to add); the message is cut to fit.
 */
enum cli_err
cli_fail(struct cli_fault *f, enum cli_err err, long status, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;

	f->err = err;
	f->status = status;
	snprintf(f->code, sizeof(f->code), "%s", code ? code : "");
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return err;
}

/* Memory ran out: a local failure with nothing more to say. */
enum cli_err
cli_nomem(struct cli_fault *f)
{
	return cli_fail(f, CLI_ERR_LOCAL, 0, NULL, "out of memory");
}

/* A system call failed on what: a local failure, with errno's reason. */
enum cli_err
cli_syserr(struct cli_fault *f, const char *what)
{
	return cli_fail(f, CLI_ERR_LOCAL, 0, NULL, "%s: %s", what,
	    strerror(errno));
}

int
cli_exit(enum cli_err err)
{
	if (err < 0 || err >= CLI_ERR__MAX)
		return 1;
	return exits[err];
}

/* One line: "pingoo: message (code, HTTP status)". */
void
cli_report(const struct cli_fault *f)
{
	if (f->code[0] != '\0' && f->status > 0)
		fprintf(stderr, "pingoo: %s (%s, HTTP %ld)\n", f->message,
		    f->code, f->status);
	else if (f->code[0] != '\0')
		fprintf(stderr, "pingoo: %s (%s)\n", f->message, f->code);
	else
		fprintf(stderr, "pingoo: %s\n", f->message);
}

/* Reports f and returns the exit status for it. */
int
cli_failed(const struct cli_fault *f)
{
	cli_report(f);
	return cli_exit(f->err);
}
