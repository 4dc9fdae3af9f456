// mock-server.mjs - an in-memory stand-in for the Pingoo API (docs/api.md), plain HTTP on
// loopback, for the SDK's offline tests (t/sdk/unit.mjs) and for working on the page without
// the real stack (`node t/sdk/mock-server.mjs [port]` also serves web/dist at /).
//
// It follows the contract's shapes and error codes closely enough to exercise the SDK's
// exchanges (batching, abort, error mapping); the real server is tested by t/sdk/sdk.mjs.

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

class ApiError extends Error {
	constructor(status, code, message, field) {
		super(message);
		this.status = status;
		this.code = code;
		this.field = field;
	}
}

// The summaries this mock serves are fixed, not computed.  The counts are the test's own
// (samples echoed and receipted, packets moved, failed and their bytes); every statistic is
// the constant below whatever the stamps, or null where the API gives null (no receipt, no
// packet moved; jitter needs two receipts).  The SDK and the page are tested here for
// carrying the server's summary through, not for computing it: the real summary is checked
// against the stack, field by field, by t/integration/lib/summary.mjs.
export const MOCK_PING_STATS = Object.freeze({
	rtt_min_us: 1000, rtt_mean_us: 2000, rtt_median_us: 2000, rtt_p90_us: 3000,
	rtt_p99_us: 3000, rtt_max_us: 3000, rtt_stddev_us: 500, jitter_us: 250,
	server_median_us: 50, network_rtt_median_us: 1950, offset_us: 0,
	offset_uncertainty_us: 975,
});
export const MOCK_TP_STATS = Object.freeze({
	elapsed_us: 1000000, bits_per_second: 100000000, packet_bps_min: 80000000,
	packet_bps_median: 100000000, packet_bps_p90: 120000000, packet_bps_max: 120000000,
});
// The sender's pace, apart from the throughput and never called so.
export const MOCK_TP_SENDER_STATS = Object.freeze({
	sender_elapsed_us: 500000, sender_bits_per_second: 200000000,
});

const nulls = (o) => Object.fromEntries(Object.keys(o).map((k) => [k, null]));

function pingSummary(t) {
	const sent = t.samples.length;
	const received = t.samples.filter((s) => s.client_received_at !== null).length;
	return {
		sent, echoed: sent, received, lost: sent - received,
		loss_pct: sent ? Math.round(((100 * (sent - received)) / sent) * 1000) / 1000 : null,
		...(received ? MOCK_PING_STATS : nulls(MOCK_PING_STATS)),
		...(received < 2 ? { jitter_us: null } : {}),
	};
}

const rate = (bytes, us) => (us > 0 ? Math.round((bytes * 8e6) / us) : null);

// A transfer as a read shows it: the receiver's duration and rate (an upload's at the server, a
// download's at the client from its first byte to its last, null until reported) and the
// sender's.
function tpTransfer(x) {
	const server = x.server_finished_at !== null ? x.server_finished_at - x.server_started_at : null;
	const from = x.direction === 'download' ? x.client_first_byte_at : x.client_sent_at;
	const client = x.client_received_at === null || from === null ? null
	    : x.client_received_at - from;
	const [recv, send] = x.direction === 'download' ? [client, server] : [server, client];
	return { ...x, duration_us: recv, bits_per_second: recv === null ? null : rate(x.bytes, recv),
	    sender_duration_us: send, sender_bits_per_second: send === null ? null : rate(x.bytes, send) };
}

function tpSummary(t, dir) {
	if (t.direction !== dir && t.direction !== 'both')
		return null;
	const xs = t.transfers.filter((x) => x.direction === dir).map(tpTransfer);
	const ok = xs.filter((x) => x.status === 'ok');
	const reported = ok.filter((x) => x.client_received_at !== null);
	const down = dir === 'download';
	// The receiver's figures: a download's wait for its reports, an upload's do not.
	const timed = down ? reported.length : ok.length;
	return {
		packets: t.packets, received: ok.length, failed: xs.length - ok.length,
		bytes: ok.reduce((a, x) => a + x.bytes, 0), reported: reported.length,
		report_missing: down && reported.length < ok.length,
		...(timed ? MOCK_TP_STATS : nulls(MOCK_TP_STATS)),
		...(ok.length ? MOCK_TP_SENDER_STATS : nulls(MOCK_TP_SENDER_STATS)),
	};
}

export function createMock({ users = { demo: 'demo-password' }, webDir = null } = {}) {
	const tokens = new Map();
	const tests = new Map();
	let nextId = 1;
	const log = [];
	// Probe seqs whose exchange the mock cuts (no answer: the client must report them lost).
	const cutProbes = new Set();

	const view = (t, full) => {
		if (t.kind === 'ping') {
			const { samples, owner, ...rest } = t;
			const v = { ...rest, summary: pingSummary(t) };
			if (full)
				v.samples = samples;
			return v;
		}
		const { transfers, owner, ...rest } = t;
		const v = { ...rest, summary: { download: tpSummary(t, 'download'),
		    upload: tpSummary(t, 'upload') } };
		if (full)
			v.transfers = transfers.map(tpTransfer);
		return v;
	};

	const need = (body, key, type = 'integer') => {
		if (!(key in body))
			throw new ApiError(400, 'missing_field', `${key} is required`, key);
		const v = body[key];
		if (type === 'integer' ? !Number.isInteger(v) : typeof v !== type)
			throw new ApiError(400, 'invalid_field', `${key} must be ${type}`, key);
		return v;
	};

	const owned = (user, id, kind) => {
		const t = tests.get(Number(id));
		if (!t || t.owner !== user || t.kind !== kind)
			throw new ApiError(404, 'not_found', 'no such test');
		return t;
	};

	const incomplete = (t) => {
		if (t.state !== 'incomplete')
			throw new ApiError(409, 'invalid_state', `the test is ${t.state}`);
	};

	const finishTp = (t) => {
		const dirs = t.direction === 'both' ? 2 : 1;
		if (t.transfers.filter((x) => x.status === 'ok').length === dirs * t.packets) {
			t.state = 'complete';
			t.finished_at = nowUs();
		}
	};

	const list = (user, kind, url) => {
		const limit = url.searchParams.has('limit') ? Number(url.searchParams.get('limit')) : 20;
		if (!Number.isInteger(limit) || limit < 1 || limit > 100)
			throw new ApiError(400, 'invalid_query', 'limit must be 1..100', 'limit');
		const cursor = url.searchParams.get('cursor');
		const mine = [...tests.values()].filter((t) => t.owner === user && t.kind === kind)
		    .sort((a, b) => b.id - a.id).filter((t) => !cursor || t.id < Number(cursor));
		const page = mine.slice(0, limit);
		return { tests: page.map((t) => view(t, false)),
		    next_cursor: mine.length > limit ? String(page.at(-1).id) : null };
	};

	async function handle(req, res, url, raw) {
		const p = url.pathname.replace(/^\/api\/v1/, '');
		const m = req.method;
		const json = () => {
			if (!/^application\/json/i.test(req.headers['content-type'] ?? ''))
				throw new ApiError(415, 'unsupported_media_type', 'send JSON');
			try {
				const v = JSON.parse(raw.toString('utf8'));
				if (!v || typeof v !== 'object' || Array.isArray(v))
					throw new Error();
				return v;
			} catch {
				throw new ApiError(400, 'invalid_json', 'not a JSON object');
			}
		};
		if (p === '/health' && m === 'GET')
			return [200, { status: 'ok', database: 'up', version: 'mock' }];
		if (p === '/auth/token' && m === 'POST') {
			const b = json();
			if (users[b.username] === undefined || users[b.username] !== b.password)
				throw new ApiError(401, 'invalid_credentials', 'wrong username or password');
			const tok = crypto.randomBytes(16).toString('hex');
			tokens.set(tok, b.username);
			return [200, { access_token: tok, token_type: 'Bearer', expires_in: 3600 }];
		}
		const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
		const user = auth && tokens.get(auth[1]);
		if (!user) {
			res.setHeader('WWW-Authenticate', 'Bearer');
			throw new ApiError(401, 'unauthorized', 'a valid bearer token is required');
		}
		if (p === '/me' && m === 'GET')
			return [200, { id: 1, username: user, created_at: 0 }];
		if (p === '/ping-tests' && m === 'POST') {
			const b = json();
			const count = need(b, 'count');
			if (count < 1 || count > 10000)
				throw new ApiError(422, 'limit_exceeded', 'ping_max_count is 10000', 'count');
			const t = { id: nextId++, kind: 'ping', state: 'incomplete', count,
			    interval_ms: b.interval_ms ?? 0, client: b.client ?? null, created_at: nowUs(),
			    closed_at: null, owner: user, samples: [] };
			tests.set(t.id, t);
			return [201, view(t, false)];
		}
		if (p === '/ping-tests' && m === 'GET')
			return [200, list(user, 'ping', url)];
		let r = /^\/ping-tests\/(\d+)(?:\/(echo|receipts|close))?$/.exec(p);
		if (r) {
			const t = owned(user, r[1], 'ping');
			if (!r[2] && m === 'GET')
				return [200, view(t, true)];
			if (r[2] === 'echo' && m === 'POST') {
				const t1 = nowUs();
				const b = json();
				incomplete(t);
				const seq = need(b, 'seq');
				const t0 = need(b, 'client_sent_at');
				if (seq < 0 || seq >= t.count)
					throw new ApiError(422, 'out_of_range', 'seq >= count', 'seq');
				if (t.samples.some((s) => s.seq === seq))
					throw new ApiError(409, 'duplicate_seq', 'seq already echoed', 'seq');
				const s = { seq, client_sent_at: t0, server_received_at: t1, server_sent_at: null,
				    client_received_at: null, rtt_us: null, server_us: null,
				    network_rtt_us: null, offset_us: null };
				t.samples.push(s);
				s.server_sent_at = nowUs();
				res.setHeader('Server-Timing', `app;dur=${((s.server_sent_at - t1) / 1000).toFixed(3)}`);
				return [200, { seq, server_received_at: t1, server_sent_at: s.server_sent_at,
				    sig: 'mock' }];
			}
			if (r[2] === 'receipts' && m === 'POST') {
				const b = json();
				incomplete(t);
				if (!Array.isArray(b.receipts) || !b.receipts.length)
					throw new ApiError(400, 'invalid_field', 'receipts must be a non-empty array',
					    'receipts');
				log.push({ kind: 'receipts', id: t.id, n: b.receipts.length, body: b });
				const plan = b.receipts.map((rc, i) => {
					const s = t.samples.find((x) => x.seq === rc.seq);
					if (!s)
						throw new ApiError(422, 'not_echoed', 'never echoed', `receipts[${i}].seq`);
					if (s.client_received_at !== null)
						throw new ApiError(409, 'duplicate_seq', 'already received',
						    `receipts[${i}].seq`);
					if (rc.client_received_at < s.client_sent_at)
						throw new ApiError(422, 'out_of_range', 't3 < t0',
						    `receipts[${i}].client_received_at`);
					return [s, rc];
				});
				for (const [s, rc] of plan) {
					s.client_received_at = rc.client_received_at;
					s.rtt_us = s.client_received_at - s.client_sent_at;
					s.server_us = s.server_sent_at - s.server_received_at;
					s.network_rtt_us = s.rtt_us - s.server_us;
					s.offset_us = Math.round(((s.server_received_at - s.client_sent_at) +
					    (s.server_sent_at - s.client_received_at)) / 2);
				}
				const received = t.samples.filter((x) => x.client_received_at !== null).length;
				if (received === t.count) {
					t.state = 'complete';
					t.closed_at = nowUs();
				}
				return [200, { accepted: plan.map(([s]) => s.seq), received, state: t.state }];
			}
			if (r[2] === 'close' && m === 'POST') {
				incomplete(t);
				log.push({ kind: 'close', id: t.id });
				t.state = 'complete';
				t.closed_at = nowUs();
				return [200, view(t, true)];
			}
			throw new ApiError(405, 'method_not_allowed', 'wrong method');
		}
		if (p === '/throughput-tests' && m === 'POST') {
			const b = json();
			const direction = need(b, 'direction', 'string');
			if (!['download', 'upload', 'both'].includes(direction))
				throw new ApiError(400, 'invalid_field', 'bad direction', 'direction');
			const packets = need(b, 'packets');
			const size = need(b, 'packet_size');
			if (size > 64 * 1048576)
				throw new ApiError(422, 'limit_exceeded', 'tp_max_packet_size is 67108864',
				    'packet_size');
			const t = { id: nextId++, kind: 'throughput', state: 'incomplete', direction,
			    packets, packet_size: size, client: b.client ?? null, created_at: nowUs(),
			    finished_at: null, owner: user, transfers: [] };
			tests.set(t.id, t);
			return [201, view(t, false)];
		}
		if (p === '/throughput-tests' && m === 'GET')
			return [200, list(user, 'throughput', url)];
		r = /^\/throughput-tests\/(\d+)(?:\/(download|upload|reports|abort|probes|probe-receipts)(?:\/(\d+))?)?$/.exec(p);
		if (r) {
			const t = owned(user, r[1], 'throughput');
			if (!r[2] && m === 'GET')
				return [200, view(t, true)];
			if ((r[2] === 'download' && m === 'GET') || (r[2] === 'upload' && m === 'PUT')) {
				const started = nowUs();
				incomplete(t);
				const seq = Number(r[3]);
				if (t.direction !== r[2] && t.direction !== 'both')
					throw new ApiError(409, 'invalid_state', `not a ${r[2]} test`);
				if (seq >= t.packets)
					throw new ApiError(422, 'out_of_range', 'seq >= packets');
				if (t.transfers.some((x) => x.direction === r[2] && x.seq === seq))
					throw new ApiError(409, 'duplicate_packet', 'already transferred');
				const x = { direction: r[2], seq, bytes: t.packet_size, status: 'ok',
				    server_started_at: started, server_finished_at: null, client_sent_at: null,
				    client_first_byte_at: null, client_received_at: null };
				const fin = () => {
					x.server_finished_at = Math.max(nowUs(), started + 1);
					t.transfers.push(x);
					finishTp(t);
				};
				if (r[2] === 'upload') {
					if (raw.length !== t.packet_size)
						throw new ApiError(422, 'wrong_size', `body must be ${t.packet_size} bytes`);
					fin();
					const v = tpTransfer(x);
					return [200, { direction: 'upload', seq, bytes: v.bytes,
					    server_started_at: v.server_started_at,
					    server_finished_at: v.server_finished_at, duration_us: v.duration_us,
					    bits_per_second: v.bits_per_second }];
				}
				res.writeHead(200, { 'Content-Type': 'application/octet-stream',
				    'Content-Length': String(t.packet_size), 'Cache-Control': 'no-store, no-transform',
				    'X-Pingoo-Server-Started-At': String(started) });
				const chunk = crypto.randomBytes(Math.min(65536, t.packet_size));
				let left = t.packet_size;
				await new Promise((resolve) => {
					const pump = () => {
						while (left > 0) {
							const n = Math.min(left, chunk.length);
							left -= n;
							if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
								res.once('drain', pump);
								return;
							}
						}
						res.end(resolve);
					};
					res.on('close', resolve);
					pump();
				});
				if (left === 0 && res.writableFinished)
					fin();
				return null;
			}
			if (r[2] === 'reports' && m === 'POST' && !r[3]) {
				const b = json();
				log.push({ kind: 'reports', id: t.id, n: b.packets?.length ?? 0 });
				for (const [i, rp] of (b.packets ?? []).entries()) {
					const x = t.transfers.find((y) => y.direction === rp.direction && y.seq === rp.seq);
					if (!x)
						throw new ApiError(422, 'out_of_range', 'no such packet', `packets[${i}].seq`);
					const first = `packets[${i}].client_first_byte_at`;
					if (rp.direction === 'download' && !Number.isInteger(rp.client_first_byte_at))
						throw new ApiError(400, 'missing_field', 'a download needs its first byte', first);
					if (rp.direction === 'upload' && rp.client_first_byte_at !== undefined)
						throw new ApiError(400, 'invalid_field', 'for downloads only', first);
				}
				for (const rp of b.packets) {
					const x = t.transfers.find((y) => y.direction === rp.direction && y.seq === rp.seq);
					x.client_sent_at = rp.client_sent_at;
					x.client_first_byte_at = rp.client_first_byte_at ?? null;
					x.client_received_at = rp.client_received_at;
				}
				return [200, { accepted: b.packets.length }];
			}
			if (r[2] === 'probes' && m === 'POST' && !r[3]) {
				const b = json();
				const at = nowUs();
				log.push({ kind: 'probe', id: t.id, seq: b.seq, phase: b.phase });
				incomplete(t);
				if (cutProbes.has(b.seq)) {
					res.destroy();
					return null;
				}
				return [200, { seq: b.seq, phase: b.phase, server_received_at: at,
				    server_sent_at: at + 1, sig: 'f'.repeat(32) }];
			}
			if (r[2] === 'probe-receipts' && m === 'POST' && !r[3]) {
				const b = json();
				log.push({ kind: 'probe-receipts', id: t.id, body: b });
				return [200, { accepted: b.receipts.map((x) => x.seq) }];
			}
			if (r[2] === 'abort' && m === 'POST' && !r[3]) {
				incomplete(t);
				log.push({ kind: 'abort', id: t.id });
				t.state = 'aborted';
				t.finished_at = nowUs();
				return [200, view(t, true)];
			}
			throw new ApiError(405, 'method_not_allowed', 'wrong method');
		}
		throw new ApiError(404, 'not_found', 'no such route');
	}

	const server = http.createServer((req, res) => {
		const url = new URL(req.url, 'http://x');
		if (!url.pathname.startsWith('/api/') && webDir) {
			const rel = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
			const file = path.join(webDir, path.normalize(rel));
			const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
			    '.svg': 'image/svg+xml' };
			if (file.startsWith(webDir) && fs.existsSync(file) && fs.statSync(file).isFile()) {
				res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream',
				    'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'" });
				fs.createReadStream(file).pipe(res);
				return;
			}
		}
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			try {
				const out = await handle(req, res, url, Buffer.concat(chunks));
				if (out) {
					res.writeHead(out[0], { 'Content-Type': 'application/json; charset=utf-8' });
					res.end(JSON.stringify(out[1]));
				}
			} catch (e) {
				if (!(e instanceof ApiError))
					e = new ApiError(500, 'internal_error', 'mock bug: ' + e.message);
				const error = { code: e.code, message: e.message };
				if (e.field)
					error.field = e.field;
				if (!res.headersSent) {
					res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8' });
					res.end(JSON.stringify({ error }));
				} else {
					res.destroy();
				}
			}
		});
	});

	return {
		server, tests, log, cutProbes,
		listen(port = 0) {
			return new Promise((resolve) => server.listen(port, '127.0.0.1', () =>
			    resolve(`http://127.0.0.1:${server.address().port}`)));
		},
		close() {
			server.closeAllConnections?.();
			return new Promise((resolve) => server.close(resolve));
		},
	};
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web',
	    'dist');
	const mock = createMock({ webDir });
	mock.listen(Number(process.argv[2] ?? 0)).then((url) => console.log(`mock Pingoo on ${url}`));
}
