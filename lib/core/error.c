/* error.c - names and sentences for the core's error enum. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static const char *const messages[PINGOO_ERR__MAX] = {
	"success",			/* PINGOO_OK */
	"out of memory",		/* PINGOO_ERR_NOMEM */
	"invalid input",		/* PINGOO_ERR_INVAL */
	"value out of range",		/* PINGOO_ERR_RANGE */
	"limit exceeded",		/* PINGOO_ERR_TOOBIG */
	"not found",			/* PINGOO_ERR_NOTFOUND */
	"already done",			/* PINGOO_ERR_CONFLICT */
	"not allowed in this state",	/* PINGOO_ERR_STATE */
	"authentication failed",	/* PINGOO_ERR_AUTH */
	"database unavailable",		/* PINGOO_ERR_DB */
	"input/output error",		/* PINGOO_ERR_IO */
	"bad configuration",		/* PINGOO_ERR_CONFIG */
	"internal error",		/* PINGOO_ERR_INTERNAL */
};

/* Default machine codes, used when a fault carries none (docs/api.md). */
static const char *const codes[PINGOO_ERR__MAX] = {
	"ok",				/* PINGOO_OK */
	"internal_error",		/* PINGOO_ERR_NOMEM */
	"invalid_field",		/* PINGOO_ERR_INVAL */
	"out_of_range",			/* PINGOO_ERR_RANGE */
	"limit_exceeded",		/* PINGOO_ERR_TOOBIG */
	"not_found",			/* PINGOO_ERR_NOTFOUND */
	"conflict",			/* PINGOO_ERR_CONFLICT */
	"invalid_state",		/* PINGOO_ERR_STATE */
	"unauthorized",			/* PINGOO_ERR_AUTH */
	"database_unavailable",		/* PINGOO_ERR_DB */
	"internal_error",		/* PINGOO_ERR_IO */
	"internal_error",		/* PINGOO_ERR_CONFIG */
	"internal_error",		/* PINGOO_ERR_INTERNAL */
};

const char *
pingoo_strerror(enum pingoo_err e)
{
	if ((unsigned)e >= PINGOO_ERR__MAX)
		return "unknown error";
	return messages[e];
}

const char *
pingoo_errcode(enum pingoo_err e)
{
	if ((unsigned)e >= PINGOO_ERR__MAX)
		return "internal_error";
	return codes[e];
}

/*
 * Fills a fault (when f is not NULL) and returns e, so validators can say
 * `return pingoo_fault_set(f, PINGOO_ERR_RANGE, NULL, "count", "...")`.
 */
enum pingoo_err
pingoo_fault_set(struct pingoo_fault *f, enum pingoo_err e, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	if (f == NULL)
		return e;
	f->err = e;
	f->code = code != NULL ? code : pingoo_errcode(e);
	snprintf(f->field, sizeof(f->field), "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return e;
}
