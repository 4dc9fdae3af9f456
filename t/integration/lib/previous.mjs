// previous.mjs - the previous release's worker pool, for the upgrade test: which commit it is
// (deploy/local/previous-release), its pingoo-fcgi built from that commit and cached by commit
// id, a program that prepares every SQL statement of that release against a database, and
// the pool started on a socket of its own and stopped again.
//
//   const prev = previousRelease();                 // {tag, sha, commit, via}
//   const built = await buildPrevious(prev);         // {dir, fcgi, prepareAll, cached, seconds}
//   const pool = await startPool(built.fcgi, stack); // {pid, socket, conf, log, stop()}
//   ...
//   await pool.stop();                                // {code, signal, ms, killed}
//
// The build is `git archive` of the commit, autogen.sh, configure and `make pingoo-fcgi
// libpingoo.a` in a scratch folder, so it needs nothing the stack's own build does not
// (deploy/local/up installs it).  A build that is done is moved into place whole, so two runs
// at once never use a half-built one.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoDir, pidAlive } from './stack.mjs';
import { fcgi } from './fcgi.mjs';

export const RELEASE_FILE = path.join(repoDir, 'deploy', 'local', 'previous-release');

function git(args) {
	const r = spawnSync('git', ['-C', repoDir, ...args], { encoding: 'utf8' });
	return r.status === 0 ? r.stdout.trim() : null;
}

// The previous release: its tag and full commit id from deploy/local/previous-release, and
// the commit to build: the tag when this clone has it (it must name that commit), else the
// commit id, which any full clone of the history has.  Throws saying what is missing.
export function previousRelease() {
	const lines = fs.readFileSync(RELEASE_FILE, 'utf8').split('\n')
	    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
	const m = lines.length === 1 ? /^(\S+)\s+([0-9a-f]{40})$/.exec(lines[0]) : null;
	if (!m)
		throw new Error(`${RELEASE_FILE}: want one line "TAG FULL-COMMIT-ID"`);
	const [, tag, sha] = m;
	if (git(['rev-parse', '--git-dir']) === null)
		throw new Error(`${repoDir} is not a git checkout: the previous release is built from its history`);
	const tagged = git(['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`]);
	if (tagged !== null && tagged !== sha)
		throw new Error(`tag ${tag} names ${tagged}, but ${RELEASE_FILE} says ${sha}`);
	if (tagged !== null)
		return { tag, sha, commit: tag, via: 'tag' };
	if (git(['cat-file', '-e', `${sha}^{commit}`]) === null)
		throw new Error(`neither tag ${tag} nor commit ${sha} is in this clone ` +
		    '(a shallow clone? git fetch --unshallow --tags)');
	return { tag, sha, commit: sha, via: 'commit id' };
}

// Where builds are kept: $PINGOO_UPGRADE_CACHE, else var/upgrade of this checkout (git-ignored).
export function cacheDir() {
	return process.env.PINGOO_UPGRADE_CACHE || path.join(repoDir, 'var', 'upgrade');
}

// The environment of the build: this one without what a make running the tests hands its
// children (its jobserver's descriptors, its command line's variables such as TESTS=), which
// are no business of the old tree's make.
function buildEnv() {
	const env = { ...process.env };
	for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEFILES', 'MAKEOVERRIDES', 'GNUMAKEFLAGS'])
		delete env[k];
	return env;
}

// Runs one build step in a process group of its own, its output appended to log; rejects
// when it fails or outlives the deadline (then its whole group is killed).
function step(log, deadline, cmd, args, opts = {}) {
	return new Promise((resolve, reject) => {
		const left = deadline - Date.now();
		if (left <= 0)
			return reject(new Error(`no time left for ${cmd}`));
		fs.appendFileSync(log, `\n$ ${cmd} ${args.join(' ')}\n`);
		const fd = fs.openSync(log, 'a');
		const p = spawn(cmd, args, { env: buildEnv(), ...opts, detached: true, stdio: ['ignore', fd, fd] });
		fs.closeSync(fd);
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			try {
				process.kill(-p.pid, 'SIGKILL');
			} catch {
				// gone already
			}
		}, left);
		p.on('error', (e) => {
			clearTimeout(timer);
			reject(new Error(`${cmd}: ${e.message}`));
		});
		p.on('exit', (code, signal) => {
			clearTimeout(timer);
			if (timedOut)
				reject(new Error(`${cmd} ${args.join(' ')} did not finish in time`));
			else if (code !== 0)
				reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
			else
				resolve();
		});
	});
}

function tail(file, n = 30) {
	try {
		return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
	} catch {
		return '';
	}
}

// The store's tables of SQL text, by name, from the release's store_int.h (its place in lib/
// changed between releases), and the folder that holds it.
function sqlTables(src) {
	const found = [];
	const walk = (dir) => {
		for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
			const p = path.join(dir, e.name);
			if (e.isDirectory())
				walk(p);
			else if (e.name === 'store_int.h')
				found.push(p);
		}
	};
	walk(path.join(src, 'lib'));
	if (found.length !== 1)
		throw new Error(`want one store_int.h under lib/, found ${found.length}`);
	const names = [...fs.readFileSync(found[0], 'utf8')
	    .matchAll(/extern\s+const\s+struct\s+pingoo_sql_table\s+(pingoo_sql_\w+)\s*;/g)].map((m) => m[1]);
	if (!names.length)
		throw new Error(`${found[0]} declares no pingoo_sql_table`);
	return { dir: path.dirname(found[0]), names };
}

// A program that prepares each statement of the release's tables: MariaDB resolves every
// table and column at prepare time, so a statement the schema no longer fits fails there,
// whether or not a request of the test reaches it.
function prepareAllSource(names) {
	const rows = names.map((n) => `\t{ "${n}", &${n} },`).join('\n');
	return `/* prepare-all.c - written by t/integration/lib/previous.mjs: prepares every
 * statement of this release's SQL tables against the database the environment
 * names (PROBE_DB_*), to find those its schema no longer fits.  One line a
 * statement: "ok TABLE I", or "fail TABLE I ERRNO MESSAGE | SQL". */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include "store_int.h"

static const struct {
	const char			*name;
	const struct pingoo_sql_table	*t;
} tables[] = {
${rows}
};

static const char *
env(const char *k)
{
	const char *v = getenv(k);

	return v != NULL && *v != '\\0' ? v : NULL;
}

/* The statement on one line, for a line-oriented reader. */
static void
oneline(const char *s)
{
	for (; *s != '\\0'; s++)
		putchar(*s == '\\n' || *s == '\\r' ? ' ' : *s);
	putchar('\\n');
}

int
main(void)
{
	MYSQL *m;
	MYSQL_STMT *st;
	const char *port = env("PROBE_DB_PORT"), *sql;
	size_t k;
	int i, bad = 0;

	if (mysql_library_init(0, NULL, NULL) != 0 || (m = mysql_init(NULL)) == NULL) {
		fprintf(stderr, "prepare-all: the MySQL library did not start\\n");
		return 2;
	}
	if (mysql_real_connect(m, env("PROBE_DB_HOST"), env("PROBE_DB_USER"),
	    getenv("PROBE_DB_PASSWORD"), env("PROBE_DB_NAME"),
	    port != NULL ? (unsigned)atoi(port) : 0, env("PROBE_DB_SOCKET"), 0) == NULL) {
		fprintf(stderr, "prepare-all: connect: %u %s\\n", mysql_errno(m),
		    mysql_error(m));
		return 2;
	}
	for (k = 0; k < sizeof(tables) / sizeof(tables[0]); k++)
		for (i = 0; i < tables[k].t->n; i++) {
			sql = tables[k].t->sql[i];
			if (sql == NULL) {
				printf("fail %s %d 0 no statement | \\n", tables[k].name, i);
				bad++;
				continue;
			}
			if ((st = mysql_stmt_init(m)) == NULL) {
				fprintf(stderr, "prepare-all: out of memory\\n");
				return 2;
			}
			if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
				printf("fail %s %d %u %s | ", tables[k].name, i,
				    mysql_stmt_errno(st), mysql_stmt_error(st));
				oneline(sql);
				bad++;
			} else
				printf("ok %s %d\\n", tables[k].name, i);
			mysql_stmt_close(st);
		}
	mysql_close(m);
	mysql_library_end();
	return bad ? 1 : 0;
}
`;
}

// The make rule that builds prepare-all with the release's own flags and libraries.
const PREPARE_MK = `# prepare-all.mk - read after the build's Makefile: prepare-all with its flags.
prepare-all: prepare-all.c libpingoo.a
\t$(CC) $(DEFS) $(DEFAULT_INCLUDES) -I$(STORE_DIR) $(AM_CPPFLAGS) $(CPPFLAGS) $(AM_CFLAGS) $(CFLAGS) -o $@ prepare-all.c $(CORE_LIBS) $(LIBS)
`;

// Builds (or finds built) the release's pingoo-fcgi and prepare-all.  opts: timeoutMs for the
// whole build (default $PINGOO_UPGRADE_BUILD_TIMEOUT seconds, else 600), jobs (default the
// number of processors).  Rejects with the build log's end when a step fails.
export async function buildPrevious(prev, opts = {}) {
	const cache = cacheDir();
	const dir = path.join(cache, prev.sha);
	const fcgiBin = path.join(dir, 'pingoo-fcgi'), prepareAll = path.join(dir, 'prepare-all');
	const started = Date.now();
	if (fs.existsSync(fcgiBin) && fs.existsSync(prepareAll))
		return { dir, fcgi: fcgiBin, prepareAll, cached: true, seconds: (Date.now() - started) / 1000 };

	fs.mkdirSync(cache, { recursive: true });
	// Builds of another previous release are of no further use.
	for (const e of fs.readdirSync(cache))
		if (/^[0-9a-f]{40}$/.test(e) && e !== prev.sha)
			fs.rmSync(path.join(cache, e), { recursive: true, force: true });

	const envSecs = Number(process.env.PINGOO_UPGRADE_BUILD_TIMEOUT);
	const timeoutMs = opts.timeoutMs ?? (envSecs > 0 ? envSecs * 1000 : 600000);
	const deadline = started + timeoutMs;
	const jobs = String(opts.jobs ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
	const work = fs.mkdtempSync(path.join(cache, `build-${prev.sha.slice(0, 12)}-`));
	const src = path.join(work, 'src'), build = path.join(work, 'build');
	const log = path.join(work, 'build.log');
	fs.mkdirSync(src);
	fs.mkdirSync(build);
	fs.writeFileSync(log, `build of ${prev.tag} (${prev.sha}) from its ${prev.via}\n`);
	try {
		// Not the stack's configure flags: the old pool is a plain build (no sanitizers),
		// as a release is installed.
		await step(log, deadline, 'bash', ['-o', 'pipefail', '-c',
		    'git -C "$0" archive --format=tar "$1" | tar -x -C "$2"', repoDir, prev.commit, src]);
		await step(log, deadline, './autogen.sh', [], { cwd: src });
		await step(log, deadline, path.join(src, 'configure'), ['--disable-dependency-tracking'],
		    { cwd: build });
		await step(log, deadline, 'make', ['-j', jobs, 'pingoo-fcgi', 'libpingoo.a'], { cwd: build });
		const tables = sqlTables(src);
		fs.writeFileSync(path.join(build, 'prepare-all.c'), prepareAllSource(tables.names));
		fs.writeFileSync(path.join(build, 'prepare-all.mk'), PREPARE_MK);
		await step(log, deadline, 'make', ['-f', 'Makefile', '-f', 'prepare-all.mk',
		    `STORE_DIR=${tables.dir}`, 'prepare-all'], { cwd: build });

		// Into place whole: a folder renamed over nothing, or found there already (a run
		// beside this one finished first, from the same commit).
		const ready = fs.mkdtempSync(path.join(cache, `ready-${prev.sha.slice(0, 12)}-`));
		fs.copyFileSync(path.join(build, 'pingoo-fcgi'), path.join(ready, 'pingoo-fcgi'));
		fs.copyFileSync(path.join(build, 'prepare-all'), path.join(ready, 'prepare-all'));
		fs.chmodSync(path.join(ready, 'pingoo-fcgi'), 0o755);
		fs.chmodSync(path.join(ready, 'prepare-all'), 0o755);
		fs.copyFileSync(log, path.join(ready, 'build.log'));
		try {
			fs.renameSync(ready, dir);
		} catch (e) {
			fs.rmSync(ready, { recursive: true, force: true });
			if (!fs.existsSync(fcgiBin))
				throw e;
		}
	} catch (e) {
		const kept = path.join(cache, `build-failed-${prev.sha}.log`);
		try {
			fs.copyFileSync(log, kept);
		} catch {
			// the log is the last thing worth keeping
		}
		e.message += ` (log: ${kept})\n${tail(log)}`;
		throw e;
	} finally {
		fs.rmSync(work, { recursive: true, force: true });
	}
	return { dir, fcgi: fcgiBin, prepareAll, cached: false, seconds: (Date.now() - started) / 1000 };
}

// Runs prepare-all against the stack's database with the workers' account: {failed: [{table,
// index, errno, message, sql}], ok: N}, or throws when it cannot connect.
export function prepareEverything(prepareAll, stack) {
	const [host, port] = stack.PINGOO_DB_SOCKET ? [] : (stack.PINGOO_DB_ADDRESS ?? '').split(':');
	const r = spawnSync(prepareAll, [], {
		encoding: 'utf8', timeout: 60000,
		env: { ...process.env, PROBE_DB_SOCKET: stack.PINGOO_DB_SOCKET ?? '', PROBE_DB_HOST: host ?? '',
		    PROBE_DB_PORT: port ?? '', PROBE_DB_USER: stack.PINGOO_DB_USER,
		    PROBE_DB_PASSWORD: stack.PINGOO_DB_PASSWORD ?? '', PROBE_DB_NAME: stack.PINGOO_DB_NAME },
	});
	if (r.status !== 0 && r.status !== 1)
		throw new Error(`prepare-all: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
	const failed = [];
	let ok = 0;
	for (const line of r.stdout.split('\n')) {
		const f = /^fail (\S+) (\d+) (\d+) (.*?) \| (.*)$/.exec(line);
		if (f)
			failed.push({ table: f[1], index: Number(f[2]), errno: Number(f[3]), message: f[4], sql: f[5] });
		else if (/^ok /.test(line))
			ok++;
	}
	return { ok, failed };
}

// The stack's worker configuration with only its listen line changed (or added).
export function poolConfig(text, socket) {
	const lines = text.split('\n');
	let found = false;
	const out = lines.map((l) => {
		if (/^\s*listen\s*=/.test(l)) {
			found = true;
			return `listen = ${socket}`;
		}
		return l;
	});
	if (!found) {
		if (out.length && out[out.length - 1] === '')
			out.pop();
		out.push(`listen = ${socket}`, '');
	}
	return out.join('\n');
}

// Each run records its pool in a file named by the run's own pid, so that a later run can
// tell a pool left behind (its run is gone: killed before it could stop it) from one of a run
// still going beside it.
const PIDFILE = (runner = process.pid) => path.join(cacheDir(), `pool-${runner}.pid`);

// Kills the group of every pool left behind by a run that no longer exists, when the recorded
// pid still runs that binary as the leader of its own group, and removes that run's folder.
// Returns the pids killed.
function reapLeftovers() {
	const killed = [];
	let entries = [];
	try {
		entries = fs.readdirSync(cacheDir());
	} catch {
		return killed;
	}
	for (const e of entries) {
		const m = /^pool-(\d+)\.pid$/.exec(e);
		if (!m || pidAlive(Number(m[1])))
			continue;
		const file = path.join(cacheDir(), e);
		try {
			const [p, bin, run] = fs.readFileSync(file, 'utf8').trim().split(' ');
			const pid = Number(p);
			fs.rmSync(file, { force: true });
			if (run && path.basename(run).startsWith('pingoo-upgrade-'))
				fs.rmSync(run, { recursive: true, force: true });
			if (!(pid > 1) || !pidAlive(pid))
				continue;
			const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];
			const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
			const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
			if (argv0 === bin && pgrp === pid) {
				process.kill(-pid, 'SIGKILL');
				killed.push(pid);
			}
		} catch {
			// gone meanwhile
		}
	}
	return killed;
}

// Starts bin on a socket of its own with a copy of the stack's configuration, in a process
// group of its own, and waits until it answers its health route.  Whatever ends this process
// (done(), a crash, SIGINT, SIGTERM) kills that group; stop() ends it the way systemd does.
export async function startPool(bin, stack, { waitMs = 15000 } = {}) {
	const leftovers = reapLeftovers();
	const run = fs.mkdtempSync(path.join(os.tmpdir(), 'pingoo-upgrade-'));
	const socket = path.join(run, 'old.sock');
	const conf = path.join(run, 'pingoo.conf');
	const log = path.join(run, 'pool.log');
	fs.writeFileSync(conf, poolConfig(fs.readFileSync(stack.PINGOO_CONFIG, 'utf8'), socket), { mode: 0o600 });

	const check = spawnSync(bin, ['-T', '-c', conf], { encoding: 'utf8', timeout: 30000 });
	if (check.status !== 0)
		throw new Error(`the previous release refuses the stack's configuration: ` +
		    `${(check.stderr || check.stdout || check.error?.message || '').trim()}`);

	const fd = fs.openSync(log, 'a');
	const child = spawn(bin, ['-c', conf], { detached: true, stdio: ['ignore', fd, fd] });
	fs.closeSync(fd);
	const pid = child.pid;
	fs.mkdirSync(cacheDir(), { recursive: true });
	fs.writeFileSync(PIDFILE(), `${pid} ${bin} ${run}\n`);
	let exited = null;
	const exitedP = new Promise((resolve) => child.on('exit', (code, signal) => {
		exited = { code, signal };
		resolve(exited);
	}));
	const killGroup = (sig) => {
		try {
			process.kill(-pid, sig);
			return true;
		} catch {
			return false;
		}
	};
	const onExit = () => killGroup('SIGKILL');
	const onSignal = (sig) => {
		killGroup('SIGKILL');
		process.exit(128 + os.constants.signals[sig]);
	};
	process.on('exit', onExit);
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);

	const pool = {
		pid, socket, conf, log, run, leftovers,
		exited: () => exited,
		// The run's folder (its log), once nothing more is to be read from it.
		cleanup: () => fs.rmSync(run, { recursive: true, force: true }),
		logText: () => {
			try {
				return fs.readFileSync(log, 'utf8');
			} catch {
				return '';
			}
		},
		// SIGTERM to the supervisor (it stops its workers after their requests), up to
		// waitMs, then SIGKILL to the group.  Resolves {code, signal, ms, killed}.
		async stop({ waitMs: stopMs = 10000 } = {}) {
			const t0 = Date.now();
			let killed = false;
			if (exited === null) {
				try {
					process.kill(pid, 'SIGTERM');
				} catch {
					// gone already
				}
				const r = await Promise.race([exitedP, sleep(stopMs).then(() => null)]);
				if (r === null) {
					killed = killGroup('SIGKILL');
					await Promise.race([exitedP, sleep(2000)]);
				}
			}
			// Nothing of the group may outlive its supervisor.
			if (killGroup('SIGKILL'))
				killed = true;
			process.off('exit', onExit);
			process.off('SIGINT', onSignal);
			process.off('SIGTERM', onSignal);
			fs.rmSync(PIDFILE(), { force: true });
			fs.rmSync(socket, { force: true });
			fs.rmSync(conf, { force: true });
			return { ...(exited ?? { code: null, signal: null }), ms: Date.now() - t0, killed };
		},
	};

	const end = Date.now() + waitMs;
	let last = null;
	while (Date.now() < end && exited === null) {
		if (fs.existsSync(socket)) {
			try {
				last = await fcgi(socket, { uri: '/api/v1/health', timeoutMs: 3000 });
				if (last.status === 200)
					return pool;
			} catch (e) {
				last = { status: null, text: e.message };
			}
		}
		await sleep(100);
	}
	await pool.stop();
	throw new Error(`the previous release's pool did not answer its health route with 200 ` +
	    `within ${waitMs} ms (${exited ? `it exited: ${JSON.stringify(exited)}` : `last answer: ` +
	    `${last?.status} ${last?.text ?? ''}`}); its log:\n${tail(log)}`);
}
