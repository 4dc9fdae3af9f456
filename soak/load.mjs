// soak/load.mjs - the soak: SOAK_SECONDS (300) of mixed load on
// SOAK_CONNECTIONS (64) keep-alive HTTPS connections against the local stack, then the
// verdict.  Run it through soak/run.  No npm dependencies.
//
// Each connection runs one virtual client, in a loop:
//   - a ping test: create (count 10), 10 echoes, receipts for 9 in two batches, close;
//   - a small throughput test: create (both directions, 4 x 64 KiB), 4 uploads,
//     4 downloads, one report of the 8 packets' client times;
//   - history reads: the ping and throughput lists, one test read back.
// Every 2xx that acknowledges a write is kept; at the end each is looked up in MySQL.
// The workers' RSS (from /proc) is sampled every 10 s.  Fails (exit 1) on any 5xx, any
// request without an answer, any other unexpected status, anything acknowledged missing
// from MySQL, a worker replaced during the run, or RSS growth past the allowance.

import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadStack, stackEnvPath, poolPids, childPids } from '../t/integration/lib/stack.mjs';
import { api } from '../t/integration/lib/http.mjs';
import { query } from '../t/integration/lib/db.mjs';
import { userFactory } from '../t/integration/lib/users.mjs';
import { requestParts } from '../t/integration/lib/request.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 64);
const USERS = Math.max(1, Math.min(CONNECTIONS, Number(process.env.SOAK_USERS ?? 8)));
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10) * 1000;
// RSS may grow this much per process after the warm-up, and no more.
const RSS_ALLOW_KB = Number(process.env.SOAK_RSS_ALLOW_KB ?? 8192);
const RSS_ALLOW_PCT = Number(process.env.SOAK_RSS_ALLOW_PCT ?? 10);
const PING_COUNT = 10;
const TP_PACKETS = 4;
const TP_SIZE = 64 * 1024;

const stack = loadStack();
if (!stack) {
	console.error(`soak: no stack (${stackEnvPath()} does not exist): run deploy/local/up`);
	process.exit(2);
}
const CA = fs.readFileSync(stack.PINGOO_CA_FILE);
const BASE = new URL(stack.PINGOO_URL);
const log = (...a) => console.log(`soak: ${a.join(' ')}`);

// ---- the client ------------------------------------------------------------------------------

const agent = new https.Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS, ca: CA });
const epochBaseUs = Date.now() * 1000 - performance.now() * 1000;
const nowUs = () => Math.round(epochBaseUs + performance.now() * 1000);

const stats = new Map();	// op -> {n, ms: [], statuses: Map}
const failures = [];		// {op, status, code, err}
let bytesUp = 0, bytesDown = 0;

function note(op, r) {
	let s = stats.get(op);
	if (!s)
		stats.set(op, (s = { n: 0, ms: [], statuses: new Map() }));
	s.n++;
	s.ms.push(r.ms);
	const key = r.status === 0 ? `no answer (${r.err})` : String(r.status);
	s.statuses.set(key, (s.statuses.get(key) ?? 0) + 1);
}

// Resolves {status, json, bytes, cl, ms, err}; status 0 when nothing complete came back.
function call({ method = 'GET', path, token, json, body: raw, want, timeoutMs = 30000 }) {
	const { headers, body } = requestParts({ token, json, body: raw });
	const t0 = performance.now();
	return new Promise((resolve) => {
		let done = false;
		const settle = (v) => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			resolve({ ms: performance.now() - t0, ...v });
		};
		const req = https.request({ host: BASE.hostname, port: BASE.port, method, path, headers, agent });
		const timer = setTimeout(() => {
			req.destroy();
			settle({ status: 0, err: `timeout ${timeoutMs} ms` });
		}, timeoutMs);
		req.on('response', (res) => {
			const keep = !/octet-stream/.test(res.headers['content-type'] ?? '');
			const chunks = [];
			let bytes = 0;
			res.on('data', (c) => {
				bytes += c.length;
				if (keep)
					chunks.push(c);
			});
			res.on('end', () => {
				let j;
				if (keep) {
					try {
						j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
					} catch {
						j = undefined;
					}
				}
				const cl = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
				const complete = res.complete && (cl === null || cl === bytes);
				settle({ status: complete ? res.statusCode : 0, json: j, bytes, cl,
				    err: complete ? undefined : `cut short at ${bytes}/${cl} bytes (status ${res.statusCode})` });
			});
			res.on('error', (e) => settle({ status: 0, err: e.message }));
		});
		req.on('error', (e) => settle({ status: 0, err: e.message }));
		req.end(body);
	});
}

// One request; true when its status is the wanted one.
async function op(name, want, opts) {
	const r = await call(opts);
	note(name, r);
	if (r.status !== want) {
		failures.push({ at: Date.now(), op: name, status: r.status, code: r.json?.error?.code, err: r.err });
		return null;
	}
	return r;
}

// ---- what was acknowledged -------------------------------------------------------------------

const acked = {
	ping: new Map(),	// id -> {user, echoes: Map seq -> stamps, receipts: Map seq -> t3, closed}
	tp: new Map(),		// id -> {user, packets: Map 'dir:seq' -> bytes, reported: Set}
};

const upBody = crypto.randomBytes(TP_SIZE);

// Resolves the id of the ping test made (null when its creation failed).
async function pingTest(token) {
	const c = await op('ping create', 201, { method: 'POST', path: '/api/v1/ping-tests', token,
	    json: { count: PING_COUNT, interval_ms: 0, client: { platform: 'soak' } } });
	if (!c)
		return null;
	const id = c.json.id;
	const p = { echoes: new Map(), receipts: new Map(), closed: false };
	acked.ping.set(id, p);
	const batch = [];
	for (let seq = 0; seq < PING_COUNT; seq++) {
		const t0 = nowUs();
		const e = await op('ping echo', 200, { method: 'POST', path: `/api/v1/ping-tests/${id}/echo`, token,
		    json: { seq, client_sent_at: t0 } });
		if (e) {
			const t3 = nowUs();
			p.echoes.set(seq, { t0, t1: e.json.server_received_at, t2: e.json.server_sent_at });
			batch.push({ seq, client_received_at: t3, client_sent_at: t0,
			    server_received_at: e.json.server_received_at, server_sent_at: e.json.server_sent_at,
			    sig: e.json.sig });
		}
		// Receipts for the first PING_COUNT - 1 samples, in two batches; the last sample
		// stays without one, so close ends the test (and counts it lost).
		if (seq === PING_COUNT - 1) {
			batch.pop();
		} else if ((seq === PING_COUNT / 2 - 1 || seq === PING_COUNT - 2) && batch.length) {
			const r = await op('ping receipts', 200, { method: 'POST', path: `/api/v1/ping-tests/${id}/receipts`,
			    token, json: { receipts: batch } });
			if (r)
				for (const b of batch)
					p.receipts.set(b.seq, b.client_received_at);
			batch.length = 0;
		}
	}
	if (await op('ping close', 200, { method: 'POST', path: `/api/v1/ping-tests/${id}/close`, token }))
		p.closed = true;
	return id;
}

async function tpTest(token) {
	const c = await op('tp create', 201, { method: 'POST', path: '/api/v1/throughput-tests', token,
	    json: { direction: 'both', packets: TP_PACKETS, packet_size: TP_SIZE, client: { platform: 'soak' } } });
	if (!c)
		return;
	const id = c.json.id;
	const x = { packets: new Map(), reported: new Map() };
	acked.tp.set(id, x);
	const reports = [];
	for (let seq = 0; seq < TP_PACKETS; seq++) {
		let t0 = nowUs();
		const u = await op('tp upload', 200, { method: 'PUT', path: `/api/v1/throughput-tests/${id}/upload/${seq}`,
		    token, body: upBody });
		if (u) {
			bytesUp += TP_SIZE;
			x.packets.set(`upload:${seq}`, u.json.bytes);
			reports.push({ direction: 'upload', seq, client_sent_at: t0, client_received_at: nowUs() });
		}
		t0 = nowUs();
		const d = await op('tp download', 200, { path: `/api/v1/throughput-tests/${id}/download/${seq}`, token });
		if (d) {
			bytesDown += d.bytes;
			x.packets.set(`download:${seq}`, d.bytes);
			reports.push({ direction: 'download', seq, client_sent_at: t0, client_first_byte_at: t0, client_received_at: nowUs() });
		}
	}
	if (reports.length) {
		const r = await op('tp reports', 200, { method: 'POST', path: `/api/v1/throughput-tests/${id}/reports`,
		    token, json: { packets: reports } });
		if (r)
			for (const rp of reports)
				x.reported.set(`${rp.direction}:${rp.seq}`, rp);
	}
}

async function history(token, lastPing) {
	await op('history ping list', 200, { path: '/api/v1/ping-tests?limit=10', token });
	await op('history tp list', 200, { path: '/api/v1/throughput-tests?limit=5', token });
	if (lastPing)
		await op('history ping read', 200, { path: `/api/v1/ping-tests/${lastPing}`, token });
}

// ---- RSS -------------------------------------------------------------------------------------

// VmRSS and its private part RssAnon (the rest is the binary and libraries, and the
// shared table of live tests, whose pages count once touched), in kB.
function rssKb(pid) {
	try {
		const st = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
		return { rss: Number(/^VmRSS:\s+(\d+)/m.exec(st)[1]), anon: Number(/^RssAnon:\s+(\d+)/m.exec(st)?.[1] ?? -1) };
	} catch {
		return { rss: null, anon: null };
	}
}
const supervisor = (poolPids(stack) ?? [])[0];
const workers0 = supervisor ? childPids(supervisor) : [];
const rss = [];		// {s, kb: {pid: kb}}
function sampleRss(startedAt) {
	const kb = {}, anon = {};
	for (const pid of [supervisor, ...childPids(supervisor)]) {
		const m = rssKb(pid);
		kb[pid] = m.rss;
		anon[pid] = m.anon;
	}
	rss.push({ s: Math.round((Date.now() - startedAt) / 1000), kb, anon });
	// The pool restarted under the soak (by something else): stop now, it has failed.
	if (kb[supervisor] === null && poolGoneAt === null) {
		poolGoneAt = Date.now();
		endAt = Math.min(endAt, poolGoneAt);
		log(`the pool's supervisor ${supervisor} is gone: stopping`);
	}
}

// ---- the run ---------------------------------------------------------------------------------

const users = userFactory(stack);
// The soak's users go (and their tests with them) however the run ends.
let cleaned = false;
function cleanup() {
	if (cleaned || process.env.SOAK_KEEP === '1')
		return;
	cleaned = true;
	for (const e of users.cleanup())
		console.error(`soak: cleanup: ${e}`);
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
	process.on(sig, () => process.exit(1));
process.on('uncaughtException', (e) => {
	console.error(e);
	process.exit(1);
});
const A = api(stack);
const tokens = [];
for (let i = 0; i < USERS; i++) {
	const u = users.create();
	tokens.push(await A.token(u.username, u.password));
}
log(`${SECONDS} s, ${CONNECTIONS} connections, ${USERS} users, against ${stack.PINGOO_URL}`);
log(`pool ${supervisor}, workers ${workers0.join(' ')}`);

const startedAt = Date.now();
let endAt = startedAt + SECONDS * 1000;
let poolGoneAt = null;
sampleRss(startedAt);
const sampler = setInterval(() => sampleRss(startedAt), SAMPLE_MS);
const progress = setInterval(() => {
	const n = [...stats.values()].reduce((a, s) => a + s.n, 0);
	const last = rss[rss.length - 1];
	if (Date.now() >= endAt)
		return;
	log(`${Math.round((Date.now() - startedAt) / 1000)} s: ${n} requests, ${failures.length} failed; ` +
	    `RSS ${Object.entries(last.kb).map(([p, k]) => `${p}=${k} kB`).join(' ')}`);
}, 30000);

async function virtualClient(i) {
	const token = tokens[i % tokens.length];
	let lastPing = null;
	for (let round = i; Date.now() < endAt; round++) {
		const kind = round % 4;
		if (kind === 0 || kind === 2) {
			lastPing = (await pingTest(token)) ?? lastPing;
		} else if (kind === 1) {
			await tpTest(token);
		} else {
			await history(token, lastPing);
		}
	}
}
await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => virtualClient(i)));
const elapsed = (Date.now() - startedAt) / 1000;
clearInterval(progress);
clearInterval(sampler);
sampleRss(startedAt);
agent.destroy();

// ---- the verdict -----------------------------------------------------------------------------

const problems = [];
const pct = (arr, p) => {
	if (!arr.length)
		return 0;
	const s = [...arr].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
let total = 0, fivexx = 0, noAnswer = 0, other = 0;
console.log('\nop                      requests    p50 ms    p99 ms    max ms  statuses');
for (const [name, s] of [...stats.entries()].sort()) {
	total += s.n;
	for (const [k, v] of s.statuses) {
		if (/^5/.test(k))
			fivexx += v;
		else if (/^no answer/.test(k))
			noAnswer += v;
		else if (!/^2/.test(k))
			other += v;
	}
	console.log(`${name.padEnd(22)} ${String(s.n).padStart(9)} ${pct(s.ms, 50).toFixed(1).padStart(9)} ` +
	    `${pct(s.ms, 99).toFixed(1).padStart(9)} ${s.ms.reduce((a, b) => (b > a ? b : a), 0).toFixed(1).padStart(9)}  ` +
	    [...s.statuses.entries()].map(([k, v]) => `${k}: ${v}`).join(', '));
}
console.log(`\n${total} requests in ${elapsed.toFixed(1)} s (${(total / elapsed).toFixed(0)}/s); ` +
    `${(bytesUp / 1048576).toFixed(0)} MiB up, ${(bytesDown / 1048576).toFixed(0)} MiB down`);
if (fivexx)
	problems.push(`${fivexx} responses were 5xx`);
if (noAnswer)
	problems.push(`${noAnswer} requests got no complete answer`);
if (other)
	problems.push(`${other} responses had another unexpected status`);
for (const f of failures.slice(0, 10))
	console.log(`  failed: ${JSON.stringify(f)}`);

// Every acknowledgment, looked up in MySQL.
function inChunks(ids, fn) {
	for (let i = 0; i < ids.length; i += 500)
		fn(ids.slice(i, i + 500).join(','));
}
let acks = 0;
const lost = [];
const pingIds = [...acked.ping.keys()];
const pingTests = new Map(), samples = new Map();
inChunks(pingIds, (list) => {
	for (const r of query(stack, `SELECT id, state FROM ping_tests WHERE id IN (${list})`))
		pingTests.set(Number(r[0]), r[1]);
	for (const r of query(stack, `SELECT test_id, seq, client_sent_at, server_received_at, server_sent_at,
	    client_received_at FROM ping_samples WHERE test_id IN (${list})`))
		samples.set(`${r[0]}:${r[1]}`, r.slice(2).map((v) => (v === null ? null : Number(v))));
});
for (const [id, p] of acked.ping) {
	acks++;
	if (!pingTests.has(id))
		lost.push(`ping test ${id}`);
	else if ((p.closed || p.receipts.size === PING_COUNT) && pingTests.get(id) !== 'complete')
		lost.push(`ping test ${id} is ${pingTests.get(id)}, not complete`);
	for (const [seq, e] of p.echoes) {
		acks++;
		const row = samples.get(`${id}:${seq}`);
		if (!row || row[0] !== e.t0 || row[1] !== e.t1 || row[2] !== e.t2) {
			lost.push(`echo ${id}/${seq}${row ? ' (stamps differ)' : ''}`);
			continue;
		}
		if (p.receipts.has(seq)) {
			acks++;
			if (row[3] !== p.receipts.get(seq))
				lost.push(`receipt ${id}/${seq}`);
		}
	}
}
const tpIds = [...acked.tp.keys()];
const tpTests = new Set(), xfers = new Map();
inChunks(tpIds, (list) => {
	for (const r of query(stack, `SELECT id FROM throughput_tests WHERE id IN (${list})`))
		tpTests.add(Number(r[0]));
	for (const r of query(stack, `SELECT test_id, direction, seq, status, bytes, client_sent_at,
	    client_received_at FROM throughput_transfers WHERE test_id IN (${list})`))
		xfers.set(`${r[0]}:${r[1]}:${r[2]}`, { status: r[3], bytes: Number(r[4]),
		    sent: r[5] === null ? null : Number(r[5]), received: r[6] === null ? null : Number(r[6]) });
});
for (const [id, x] of acked.tp) {
	acks++;
	if (!tpTests.has(id))
		lost.push(`throughput test ${id}`);
	for (const [k, bytes] of x.packets) {
		acks++;
		const row = xfers.get(`${id}:${k}`);
		if (!row || row.status !== 'ok' || row.bytes !== bytes) {
			lost.push(`packet ${id} ${k}${row ? ` (${row.status}, ${row.bytes} bytes)` : ''}`);
			continue;
		}
		const rp = x.reported.get(k);
		if (rp) {
			acks++;
			if (row.sent !== rp.client_sent_at || row.received !== rp.client_received_at)
				lost.push(`report ${id} ${k}`);
		}
	}
}
console.log(`\nMySQL: ${acks} acknowledged writes checked (${pingIds.length} ping tests, ` +
    `${tpIds.length} throughput tests): ${lost.length} missing`);
for (const l of lost.slice(0, 20))
	console.log(`  missing: ${l}`);
if (lost.length)
	problems.push(`${lost.length} acknowledged writes are not in MySQL`);

// RSS: the series, and the growth from the end of the warm-up to the end.
const pids = [...new Set(rss.flatMap((r) => Object.keys(r.kb)))];
console.log('\nRSS (kB) every ' + SAMPLE_MS / 1000 + ' s, as VmRSS (RssAnon):');
console.log('     s  ' + pids.map((p) => `pid ${p}`.padStart(20)).join(''));
for (const r of rss)
	console.log(String(r.s).padStart(6) + '  ' +
	    pids.map((p) => `${r.kb[p] ?? '-'} (${r.anon[p] ?? '-'})`.padStart(20)).join(''));
if (poolGoneAt !== null)
	problems.push(`the pool's supervisor ${supervisor} went away ${Math.round((poolGoneAt - startedAt) / 1000)} s into the run`);
const workersEnd = supervisor ? childPids(supervisor) : [];
if (workersEnd.join(' ') !== workers0.join(' '))
	problems.push(`the workers changed during the run: ${workers0.join(' ')} -> ${workersEnd.join(' ')}`);
const warm = Math.min(60, Math.floor(SECONDS / 3));
const base = rss.find((r) => r.s >= warm) ?? rss[0];
const last = rss[rss.length - 1];
for (const p of pids) {
	const a = base.kb[p], b = last.kb[p];
	if (a == null || b == null)
		continue;
	const allow = Math.max(RSS_ALLOW_KB, (a * RSS_ALLOW_PCT) / 100);
	const grew = b - a;
	const peak = rss.filter((r) => r.s >= base.s).reduce((m, r) => Math.max(m, r.kb[p] ?? 0), 0);
	const anonGrew = (last.anon[p] ?? 0) - (base.anon[p] ?? 0);
	console.log(`pid ${p}: ${a} kB at ${base.s} s -> ${b} kB at ${last.s} s (${grew >= 0 ? '+' : ''}${grew} kB, ` +
	    `of which RssAnon ${anonGrew >= 0 ? '+' : ''}${anonGrew} kB; peak ${peak} kB; allowed +${Math.round(allow)} kB)`);
	if (grew > allow)
		problems.push(`pid ${p} grew ${grew} kB after the warm-up (allowed ${Math.round(allow)} kB)`);
}

cleanup();
console.log('');
if (problems.length) {
	log(`FAIL: ${problems.join('; ')}`);
	process.exit(1);
}
log(`PASS: ${total} requests, zero 5xx, ${acks} acknowledged writes all in MySQL, worker RSS flat`);
process.exit(0);
