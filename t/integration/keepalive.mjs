// keepalive.mjs - nginx keeps FastCGI connections to the pool alive, and those it keeps
// idle can never starve the pool (issue 13).
//
// Each idle kept connection pins one libfcgi thread in read(); a pool whose threads are all
// pinned leaves a request that needs a new connection waiting in the listen backlog until
// nginx drops one.  deploy/nginx/render bounds nginx's idle connections per worker to
// processes x threads / (2 x nginx workers).  Here many more client connections than the
// pool has threads are made to hit the pool at once, again and again, so nginx opens as many
// FastCGI connections as it can and keeps the most it may; they are left idle, and then
// every new request, on new and on the kept client connections, must still be answered.
// A behaviour test, not a timing one: "promptly" is within 10 s, where a starved pool takes
// nginx's upstream keepalive_timeout (60 s) to free a thread.

import https from 'node:https';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as t from './lib/tap.mjs';
import { readConfig } from './lib/stack.mjs';
import { openStack } from './lib/open.mjs';

const { stack } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_FCGI_SOCKET']);

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

await t.test(`${n} client connections, more than twice the pool's ${BUDGET} threads, hit the pool at once`, async () => {
	const rounds = [];
	for (let k = 0; k < 5; k++)
		rounds.push(summary(await Promise.all(Array.from({ length: n }, () => get(kept, '/api/v1/health')))));
	const bad = rounds.filter((s) => s.bad.length > 0);
	t.ok(bad.length === 0, `5 rounds of ${n} concurrent requests are all answered`,
	    bad.map((s) => s.text).join('\n'));
	const held = poolConnections();
	t.diag(`FastCGI connections on the pool's socket after the rounds: ${held ?? 'unknown (no ss)'}; ` +
	    `nginx may keep at most half of ${BUDGET} idle`);
	if (held !== null)
		t.ok(held <= BUDGET / 2, `nginx keeps no more idle FastCGI connections than the budget (${held} <= ${BUDGET / 2})`);
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

kept.destroy();
await t.done();
