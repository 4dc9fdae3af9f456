/* error.c - names and sentences for the core's error enum. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static const char *const messages[] = {
	[PINGOO_OK] =			"success",
	[PINGOO_ERR_NOMEM] =		"out of memory",
	[PINGOO_ERR_INVAL] =		"invalid input",
	[PINGOO_ERR_RANGE] =		"value out of range",
	[PINGOO_ERR_TOOBIG] =		"limit exceeded",
	[PINGOO_ERR_NOTFOUND] =		"not found",
	[PINGOO_ERR_CONFLICT] =		"already done",
	[PINGOO_ERR_STATE] =		"not allowed in this state",
	[PINGOO_ERR_AUTH] =		"authentication failed",
	[PINGOO_ERR_DB] =		"database unavailable",
	[PINGOO_ERR_IO] =		"input/output error",
	[PINGOO_ERR_CONFIG] =		"bad configuration",
	[PINGOO_ERR_INTERNAL] =		"internal error",
};
PINGOO_TABLE_CHECK(messages, PINGOO_ERR__MAX);

/* Default machine codes, used when a fault carries none (docs/api.md). */
static const char *const codes[] = {
	[PINGOO_OK] =			"ok",
	[PINGOO_ERR_NOMEM] =		"internal_error",
	[PINGOO_ERR_INVAL] =		"invalid_field",
	[PINGOO_ERR_RANGE] =		"out_of_range",
	[PINGOO_ERR_TOOBIG] =		"limit_exceeded",
	[PINGOO_ERR_NOTFOUND] =		"not_found",
	[PINGOO_ERR_CONFLICT] =		"conflict",
	[PINGOO_ERR_STATE] =		"invalid_state",
	[PINGOO_ERR_AUTH] =		"unauthorized",
	[PINGOO_ERR_DB] =		"database_unavailable",
	[PINGOO_ERR_IO] =		"internal_error",
	[PINGOO_ERR_CONFIG] =		"internal_error",
	[PINGOO_ERR_INTERNAL] =		"internal_error",
};
PINGOO_TABLE_CHECK(codes, PINGOO_ERR__MAX);

/* Both go to a client: an error outside the enum is a bug, and is said to
 * be one (PINGOO_ERR_INTERNAL's words), never left without words. */
const char *
pingoo_strerror(enum pingoo_err e)
{
	const char *s = pingoo_name_of(messages, PINGOO_ERR__MAX, (int)e);

	return s != NULL ? s : messages[PINGOO_ERR_INTERNAL];
}

const char *
pingoo_errcode(enum pingoo_err e)
{
	const char *s = pingoo_name_of(codes, PINGOO_ERR__MAX, (int)e);

	return s != NULL ? s : codes[PINGOO_ERR_INTERNAL];
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
