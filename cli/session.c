/*
 * session.c - the saved login: the server's URL, the user, the trust store
 * and the token, in $XDG_CONFIG_HOME/pingoo/session.json (or
 * ~/.config/pingoo/), a 0600 file in a 0700 folder; and the password read
 * from the terminal without echo, or from standard input.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"

#define SESSION_MAX	65536

/* The folder of the file, or "" when no home can be found. */
static enum cli_err
config_dir(char *buf, size_t sz, struct cli_fault *f)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME");
	const char	*home = getenv("HOME");
	struct passwd	*pw;
	int		 n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, sz, "%s/pingoo", xdg);
	else {
		if ((home == NULL || home[0] != '/') &&
		    (pw = getpwuid(getuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL || home[0] != '/')
			return cli_fail(f, CLI_ERR_LOCAL, 0, NULL,
			    "no home folder: set XDG_CONFIG_HOME or HOME");
		n = snprintf(buf, sz, "%s/.config/pingoo", home);
	}
	if (n < 0 || (size_t)n >= sz)
		return cli_fail(f, CLI_ERR_LOCAL, 0, NULL,
		    "the configuration path is too long");
	return CLI_OK;
}

/* mkdir that accepts an existing folder. */
static int
mkdir_0700(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/*
 * The session file's path in buf.  With mkdirs, its folder (and the
 * configuration folder above it) are created 0700 when missing.
 */
enum cli_err
cli_session_path(char *buf, size_t sz, int mkdirs, struct cli_fault *f)
{
	char		 dir[1024], *slash;
	enum cli_err	 err;

	if ((err = config_dir(dir, sizeof(dir), f)) != CLI_OK)
		return err;
	if (mkdirs) {
		slash = strrchr(dir, '/');
		*slash = '\0';
		if (dir[0] != '\0' && mkdir_0700(dir) == -1)
			return cli_syserr(f, dir);
		*slash = '/';
		if (mkdir_0700(dir) == -1)
			return cli_syserr(f, dir);
	}
	if ((size_t)snprintf(buf, sz, "%s/session.json", dir) >= sz)
		return cli_fail(f, CLI_ERR_LOCAL, 0, NULL,
		    "the configuration path is too long");
	return CLI_OK;
}

static void
copy_str(char *dst, size_t sz, struct json_object *o, const char *key)
{
	const char	*v = cli_jstr(o, key);

	snprintf(dst, sz, "%s", v ? v : "");
}

/*
 * Reads the saved login into s.  No file is an authentication failure
 * (code not_logged_in): the user has to log in first.
 */
enum cli_err
cli_session_load(struct cli_session *s, struct cli_fault *f)
{
	char			 path[1100], *text = NULL;
	struct json_object	*o = NULL;
	FILE			*fp = NULL;
	size_t			 len;
	enum cli_err		 err;

	memset(s, 0, sizeof(*s));
	if ((err = cli_session_path(path, sizeof(path), 0, f)) != CLI_OK)
		return err;
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return cli_fail(f, CLI_ERR_AUTH, 0, "not_logged_in",
			    "not logged in: run pingoo login URL USER");
		return cli_syserr(f, path);
	}
	if ((text = malloc(SESSION_MAX + 1)) == NULL) {
		err = cli_nomem(f);
		goto out;
	}
	len = fread(text, 1, SESSION_MAX, fp);
	text[len] = '\0';
	if ((o = json_tokener_parse(text)) == NULL ||
	    cli_jstr(o, "url") == NULL || cli_jstr(o, "token") == NULL) {
		err = cli_fail(f, CLI_ERR_AUTH, 0, "not_logged_in",
		    "%s is not a saved login: run pingoo login URL USER", path);
		goto out;
	}
	copy_str(s->url, sizeof(s->url), o, "url");
	copy_str(s->username, sizeof(s->username), o, "username");
	copy_str(s->cacert, sizeof(s->cacert), o, "cacert");
	copy_str(s->token, sizeof(s->token), o, "token");
	s->expires_at = cli_jint(o, "expires_at", 0);
	err = CLI_OK;
out:
	json_object_put(o);
	free(text);
	fclose(fp);
	return err;
}

/* The saved login's JSON, NULL when memory runs out. */
static struct json_object *
session_json(const struct cli_session *s)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "url", json_object_new_string(s->url));
	json_object_object_add(o, "username",
	    json_object_new_string(s->username));
	if (s->cacert[0] != '\0')
		json_object_object_add(o, "cacert",
		    json_object_new_string(s->cacert));
	json_object_object_add(o, "token", json_object_new_string(s->token));
	if (s->expires_at > 0)
		json_object_object_add(o, "expires_at",
		    json_object_new_int64(s->expires_at));
	return o;
}

/* Writes s, replacing any saved login at once (a 0600 temporary, renamed). */
enum cli_err
cli_session_save(const struct cli_session *s, struct cli_fault *f)
{
	char			 path[1100], tmp[1200];
	struct json_object	*o = NULL;
	const char		*text;
	int			 fd = -1;
	size_t			 len;
	enum cli_err		 err;

	if ((err = cli_session_path(path, sizeof(path), 1, f)) != CLI_OK)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((o = session_json(s)) == NULL)
		return cli_nomem(f);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	len = strlen(text);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 ||
	    fchmod(fd, 0600) == -1 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		err = cli_syserr(f, tmp);
		goto out;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		fd = -1;
		err = cli_syserr(f, path);
		unlink(tmp);
		goto out;
	}
	fd = -1;
	err = CLI_OK;
out:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	json_object_put(o);
	return err;
}

/* Forgets the saved login; *removed says whether there was one. */
enum cli_err
cli_session_remove(int *removed, struct cli_fault *f)
{
	char		 path[1100];
	enum cli_err	 err;

	*removed = 0;
	if ((err = cli_session_path(path, sizeof(path), 0, f)) != CLI_OK)
		return err;
	if (unlink(path) == 0)
		*removed = 1;
	else if (errno != ENOENT)
		return cli_syserr(f, path);
	return CLI_OK;
}

/*
 * One line of password: from the terminal with echo off (prompting on
 * stderr), or from standard input when that is not a terminal.  The line's
 * end is dropped.
 */
enum cli_err
cli_read_password(char *buf, size_t sz, struct cli_fault *f)
{
	struct termios	 old, quiet;
	int		 tty = isatty(STDIN_FILENO), got;
	size_t		 n;

	if (tty) {
		fputs("Password: ", stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == -1)
			return cli_syserr(f, "terminal");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	got = fgets(buf, (int)sz, stdin) != NULL;
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (cli_interrupted)
		return cli_fail(f, CLI_ERR_INTR, 0, "interrupted",
		    "interrupted");
	if (!got)
		return cli_fail(f, CLI_ERR_USAGE, 0, NULL,
		    "no password on standard input");
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == sz - 1)
		return cli_fail(f, CLI_ERR_USAGE, 0, NULL,
		    "the password is too long");
	buf[n] = '\0';
	return CLI_OK;
}
