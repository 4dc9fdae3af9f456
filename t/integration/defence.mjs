// defence.mjs - defence in depth, against the running local stack:
// the pool runs unprivileged, the runtime database account only reads and writes rows
// (migrations have their own account), no secret or token reaches a log, nginx
// rate-limits the token route and caps bodies in line with the app, and the page carries
// its security headers (HTTP redirects to HTTPS).

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { loadStack, stackEnvPath, missingKeys, readConfig, poolPids, childPids } from './lib/stack.mjs';
import { api, request, expectError, describe } from './lib/http.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_DB_SOCKET',
    'PINGOO_DB_USER', 'PINGOO_DB_PASSWORD', 'PINGOO_POOL_PIDFILE', 'PINGOO_POOL_LOG']);
const users = userFactory(stack);

// ---- the pool runs unprivileged ------------------------------------------------------------

function ids(pid) {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
	const uid = /^Uid:\s+(.*)$/m.exec(status)[1].trim().split(/\s+/).map(Number);
	const gid = /^Gid:\s+(.*)$/m.exec(status)[1].trim().split(/\s+/).map(Number);
	const groups = (/^Groups:\s*(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
	return { uid, gid, groups };
}

await t.test('the pool runs as an unprivileged user', async () => {
	const sup = (poolPids(stack) ?? [])[0];
	if (!t.ok(sup && fs.existsSync(`/proc/${sup}`), `the pool's supervisor runs (pid ${sup})`))
		return;
	const pids = [sup, ...childPids(sup)];
	t.ok(pids.length >= 2, `the supervisor has worker processes (${pids.slice(1).join(' ')})`);
	const bad = [];
	for (const pid of pids) {
		const id = ids(pid);
		t.diag(`pid ${pid}: uid ${id.uid.join('/')}, gid ${id.gid.join('/')}, groups ${id.groups.join(' ') || 'none'}`);
		if (id.uid.some((u) => u === 0) || id.gid.some((g) => g === 0) || id.groups.includes(0))
			bad.push(pid);
	}
	t.ok(bad.length === 0, 'no pool process has uid 0 or gid 0 (real, effective, saved or filesystem)',
	    `root: ${bad.join(' ')}`);
	if (process.getuid() === 0 && stack.PINGOO_ADMIN_CONFIG && fs.existsSync(stack.PINGOO_ADMIN_CONFIG)) {
		// The migration account's password is out of the workers' reach.
		const admin = readConfig({ PINGOO_CONFIG: stack.PINGOO_ADMIN_CONFIG });
		const worker = readConfig(stack) ?? {};
		t.ok(!Object.keys(worker).some((k) => k.startsWith('migrate_')),
		    "the workers' configuration names no migration account");
		const file = admin.migrate_db_password_file;
		if (file) {
			const uid = ids(pids[pids.length - 1]).uid[0];
			let readable = true;
			try {
				execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${ids(pids[pids.length - 1]).gid[0]}`,
				    '--init-groups', '--', 'test', '-r', path.resolve(admin.__dir, file)], { stdio: 'ignore' });
			} catch {
				readable = false;
			}
			t.ok(!readable, "the workers' user cannot read the migration account's password file");
		}
	}
});

// ---- the database accounts -----------------------------------------------------------------

// Runs SQL as an account; {ok, out, err}.
function sqlAs(user, password, sql) {
	try {
		const out = execFileSync(process.env.PINGOO_MARIADB_CLIENT || 'mariadb',
		    [`--socket=${stack.PINGOO_DB_SOCKET}`, '-u', user, '--connect-timeout=5', '-N', '-B',
		        stack.PINGOO_DB_NAME || 'pingoo', '-e', sql],
		    { env: { ...process.env, MYSQL_PWD: password }, encoding: 'utf8', timeout: 15000,
		        stdio: ['ignore', 'pipe', 'pipe'] });
		return { ok: true, out: out.trim(), err: '' };
	} catch (e) {
		return { ok: false, out: '', err: String(e.stderr || e.message).trim() };
	}
}

await t.test('the runtime database account can only read and write rows', async () => {
	const U = stack.PINGOO_DB_USER, P = stack.PINGOO_DB_PASSWORD;
	const rw = sqlAs(U, P, 'SELECT COUNT(*) FROM users');
	t.ok(rw.ok, `${U} can read Pingoo's tables`, rw.err);
	const grants = sqlAs(U, P, 'SHOW GRANTS');
	t.diag(`SHOW GRANTS for ${U}: ${grants.out.replace(/ IDENTIFIED BY PASSWORD '[^']*'/g, '').replace(/\n/g, ' | ')}`);
	const M = stack.PINGOO_DB_MIGRATE_USER, MP = stack.PINGOO_DB_MIGRATE_PASSWORD;
	let scratch = null;
	if (M && MP) {
		t.isnt(M, U, `migrations use a separate account (${M})`);
		scratch = `t_defence_${crypto.randomBytes(4).toString('hex')}`;
		const made = sqlAs(M, MP, `CREATE TABLE ${scratch} (id INT PRIMARY KEY)`);
		t.ok(made.ok, `the migration account ${M} can change the schema`, made.err);
		if (!made.ok)
			scratch = null;
	} else {
		t.skip('migrations use a separate account', 'stack.env has no PINGOO_DB_MIGRATE_USER');
	}
	const target = scratch ?? 'users';
	const db = stack.PINGOO_DB_NAME || 'pingoo';
	const denied = (r) => !r.ok && /denied/i.test(r.err);
	const attempts = [
		['CREATE TABLE', `CREATE TABLE t_defence_no_${crypto.randomBytes(4).toString('hex')} (id INT)`],
		['CREATE DATABASE', `CREATE DATABASE t_defence_db_${crypto.randomBytes(4).toString('hex')}`],
		// Only against the scratch table: were the grant there, nothing of value would go.
		...(scratch ? [
			['ALTER TABLE', `ALTER TABLE ${scratch} ADD COLUMN x INT`],
			['DROP TABLE', `DROP TABLE ${scratch}`],
			['CREATE INDEX', `CREATE INDEX i_x ON ${scratch} (id)`],
		] : []),
		['GRANT', `GRANT SELECT ON \`${db}\`.${target} TO '${U}'@'localhost'`],
		['CREATE USER', `CREATE USER 't_defence_${crypto.randomBytes(4).toString('hex')}'@'localhost'`],
		['TRUNCATE', scratch ? `TRUNCATE TABLE ${scratch}` : null],
		['a file read', `SELECT LOAD_FILE('/etc/hostname') IS NULL`],
	].filter(([, sql]) => sql);
	for (const [what, sql] of attempts) {
		const r = sqlAs(U, P, sql);
		if (what === 'a file read')
			t.ok(!r.ok ? denied(r) : r.out === '1', `${U} cannot read server files (LOAD_FILE gives NULL or is denied)`, r.err || r.out);
		else
			t.ok(denied(r), `${U} is denied ${what}`, r.ok ? 'it succeeded' : r.err);
	}
	if (scratch) {
		const dropped = sqlAs(M, MP, `DROP TABLE IF EXISTS ${scratch}`);
		t.ok(dropped.ok, 'the scratch table is dropped again by the migration account', dropped.err);
	}
});

// ---- no secret in a log --------------------------------------------------------------------

function logFiles() {
	const files = [stack.PINGOO_POOL_LOG, stack.PINGOO_NGINX_ACCESS_LOG, stack.PINGOO_NGINX_ERROR_LOG];
	return files.filter((f) => f && fs.existsSync(f));
}

// Each worker thread keeps its request lines until it has nothing more to do, then writes
// them at once (app/http.c): every request still gets its line, and soon.
await t.test('every request gets a line in the pool log once the pool is idle', async () => {
	const cfg = readConfig(stack) ?? {};
	if (String(cfg.log_requests ?? '1') === '0') {
		t.pass('log_requests = 0: the pool logs no requests');
		return;
	}
	const count = () => fs.readFileSync(stack.PINGOO_POOL_LOG, 'latin1').split('\n')
	    .filter((l) => / GET \/api\/v1\/ping-tests\/\{id\} 404 \d+us$/.test(l)).length;
	const token = await A.login();
	const before = count();
	for (let i = 0; i < 5; i++)
		await A.get('/api/v1/ping-tests/999999999', token);
	let after = count();
	for (let waited = 0; after < before + 5 && waited < 10000; waited += 100) {
		await sleep(100);
		after = count();
	}
	t.ok(after >= before + 5, `5 requests add 5 lines to ${path.basename(stack.PINGOO_POOL_LOG)} within 10 s`,
	    `${after - before} lines added`);
});

await t.test('no secret or token reaches a log', async () => {
	const u = users.create();
	const token = await A.token(u.username, u.password);
	const demo = await A.login();
	const wrongPassword = `wrong-${crypto.randomBytes(12).toString('hex')}`;
	// A few requests that are logged: successes, refusals, errors.
	await A.get('/api/v1/me', token);
	await A.json('POST', '/api/v1/ping-tests', { count: 2 }, token);
	await A.json('POST', '/api/v1/ping-tests', { count: 'x' }, token);
	await A.get('/api/v1/ping-tests/999999999', token);
	await A.get('/api/v1/me', token.slice(0, -4) + 'AAAA');
	await A.json('POST', '/api/v1/auth/token', { username: u.username, password: wrongPassword });
	await A.json('POST', '/api/v1/auth/token', { username: 'no_such_user_x', password: u.password });
	await A.request({ method: 'GET', path: '/api/v1/me', headers: { Cookie: `session=${token}` } });
	await sleep(300);	// nginx writes its access log line as the request ends
	const secrets = [
		['an issued token', token],
		["a token's signature", token.split('.')[2]],
		['the demo token', demo],
		["a user's password", u.password],
		['a wrong password tried', wrongPassword],
		['the demo password', stack.PINGOO_DEMO_PASSWORD],
		['the database password', stack.PINGOO_DB_PASSWORD],
		['the migration password', stack.PINGOO_DB_MIGRATE_PASSWORD],
	].filter(([, v]) => v && v.length >= 8);
	const keyFile = stack.PINGOO_JWT_KEY_FILE;
	if (keyFile && fs.existsSync(keyFile)) {
		const key = fs.readFileSync(keyFile);
		secrets.push(['the JWT key', key.toString('latin1')], ['the JWT key in hex', key.toString('hex')],
		    ['the JWT key in base64', key.toString('base64')]);
	}
	const files = logFiles();
	t.ok(files.length >= 2, `the logs are there (${files.map((f) => path.basename(f)).join(', ')})`);
	const found = [];
	for (const f of files) {
		const text = fs.readFileSync(f).toString('latin1');
		for (const [what, v] of secrets)
			if (text.includes(v))
				found.push(`${what} in ${f}`);
	}
	t.ok(found.length === 0, `none of ${secrets.length} secrets (tokens, passwords, the JWT key) is in ${files.length} log files`,
	    found.join('\n'));
	// A token put in the query string is not looked at (docs/api.md); nor is it logged.
	const qsToken = token;
	await A.get(`/api/v1/me?access_token=${qsToken}`);
	await A.get(`/api/v1/health?token=${qsToken}`);
	await sleep(300);
	let leaked = files.filter((f) => fs.readFileSync(f).toString('latin1').includes(qsToken));
	t.ok(leaked.length === 0, 'a token sent in the query string is not logged either', leaked.join(', '));
	// nginx's error log quotes the request line, query string included, of a request it
	// refuses itself (here a body past client_max_body_size).
	await A.json('POST', `/api/v1/ping-tests?access_token=${qsToken}`, ' '.repeat(70 * 1024), undefined);
	await sleep(300);
	leaked = files.filter((f) => fs.readFileSync(f).toString('latin1').includes(qsToken));
	t.ok(leaked.length === 0, "a token in the query string of a request nginx refuses (413) is not in nginx's error log",
	    leaked.map((f) => `in ${f}: ` + fs.readFileSync(f, 'latin1').split('\n').filter((l) => l.includes(qsToken))
	        .map((l) => l.replace(qsToken, '<token>').slice(0, 300))[0]).join('\n'));
	users.cleanup();
});

// ---- nginx: the token route's rate limit and the body caps ---------------------------------

function nginxConf() {
	const pidfile = stack.PINGOO_NGINX_PIDFILE;
	if (!pidfile)
		return '';
	const f = path.join(path.dirname(path.dirname(pidfile)), 'conf', 'pingoo.conf');
	try {
		return fs.readFileSync(f, 'utf8');
	} catch {
		return '';
	}
}

// Sends n token requests over one HTTP/2 connection, `window` at a time (so no TLS
// handshake paces them, and nginx's limit on concurrent streams is kept); the empty body
// is refused by the app without a password hash, so only nginx's limit matters.
// Resolves the responses' {status, ctype, json, err}.
function tokenBurst(n, window = 100) {
	return new Promise((resolve, reject) => {
		const s = http2.connect(stack.PINGOO_URL, { ca: fs.readFileSync(stack.PINGOO_CA_FILE) });
		s.on('error', reject);
		const out = [];
		let sent = 0;
		const one = () => {
			if (sent >= n)
				return;
			sent++;
			const body = Buffer.from('{}');
			const rq = s.request({ ':method': 'POST', ':path': '/api/v1/auth/token',
			    'content-type': 'application/json', 'content-length': String(body.length) });
			let status = 0, ctype = '', err;
			const chunks = [];
			rq.on('response', (h) => {
				status = h[':status'];
				ctype = h['content-type'] ?? '';
			});
			rq.on('data', (c) => chunks.push(c));
			let finished = false;
			const fin = () => {
				if (finished)
					return;
				finished = true;
				let j;
				try {
					j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
				} catch {
					j = undefined;
				}
				out.push({ status, ctype, json: j, err });
				if (out.length === n) {
					s.close();
					resolve(out);
				} else {
					one();
				}
			};
			rq.on('end', fin);
			rq.on('close', fin);
			rq.on('error', (e) => {
				err = e.code ?? e.message;
				fin();
			});
			rq.end(body);
		};
		for (let i = 0; i < Math.min(window, n); i++)
			one();
	});
}

await t.test('nginx rate-limits the token route', async () => {
	const conf = nginxConf();
	const burst = Number(/zone=pingoo_token\b[^;]*\bburst=(\d+)/.exec(conf)?.[1] ?? 200);
	const n = Math.min(3000, burst * 2 + 200);
	const t0 = Date.now();
	const rs = await tokenBurst(n);
	const by = {};
	for (const r of rs)
		by[r.status + (r.err ? ` ${r.err}` : '')] = (by[r.status + (r.err ? ` ${r.err}` : '')] ?? 0) + 1;
	t.diag(`${n} token requests, 100 at a time (burst ${burst}) in ${Date.now() - t0} ms: ${JSON.stringify(by)}`);
	const limited = rs.filter((r) => r.status === 429);
	t.ok(limited.length > 0, 'a burst of token requests past the limit gets 429s');
	t.ok(limited.length > 0 && limited.every((r) => /^application\/json/.test(r.ctype) &&
	    r.json?.error?.code === 'rate_limited'),
	    'each 429 is JSON with the code rate_limited', JSON.stringify(limited[0]));
	t.ok(rs.every((r) => r.status === 429 || r.status === 400),
	    'the others reached the app (400 for the empty body)', JSON.stringify(by));
	// Let the bucket drain, so the tests after this one get their tokens at once.
	await sleep(Math.ceil(burst / 100) * 1000 + 500);
	const again = await A.json('POST', '/api/v1/auth/token', {}, undefined, { retry429: false });
	t.is(again.status, 400, 'after a pause the token route answers again');
});

await t.test('nginx caps bodies in line with the app', async () => {
	const token = await A.login();
	const pad = (size) => {
		const head = '{"count":1,"interval_ms":0}';
		return head.slice(0, -1) + ' '.repeat(size - head.length) + '}';
	};
	const big = await A.json('POST', '/api/v1/ping-tests', pad(70 * 1024), token);
	const r = expectError(big, 413, 'body_too_large');
	t.ok(r.pass, 'a 70 KB JSON body is refused with 413 JSON body_too_large', r.why);
	const cfg = readConfig(stack) ?? {};
	const maxBody = Number(cfg.max_body ?? 65536);
	// Just under the app's limit: nginx lets it through, and the app takes it.
	const ok = await A.json('POST', '/api/v1/ping-tests', pad(maxBody - 64), token);
	t.is(ok.status, 201, `a ${maxBody - 64}-byte JSON body (under max_body ${maxBody}) reaches the app`);
	if (ok.status !== 201)
		t.diag(describe(ok));
	const onToken = await A.json('POST', '/api/v1/auth/token', pad(70 * 1024));
	const r2 = expectError(onToken, 413, 'body_too_large');
	t.ok(r2.pass, 'a 70 KB body on the token route is refused with 413 JSON', r2.why);
});

// ---- the page's headers and the plain-HTTP redirect ----------------------------------------

function csp(header) {
	const d = {};
	for (const part of String(header ?? '').split(';')) {
		const [name, ...vals] = part.trim().split(/\s+/);
		if (name)
			d[name.toLowerCase()] = vals;
	}
	return d;
}

await t.test('the page carries its security headers', async () => {
	const res = await request(stack, { path: '/' });
	t.is(res.status, 200, 'the page / answers 200');
	const h = res.headers;
	const policy = csp(h['content-security-policy']);
	t.ok(h['content-security-policy'], 'the page has a Content-Security-Policy', JSON.stringify(h));
	const scripts = policy['script-src'] ?? policy['default-src'];
	t.ok(scripts && !scripts.some((v) => /unsafe-inline|unsafe-eval|^\*$|^https?:$|^data:$/i.test(v)),
	    `its script-src allows no inline script, eval or any host (${(scripts ?? []).join(' ')})`);
	t.ok(policy['object-src'] || policy['default-src'], 'the policy has a default-src (or object-src)');
	t.is(h['x-content-type-options'], 'nosniff', 'X-Content-Type-Options: nosniff');
	t.like(h['referrer-policy'] ?? '', /^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$/,
	    'a Referrer-Policy that keeps URLs to this site');
	t.like(h['strict-transport-security'] ?? '', /max-age=(\d{7,})/, 'HSTS on HTTPS with a max-age of months');
	// The page itself needs nothing the policy forbids: no inline script.
	const html = res.text;
	const inline = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
	    .filter((m) => !/\bsrc\s*=/.test(m[1]) || m[2].trim() !== '');
	t.ok(inline.length === 0, 'the page has no inline <script>', inline.map((m) => m[0].slice(0, 80)).join('\n'));
	t.ok(!/\son[a-z]+\s*=/i.test(html.replace(/<script\b[\s\S]*?<\/script>/gi, '')),
	    'the page has no inline event handler attribute');
	const apiRes = await A.get('/api/v1/health');
	t.ok(/nosniff/.test(apiRes.headers['x-content-type-options'] ?? ''), 'API answers carry nosniff too');
});

await t.test('plain HTTP redirects to HTTPS', async () => {
	if (!stack.PINGOO_HTTP_URL) {
		t.skip('plain HTTP redirects to HTTPS', 'stack.env has no PINGOO_HTTP_URL');
		return;
	}
	const https0 = new URL(stack.PINGOO_URL);
	for (const p of ['/', '/api/v1/health?x=1']) {
		const res = await request(stack, { path: p, base: 'http' });
		const loc = res.headers.location ?? '';
		t.ok([301, 302, 307, 308].includes(res.status) && loc === `${https0.origin}${p}`,
		    `http://…${p} redirects to ${https0.origin}${p}`, describe(res) + ` location ${loc}`);
	}
	const post = await request(stack, { method: 'POST', path: '/api/v1/auth/token', base: 'http',
	    headers: { 'Content-Type': 'application/json' }, body: '{}' });
	t.ok([301, 302, 307, 308].includes(post.status) && !post.json?.access_token,
	    `a POST on plain HTTP is redirected, never served (${post.status})`);
});

users.cleanup();
await t.done();
