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
import { latencySummary, median, percentile } from '../integration/lib/summary.mjs';

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

class ApiError extends Error {
	constructor(status, code, message, field) {
		super(message);
		this.status = status;
		this.code = code;
		this.field = field;
	}
}

// The ping summaries this mock serves are fixed, not computed.  The counts are the test's own
// (samples echoed and receipted); every statistic is the constant below whatever the stamps,
// or null where the API gives null (no receipt; jitter needs two receipts).  The SDK and the
// page are tested here for carrying the server's summary through, not for computing it: the
// real summary is checked against the stack, field by field, by t/integration/lib/summary.mjs.
//
// A throughput summary is computed from the transfers, by the contract's rules: the
// receiver's elapsed time, rate and per-packet figures, and the sender's apart.  For a
// time-bounded test (duration_ms) the headline bits_per_second is the receiver's bytes inside
// a window over the window's length, the window starting grace_us (a fifth of duration_ms, at
// most 2 s) after the direction's first byte and ending at the first packet end after the
// last packet start, each packet's bytes spread evenly over its own receiver interval.  The
// latency summary is computed from the stored probes (summary.mjs).
export const MOCK_PING_STATS = Object.freeze({
	rtt_min_us: 1000, rtt_mean_us: 2000, rtt_median_us: 2000, rtt_p90_us: 3000,
	rtt_p99_us: 3000, rtt_max_us: 3000, rtt_stddev_us: 500, jitter_us: 250,
	server_median_us: 50, network_rtt_median_us: 1950, offset_us: 0,
	offset_uncertainty_us: 975,
});

const nulls = (o) => Object.fromEntries(Object.keys(o).map((k) => [k, null]));
const sortNum = (v) => [...v].sort((a, b) => a - b);

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

// The receiver's interval of a read transfer: a download's at the client once reported, an
// upload's at the server.
function receiverSpan(x) {
	const [a, b] = x.direction === 'download' ? [x.client_first_byte_at, x.client_received_at]
	    : [x.server_started_at, x.server_finished_at];
	return x.status === 'ok' && a !== null && b !== null && b >= a ? [a, b] : null;
}

function senderSpan(x) {
	const [a, b] = x.direction === 'upload' ? [x.client_sent_at, x.client_received_at]
	    : [x.server_started_at, x.server_finished_at];
	return x.status === 'ok' && a !== null && b !== null && b >= a ? [a, b] : null;
}

// The window of a timed test's direction over its read transfers (see the top of the file):
// it closes at the first packet end after the last packet start (the last end when none
// is), and a window shorter than the grace (a test cut short) is the whole span instead,
// first byte to last.
export function timedWindow(xs, durationMs) {
	const grace = Math.min(durationMs * 200, 2000000);
	const timed = xs.map((x) => [x, receiverSpan(x)]).filter(([, sp]) => sp !== null);
	if (!timed.length)
		return { grace_us: grace, window_start_at: null, window_end_at: null, window_bytes: null,
		    bits_per_second: null };
	const first = Math.min(...timed.map(([, sp]) => sp[0]));
	const lastStart = Math.max(...timed.map(([, sp]) => sp[0]));
	const lastEnd = Math.max(...timed.map(([, sp]) => sp[1]));
	let ws = first + grace;
	let we = Math.min(lastEnd, ...timed.map(([, sp]) => sp[1]).filter((b) => b > lastStart));
	if (we - ws < grace) {
		ws = first;
		we = lastEnd;
	}
	let bytes = 0;
	for (const [x, [a, b]] of timed) {
		if (b === a)
			bytes += a >= ws && a < we ? x.bytes : 0;
		else if (Math.min(b, we) > Math.max(a, ws))
			bytes += (x.bytes * (Math.min(b, we) - Math.max(a, ws))) / (b - a);
	}
	bytes = Math.round(bytes);
	return { grace_us: grace, window_start_at: ws, window_end_at: we, window_bytes: bytes,
	    bits_per_second: rate(bytes, we - ws) };
}

// Elapsed time, rate and per-packet figures over the spans one side saw.
function spanStats(xs, spanOf) {
	const timed = xs.map((x) => [x, spanOf(x)]).filter(([, sp]) => sp !== null);
	if (!timed.length)
		return null;
	const elapsed = Math.max(...timed.map(([, sp]) => sp[1])) - Math.min(...timed.map(([, sp]) => sp[0]));
	const rates = timed.map(([x, sp]) => rate(x.bytes, sp[1] - sp[0])).filter((r) => r !== null)
	    .sort((a, b) => a - b);
	return { elapsed, bps: rate(timed.reduce((a, [x]) => a + x.bytes, 0), elapsed), rates };
}

function tpSummary(t, dir) {
	if (t.direction !== dir && t.direction !== 'both')
		return null;
	const xs = t.transfers.filter((x) => x.direction === dir).map(tpTransfer);
	const ok = xs.filter((x) => x.status === 'ok');
	const reported = ok.filter((x) => x.client_received_at !== null);
	// The receiver's figures: a download's wait for its reports, an upload's do not.
	const rx = spanStats(ok, receiverSpan);
	// The sender's pace, apart from the throughput and never called so.
	const tx = spanStats(ok, senderSpan);
	const timed = t.duration_ms !== null;
	return {
		packets: timed ? xs.length : t.packets, received: ok.length, failed: xs.length - ok.length,
		bytes: ok.reduce((a, x) => a + x.bytes, 0), reported: reported.length,
		report_missing: dir === 'download' && reported.length < ok.length,
		elapsed_us: rx ? rx.elapsed : null, bits_per_second: rx ? rx.bps : null,
		packet_bps_min: rx && rx.rates.length ? rx.rates[0] : null,
		packet_bps_median: rx && rx.rates.length ? median(rx.rates) : null,
		packet_bps_p90: rx && rx.rates.length ? percentile(rx.rates, 90) : null,
		packet_bps_max: rx && rx.rates.length ? rx.rates.at(-1) : null,
		sender_elapsed_us: tx ? tx.elapsed : null, sender_bits_per_second: tx ? tx.bps : null,
		...(timed ? timedWindow(ok, t.duration_ms) : { grace_us: null, window_start_at: null,
		    window_end_at: null, window_bytes: null }),
		// The direction's clock (the server's): its first packet's claim, and duration_ms on.
		started_at: timed ? t.dirStart[dir] : null,
		time_up_at: timed && t.dirStart[dir] !== null ? t.dirStart[dir] + t.duration_ms * 1000 : null,
	};
}

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

export function createMock({ users = { demo: 'demo-password' }, webDir = null } = {}) {
	const tokens = new Map();
	const tests = new Map();
	let nextId = 1;
	const log = [];
	// Probe seqs whose exchange the mock cuts (no answer: the client must report them lost).
	const cutProbes = new Set();
	// Knobs for the timed tests' cases: `shape` paces packets as a link would
	// ({streamBitsPerSecond, totalBitsPerSecond}: each packet at most the first, all of them
	// together at most the second); `serverDurationMs` makes a direction's time on the server
	// this long whatever duration_ms says (time_up sooner than the client expects).
	const knobs = { shape: null, serverDurationMs: null };
	let totalNext = 0;
	// Milliseconds until `n` more bytes of packet `x` ({start, moved}) have crossed the
	// shaped link: a download writes them then, an upload reads on then.
	const pace = (x, n) => {
		const sh = knobs.shape;
		const now = performance.now();
		if (!sh)
			return 0;
		if (x.start === null)
			x.start = now;
		x.moved += n;
		let at = now;
		if (sh.streamBitsPerSecond)
			at = Math.max(at, x.start + (x.moved * 8e3) / sh.streamBitsPerSecond);
		if (sh.totalBitsPerSecond) {
			totalNext = Math.max(now, totalNext) + (n * 8e3) / sh.totalBitsPerSecond;
			at = Math.max(at, totalNext);
		}
		return at - now;
	};

	const view = (t, full) => {
		if (t.kind === 'ping') {
			const { samples, owner, ...rest } = t;
			const v = { ...rest, summary: pingSummary(t) };
			if (full)
				v.samples = samples;
			return v;
		}
		const { transfers, owner, probes, claimed, flying, dirStart, ...rest } = t;
		const ps = [...probes.values()].sort((a, b) => a.seq - b.seq).map((p) => ({ ...p,
		    rtt_us: p.client_received_at === null ? null : p.client_received_at - p.client_sent_at,
		    server_us: p.server_sent_at === null ? null : p.server_sent_at - p.server_received_at }));
		const v = { ...rest, summary: { download: tpSummary(t, 'download'),
		    upload: tpSummary(t, 'upload'), ...latencySummary(ps, t.state !== 'incomplete') } };
		if (full) {
			v.transfers = transfers.map(tpTransfer);
			v.probes = ps;
		}
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

	// A timed test completes by itself once every direction's time is up and every started
	// packet has ended (looked at whenever the test is touched).
	const settle = (t) => {
		if (t.kind !== 'throughput' || t.duration_ms === null || t.state !== 'incomplete')
			return;
		const dirs = t.direction === 'both' ? ['download', 'upload'] : [t.direction];
		const len = (knobs.serverDurationMs ?? t.duration_ms) * 1000;
		const now = nowUs();
		if (t.flying === 0 && dirs.every((d) => t.dirStart[d] !== null && now - t.dirStart[d] > len)) {
			t.state = 'complete';
			t.finished_at = now;
			log.push({ kind: 'completed', id: t.id });
		}
	};

	const owned = (user, id, kind) => {
		const t = tests.get(Number(id));
		if (!t || t.owner !== user || t.kind !== kind)
			throw new ApiError(404, 'not_found', 'no such test');
		settle(t);
		return t;
	};

	const incomplete = (t) => {
		if (t.state !== 'incomplete')
			throw new ApiError(409, 'invalid_state', `the test is ${t.state}`);
	};

	const finishTp = (t) => {
		if (t.duration_ms !== null)
			return;
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
		for (const t of tests.values())
			settle(t);
		const mine = [...tests.values()].filter((t) => t.owner === user && t.kind === kind)
		    .sort((a, b) => b.id - a.id).filter((t) => !cursor || t.id < Number(cursor));
		const page = mine.slice(0, limit);
		return { tests: page.map((t) => view(t, false)),
		    next_cursor: mine.length > limit ? String(page.at(-1).id) : null };
	};

	async function handle(req, res, url, raw, rx) {
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
			log.push({ kind: 'create', body: b });
			if ('packets' in b && 'duration_ms' in b)
				throw new ApiError(422, 'conflicting_fields', 'give packets or duration_ms, not both',
				    'duration_ms');
			if (!('packets' in b) && !('duration_ms' in b))
				throw new ApiError(422, 'missing_size', 'give packets or duration_ms', 'packets');
			const timed = 'duration_ms' in b;
			let durationMs = null;
			if (timed) {
				durationMs = need(b, 'duration_ms');
				if (durationMs < 1000 || durationMs > 60000)
					throw new ApiError(422, 'out_of_range', 'duration_ms is 1000..60000', 'duration_ms');
			}
			const packets = timed ? null : need(b, 'packets');
			const size = timed && !('packet_size' in b) ? null : need(b, 'packet_size');
			if (size > 64 * 1048576)
				throw new ApiError(422, 'limit_exceeded', 'tp_max_packet_size is 67108864',
				    'packet_size');
			if (b.simultaneous === true && direction !== 'both')
				throw new ApiError(422, 'out_of_range', 'simultaneous needs both', 'simultaneous');
			const t = { id: nextId++, kind: 'throughput', state: 'incomplete', direction,
			    simultaneous: b.simultaneous === true, packets, packet_size: size,
			    duration_ms: durationMs, client: b.client ?? null, created_at: nowUs(),
			    finished_at: null, owner: user, transfers: [], probes: new Map(),
			    claimed: new Set(), flying: 0, dirStart: { download: null, upload: null } };
			tests.set(t.id, t);
			return [201, view(t, false)];
		}
		if (p === '/throughput-tests' && m === 'GET')
			return [200, list(user, 'throughput', url)];
		r = /^\/throughput-tests\/(\d+)(?:\/(download|upload|reports|abort|close|probes|probe-receipts)(?:\/(\d+))?)?$/.exec(p);
		if (r) {
			const t = owned(user, r[1], 'throughput');
			if (!r[2] && m === 'GET')
				return [200, view(t, true)];
			if ((r[2] === 'download' && m === 'GET') || (r[2] === 'upload' && m === 'PUT')) {
				// Claimed when the request came (an upload's body has been read by now).
				const claimedAt = rx.at;
				const dir = r[2];
				const timed = t.duration_ms !== null;
				incomplete(t);
				const seq = Number(r[3]);
				if (t.direction !== dir && t.direction !== 'both')
					throw new ApiError(409, 'invalid_state', `not a ${dir} test`);
				if (seq >= (timed ? 10000 : t.packets))
					throw new ApiError(422, 'out_of_range', timed ? 'seq >= tp_max_packets' : 'seq >= packets');
				if (t.claimed.has(`${dir}/${seq}`))
					throw new ApiError(409, 'duplicate_packet', 'already transferred');
				let size = t.packet_size;
				if (dir === 'download' && url.searchParams.has('bytes')) {
					if (!/^[0-9]{1,12}$/.test(url.searchParams.get('bytes')))
						throw new ApiError(400, 'invalid_query', 'bytes must be a whole number', 'bytes');
					size = Number(url.searchParams.get('bytes'));
					if (size < 1 || size > 64 * 1048576)
						throw new ApiError(422, 'limit_exceeded', 'tp_max_packet_size is 67108864', 'bytes');
					if (!timed && size !== t.packet_size)
						throw new ApiError(422, 'out_of_range', 'bytes must be packet_size', 'bytes');
				}
				if (dir === 'download' && size === null)
					throw new ApiError(400, 'invalid_query', 'this test has no packet_size: give bytes', 'bytes');
				if (timed) {
					const len = (knobs.serverDurationMs ?? t.duration_ms) * 1000;
					if (t.dirStart[dir] === null)
						t.dirStart[dir] = claimedAt;
					else if (claimedAt - t.dirStart[dir] > len) {
						log.push({ kind: 'time_up', id: t.id, dir, seq });
						throw new ApiError(409, 'time_up', `the ${dir} time of this test is up`);
					}
				}
				t.claimed.add(`${dir}/${seq}`);
				log.push({ kind: 'packet', id: t.id, dir, seq, bytes: dir === 'upload' ? raw.length : size,
				    at: claimedAt, query: url.search });
				if (dir === 'upload') {
					if (timed ? raw.length < 1 || raw.length > 64 * 1048576 : raw.length !== size)
						throw new ApiError(422, 'wrong_size', `body must be ${size} bytes`);
					const x = { direction: 'upload', seq, bytes: raw.length, status: 'ok',
					    server_started_at: rx.first ?? claimedAt,
					    server_finished_at: Math.max(rx.last ?? claimedAt, (rx.first ?? claimedAt) + 1),
					    client_sent_at: null, client_first_byte_at: null, client_received_at: null };
					t.transfers.push(x);
					finishTp(t);
					const v = tpTransfer(x);
					return [200, { direction: 'upload', seq, bytes: v.bytes,
					    server_started_at: v.server_started_at,
					    server_finished_at: v.server_finished_at, duration_us: v.duration_us,
					    bits_per_second: v.bits_per_second }];
				}
				const started = nowUs();
				const x = { direction: 'download', seq, bytes: size, status: 'ok',
				    server_started_at: started, server_finished_at: null, client_sent_at: null,
				    client_first_byte_at: null, client_received_at: null };
				t.flying++;
				res.writeHead(200, { 'Content-Type': 'application/octet-stream',
				    'Content-Length': String(size), 'Cache-Control': 'no-store, no-transform',
				    'X-Pingoo-Server-Started-At': String(started) });
				const chunk = crypto.randomBytes(Math.min(knobs.shape ? 16384 : 65536, size));
				let left = size;
				let closed = false;
				res.on('close', () => {
					closed = true;
				});
				const paced = { start: null, moved: 0 };
				while (left > 0 && !closed) {
					const n = Math.min(left, chunk.length);
					const wait = pace(paced, n);
					if (wait >= 1)
						await sleepMs(wait);
					if (closed)
						break;
					left -= n;
					if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
						await new Promise((resolve) => {
							const go = () => {
								res.off('drain', go);
								res.off('close', go);
								resolve();
							};
							res.on('drain', go);
							res.on('close', go);
						});
				}
				if (!closed)
					await new Promise((resolve) => res.end(resolve));
				t.flying--;
				if (left === 0 && res.writableFinished) {
					x.server_finished_at = Math.max(nowUs(), started + 1);
					t.transfers.push(x);
					finishTp(t);
				}
				return null;
			}
			if (r[2] === 'close' && m === 'POST' && !r[3]) {
				if (t.duration_ms === null)
					throw new ApiError(409, 'invalid_state', 'an N x S test ends with its last packet');
				incomplete(t);
				log.push({ kind: 'close', id: t.id });
				t.state = 'complete';
				t.finished_at = nowUs();
				return [200, view(t, true)];
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
				if (t.probes.has(b.seq))
					throw new ApiError(409, 'duplicate_seq', 'seq already probed', 'seq');
				const probe = { seq: b.seq, phase: b.phase, client_sent_at: b.client_sent_at,
				    server_received_at: at, server_sent_at: at + 1, client_received_at: null };
				t.probes.set(b.seq, probe);
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
				for (const rc of b.receipts) {
					const probe = t.probes.get(rc.seq) ?? { seq: rc.seq, phase: rc.phase,
					    client_sent_at: rc.client_sent_at, server_received_at: null,
					    server_sent_at: null, client_received_at: null };
					probe.client_received_at = rc.client_received_at;
					t.probes.set(rc.seq, probe);
				}
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
		// The export and the aggregates, in outline: the tests' records (no items), the end
		// record, and the aggregates' groups with the figures the page shows.
		const q = (k) => url.searchParams.get(k);
		const chosen = () => [...tests.values()].filter((t) => t.owner === user &&
		    (!q('kind') || t.kind === q('kind')) && (!q('from') || t.created_at >= Number(q('from'))) &&
		    (!q('to') || t.created_at < Number(q('to'))))
		    .sort((a, b) => (a.kind === b.kind ? a.id - b.id : a.kind === 'ping' ? -1 : 1));
		r = /^\/export\/tests\.(csv|ndjson)$/.exec(p);
		if (r && m === 'GET') {
			const recs = chosen().map((t) => ({ type: `${t.kind}_test`, test_id: t.id, state: t.state,
			    created_at: t.created_at }));
			const end = { type: 'end', tests: recs.length, records: recs.length };
			res.writeHead(200, { 'Content-Type': r[1] === 'csv' ? 'text/csv; charset=utf-8'
			    : 'application/x-ndjson', 'Content-Disposition': `attachment; filename="pingoo-tests.${r[1]}"` });
			if (r[1] === 'csv')
				res.end(['record,test_id,state,created_at,tests,records',
				    ...recs.map((x) => `${x.type},${x.test_id},${x.state},${x.created_at},,`),
				    `end,,,,${end.tests},${end.records}`, ''].join('\r\n'));
			else
				res.end([...recs, end].map((x) => JSON.stringify(x) + '\n').join(''));
			return null;
		}
		if (p === '/export/aggregates' && m === 'GET') {
			const group = q('group') ?? 'network_type';
			const keyOf = (t) => (group === 'day' ? new Date(t.created_at / 1000).toISOString().slice(0, 10)
			    : t.client?.[group] ?? null);
			const groups = new Map();
			for (const t of chosen()) {
				const k = keyOf(t);
				if (!groups.has(k))
					groups.set(k, []);
				groups.get(k).push(t);
			}
			const rates = (ts, d) => {
				const v = sortNum(ts.map((t) => tpSummary(t, d)?.bits_per_second).filter((x) => Number.isInteger(x)));
				return { tests: v.length, bits_per_second_median: v.length ? median(v) : null,
				    bits_per_second_p90: v.length ? percentile(v, 90) : null };
			};
			const out = [...groups.entries()].sort(([a], [b]) => (a === null ? 1 : b === null ? -1
			    : a < b ? -1 : a > b ? 1 : 0)).map(([key, ts]) => {
				const pings = ts.filter((t) => t.kind === 'ping');
				const tps = ts.filter((t) => t.kind === 'throughput');
				const rtts = sortNum(pings.flatMap((t) => t.samples).filter((x) => x.rtt_us !== null)
				    .map((x) => x.rtt_us));
				const planned = pings.reduce((a, t) => a + t.count, 0);
				const received = pings.reduce((a, t) => a + pingSummary(t).received, 0);
				return { key,
				    ping: pings.length ? { tests: pings.length, planned, received,
					loss_pct: planned ? Math.round(((planned - received) * 100000) / planned) / 1000 : null,
					rtt_median_us: rtts.length ? median(rtts) : null,
					rtt_p90_us: rtts.length ? percentile(rtts, 90) : null } : null,
				    throughput: tps.length ? { tests: tps.length, download: rates(tps, 'download'),
					upload: rates(tps, 'upload') } : null,
				    loaded_latency: { rise_median_us: null, bufferbloat_grade: null } };
			});
			return [200, { group, from: Number(q('from') ?? 0), to: Number(q('to') ?? nowUs()),
			    kinds: ['ping', 'throughput'], groups: out }];
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
		// When the request came, and the first and last byte of its body were read.
		const rx = { at: nowUs(), first: null, last: null };
		const upload = req.method === 'PUT' && /\/upload\/\d+$/.test(url.pathname);
		// An upload is under way from its request on: its test does not complete meanwhile.
		const upTest = upload ? tests.get(Number(/throughput-tests\/(\d+)\//.exec(url.pathname)?.[1])) : null;
		if (upTest)
			upTest.flying++;
		const paced = { start: null, moved: 0 };
		req.on('data', (c) => {
			rx.first = rx.first ?? nowUs();
			chunks.push(c);
			rx.last = nowUs();
			const wait = upload ? pace(paced, c.length) : 0;
			if (wait >= 1) {
				req.pause();
				setTimeout(() => {
					rx.last = nowUs();
					req.resume();
				}, wait);
			}
		});
		req.on('end', async () => {
			try {
				let out;
				try {
					out = await handle(req, res, url, Buffer.concat(chunks), rx);
				} finally {
					if (upTest)
						upTest.flying--;
				}
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
		server, tests, log, cutProbes, knobs,
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
