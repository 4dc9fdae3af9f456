// private-clone.mjs - the README's two commands from a checkout that nginx's and the
// pool's accounts cannot enter: this checkout's HEAD is cloned into a fresh
// folder of mode 0700 outside /tmp, deploy/local/up brings a stack of its
// own up there on free ports, the page, health, a token and /api/v1/me
// answer through its nginx, and deploy/local/down stops all of it.  The
// clone and its state folder are removed afterwards, on failure too.
//
// This takes a while (about a minute here, several on a busy machine): a
// fresh clone runs autogen.sh, configure and the whole build again, and
// installs the web page's packages.  The build is a plain one (no
// sanitizers) to keep that short; every step has a time limit.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { parseShellEnv, pidAlive } from './lib/stack.mjs';
import { api, describe } from './lib/http.mjs';

const UP_TIMEOUT_MS = 15 * 60 * 1000;
const DOWN_TIMEOUT_MS = 2 * 60 * 1000;
// The folder the clone goes in: not /tmp (sticky and open to all), and
// the folder itself is 0700, as any clone under /root is.
const PARENT = '/srv';
const STATE_ROOT = '/var/lib/pingoo-local';
// Port families the other local stacks of this machine use.
const TAKEN = new Set([8443, 8080, 13306, 9443, 9080, 23306, 10443, 10080, 33306,
    11443, 11080, 43306]);

const { stack: outer } = await openStack(['PINGOO_URL', 'PINGOO_SRCDIR']);
if (process.getuid() !== 0)
	t.skipAll('deploy/local/up needs root');
const src = outer.PINGOO_SRCDIR;

// A loopback port nothing listens on now (the kernel's pick).
function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

async function freePorts(n) {
	const ports = new Set();
	while (ports.size < n) {
		const p = await freePort();
		if (!TAKEN.has(p))
			ports.add(p);
	}
	return [...ports];
}

// What make check and the outer stack put in the environment must not
// leak into the clone's run: it builds without sanitizers, on its own ports.
function cloneEnv(ports) {
	const env = { ...process.env };
	for (const k of Object.keys(env))
		if (/^(PINGOO_|MAKE|MFLAGS$|ASAN_|UBSAN_)/.test(k))
			delete env[k];
	env.PINGOO_HTTPS_PORT = String(ports[0]);
	env.PINGOO_HTTP_PORT = String(ports[1]);
	env.PINGOO_DB_PORT = String(ports[2]);
	return env;
}

// The process group of the script running now, if any.
let running = null;

function killRunning() {
	if (running === null)
		return;
	try { process.kill(-running, 'SIGKILL'); } catch { /* gone */ }
	running = null;
}

// Runs a script of the clone in a process group of its own, so a time-out
// kills the build it started too.  Resolves to {code, output}.
function run(script, cwd, env, timeoutMs) {
	return new Promise((resolve) => {
		const child = spawn(script, [], { cwd, env, detached: true,
		    stdio: ['ignore', 'pipe', 'pipe'] });
		running = child.pid;
		let output = '';
		const keep = (b) => { output = (output + b).slice(-20000); };
		child.stdout.on('data', keep);
		child.stderr.on('data', keep);
		const timer = setTimeout(() => {
			output += `\n[killed after ${timeoutMs / 1000} s]\n`;
			killRunning();
		}, timeoutMs);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			running = null;
			resolve({ code: code ?? signal, output });
		});
	});
}

function tail(text, lines = 25) {
	return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function pidIn(file) {
	try {
		return Number(fs.readFileSync(file, 'utf8').trim()) || null;
	} catch {
		return null;
	}
}

const ports = await freePorts(3);
const env = cloneEnv(ports);
fs.mkdirSync(PARENT, { recursive: true });
const dir = fs.mkdtempSync(path.join(PARENT, 'pingoo-clone-'));
const clone = path.join(dir, 'pingoo');
let state = null;
let cleaned = false;

// Stops the clone's stack and removes the clone and its state folder.
// Synchronous, so that it also runs from a signal handler.
function cleanup() {
	if (cleaned)
		return;
	cleaned = true;
	// An up still running would start what down is about to stop.
	killRunning();
	if (fs.existsSync(path.join(clone, 'deploy/local/down')))
		spawnSync(path.join(clone, 'deploy/local/down'), [], { cwd: clone, env,
		    stdio: 'ignore', timeout: DOWN_TIMEOUT_MS });
	try {
		state = state ?? fs.realpathSync(path.join(clone, 'var'));
	} catch { /* no var/ */ }
	fs.rmSync(dir, { recursive: true, force: true });
	if (state && path.dirname(state) === STATE_ROOT)
		fs.rmSync(state, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
	process.on(sig, () => {
		cleanup();
		process.exit(1);
	});

try {
	await t.test('a clone of HEAD in a folder of mode 0700 outside /tmp', async () => {
		const head = spawnSync('git', ['-C', src, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
		t.ok(head.status === 0, 'git finds the commit this checkout is at', head.stderr);
		const c = spawnSync('git', ['clone', '-q', src, clone], { encoding: 'utf8', timeout: 120000 });
		t.diag(`cloning into ${clone}`);
		t.ok(c.status === 0, 'git clone succeeds', c.stderr);
		const co = spawnSync('git', ['-C', clone, 'checkout', '-q', '--detach', head.stdout.trim()],
		    { encoding: 'utf8' });
		t.ok(co.status === 0, 'the clone is at the same commit', co.stderr);
		t.is(fs.statSync(dir).mode & 0o777, 0o700, 'its folder has mode 0700');
		const enter = spawnSync('setpriv', ['--reuid=www-data', '--regid=www-data', '--init-groups',
		    'test', '-x', clone]);
		t.isnt(enter.status, 0, "nginx's account www-data cannot enter the clone");
	});

	let up;
	await t.test('deploy/local/up brings a stack up in the clone', async () => {
		up = await run(path.join(clone, 'deploy/local/up'), clone, env, UP_TIMEOUT_MS);
		t.diag(`ports ${ports.join(', ')}`);
		t.ok(up.code === 0, 'deploy/local/up exits 0 on free ports of its own',
		    `exit ${up.code}\n${tail(up.output)}`);
		t.ok(!/^\w+: warning:/m.test(up.output), 'none of its steps warns (of an account that cannot reach a file)',
		    tail(up.output));
		const link = fs.lstatSync(path.join(clone, 'var'), { throwIfNoEntry: false });
		t.ok(link?.isSymbolicLink(), "the clone's var/ links outside the checkout");
		state = fs.realpathSync(path.join(clone, 'var'));
		t.is(path.dirname(state), STATE_ROOT, `its state is in a folder of ${STATE_ROOT}`);
		const st = spawnSync('git', ['-C', clone, 'status', '--porcelain'], { encoding: 'utf8' });
		t.ok(st.status === 0 && st.stdout === '', 'git status in the clone shows nothing new',
		    st.stdout + st.stderr);
	});

	const envFile = path.join(clone, 'var', 'stack.env');
	const stack = fs.existsSync(envFile) ? parseShellEnv(fs.readFileSync(envFile, 'utf8')) : null;
	await t.test("the clone's stack answers through its nginx", async () => {
		t.ok(stack, 'var/stack.env is where scripts and tests look for it');
		if (!stack)
			return;
		t.is(stack.PINGOO_URL, `https://127.0.0.1:${ports[0]}`, 'stack.env names its own HTTPS port');
		t.is(stack.PINGOO_POOL_USER, 'pingoo', 'the pool runs as the pingoo account, not as root');
		const A = api(stack);
		const h = await A.get('/api/v1/health');
		t.is(h.status, 200, 'health answers 200', describe(h));
		t.is(h.json?.database, 'up', 'health says the database is up', describe(h));
		const page = await A.get('/');
		t.is(page.status, 200, 'the page at / answers 200', describe(page));
		const token = await A.login();
		t.ok(typeof token === 'string' && token.length > 20, 'the demo user obtains a token');
		const me = await A.get('/api/v1/me', token);
		t.is(me.status, 200, '/api/v1/me answers 200 with that token', describe(me));
		t.is(me.json?.username, stack.PINGOO_DEMO_USER, '/api/v1/me names the demo user');
	});

	await t.test('deploy/local/down stops everything the clone started', async () => {
		const pids = stack ? [stack.PINGOO_NGINX_PIDFILE, stack.PINGOO_POOL_PIDFILE,
		    stack.PINGOO_DB_PIDFILE].map(pidIn) : [];
		t.ok(pids.length === 3 && pids.every((p) => p && pidAlive(p)),
		    'nginx, the pool and MariaDB run before', pids.join(' '));
		const down = await run(path.join(clone, 'deploy/local/down'), clone, env, DOWN_TIMEOUT_MS);
		t.ok(down.code === 0, 'deploy/local/down exits 0', `exit ${down.code}\n${tail(down.output)}`);
		const left = pids.filter((p) => p && pidAlive(p));
		t.is(left, [], 'none of them runs after');
	});
} finally {
	cleanup();
}
await t.test('the clone and its state folder are gone', async () => {
	t.ok(!fs.existsSync(dir), 'the folder of the clone is removed');
	t.ok(!state || !fs.existsSync(state), 'the state folder of the clone is removed');
});
await t.done();
