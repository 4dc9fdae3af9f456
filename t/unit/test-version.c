/*
 * test-version.c - one version, configure.ac's: the SDK's and the web
 * page's package.json (and the page's lock file), the SDK's VERSION
 * constant and the man pages configure made all say PACKAGE_VERSION.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "config.h"
#include "core/core.h"
#include "../tap.h"

static const char *srcdir, *builddir;

static char *
slurp(const char *top, const char *rel)
{
	char path[4096];
	char *text;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if ((text = pingoo_slurp(path, 4 << 20, &len)) == NULL)
		diag("cannot read %s: %s", path, strerror(errno));
	return text;
}

/* The string at o's key, or "" when there is none. */
static const char *
str_at(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* "version" of a package.json; with lock, also the lock file's own and
 * its root package's. */
static void
package(const char *rel, int lock)
{
	struct json_object *o, *pk = NULL, *root = NULL;
	char *text;

	if ((text = slurp(srcdir, rel)) == NULL ||
	    (o = json_tokener_parse(text)) == NULL) {
		ok(0, "%s is readable JSON", rel);
		free(text);
		return;
	}
	ok(strcmp(str_at(o, "version"), PACKAGE_VERSION) == 0,
	    "%s says version %s (it says \"%s\")", rel, PACKAGE_VERSION,
	    str_at(o, "version"));
	if (lock) {
		if (json_object_object_get_ex(o, "packages", &pk))
			json_object_object_get_ex(pk, "", &root);
		ok(strcmp(str_at(root, "version"), PACKAGE_VERSION) == 0,
		    "%s's root package says version %s (it says \"%s\")", rel,
		    PACKAGE_VERSION, str_at(root, "version"));
	}
	json_object_put(o);
	free(text);
}

/* The SDK's `export const VERSION = '...';`. */
static void
sdk_constant(void)
{
	static const char lead[] = "export const VERSION = '";
	const char *p;
	char *text, want[64];

	snprintf(want, sizeof(want), "%s%s';", lead, PACKAGE_VERSION);
	text = slurp(srcdir, "sdk/js/src/pingoo.js");
	p = text != NULL ? strstr(text, lead) : NULL;
	ok(p != NULL && strncmp(p, want, strlen(want)) == 0,
	    "sdk/js/src/pingoo.js exports VERSION %s (it has %.*s)",
	    PACKAGE_VERSION, p != NULL ? (int)strcspn(p, "\n") : 4,
	    p != NULL ? p : "none");
	free(text);
}

/* A man page made by configure from its .in: `.Os pingoo VERSION`. */
static void
man(const char *rel)
{
	char *text, want[64];

	snprintf(want, sizeof(want), "\n.Os %s %s\n", PACKAGE_NAME,
	    PACKAGE_VERSION);
	text = slurp(builddir, rel);
	ok(text != NULL && strstr(text, want) != NULL,
	    "%s names version %s", rel, PACKAGE_VERSION);
	free(text);
}

int
main(void)
{
	if ((srcdir = getenv("PINGOO_SRCDIR")) == NULL || *srcdir == '\0')
		srcdir = TOP_SRCDIR;
	if ((builddir = getenv("PINGOO_BUILDDIR")) == NULL || *builddir == '\0')
		builddir = TOP_BUILDDIR;
	package("sdk/js/package.json", 0);
	package("web/package.json", 0);
	package("web/package-lock.json", 1);
	sdk_constant();
	man("docs/man/pingoo-fcgi.8");
	man("docs/man/pingoo-admin.8");
	man("docs/man/pingoo.1");
	return tap_done();
}
