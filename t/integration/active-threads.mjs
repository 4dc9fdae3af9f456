// active-threads.mjs - only `active_threads` threads of a worker process serve at once, and a thread
// hands its turn over before it waits on a client or on MySQL (app/active.c): requests stuck
// on slow clients or on a database lock never hold the echo up.
//
// Each case sticks more requests than the pool has turns (processes x active_threads, 2 by
// default), checks that they are stuck where the case says, and then asks for echoes and
// health, which must all be answered while the stuck ones still wait.  A pool whose threads
// kept their turn through such a request would serve nothing else in that process; with every
// process stuck, nothing at all.  A behaviour test, not a timing one: "answered" is within
// 10 s, where the stuck requests stay stuck until the case lets them go.

import fs from 'node:fs';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { readConfig } from './lib/stack.mjs';
import { describe } from './lib/http.mjs';
import { query } from './lib/db.mjs';
import { poll } from './lib/poll.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_DB_NAME', 'PINGOO_DB_USER']);
const users = userFactory(stack);
const cfg = readConfig(stack) ?? {};
const PROCESSES = Math.max(1, Number(cfg.processes ?? 2));
const TURNS = PROCESSES * Number(cfg.active_threads ?? 1);
const STUCK = TURNS + 2;
const PROMPT_MS = 10000;
const MIB = 1024 * 1024;
const CA = fs.readFileSync(stack.PINGOO_CA_FILE);
const URL0 = new URL(stack.PINGOO_URL);

let token = null;
await t.test('a throwaway user gets a token', async () => {
	const u = users.create();
	token = await A.token(u.username, u.password);
	t.ok(typeof token === 'string', 'the token is issued');
});
if (!token) {
	users.cleanup();
	t.bailOut('no user, nothing else can run');
}

async function made(path, body) {
	const res = await A.json('POST', path, body, token);
	if (res.status !== 201 || !Number.isInteger(res.json?.id))
		throw new Error(`create ${path}: ${describe(res)}`);
	return res.json.id;
}

// A TLS connection that sends head (and body, when given) and then reads nothing more than
// `readFirst` bytes of the answer: the server's writes to it stall once the buffers on the
// way are full.  Resolves {sock, got} once that much has arrived (or at once when readFirst
// is 0).
function stall(head, readFirst) {
	return new Promise((resolve, reject) => {
		let got = 0;
		const sock = tls.connect({ host: URL0.hostname, port: Number(URL0.port) || 443, ca: CA }, () => {
			sock.write(head);
			if (readFirst === 0)
				resolve({ sock, got });
		});
		sock.on('data', (c) => {
			got += c.length;
			if (got >= readFirst && readFirst > 0) {
				sock.pause();
				resolve({ sock, got });
			}
		});
		sock.on('error', reject);
		setTimeout(() => reject(new Error(`only ${got} bytes in ${PROMPT_MS} ms`)), PROMPT_MS).unref();
	});
}

// Two fresh ping tests of n samples, for served(): made before a case sticks anything, so
// that nothing but the echoes and the health check runs while requests are stuck.
async function echoTests(n) {
	return [await made('/api/v1/ping-tests', { count: n }), await made('/api/v1/ping-tests', { count: n })];
}

// n echoes on the tests of echoTests(n), all at once, and a health check (which reads
// MySQL): resolves the answers that were not 200 in time, as descriptions.
async function served(n, ids) {
	const asks = Array.from({ length: n }, (_, i) =>
		A.json('POST', `/api/v1/ping-tests/${ids[i % 2]}/echo`,
		    { seq: Math.floor(i / 2), client_sent_at: Date.now() * 1000 }, token, { timeoutMs: PROMPT_MS }));
	asks.push(A.get('/api/v1/health', undefined, { timeoutMs: PROMPT_MS }));
	const rs = await Promise.all(asks.map((p) => p.catch((e) => ({ status: 0, error: e.message }))));
	return rs.filter((r) => r.status !== 200).map((r) => r.error ?? describe(r));
}

const transfers = (id, status) => Number(query(stack, 'SELECT COUNT(*) FROM throughput_transfers ' +
    `WHERE test_id = ${Number(id)} AND status = '${status}'`)[0][0]);

// With the packets of test id stuck on socks: the echoes of echoIds and a health check are
// answered meanwhile, the packets are still under way after them, and once their clients
// hang up they end.  what names them ("downloads", "uploads").
async function servedWhileStuck(id, socks, echoIds, what) {
	const bad = await served(40, echoIds);
	t.ok(bad.length === 0, '40 echoes and a health check are all answered 200 meanwhile', bad.join('\n'));
	t.is(transfers(id, 'started'), STUCK, `and the ${what} are still under way after them`);
	for (const { sock } of socks)
		sock.destroy();
	t.ok(await poll(() => transfers(id, 'started') === 0, PROMPT_MS),
	    `once their clients hang up, the ${what} end (recorded failed)`);
}

await t.test(`${STUCK} downloads to clients that stopped reading hold none of the ${TURNS} turns`, async () => {
	// 48 MiB: more than every buffer between the pool and the client holds, so each
	// download's thread ends up blocked writing.
	const size = 48 * MIB;
	const echoIds = await echoTests(40);
	const id = await made('/api/v1/throughput-tests', { direction: 'download', packets: STUCK,
	    packet_size: size });
	const socks = await Promise.all(Array.from({ length: STUCK }, (_, seq) => stall(
	    `GET /api/v1/throughput-tests/${id}/download/${seq} HTTP/1.1\r\nHost: ${URL0.host}\r\n` +
	    `Authorization: Bearer ${token}\r\n\r\n`, 64 * 1024)));
	await sleep(500);
	t.is(transfers(id, 'started'), STUCK, `all ${STUCK} downloads are under way, none finished`);
	await servedWhileStuck(id, socks, echoIds, 'downloads');
});

await t.test(`${STUCK} uploads whose bodies stopped coming hold none of the ${TURNS} turns`, async () => {
	const size = 8 * MIB;
	const echoIds = await echoTests(40);
	const id = await made('/api/v1/throughput-tests', { direction: 'upload', packets: STUCK,
	    packet_size: size });
	// nginx passes an upload's body on as it comes (no request buffering on the packet
	// routes), so the pool's thread reads, and waits for, the rest.
	const socks = await Promise.all(Array.from({ length: STUCK }, (_, seq) => stall(
	    `PUT /api/v1/throughput-tests/${id}/upload/${seq} HTTP/1.1\r\nHost: ${URL0.host}\r\n` +
	    `Authorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\n` +
	    `Content-Length: ${size}\r\n\r\n` + 'x'.repeat(256 * 1024), 0)));
	t.ok(await poll(() => transfers(id, 'started') === STUCK, PROMPT_MS),
	    `all ${STUCK} uploads are under way, none finished`);
	await servedWhileStuck(id, socks, echoIds, 'uploads');
});

await t.test(`${STUCK} closes waiting on a row lock in MySQL hold none of the ${TURNS} turns`, async () => {
	const echoIds = await echoTests(40);
	const ids = [];
	for (let i = 0; i < STUCK; i++)
		ids.push(await made('/api/v1/ping-tests', { count: 1 }));
	// Another MySQL session locks the tests' rows for 4 s; each close reads its test FOR
	// UPDATE, so it waits for that lock.  By the primary key, so that only those rows are
	// locked: a scan of another index would lock every row it passes, and the gaps.
	const holder = spawn(process.env.PINGOO_MARIADB_CLIENT || 'mariadb', [
	    `--socket=${stack.PINGOO_DB_SOCKET}`, '-u', stack.PINGOO_DB_USER, '-N', '-B', '--unbuffered',
	    stack.PINGOO_DB_NAME, '-e', 'START TRANSACTION; SELECT COUNT(*) FROM ping_tests FORCE INDEX (PRIMARY) WHERE id IN ' +
	    `(${ids.join(',')}) FOR UPDATE; SELECT 'locked'; SELECT SLEEP(4); COMMIT;`],
	    { env: { ...process.env, MYSQL_PWD: stack.PINGOO_DB_PASSWORD ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	holder.stdout.on('data', (c) => { out += c; });
	const ended = new Promise((resolve) => holder.on('close', resolve));
	t.ok(await poll(() => out.includes('locked'), PROMPT_MS), 'a MySQL session holds the tests\' rows');
	const t0 = performance.now();
	const closes = ids.map((id) => A.request({ method: 'POST', path: `/api/v1/ping-tests/${id}/close`,
	    token, timeoutMs: 30000 }).then((res) => ({ res, ms: performance.now() - t0 })));
	await sleep(300);
	const bad = await served(40, echoIds);
	const servedMs = performance.now() - t0;
	t.ok(bad.length === 0, '40 echoes and a health check are all answered 200 meanwhile', bad.join('\n'));
	const done = await Promise.all(closes);
	const early = done.filter((c) => c.ms < servedMs);
	t.ok(early.length === 0, `the closes were still waiting when the echoes had their answers (${Math.round(servedMs)} ms)`,
	    JSON.stringify(early.map((c) => Math.round(c.ms))));
	t.ok(done.every((c) => c.res.status === 200), `then all ${STUCK} closes answer 200`,
	    done.map((c) => describe(c.res)).join('\n'));
	t.is(await ended, 0, 'the locking session ended cleanly');
});

users.cleanup();
await t.done();
