// keepalive.mjs - nginx keeps FastCGI connections to the pool alive, no number of idle kept
// connections can starve the pool, and a request answered before its body was read
// leaves its kept connection clean (at the end of the file).
//
// libfcgi reads a kept connection's next request in the thread that served the last one; left
// at that, each idle kept connection would pin a thread, and once all were pinned a request on
// a new connection would wait in the listen backlog until nginx dropped one.  The pool's
// threads instead wait on all of their process's connections at once (app/idle.c).  Here more
// idle kept FastCGI connections than the pool has threads are opened on its socket directly,
// and many more client connections than it has threads hit it through nginx, again and again;
// every request, on new and on kept connections, must still be answered.  deploy/nginx/render
// lets each nginx worker keep processes x threads connections, so nginx need not open one per
// request under load.
// A behaviour test, not a timing one: "promptly" is within 10 s, where a starved pool takes
// nginx's upstream keepalive_timeout (60 s) to free a thread, or forever for the raw
// connections.

import https from 'node:https';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { readConfig } from './lib/stack.mjs';
import { openStack } from './lib/open.mjs';

const { stack } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_FCGI_SOCKET',
    'PINGOO_NGINX_PIDFILE']);

const cfg = readConfig(stack) ?? {};
const PROCESSES = Math.max(1, Number(cfg.processes ?? 2));
const THREADS = Number(cfg.threads ?? 16);
const BUDGET = PROCESSES * THREADS;	// connections the pool can hold at once
const CA = fs.readFileSync(stack.PINGOO_CA_FILE);
const URL0 = new URL(stack.PINGOO_URL);
const PROMPT_MS = 10000;

// GET path on agent (false: a connection of its own); resolves {status, ms} or {err}.
function get(agent, path) {
	const t0 = performance.now();
	return new Promise((resolve) => {
		const req = https.request({ host: URL0.hostname, port: URL0.port, path, agent, ca: CA,
		    headers: { Connection: 'keep-alive' } }, (res) => {
			res.resume();
			res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
			res.on('error', (e) => resolve({ err: e.message }));
		});
		req.setTimeout(PROMPT_MS, () => req.destroy(new Error(`no answer within ${PROMPT_MS} ms`)));
		req.on('error', (e) => resolve({ err: e.message, ms: performance.now() - t0 }));
		req.end();
	});
}

function summary(rs) {
	const bad = rs.filter((r) => r.status !== 200);
	const slowest = Math.round(Math.max(...rs.map((r) => r.ms ?? 0)));
	return { bad, slowest, text: `${rs.length - bad.length}/${rs.length} answered 200, slowest ${slowest} ms` +
	    (bad.length ? `; first failure: ${JSON.stringify(bad[0])}` : '') };
}

// A FastCGI record: version 1, type, request id 1, no padding.
function record(type, body = Buffer.alloc(0)) {
	const h = Buffer.from([1, type, 0, 1, body.length >> 8, body.length & 0xff, 0, 0]);
	return Buffer.concat([h, body]);
}

function pair(name, value) {
	const n = Buffer.from(name), v = Buffer.from(value);
	return Buffer.concat([Buffer.from([n.length, v.length]), n, v]);
}

// GET /api/v1/health as nginx sends it, asking the pool to keep the connection
// (BEGIN_REQUEST: role 1 responder, flags 1 FCGI_KEEP_CONN).
const HEALTH = Buffer.concat([
	record(1, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0])),
	record(4, Buffer.concat([pair('REQUEST_METHOD', 'GET'), pair('REQUEST_URI', '/api/v1/health'),
	    pair('SERVER_PROTOCOL', 'HTTP/1.1')])),
	record(4), record(5)]);

// One request on sock, a connection straight to the pool; resolves {status} once its
// END_REQUEST record arrives (the connection stays open), or {err}.  bytes is written at
// once; then each of later, after its pause.
function fcgiRequest(sock, bytes = HEALTH, later = []) {
	return new Promise((resolve) => {
		let buf = Buffer.alloc(0), out = '';
		const finish = (r) => {
			clearTimeout(timer);
			sock.off('data', onData);
			sock.off('close', onClose);
			resolve(r);
		};
		const onData = (d) => {
			buf = Buffer.concat([buf, d]);
			while (buf.length >= 8) {
				const len = (buf[4] << 8) | buf[5], end = 8 + len + buf[6];
				if (buf.length < end)
					return;
				if (buf[1] === 6)
					out += buf.subarray(8, 8 + len).toString('latin1');
				if (buf[1] === 3) {
					const m = /^Status: (\d+)/m.exec(out);
					finish({ status: m ? Number(m[1]) : 200 });
					return;
				}
				buf = buf.subarray(end);
			}
		};
		const onClose = () => finish({ err: 'the pool closed the connection' });
		const timer = setTimeout(() => finish({ err: `no answer within ${PROMPT_MS} ms` }), PROMPT_MS);
		sock.on('data', onData);
		sock.on('close', onClose);
		sock.write(bytes);
		(async () => {
			for (const { pauseMs, bytes: more } of later) {
				await sleep(pauseMs);
				if (!sock.destroyed)
					sock.write(more);
			}
		})();
	});
}

// A request as nginx sends it: BEGIN_REQUEST with FCGI_KEEP_CONN, the parameters, then the
// body in STDIN records of at most 8000 bytes, then the empty record that ends STDIN (left
// out when end is false).
function fcgiBytes(params, body = Buffer.alloc(0), end = true) {
	const parts = [record(1, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0])),
	    record(4, Buffer.concat(Object.entries(params).map(([k, v]) => pair(k, v)))), record(4)];
	for (let at = 0; at < body.length; at += 8000)
		parts.push(record(5, body.subarray(at, at + 8000)));
	if (end)
		parts.push(record(5));
	return Buffer.concat(parts);
}

// Resolves true when the pool closes sock within ms, false when it is still open then.
function closedWithin(sock, ms) {
	if (sock.destroyed || sock.readableEnded)
		return Promise.resolve(true);
	return new Promise((resolve) => {
		const done = (v) => {
			clearTimeout(timer);
			sock.off('close', onEnd);
			sock.off('end', onEnd);
			resolve(v);
		};
		const onEnd = () => done(true);
		const timer = setTimeout(() => done(false), ms);
		sock.on('close', onEnd);
		sock.on('end', onEnd);
	});
}

function fcgiConnect() {
	return new Promise((resolve, reject) => {
		const sock = net.connect(stack.PINGOO_FCGI_SOCKET, () => resolve(sock));
		sock.on('error', reject);
	});
}

// The keep-alive nginx was rendered with (per worker) and its number of workers, or null.
function nginxBudget() {
	try {
		const conf = path.join(path.dirname(path.dirname(stack.PINGOO_NGINX_PIDFILE)), 'conf');
		const up = /upstream pingoo_pool \{[^}]*keepalive (\d+);/.exec(
		    fs.readFileSync(path.join(conf, 'pingoo.conf'), 'utf8'));
		const w = /worker_processes (\d+);/.exec(fs.readFileSync(path.join(conf, 'nginx.conf'), 'utf8'));
		return up && w ? { keepalive: Number(up[1]), workers: Number(w[1]) } : null;
	} catch {
		return null;
	}
}

// FastCGI connections open on the pool's socket now (the listener excluded), or null.
function poolConnections() {
	try {
		const out = execFileSync('ss', ['-xH', 'state', 'connected', 'src', stack.PINGOO_FCGI_SOCKET],
		    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
		return out.split('\n').filter((l) => l.trim() !== '').length;
	} catch {
		return null;
	}
}

const n = 2 * BUDGET + 8;
const kept = new https.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n, keepAliveMsecs: 60000 });

const rendered = nginxBudget();
t.ok(rendered !== null && rendered.keepalive === BUDGET,
    `nginx keeps up to processes x threads = ${BUDGET} FastCGI connections per worker`,
    `rendered: ${JSON.stringify(rendered)}`);

// More idle kept connections than threads, before anything else: with a thread pinned by
// each, the last of them would never be served, nor anything after them.
const raw = [];
await t.test(`${BUDGET + 8} kept FastCGI connections, more than the pool's ${BUDGET} threads, are each served`, async () => {
	for (let i = 0; i < BUDGET + 8; i++)
		raw.push(await fcgiConnect());
	const rs = await Promise.all(raw.map((s) => fcgiRequest(s)));
	const bad = rs.filter((r) => r.status !== 200);
	t.ok(bad.length === 0, `all ${raw.length} answer 200 and stay open`, JSON.stringify(bad[0]));
});

await t.test(`${n} client connections, more than twice the pool's ${BUDGET} threads, hit the pool at once`, async () => {
	const rounds = [];
	for (let k = 0; k < 5; k++)
		rounds.push(summary(await Promise.all(Array.from({ length: n }, () => get(kept, '/api/v1/health')))));
	const bad = rounds.filter((s) => s.bad.length > 0);
	t.ok(bad.length === 0, `5 rounds of ${n} concurrent requests are all answered`,
	    bad.map((s) => s.text).join('\n'));
	const held = poolConnections();
	t.diag(`FastCGI connections on the pool's socket after the rounds: ${held ?? 'unknown (no ss)'}, ` +
	    `${raw.length} of them the test's own`);
	if (held !== null && rendered !== null)
		t.ok(held <= raw.length + rendered.workers * rendered.keepalive,
		    `nginx keeps no more idle FastCGI connections than its budget (${held} on the socket, ` +
		    `${raw.length} of them the test's, ${rendered.workers} x ${rendered.keepalive} nginx's at most)`);
});

await t.test('with the kept connections idle, new requests on new connections are answered promptly', async () => {
	const s = summary(await Promise.all(Array.from({ length: n }, () => get(false, '/api/v1/health'))));
	t.ok(s.bad.length === 0, `${n} concurrent requests on new connections all answer 200 within ${PROMPT_MS / 1000} s (${s.text})`,
	    s.text);
});

await t.test('the kept client connections are still served too', async () => {
	const s = summary(await Promise.all(Array.from({ length: n }, () => get(kept, '/api/v1/health'))));
	t.ok(s.bad.length === 0, `${n} concurrent requests on the idle client connections all answer 200 within ${PROMPT_MS / 1000} s (${s.text})`,
	    s.text);
});

await t.test('requests one at a time on new connections are answered promptly', async () => {
	const rs = [];
	for (let i = 0; i < BUDGET; i++)
		rs.push(await get(false, '/api/v1/health'));
	const s = summary(rs);
	t.ok(s.bad.length === 0, `${BUDGET} sequential requests all answer 200 within ${PROMPT_MS / 1000} s each (${s.text})`,
	    s.text);
});

await t.test('the idle kept FastCGI connections are still served', async () => {
	const rs = await Promise.all(raw.map((s) => fcgiRequest(s)));
	const bad = rs.filter((r) => r.status !== 200);
	t.ok(bad.length === 0, `a second request on each of the ${raw.length} answers 200`, JSON.stringify(bad[0]));
});

// A request the pool answers before reading its body (here a 401: no token) must leave the
// connection clean.  libfcgi does not read the rest of the body: the next request would
// begin with the last one's STDIN records, libfcgi would take them for a protocol error and
// close the connection, and nginx turns a POST sent on a connection closing under it into a
// 502.  Under load that was a 502 now and then; here the pause makes it certain.
const POST_BODY = Buffer.from(JSON.stringify({ count: 1, client: 'x'.repeat(40000) }));
const POST_PARAMS = { REQUEST_METHOD: 'POST', REQUEST_URI: '/api/v1/ping-tests',
    SERVER_PROTOCOL: 'HTTP/1.1', CONTENT_TYPE: 'application/json',
    CONTENT_LENGTH: String(POST_BODY.length) };

await t.test('a request answered before its body was read leaves its kept connection usable', async () => {
	const sock = await fcgiConnect();
	const first = await fcgiRequest(sock, fcgiBytes(POST_PARAMS, POST_BODY));
	t.is(first.status, 401, `a POST of ${POST_BODY.length} bytes without a token is answered 401`);
	const closed = await closedWithin(sock, 300);
	t.ok(!closed, 'the pool keeps the connection open after answering (300 ms later)');
	const next = closed ? { err: 'closed' } : await fcgiRequest(sock);
	t.is(next.status, 200, 'the next request on the connection is answered 200', JSON.stringify(next));
	sock.destroy();
});

await t.test('a request whose STDIN ends after the answer was ready leaves its connection usable', async () => {
	const sock = await fcgiConnect();
	const params = { REQUEST_METHOD: 'GET', REQUEST_URI: '/api/v1/health', SERVER_PROTOCOL: 'HTTP/1.1' };
	const first = await fcgiRequest(sock, fcgiBytes(params, undefined, false),
	    [{ pauseMs: 5, bytes: record(5) }]);
	t.is(first.status, 200, 'health is answered 200 with its empty STDIN record sent 5 ms late');
	const closed = await closedWithin(sock, 300);
	const next = closed ? { err: 'closed' } : await fcgiRequest(sock);
	t.ok(!closed && next.status === 200, 'the connection stays open and the next request is answered 200',
	    JSON.stringify(next));
	sock.destroy();
});

await t.test('a body that does not come to its end is not waited for: the answer comes, then the close', async () => {
	const sock = await fcgiConnect();
	// 1 MB declared, 16 kB sent, nothing more: the pool answers and ends the connection,
	// which nginx (still sending) would not have kept.
	const params = { ...POST_PARAMS, CONTENT_LENGTH: '1000000' };
	const t0 = performance.now();
	const first = await fcgiRequest(sock, fcgiBytes(params, Buffer.alloc(16000, 0x20), false));
	t.is(first.status, 401, `the 401 comes (${Math.round(performance.now() - t0)} ms)`,
	    JSON.stringify(first));
	t.ok(await closedWithin(sock, PROMPT_MS), 'then the pool closes the connection');
	sock.destroy();
});

// The same through nginx, as a client meets it: 16 connections post for 3 s, every other
// request with a 30 kB body, none with a token.  On the pool that did not read such bodies,
// 783 of 18,645 got a 502 in 8 s.
await t.test('through nginx, POSTs refused before their body is read are each answered 401, none 502', async () => {
	const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: CA });
	const bodies = [JSON.stringify({ count: 1 }), JSON.stringify({ count: 1, client: 'x'.repeat(30000) })];
	const post = (body) => new Promise((resolve) => {
		const req = https.request({ host: URL0.hostname, port: URL0.port, path: '/api/v1/ping-tests',
		    method: 'POST', agent, headers: { 'Content-Type': 'application/json',
		    'Content-Length': Buffer.byteLength(body), Authorization: 'Bearer not-a-token' } }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
			res.on('error', (e) => resolve(e.code));
		});
		req.setTimeout(PROMPT_MS, () => req.destroy(new Error('timeout')));
		req.on('error', (e) => resolve(e.code ?? e.message));
		req.end(body);
	});
	const counts = {};
	const t0 = performance.now();
	await Promise.all(Array.from({ length: 16 }, async (_, i) => {
		while (performance.now() - t0 < 3000) {
			const st = await post(bodies[i % 2]);
			counts[st] = (counts[st] ?? 0) + 1;
		}
	}));
	agent.destroy();
	const all = Object.values(counts).reduce((a, b) => a + b, 0);
	t.ok(all > 0 && counts[401] === all, `all ${all} answered 401`, JSON.stringify(counts));
});

for (const s of raw)
	s.destroy();
kept.destroy();
await t.done();
