/* cmd_account.c - login, logout, me, and the connection of every command. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli.h"

/*
 * Opens a connection with the saved login: its URL and trust store unless
 * --url or --cacert (or PINGOO_CA_FILE) say otherwise.  A login known to be
 * expired is refused here, without a round trip.
 */
enum cli_err
cli_connect(const struct cli_opts *o, struct cli_conn *c, struct cli_fault *f)
{
	struct cli_session	 s;
	enum cli_err		 err;

	if ((err = cli_session_load(&s, f)) != CLI_OK)
		return err;
	if (s.expires_at > 0 && cli_stamp() >= s.expires_at)
		return cli_fail(f, CLI_ERR_AUTH, 0, "token_expired",
		    "the saved login of %s has expired: run pingoo login again",
		    s.username);
	err = cli_conn_open(c, o->url ? o->url : s.url,
	    o->cacert ? o->cacert : s.cacert, s.token, o->http, f);
	if (err == CLI_OK)
		c->resolve = o->resolve;
	return err;
}

/*
 * pingoo login [URL] USER: a token for USER, saved with the URL.  The
 * password comes from the terminal or standard input, never from argv.
 */
int
cmd_login(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_fault	 f;
	struct cli_session	 s;
	struct cli_conn		 c = { 0 };
	struct cli_resp		 r = { 0 }, me = { 0 };
	struct json_object	*req = NULL;
	char			 pw[1100], path[1100], cacert[PATH_MAX];
	const char		*url, *user, *token;
	int64_t			 expires_in;
	enum cli_err		 err;

	if (argc == 3) {
		url = argv[1];
		user = argv[2];
	} else if (argc == 2) {
		url = o->url ? o->url : getenv("PINGOO_URL");
		user = argv[1];
		if (url == NULL || url[0] == '\0') {
			fputs("pingoo: login: no URL given and PINGOO_URL "
			    "is not set\n", stderr);
			return CLI_USAGE;
		}
	} else
		return CLI_USAGE;
	memset(&s, 0, sizeof(s));
	/* A relative trust store would break once the user changes folder. */
	if (o->cacert != NULL && o->cacert[0] != '\0') {
		if (realpath(o->cacert, cacert) == NULL) {
			cli_fail(&f, CLI_ERR_USAGE, 0, NULL,
			    "%s: cannot be read", o->cacert);
			return cli_failed(&f);
		}
		snprintf(s.cacert, sizeof(s.cacert), "%s", cacert);
	}
	err = cli_conn_open(&c, url, s.cacert, NULL, o->http, &f);
	if (err != CLI_OK)
		return cli_failed(&f);
	c.resolve = o->resolve;
	if ((err = cli_read_password(pw, sizeof(pw), &f)) != CLI_OK)
		goto out;
	if ((req = json_object_new_object()) == NULL) {
		err = cli_nomem(&f);
		goto out;
	}
	json_object_object_add(req, "username", json_object_new_string(user));
	json_object_object_add(req, "password", json_object_new_string(pw));
	explicit_bzero(pw, sizeof(pw));
	err = cli_call(&c, "POST", "/auth/token", cli_jtext(req), 30000, &r,
	    &f);
	if (err != CLI_OK)
		goto out;
	if ((token = cli_jstr(r.json, "access_token")) == NULL ||
	    strlen(token) >= sizeof(s.token)) {
		err = cli_fail(&f, CLI_ERR_SERVER, r.status, "invalid_response",
		    "the server's answer has no usable access_token");
		goto out;
	}
	snprintf(s.url, sizeof(s.url), "%s", c.url);
	snprintf(s.username, sizeof(s.username), "%s", user);
	snprintf(s.token, sizeof(s.token), "%s", token);
	expires_in = cli_jint(r.json, "expires_in", 0);
	s.expires_at = expires_in > 0 ? cli_stamp() + expires_in * 1000000 : 0;
	/* The token proves itself before it is kept. */
	cli_conn_close(&c);
	err = cli_conn_open(&c, s.url, s.cacert, s.token, o->http, &f);
	if (err != CLI_OK)
		goto out;
	c.resolve = o->resolve;
	if ((err = cli_call(&c, "GET", "/me", NULL, 30000, &me, &f)) != CLI_OK)
		goto out;
	if ((err = cli_session_save(&s, &f)) != CLI_OK ||
	    (err = cli_session_path(path, sizeof(path), 0, &f)) != CLI_OK)
		goto out;
	if (o->json)
		cli_print_json(&me);
	else
		printf("Logged in to %s as %s; the token (valid %lld s) "
		    "is in %s\n", s.url, user, (long long)expires_in, path);
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(&s, sizeof(s));
	json_object_put(req);
	cli_resp_free(&me);
	cli_resp_free(&r);
	cli_conn_close(&c);
	return err == CLI_OK ? 0 : cli_failed(&f);
}

/*
 * pingoo logout [--all]: revokes the saved token on the server (with
 * --all, every token of the user), then forgets the saved login, whatever
 * the server said: the file goes in any case, as it always did.  A token
 * that has expired, or that the server refuses (revoked already), has
 * nothing left to revoke.  When the server could not be asked, the exit
 * status says so (the token stays valid until it expires).
 */
int
cmd_logout(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_session	 s;
	struct cli_fault	 f, rf;
	struct cli_conn		 c = { 0 };
	struct cli_resp		 r = { 0 };
	enum cli_err		 err = CLI_OK;
	int			 all = 0, removed, asked = 0;

	if (argc == 2 && strcmp(argv[1], "--all") == 0)
		all = 1;
	else if (argc != 1)
		return CLI_USAGE;
	memset(&rf, 0, sizeof(rf));
	if (cli_session_load(&s, &f) == CLI_OK &&
	    (s.expires_at == 0 || cli_stamp() < s.expires_at)) {
		asked = 1;
		err = cli_conn_open(&c, o->url ? o->url : s.url,
		    o->cacert ? o->cacert : s.cacert, s.token, o->http, &rf);
		if (err == CLI_OK) {
			c.resolve = o->resolve;
			err = cli_call(&c, "POST", all ? "/auth/logout-all" :
			    "/auth/logout", NULL, 30000, &r, &rf);
			cli_resp_free(&r);
			cli_conn_close(&c);
		}
		/* Refused: expired or revoked already, nothing to revoke. */
		if (err == CLI_ERR_AUTH)
			err = CLI_OK;
	}
	explicit_bzero(&s, sizeof(s));
	if (cli_session_remove(&removed, &f) != CLI_OK)
		return cli_failed(&f);
	if (err != CLI_OK) {
		fprintf(stderr, "pingoo: the login was forgotten here, but the "
		    "server could not revoke it: it stays valid until it "
		    "expires\n");
		return cli_failed(&rf);
	}
	if (o->json)
		printf("{\"logged_out\":%s}\n", removed ? "true" : "false");
	else
		puts(!removed ? "Not logged in" : !asked ? "Logged out" :
		    all ? "Logged out everywhere" : "Logged out");
	return 0;
}

/* The user as a line: name, id, server, and since when. */
static void
print_me(const struct cli_conn *c, struct json_object *me)
{
	char		 when[64] = "?";
	const char	*name = cli_jstr(me, "username");
	time_t		 t;
	struct tm	 tm;
	int64_t		 at;

	if ((at = cli_jint(me, "created_at", -1)) >= 0) {
		t = (time_t)(at / 1000000);
		if (gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
			    &tm);
	}
	printf("%s (id %lld) at %s, since %s\n", name ? name : "?",
	    (long long)cli_jint(me, "id", 0), c->url, when);
}

/* pingoo me: the token's user, as the server knows it. */
int
cmd_me(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_fault	 f;
	struct cli_conn		 c = { 0 };
	struct cli_resp		 r = { 0 };
	enum cli_err		 err;

	if (argc != 1)
		return CLI_USAGE;
	if ((err = cli_connect(o, &c, &f)) != CLI_OK)
		return cli_failed(&f);
	err = cli_call(&c, "GET", "/me", NULL, 30000, &r, &f);
	if (err == CLI_OK && o->json)
		cli_print_json(&r);
	else if (err == CLI_OK)
		print_me(&c, r.json);
	cli_resp_free(&r);
	cli_conn_close(&c);
	return err == CLI_OK ? 0 : cli_failed(&f);
}
