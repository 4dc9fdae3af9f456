// load.mjs - the fault tests' mixed load, which keeps every acknowledgment it was given, the
// comparison of those acknowledgments with MySQL, and the guard that leaves the stack
// running whatever happens to the test.
//
//   const L = loadKit(stack);
//   const rec = L.startLoad(token, 4);      // 4 keep-alive clients, until rec.finish()
//   ... a fault ...
//   await rec.finish();
//   t.diag(tally(rec.events));
//   await L.verifyRecorded(rec, 'label');   // one ok(): every acknowledged write is in MySQL
//
//   const guard = stackGuard();             // exit and signal handlers undo what is registered
//   guard.undo('db', () => guard.ctlSync(stack.PINGOO_DB_CTL, 'start'));
//   await guard.ctl(stack.PINGOO_DB_CTL, 'stop');   // the load goes on meanwhile
//   ...
//   guard.done('db');

import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './tap.mjs';
import { checkResponse } from './openapi.mjs';
import { poolPids, childPids } from './stack.mjs';
import { query } from './db.mjs';
import { requestParts } from './request.mjs';

// ---- processes -------------------------------------------------------------------------------

// The state letter of a process, or null when it is gone.
export function procState(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
	} catch {
		return null;
	}
}

// True while pid runs (a zombie, which nothing reaps here, has ended).
export const running = (pid) => !/[ZX]/.test(procState(pid) ?? 'X');

// The pool's supervisor pid while it runs, else null.
export function supervisorPid(stack) {
	const p = poolPids(stack);
	if (!p || !p.length)
		return null;
	return running(p[0]) ? p[0] : null;
}

// The live worker processes under the supervisor pid.
export const liveKids = (pid) => childPids(pid).filter(running);

// One way to wait for the stack, shared with the other tests.
export { poll } from './poll.mjs';

// ---- leaving the stack running -------------------------------------------------------------

// Control commands ($PINGOO_*_CTL start|stop|...) run asynchronously so a load goes on while
// they work; restore() waits for those in flight (a stop still running would undo a start),
// then runs, in the order they were registered, the steps that undo each fault still in
// place.  install() makes exit and SIGINT/SIGTERM/SIGHUP call restore().
export function stackGuard() {
	const inFlight = new Set();
	const steps = new Map();

	function ctlSync(ctl, action, env) {
		return execFileSync(ctl, [action], { encoding: 'utf8', timeout: 120000,
		    stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : undefined });
	}
	function ctl(ctlPath, action) {
		return new Promise((resolve, reject) => {
			const child = execFile(ctlPath, [action], { encoding: 'utf8', timeout: 120000 },
			    (err, out, errout) => {
				inFlight.delete(child);
				err ? reject(new Error(`${ctlPath} ${action}: ${errout || err.message}`)) : resolve(out);
			});
			inFlight.add(child);
		});
	}
	function waitInFlight() {
		for (const child of inFlight) {
			try {
				// The event loop does not run here, so a finished child stays a zombie:
				// wait for it to be gone or a zombie.
				execFileSync('sh', ['-c', 'while s=$(sed "s/.*) //" /proc/$0/stat 2>/dev/null | cut -d" " -f1) && ' +
				    '[ -n "$s" ] && [ "$s" != Z ]; do sleep 0.1; done', String(child.pid)],
				    { timeout: 120000, stdio: 'ignore' });
			} catch {
				// waited long enough
			}
		}
	}
	function restore() {
		waitInFlight();
		for (const [key, fn] of [...steps]) {
			try {
				fn();
				steps.delete(key);
			} catch (e) {
				process.stdout.write(`# could not undo ${key}: ${(e.stderr || e.message).toString().trim()}\n`);
			}
		}
	}
	function install(atExit) {
		process.on('exit', () => {
			restore();
			if (atExit)
				atExit();
		});
		for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
			process.on(sig, () => {
				restore();
				process.exit(1);
			});
		}
	}
	return {
		ctl, ctlSync, waitInFlight, restore, install,
		undo: (key, fn) => steps.set(key, fn),
		done: (key) => steps.delete(key),
		pending: (key) => steps.has(key),
	};
}

// ---- the load ----------------------------------------------------------------------------------

// Microseconds since the epoch from a monotonic clock, so a receipt never precedes its echo.
const epochBaseUs = Date.now() * 1000 - performance.now() * 1000;
export const nowUs = () => Math.round(epochBaseUs + performance.now() * 1000);

// A clean error: a JSON body {"error": {"code": ...}} that is not a 500 bug, or a download
// cut short in a way the client sees (fewer bytes than its Content-Length).
export function cleanError(r) {
	if (r.status === 0)
		return false;
	if (r.status === 200 && r.cl !== null && r.cl !== undefined && r.bytes < r.cl)
		return true;
	return r.status !== 500 && !!r.json && !!r.json.error && typeof r.json.error.code === 'string';
}

// Connections that have carried a request: a failure on one of them before any byte of an
// answer means the server closed it while idle, as the request went out (nginx does on
// reload and stop), so the request was never read.  HTTP clients send such a request again
// on a new connection.
const served = new WeakSet();
const staleReset = (e) => e.code === 'ECONNRESET' || e.code === 'EPIPE';

export function tally(events) {
	const m = new Map();
	for (const e of events) {
		let k = e.ok ? `${e.status}` : `${e.status}${e.code ? ' ' + e.code : ''}${e.err ? ' (' + e.err + ')' : ''}`;
		if (e.resent)
			k += ' after a re-send';
		m.set(k, (m.get(k) ?? 0) + 1);
	}
	return [...m.entries()].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
}

// tally() for each operation: "echo (200: 40); receipts (200: 9, 503 database_unavailable: 1)".
export function byOp(events) {
	const ops = [...new Set(events.map((e) => e.op))].sort();
	return ops.map((op) => `${op} (${tally(events.filter((e) => e.op === op))})`).join('; ');
}

export function loadKit(stack) {
	const CA = fs.readFileSync(stack.PINGOO_CA_FILE);
	const URL0 = new URL(stack.PINGOO_URL);
	const SMALL = 64 * 1024;
	const smallBody = crypto.randomBytes(SMALL);

	// Resolves {status, headers, json, bytes (body length), cl, complete, ms, err, resent};
	// never rejects; status 0 when no answer came (network error, or none within timeoutMs),
	// with `connected` false after an error before a TLS connection was established.
	// With resendStale, a request the server never read because it closed the reused
	// connection (see `served`) goes out once more on a new one, as HTTP clients do; the
	// answer then carries `resent` (the first error's code).
	function call(agent, opts) {
		const { method = 'GET', path, timeoutMs = 10000, keep = true, resendStale = false } = opts;
		const { headers, body } = requestParts(opts);
		const started = performance.now();
		return new Promise((resolve) => {
			let settled = false;
			const settle = (v) => {
				if (settled)
					return;
				settled = true;
				clearTimeout(timer);
				resolve({ ms: performance.now() - started, ...v });
			};
			const req = https.request({ host: URL0.hostname, port: URL0.port, method, path, headers,
			    agent, ca: CA });
			let reused = false, secured = false;
			req.on('socket', (sock) => {
				reused = served.has(sock);
				served.add(sock);
				if (reused)
					secured = true;
				else
					sock.once('secureConnect', () => (secured = true));
			});
			const timer = setTimeout(() => {
				req.destroy(new Error('timeout'));
				settle({ status: 0, err: `no complete answer within ${timeoutMs} ms` });
			}, timeoutMs);
			let answered = false;
			req.on('response', (res) => {
				answered = true;
				const firstUs = nowUs();	// the response's head: its first byte
				const chunks = [];
				let bytes = 0;
				// Packet bytes are only counted; an error body is kept.
				const want = keep || !/octet-stream/i.test(res.headers['content-type'] ?? '');
				res.on('data', (c) => {
					bytes += c.length;
					if (want)
						chunks.push(c);
				});
				const end = (err) => {
					const text = want ? Buffer.concat(chunks).toString('utf8') : '';
					let j;
					if (/^application\/json/i.test(res.headers['content-type'] ?? '')) {
						try {
							j = JSON.parse(text);
						} catch {
							j = undefined;
						}
					}
					const r = { status: res.statusCode, headers: res.headers, json: j, text, bytes, firstUs,
					    cl: res.headers['content-length'] !== undefined ?
					        Number(res.headers['content-length']) : null,
					    complete: res.complete && !err, err: err ? err.message : undefined };
					if (want)
						checkResponse(method, path, r);
					settle(r);
				};
				res.on('end', () => end());
				res.on('error', (e) => end(e));
				res.on('aborted', () => end(new Error('aborted')));
			});
			req.on('error', (e) => {
				if (resendStale && !settled && !answered && reused && staleReset(e)) {
					settled = true;
					clearTimeout(timer);
					const left = Math.max(1, timeoutMs - (performance.now() - started));
					call(false, { ...opts, timeoutMs: left, resendStale: false }).then((r) =>
					    resolve({ ...r, ms: performance.now() - started, resent: `${e.code}` }));
					return;
				}
				settle({ status: 0, err: e.message, connected: secured });
			});
			req.end(body);
		});
	}

	// A mixed load: `clients` loops of ping tests (create, 6 echoes, receipts) and small
	// throughput tests (2 x 64 KiB up and down, then a report of the packets moved), plus a
	// history read every third round.  Everything acknowledged is kept in the returned record
	// for verifyRecorded(); every answer is an event {at, start, op, status, ms, code, err, ok,
	// clean, refused (no connection), resent}.  A client whose request got no answer waits
	// 25 ms before its next round, as a real client backs off.  resendStale: see call().
	// sig: false sends receipts with the client's stamps only, never the server's signed
	// ones, so no receipt can bring back a sample the server failed to keep.
	function startLoad(token, clients, { resendStale = false, sig = true } = {}) {
		const agent = new https.Agent({ keepAlive: true, maxSockets: clients, ca: CA });
		const rec = { ping: new Map(), tp: new Map(), events: [], stop: false, agent, sig };
		const go = (o) => call(agent, { token, resendStale, ...o });
		let noAnswer = 0;
		const ev = (op, r) => {
			const at = Date.now();
			const e = { at, start: at - r.ms, op, status: r.status, ms: r.ms,
			    code: r.json?.error?.code, err: r.err, resent: r.resent };
			e.ok = r.status >= 200 && r.status < 300 && (r.cl === null || r.cl === undefined ||
			    r.bytes === r.cl) && !r.err;
			e.clean = e.ok || cleanError(r);
			// No connection at all, so no request sent: an error before the TLS handshake
			// ended (connect(2) refused, or a reset from a listening socket closed with the
			// connection still in its backlog).
			e.refused = r.status === 0 && r.connected === false;
			if (r.status === 0)
				noAnswer++;
			rec.events.push(e);
			return e.ok;
		};
		async function pingRound() {
			const c = await go({ method: 'POST', path: '/api/v1/ping-tests',
			    json: { count: 6, interval_ms: 0 } });
			if (!ev('ping create', c) || c.status !== 201)
				return;
			const p = { echoes: new Map(), receipts: new Map() };
			rec.ping.set(c.json.id, p);
			for (let seq = 0; seq < 6 && !rec.stop; seq++) {
				const t0 = nowUs();
				const r = await go({ method: 'POST', path: `/api/v1/ping-tests/${c.json.id}/echo`,
				    json: { seq, client_sent_at: t0 } });
				if (ev('echo', r))
					p.echoes.set(seq, { seq, client_sent_at: t0, server_received_at: r.json.server_received_at,
					    server_sent_at: r.json.server_sent_at, sig: r.json.sig, client_received_at: nowUs() });
				if (seq % 3 === 2)
					await sendReceipts(c.json.id, p);
			}
		}
		async function sendReceipts(id, p, opName = 'receipts') {
			const todo = [...p.echoes.values()].filter((e) => !p.receipts.has(e.seq));
			if (!todo.length)
				return null;
			const receipts = sig ? todo : todo.map((e) => ({ seq: e.seq,
			    client_received_at: e.client_received_at }));
			const r = await go({ method: 'POST', path: `/api/v1/ping-tests/${id}/receipts`,
			    json: { receipts } });
			if (ev(opName, r))
				for (const e of todo)
					p.receipts.set(e.seq, e.client_received_at);
			return r;
		}
		rec.sendReceipts = sendReceipts;
		// Each packet moved is reported afterwards, as the SDK does: for a download that
		// reached the client in full, the report is what settles it should its worker die or
		// MySQL be away before the worker recorded it.
		async function tpRound() {
			const c = await go({ method: 'POST', path: '/api/v1/throughput-tests',
			    json: { direction: 'both', packets: 2, packet_size: SMALL } });
			if (!ev('tp create', c) || c.status !== 201)
				return;
			const x = new Map();
			const tp = { moved: x, reports: [], reported: new Set() };
			rec.tp.set(c.json.id, tp);
			for (let seq = 0; seq < 2 && !rec.stop; seq++) {
				let t0 = nowUs();
				const u = await go({ method: 'PUT', body: smallBody,
				    path: `/api/v1/throughput-tests/${c.json.id}/upload/${seq}` });
				if (ev('upload', u)) {
					x.set(`upload:${seq}`, u.json.bytes);
					tp.reports.push({ direction: 'upload', seq, client_sent_at: t0, client_received_at: nowUs() });
				}
				t0 = nowUs();
				const d = await go({ keep: false, path: `/api/v1/throughput-tests/${c.json.id}/download/${seq}` });
				if (ev('download', d)) {
					x.set(`download:${seq}`, d.bytes);
					tp.reports.push({ direction: 'download', seq, client_sent_at: t0,
					    client_first_byte_at: d.firstUs, client_received_at: nowUs() });
				}
			}
			await sendReports(c.json.id, tp);
		}
		// Reports what is not reported yet; a 409 duplicate_packet means an earlier try was
		// committed although its answer was lost (a batch is all or nothing).
		async function sendReports(id, tp, opName = 'reports') {
			const todo = tp.reports.filter((p) => !tp.reported.has(`${p.direction}:${p.seq}`));
			if (!todo.length)
				return null;
			const r = await go({ method: 'POST', path: `/api/v1/throughput-tests/${id}/reports`,
			    json: { packets: todo } });
			if (ev(opName, r) || (r.status === 409 && r.json?.error?.code === 'duplicate_packet'))
				for (const p of todo)
					tp.reported.add(`${p.direction}:${p.seq}`);
			return r;
		}
		rec.sendReports = sendReports;
		async function loop(i) {
			for (let n = i; !rec.stop; n++) {
				const before = noAnswer;
				await (n % 2 ? tpRound() : pingRound());
				if (!rec.stop && n % 3 === 0)
					ev('history', await go({ path: '/api/v1/ping-tests?limit=5' }));
				if (noAnswer !== before)
					await sleep(25);
			}
		}
		rec.done = Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
		rec.finish = async () => {
			rec.stop = true;
			await rec.done;
		};
		return rec;
	}

	// After the fault: the client brings back what may not have reached MySQL, as a client
	// does once the service is back — the receipts of every echo it was answered (with the
	// server's stamps and signature) and the reports of every packet it moved that no report
	// was taken for (the documented way a download whose worker never recorded it is
	// settled); then every acknowledgment is looked up in MySQL: tests created, echoes with
	// their stamps, receipts, packets moved (ok, with the bytes the client had) and reports
	// taken (the client's stamps).  One ok() with the count; rec.verified keeps the figures.
	async function verifyRecorded(rec, label) {
		const ids = [...rec.ping.keys()];
		let missingBefore = 0;
		const missing = () => {
			if (!ids.length)
				return 0;
			const have = new Set(query(stack, `SELECT CONCAT(test_id, ':', seq) FROM ping_samples
			    WHERE test_id IN (${ids.join(',')})`).map((r) => r[0]));
			let n = 0;
			for (const [id, p] of rec.ping)
				for (const seq of p.echoes.keys())
					if (!have.has(`${id}:${seq}`))
						n++;
			return n;
		};
		// Without signed receipts only the server's own writes can keep an acknowledged
		// sample: they get the time a writer waiting out a refusal needs to try again.
		const until = Date.now() + (rec.sig ? 0 : 15000);
		while ((missingBefore = missing()) > 0 && Date.now() < until)
			await sleep(250);
		if (missingBefore)
			t.diag(`${label}: ${missingBefore} acknowledged echoes were not in MySQL before their receipts came back`);
		for (const [id, p] of rec.ping) {
			for (let tries = 0; tries < 5; tries++) {
				const r = await rec.sendReceipts(id, p, 'recovery receipts');
				if (!r || r.status === 200)
					break;
				await sleep(200);
			}
		}
		let resent = 0;
		for (const [id, tp] of rec.tp) {
			for (let tries = 0; tries < 5; tries++) {
				const r = await rec.sendReports(id, tp, 'recovery reports');
				if (!r)
					break;
				if (tries === 0)
					resent++;
				if (r.status === 200 || r.status === 409)
					break;
				await sleep(200);
			}
		}
		if (resent)
			t.diag(`${label}: ${resent} throughput tests had packets no report had been taken for; reported again`);
		const problems = [];
		let acks = 0;
		if (ids.length) {
			const tests = new Set(query(stack, `SELECT id FROM ping_tests WHERE id IN (${ids.join(',')})`)
			    .map((r) => Number(r[0])));
			const rows = new Map(query(stack, `SELECT test_id, seq, client_sent_at, server_received_at,
			    server_sent_at, client_received_at FROM ping_samples WHERE test_id IN (${ids.join(',')})`)
			    .map((r) => [`${r[0]}:${r[1]}`, r.slice(2).map((v) => (v === null ? null : Number(v)))]));
			for (const [id, p] of rec.ping) {
				acks++;
				if (!tests.has(id))
					problems.push(`ping test ${id} (201) is not in ping_tests`);
				for (const [seq, e] of p.echoes) {
					acks++;
					const row = rows.get(`${id}:${seq}`);
					if (!row) {
						problems.push(`echo ${id}/${seq} (200) is not in ping_samples`);
						continue;
					}
					if (row[0] !== e.client_sent_at || row[1] !== e.server_received_at || row[2] !== e.server_sent_at)
						problems.push(`echo ${id}/${seq}: stamps ${row.slice(0, 3)} differ from the answer's`);
					if (p.receipts.has(seq)) {
						acks++;
						if (row[3] !== p.receipts.get(seq))
							problems.push(`receipt ${id}/${seq} (200): client_received_at is ${row[3]}`);
					}
				}
			}
		}
		const tids = [...rec.tp.keys()];
		let settled = 0;	// downloads no worker recorded, settled ok by the client's report
		if (tids.length) {
			const tests = new Set(query(stack, `SELECT id FROM throughput_tests WHERE id IN (${tids.join(',')})`)
			    .map((r) => Number(r[0])));
			const rows = new Map(query(stack, `SELECT test_id, direction, seq, status, bytes, client_sent_at,
			    client_received_at, server_finished_at IS NULL FROM throughput_transfers
			    WHERE test_id IN (${tids.join(',')})`)
			    .map((r) => [`${r[0]}:${r[1]}:${r[2]}`, { status: r[3], bytes: Number(r[4]),
			        sent: r[5] === null ? null : Number(r[5]), received: r[6] === null ? null : Number(r[6]),
			        unrecorded: r[7] === '1' }]));
			for (const [id, { moved, reports, reported }] of rec.tp) {
				acks++;
				if (!tests.has(id))
					problems.push(`throughput test ${id} (201) is not in throughput_tests`);
				for (const [k, bytes] of moved) {
					acks++;
					const row = rows.get(`${id}:${k}`);
					if (!row)
						problems.push(`packet ${id} ${k} (200) is not in throughput_transfers`);
					else if (row.status !== 'ok' || row.bytes !== bytes)
						problems.push(`packet ${id} ${k} (200, ${bytes} bytes) is recorded ${row.status} with ${row.bytes} bytes`);
					else if (row.unrecorded)
						settled++;
				}
				for (const p of reports) {
					const k = `${p.direction}:${p.seq}`;
					if (!reported.has(k))
						continue;
					acks++;
					const row = rows.get(`${id}:${k}`);
					if (!row || row.sent !== p.client_sent_at || row.received !== p.client_received_at)
						problems.push(`report of ${id} ${k} (taken) is recorded as ` +
						    (row ? `sent ${row.sent}, received ${row.received}` : 'nothing'));
				}
			}
		}
		if (settled)
			t.diag(`${label}: ${settled} downloads no worker recorded were settled by the client's report`);
		rec.verified = { acks, problems, settled };
		if (problems.length)
			t.diag(evidence(problems));
		t.ok(problems.length === 0 && acks > 0,
		    `${label}: every one of the ${acks} acknowledged writes is in MySQL`,
		    problems.length ? problems.slice(0, 20).join('\n') : 'nothing was acknowledged');
		return problems.length === 0;
	}

	// What MySQL and the logs hold of the throughput tests the first problems name: the rows
	// each index of throughput_transfers finds for the test, what CHECK TABLE says, every
	// transfer row and the log lines of the pool and nginx that name it, so a red round can be
	// read afterwards.
	function evidence(problems) {
		const ids = [...new Set(problems.slice(0, 5).map((p) => /^(?:packet|report of) (\d+) /.exec(p)?.[1])
		    .filter(Boolean))];
		const out = [];
		for (const id of ids) {
			out.push(`throughput test ${id}:`);
			try {
				for (const r of query(stack, `SELECT id, state, created_at, finished_at FROM throughput_tests
				    WHERE id = ${id}`))
					out.push(`  test ${r.join(' ')}`);
				for (const ix of ['PRIMARY', 'throughput_transfers_started'])
					out.push(`  rows by index ${ix}: ` + query(stack, `SELECT COUNT(*) FROM throughput_transfers
					    FORCE INDEX (${ix}) WHERE test_id = ${id}`)[0][0]);
				for (const r of query(stack, 'CHECK TABLE throughput_transfers'))
					out.push(`  check: ${r.slice(2).join(' ')}`);
				for (const r of query(stack, `SELECT direction, seq, status, bytes, server_started_at,
				    server_finished_at, client_sent_at, client_received_at FROM throughput_transfers
				    WHERE test_id = ${id} ORDER BY direction, seq`))
					out.push(`  transfer ${r.join(' ')}`);
			} catch (e) {
				out.push(`  (query failed: ${e.message})`);
			}
			for (const f of [stack.PINGOO_POOL_LOG, stack.PINGOO_NGINX_ACCESS_LOG].filter(Boolean)) {
				try {
					const lines = fs.readFileSync(f, 'utf8').split('\n')
					    .filter((l) => l.includes(`/throughput-tests/${id}/`) || l.includes(`test ${id} `));
					out.push(...lines.slice(-12).map((l) => `  ${path.basename(f)}: ${l}`));
				} catch {
					// no such log here
				}
			}
		}
		return out.join('\n');
	}

	return { call, startLoad, verifyRecorded, CA, URL0 };
}
