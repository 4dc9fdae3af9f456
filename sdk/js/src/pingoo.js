// pingoo.js - the Pingoo JavaScript SDK (ES module, no dependencies).
//
// Runs in browsers, in Web Workers and in Node 20+: it needs only fetch, AbortController,
// performance, crypto.getRandomValues and DOMException, and never touches the DOM.
//
//   const pg = await Pingoo.login('https://pingoo.example', 'alice', 'secret');
//   const test = await pg.ping({ count: 20, intervalMs: 100, onSample: (s) => ... });
//   console.log(test.summary.rtt_median_us);
//
// The contract it speaks is docs/api.md; the SDK's own reference is docs/sdk.md.

export const VERSION = '0.3.0';

const API = '/api/v1';

// Microseconds since the Unix epoch, from the monotonic clock (sub-millisecond).
export function nowUs() {
	return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

// An error the server (or the way to it) reported.  `code` is the server's machine code
// (docs/api.md) when it sent one; `network_error`, `invalid_response` or `http_<status>`
// otherwise.
export class PingooError extends Error {
	constructor(status, code, message, field, details) {
		super(message || code);
		this.name = 'PingooError';
		this.status = status;
		this.code = code;
		if (field !== undefined && field !== null)
			this.field = field;
		if (details !== undefined)
			this.details = details;
	}
}

function abortError(test) {
	const e = new DOMException('the test was aborted', 'AbortError');
	if (test) {
		try {
			e.test = test;
			e.testId = test.id;
		} catch {
			// a frozen DOMException: the id is only a convenience
		}
	}
	return e;
}

function isAbort(e) {
	return e && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

// Sleeps ms, or less when the signal fires (then rejects with an AbortError).
function sleep(ms, signal) {
	return new Promise((resolve, reject) => {
		if (signal && signal.aborted) {
			reject(abortError());
			return;
		}
		if (ms <= 0) {
			resolve();
			return;
		}
		const onAbort = () => {
			clearTimeout(timer);
			reject(abortError());
		};
		const timer = setTimeout(() => {
			if (signal)
				signal.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		if (signal)
			signal.addEventListener('abort', onAbort, { once: true });
	});
}

// An AbortController that also aborts when `outer` does; dispose() unlinks it.
function linkedController(outer) {
	const ctl = new AbortController();
	let onAbort = null;
	if (outer) {
		if (outer.aborted) {
			ctl.abort();
		} else {
			onAbort = () => ctl.abort();
			outer.addEventListener('abort', onAbort, { once: true });
		}
	}
	ctl.dispose = () => {
		if (outer && onAbort)
			outer.removeEventListener('abort', onAbort);
	};
	return ctl;
}

// `app;dur=0.123, db;dur=1` -> 123 (µs of the `app` entry, else of the first with a dur).
export function parseServerTiming(header) {
	if (!header)
		return null;
	let first = null;
	for (const entry of header.split(',')) {
		const parts = entry.trim().split(';').map((p) => p.trim());
		let dur = null;
		for (const p of parts.slice(1)) {
			const m = /^dur\s*=\s*"?([0-9.]+)"?$/i.exec(p);
			if (m)
				dur = Math.round(parseFloat(m[1]) * 1000);
		}
		if (dur === null || !Number.isFinite(dur))
			continue;
		if (parts[0] === 'app')
			return dur;
		if (first === null)
			first = dur;
	}
	return first;
}

// One buffer of `size` random bytes, filled 64 KiB at a time (getRandomValues' limit).
export function randomBytes(size) {
	const buf = new Uint8Array(size);
	const CHUNK = 65536;
	for (let off = 0; off < size; off += CHUNK)
		crypto.getRandomValues(buf.subarray(off, Math.min(off + CHUNK, size)));
	return buf;
}

function bps(bytes, us) {
	return us > 0 ? Math.round((bytes * 8 * 1e6) / us) : null;
}

function checkInt(name, v, min, max) {
	if (!Number.isInteger(v) || v < min || (max !== undefined && v > max))
		throw new RangeError(`${name} must be an integer in ${min}..${max ?? 'inf'}`);
}

function inNode() {
	return typeof process !== 'undefined' && !!process.versions && !!process.versions.node;
}

// In Node, latency probes go on a connection of their own: a keep-alive agent of one socket
// (node:https or node:http), so a probe never waits behind a packet on a pooled connection.
// Answers {ok, status, headers.get, text()} like fetch.  null outside Node, where probes
// share the page's connection (HTTP/2 multiplexes them beside the packets).
async function nodeProbeFetch(baseUrl) {
	if (!inNode() || !/^https?:/i.test(baseUrl))
		return null;
	const tls = /^https:/i.test(baseUrl);
	const mod = tls ? await import('node:https') : await import('node:http');
	const agent = new mod.Agent({ keepAlive: true, maxSockets: 1 });
	const probeFetch = (url, init = {}) => new Promise((resolve, reject) => {
		const req = mod.request(url, { method: init.method, headers: init.headers, agent,
		    signal: init.signal }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('error', reject);
			res.on('end', () => resolve({
				ok: res.statusCode >= 200 && res.statusCode < 300,
				status: res.statusCode, statusText: res.statusMessage ?? '',
				headers: { get: (k) => res.headers[String(k).toLowerCase()] ?? null },
				text: async () => Buffer.concat(chunks).toString('utf8'),
			}));
		});
		req.on('error', reject);
		req.end(init.body);
	});
	probeFetch.close = () => agent.destroy();
	return probeFetch;
}

// The time-bounded throughput test's rules (docs/sdk.md, "Time-bounded tests").
export const TIMED = Object.freeze({
	durationMs: 10000,		// per direction, from its first packet's start
	maxStreams: 16,
	tickMs: 250,			// the ramp measures the receiver's rate over ticks this long
	rampGrowth: 1.1,		// and doubles the streams while a tick reads this much more
	graceMaxMs: 2000,		// the ramp ends after a fifth of durationMs, at most this
	packetMs: 250,			// a packet is sized to last this long at its stream's last rate
	minPacketSize: 65536,		// a stream's first packet, and the smallest
	maxPacketSize: 33554432,	// the largest
	maxPacketGrowth: 8,		// a packet is at most this many times its stream's previous
	maxPackets: 10000,		// seqs per direction (the server's tp_max_packets by default)
	runningMs: 1000,		// onProgress's runningBitsPerSecond is over the last second
});

// What a packet refused with 409 time_up resolves to: the end of its stream, not an error.
const TIME_UP = Symbol('time_up');

// The next packet of a stream whose last packet had `size` bytes and arrived at `rate`
// (bit/s at the receiver; null when too short for the clock): as many bytes as that rate moves
// in TIMED.packetMs, at most 8 times the last, within 64 KiB..32 MiB.
export function nextPacketSize(size, rate) {
	const want = rate > 0 ? Math.round((rate / 8) * (TIMED.packetMs / 1000))
	    : size * TIMED.maxPacketGrowth;
	return Math.max(TIMED.minPacketSize, Math.min(TIMED.maxPacketSize,
	    size * TIMED.maxPacketGrowth, want));
}

// The bytes one direction's receiver got, over time on this client's clock (µs): pieces
// [a, b, bytes], each spread evenly over its own interval.  A download's pieces come as its
// body arrives; an upload's when the server's answer gives its interval, so while an upload
// is in flight (begin .. end) nothing from its start on is known: horizon() is the moment up
// to which the figures are whole.
export class Meter {
	constructor() {
		this.pieces = [];
		this.flying = new Map();
		this.ids = 0;
		this.first = null;
		this.limit = 4096;
	}

	begin(t0) {
		const id = this.ids++;
		this.flying.set(id, t0);
		return id;
	}

	end(id) {
		this.flying.delete(id);
	}

	add(a, b, bytes) {
		if (this.first === null || a < this.first)
			this.first = a;
		this.pieces.push([a, b, bytes]);
		// Keep what the last few seconds need, pruning now and then.
		if (this.pieces.length > this.limit) {
			const keep = b - 3e6;
			this.pieces = this.pieces.filter((p) => p[1] >= keep);
			this.limit = Math.max(4096, 2 * this.pieces.length);
		}
	}

	horizon(now) {
		let h = now;
		for (const t0 of this.flying.values())
			h = Math.min(h, t0);
		return h;
	}

	// The bytes that arrived in [x, y].
	bytesIn(x, y) {
		let sum = 0;
		for (const [a, b, n] of this.pieces) {
			if (b <= a)
				sum += a > x && a <= y ? n : 0;
			else if (b > x && a < y)
				sum += (n * (Math.min(b, y) - Math.max(a, x))) / (b - a);
		}
		return sum;
	}

	// bit/s over [x, y], or null for an empty span.
	rateOver(x, y) {
		return y > x ? Math.round((this.bytesIn(x, y) * 8e6) / (y - x)) : null;
	}

	// bit/s over the last spanUs of what is known at `now` (less at the start).
	rate(spanUs, now) {
		if (this.first === null)
			return null;
		const h = this.horizon(now);
		return this.rateOver(Math.max(h - spanUs, this.first), h);
	}
}

export class Pingoo {
	// opts: {baseUrl, token, fetch?}.  baseUrl '' means the page's own origin.
	constructor(opts = {}) {
		if (!opts || typeof opts !== 'object')
			throw new TypeError('new Pingoo({baseUrl, token}) takes an object');
		this.baseUrl = String(opts.baseUrl ?? '').replace(/\/+$/, '');
		this.token = opts.token ?? null;
		this.expiresAt = opts.expiresAt ?? null;
		const f = opts.fetch ?? globalThis.fetch;
		if (typeof f !== 'function')
			throw new TypeError('no fetch: pass {fetch} to new Pingoo()');
		// Browsers want fetch called on the global object.
		this._fetch = opts.fetch ? opts.fetch : f.bind(globalThis);
		this.receiptBatch = opts.receiptBatch ?? 10;
		this.reportBatch = opts.reportBatch ?? 10;
		// A fetch for latency probes on a connection of their own (see throughput()).
		this.probeFetch = opts.probeFetch ?? null;
	}

	// Chooses the server nearest in latency among urls (base URLs of Pingoo hosts): each is
	// asked GET /health `probes` times, round by round so every candidate sees the same
	// moments of the network, and the lowest median round trip wins.  A candidate that
	// fails or answers non-2xx (its database away: 503) is out.  Resolves to {url, rttUs,
	// results: [{url, rttUs | null, samples, error?}]}; rejects with a PingooError
	// no_server when none answered.  opts: {probes = 3, timeoutMs = 2000, fetch, signal}.
	static async pickServer(urls, opts = {}) {
		const { probes = 3, timeoutMs = 2000, signal } = opts;
		if (!Array.isArray(urls) || urls.length === 0)
			throw new TypeError('pickServer(urls) takes a non-empty array of base URLs');
		const cands = urls.map((url) => ({ url: String(url).replace(/\/+$/, ''), rtts: [], error: null,
		    pg: new Pingoo({ baseUrl: url, fetch: opts.fetch }) }));
		for (let round = 0; round < probes; round++) {
			for (const c of cands) {
				if (c.error)
					continue;
				if (signal && signal.aborted)
					throw abortError();
				const ctl = new AbortController();
				const timer = setTimeout(() => ctl.abort(), timeoutMs);
				const started = performance.now();
				try {
					await c.pg.health({ signal: ctl.signal });
					c.rtts.push(Math.round((performance.now() - started) * 1000));
				} catch (e) {
					c.error = e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` :
					    e.message || String(e);
				} finally {
					clearTimeout(timer);
				}
			}
		}
		const results = cands.map((c) => {
			const r = [...c.rtts].sort((a, b) => a - b);
			return { url: c.url, rttUs: c.error || !r.length ? null : r[(r.length - 1) >> 1],
			    samples: c.rtts.length, ...(c.error ? { error: c.error } : {}) };
		});
		const best = results.filter((r) => r.rttUs !== null).sort((a, b) => a.rttUs - b.rttUs)[0];
		if (!best)
			throw new PingooError(0, 'no_server', 'no server answered its health check', undefined,
			    { results });
		return { url: best.url, rttUs: best.rttUs, results };
	}

	// Gets a token with a username and password; resolves to a ready instance.
	static async login(baseUrl, username, password, opts = {}) {
		const pg = new Pingoo({ ...opts, baseUrl, token: null });
		const tok = await pg._json('POST', '/auth/token', { username, password },
		    { signal: opts.signal, auth: false });
		pg.token = tok.access_token;
		if (Number.isFinite(tok.expires_in))
			pg.expiresAt = Date.now() + tok.expires_in * 1000;
		return pg;
	}

	_url(path) {
		return this.baseUrl + API + path;
	}

	_headers(auth, json) {
		const h = {};
		if (auth !== false && this.token)
			h.Authorization = `Bearer ${this.token}`;
		if (json)
			h['Content-Type'] = 'application/json; charset=utf-8';
		return h;
	}

	// A fetch whose failures are PingooErrors (network) or AbortErrors.
	async _send(method, path, init = {}) {
		try {
			return await this._fetch(this._url(path), { method, ...init });
		} catch (e) {
			if (isAbort(e) || (init.signal && init.signal.aborted))
				throw abortError();
			throw new PingooError(0, 'network_error',
			    `cannot reach the server: ${e && e.message ? e.message : e}`, undefined,
			    { cause: e });
		}
	}

	// Turns a non-2xx response into a PingooError carrying the server's error object.
	static async _error(res) {
		let text = '';
		try {
			text = await res.text();
		} catch {
			// the body is lost; the status still says something
		}
		let body = null;
		try {
			body = JSON.parse(text);
		} catch {
			body = null;
		}
		const err = body && typeof body === 'object' && body.error;
		if (err && typeof err === 'object' && typeof err.code === 'string')
			return new PingooError(res.status, err.code, err.message || err.code, err.field);
		const code = res.status === 502 || res.status === 503 ? 'service_unavailable'
		    : `http_${res.status}`;
		return new PingooError(res.status, code,
		    `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
	}

	// Awaits read() of res's body: a failure is an AbortError, or a network_error naming what.
	static async _reading(res, signal, what, read) {
		try {
			return await read();
		} catch (e) {
			if (isAbort(e) || (signal && signal.aborted))
				throw abortError();
			throw new PingooError(res.status, 'network_error', `reading ${what}: ${e.message}`);
		}
	}

	async _readJson(res, signal) {
		const text = await Pingoo._reading(res, signal, 'the answer', () => res.text());
		try {
			return JSON.parse(text);
		} catch {
			throw new PingooError(res.status, 'invalid_response', 'the server did not answer JSON');
		}
	}

	// One JSON exchange: body (object or undefined) in, parsed JSON out.
	async _json(method, path, body, { signal, auth } = {}) {
		const json = body !== undefined;
		const res = await this._send(method, path, {
			headers: this._headers(auth, json),
			body: json ? JSON.stringify(body) : undefined,
			signal,
		});
		if (!res.ok)
			throw await Pingoo._error(res);
		return this._readJson(res, signal);
	}

	// One exchange whose answer has no body (204): resolves to undefined.
	async _empty(method, path, { signal } = {}) {
		const res = await this._send(method, path, { headers: this._headers(true, false), signal });
		if (!res.ok)
			throw await Pingoo._error(res);
		await Pingoo._reading(res, signal, 'the answer', () => res.text());
	}

	// Revokes this instance's token on the server (every host refuses it within a second),
	// then forgets it here.  A token the server refuses already (expired, revoked) is
	// forgotten as well; any other failure rejects and keeps the token.
	async logout({ signal } = {}) {
		await this._forget(this._empty('POST', '/auth/logout', { signal }));
	}

	// Revokes every token of the user, on every device (as a password change does), this
	// one included, then forgets this one.
	async logoutAll({ signal } = {}) {
		await this._forget(this._empty('POST', '/auth/logout-all', { signal }));
	}

	async _forget(call) {
		try {
			await call;
		} catch (e) {
			if (!(e instanceof PingooError) || e.status !== 401)
				throw e;
		}
		this.token = null;
		this.expiresAt = null;
	}

	// The token's user: {id, username, created_at}.
	me({ signal } = {}) {
		return this._json('GET', '/me', undefined, { signal });
	}

	health({ signal } = {}) {
		return this._json('GET', '/health', undefined, { signal, auth: false });
	}

	// One test with its samples (ping) or transfers (throughput).
	test(kind, id, { signal } = {}) {
		return this._json('GET', `${this._base(kind)}/${encodeURIComponent(id)}`, undefined,
		    { signal });
	}

	// The user's tests of one kind, newest first: {tests, next_cursor}.
	history({ kind = 'ping', limit, cursor, signal } = {}) {
		const q = new URLSearchParams();
		if (limit !== undefined && limit !== null)
			q.set('limit', String(limit));
		if (cursor !== undefined && cursor !== null && cursor !== '')
			q.set('cursor', String(cursor));
		const qs = q.toString();
		return this._json('GET', this._base(kind) + (qs ? `?${qs}` : ''), undefined, { signal });
	}

	// Deletes one of the user's tests (a 404 PingooError for another user's or a gone one).
	async deleteTest(kind, id, { signal } = {}) {
		const res = await this._send('DELETE', `${this._base(kind)}/${encodeURIComponent(id)}`,
		    { headers: this._headers(true, false), signal });
		if (!res.ok)
			throw await Pingoo._error(res);
	}

	// Deletes every test of the user: resolves to {ping, throughput}, how many went.  A long
	// history goes on being deleted after the server's 202: its progress is read every
	// `pollMs` until it is done.
	async deleteAllTests({ signal, pollMs = 500 } = {}) {
		const res = await this._send('DELETE', '/tests', { headers: this._headers(true, false), signal });
		if (!res.ok)
			throw await Pingoo._error(res);
		const body = await this._readJson(res, signal);
		if (res.status !== 202)
			return body.deleted;
		for (;;) {
			await new Promise((resolve) => setTimeout(resolve, pollMs));
			if (signal && signal.aborted)
				throw abortError();
			const d = await this._json('GET', '/tests/deletion', undefined, { signal });
			if (d.state === 'done')
				return d.deleted;
		}
	}

	// The query string of the export and the aggregates.
	static _exportQuery({ from, to, kind, group } = {}) {
		const q = new URLSearchParams();
		for (const [k, v] of Object.entries({ from, to, kind, group }))
			if (v !== undefined && v !== null && v !== '')
				q.set(k, String(v));
		const qs = q.toString();
		return qs ? `?${qs}` : '';
	}

	async _exportResponse(format, opts) {
		if (format !== 'csv' && format !== 'ndjson')
			throw new TypeError(`format must be 'csv' or 'ndjson', not ${format}`);
		const res = await this._send('GET', `/export/tests.${format}${Pingoo._exportQuery(opts)}`,
		    { headers: this._headers(true, false), signal: opts.signal });
		if (!res.ok)
			throw await Pingoo._error(res);
		return res;
	}

	// The user's tests with every sample and transfer, one record at a time as they stream in
	// (constant memory): an async iterator of the NDJSON records, `end` excluded.  Rejects with
	// a PingooError 'export_truncated' when the stream ends without its `end` record.
	async *exportRecords({ from, to, kind, signal } = {}) {
		const res = await this._exportResponse('ndjson', { from, to, kind, signal });
		const reader = res.body.getReader();
		const dec = new TextDecoder();
		let buf = '';
		let ended = false;
		const lines = function* () {
			let nl;
			while ((nl = buf.indexOf('\n')) >= 0) {
				const line = buf.slice(0, nl);
				buf = buf.slice(nl + 1);
				if (line)
					yield JSON.parse(line);
			}
		};
		try {
			for (;;) {
				const chunk = await Pingoo._reading(res, signal, 'the export', () => reader.read());
				buf += dec.decode(chunk.value ?? new Uint8Array(), { stream: !chunk.done });
				for (const rec of lines()) {
					if (rec.type === 'end')
						ended = true;
					else
						yield rec;
				}
				if (chunk.done)
					break;
			}
		} finally {
			reader.releaseLock?.();
		}
		if (!ended)
			throw new PingooError(res.status, 'export_truncated', 'the export ended before its end record');
	}

	// The whole export as text ('csv' or 'ndjson'), e.g. for a file to save.  Rejects with
	// 'export_truncated' when its last record is not `end`.
	async exportText({ format = 'csv', from, to, kind, signal } = {}) {
		const res = await this._exportResponse(format, { from, to, kind, signal });
		const text = await Pingoo._reading(res, signal, 'the export', () => res.text());
		const last = text.trimEnd().split(/\r?\n/).pop() ?? '';
		if (!(format === 'csv' ? last.startsWith('end,') : /^\{"type":"end"/.test(last)))
			throw new PingooError(res.status, 'export_truncated', 'the export ended before its end record');
		return text;
	}

	// The user's tests grouped by 'network_type' (default), 'platform', 'carrier' or 'day':
	// {group, from, to, kinds, groups: [{key, ping, throughput, loaded_latency}]}.
	aggregates({ group, from, to, kind, signal } = {}) {
		return this._json('GET', `/export/aggregates${Pingoo._exportQuery({ from, to, kind, group })}`,
		    undefined, { signal });
	}

	_base(kind) {
		if (kind === 'ping')
			return '/ping-tests';
		if (kind === 'throughput')
			return '/throughput-tests';
		throw new TypeError(`kind must be 'ping' or 'throughput', not ${kind}`);
	}

	// Runs a whole ping test: create, `count` sequential echoes `intervalMs` apart (send to
	// send), receipts in batches, close when not complete; resolves to the server's test.
	async ping({ count = 10, intervalMs = 100, client, signal, onSample, onStart,
	    receiptBatch = this.receiptBatch } = {}) {
		checkInt('count', count, 1);
		checkInt('intervalMs', intervalMs, 0);
		if (signal && signal.aborted)
			throw abortError();
		const create = { count, interval_ms: intervalMs };
		if (client)
			create.client = client;
		const test = await this._json('POST', '/ping-tests', create, { signal });
		const base = `/ping-tests/${test.id}`;
		if (onStart)
			onStart(test);

		const ctl = linkedController(signal);
		const pending = [];
		let state = test.state;
		const flush = async () => {
			while (pending.length) {
				const batch = pending.splice(0, Math.max(1, receiptBatch));
				// Receipts are never cut short by an abort: what was measured is kept.
				const r = await this._json('POST', `${base}/receipts`, { receipts: batch });
				if (r && r.state)
					state = r.state;
			}
		};
		try {
			let next = 0;
			for (let seq = 0; seq < count; seq++) {
				await sleep(next - performance.now(), ctl.signal);
				const t0 = nowUs();
				next = performance.now() + intervalMs;
				let res;
				try {
					res = await this._send('POST', `${base}/echo`, {
						headers: this._headers(true, true),
						body: JSON.stringify({ seq, client_sent_at: t0 }),
						signal: ctl.signal,
					});
				} catch (e) {
					if (e instanceof PingooError && e.code === 'network_error') {
						// A lost exchange is a lost sample, not the end of the test.
						if (onSample)
							onSample({ seq, lost: true, clientSentAt: t0, error: e });
						continue;
					}
					throw e;
				}
				const t3 = nowUs();
				if (!res.ok)
					throw await Pingoo._error(res);
				const echo = await this._readJson(res, ctl.signal);
				const serverTimingUs = parseServerTiming(res.headers.get('server-timing'));
				const receipt = { seq, client_received_at: t3, client_sent_at: t0 };
				for (const k of ['server_received_at', 'server_sent_at', 'sig']) {
					if (echo[k] !== undefined)
						receipt[k] = echo[k];
				}
				pending.push(receipt);
				if (onSample) {
					const rttUs = t3 - t0;
					const serverUs = Number.isInteger(echo.server_sent_at) &&
					    Number.isInteger(echo.server_received_at)
					    ? echo.server_sent_at - echo.server_received_at : null;
					onSample({
						seq, lost: false, clientSentAt: t0, clientReceivedAt: t3,
						serverReceivedAt: echo.server_received_at ?? null,
						serverSentAt: echo.server_sent_at ?? null,
						rttUs, serverUs, serverTimingUs,
						networkRttUs: serverUs === null ? null : rttUs - serverUs,
						offsetUs: serverUs === null ? null : Math.round(
						    ((echo.server_received_at - t0) + (echo.server_sent_at - t3)) / 2),
						done: seq + 1, total: count,
					});
				}
				if (pending.length >= receiptBatch)
					await flush();
			}
			await flush();
			if (state !== 'complete')
				await this._json('POST', `${base}/close`);
			return await this.test('ping', test.id, { signal });
		} catch (e) {
			if (isAbort(e) || ctl.signal.aborted) {
				// Keep what was measured, then end the test; the caller asked to stop.
				try {
					await flush();
				} catch {
					// best effort
				}
				let closed = test;
				try {
					closed = await this._json('POST', `${base}/close`);
				} catch {
					// already closed or unreachable: the abort stands anyway
				}
				throw abortError(closed);
			}
			// Another failure: leave no test dangling when that can be helped.
			try {
				await this._json('POST', `${base}/close`);
			} catch {
				// best effort
			}
			throw e;
		} finally {
			ctl.dispose();
		}
	}

	// Runs a whole throughput test and resolves to the server's test.  Two forms:
	//
	// - time-bounded (the default: none of `packets`, `packetSize`, `streams` given): each
	//   direction moves packets for `durationMs` from its first packet's start, over a number
	//   of streams that grows while the receiver's rate grows (up to `maxStreams`), each
	//   stream sizing its packets from its own last rate (see TIMED); then the test is closed.
	// - N x S (`packets`, `packetSize` or `streams` given): `packets` packets of `packetSize`
	//   bytes per direction over `streams` parallel exchanges.
	//
	// `both` runs download then upload, or both at once when `simultaneous`.  The client's
	// stamps are reported in batches.  Unless `probes` is false, latency probes go with it:
	// `idleProbes` before the first packet, then one every `probeIntervalMs` while packets
	// move, each reported to `onProbe` as it comes and their receipts sent at the end.
	async throughput({ direction = 'download', durationMs, maxStreams, packets, packetSize,
	    streams, simultaneous = false, probes = true, idleProbes = 10, probeIntervalMs = 100,
	    client, signal, onProgress, onProbe, onStart, reportBatch = this.reportBatch } = {}) {
		if (!['download', 'upload', 'both'].includes(direction))
			throw new TypeError("direction must be 'download', 'upload' or 'both'");
		const fixed = packets !== undefined || packetSize !== undefined || streams !== undefined;
		if (fixed) {
			if (durationMs !== undefined)
				throw new TypeError('durationMs is for time-bounded tests: give it, or packets/packetSize/streams, not both');
			if (maxStreams !== undefined)
				throw new TypeError('maxStreams is for time-bounded tests, not with packets/packetSize/streams');
			packets = packets ?? 10;
			packetSize = packetSize ?? 1048576;
			streams = streams ?? 1;
			checkInt('packets', packets, 1);
			checkInt('packetSize', packetSize, 1);
			checkInt('streams', streams, 1);
		} else {
			durationMs = durationMs ?? TIMED.durationMs;
			maxStreams = maxStreams ?? TIMED.maxStreams;
			if (!Number.isInteger(durationMs) || durationMs < 1000 || durationMs > 60000)
				throw new TypeError(`durationMs must be an integer in 1000..60000, not ${durationMs}`);
			if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > 64)
				throw new TypeError(`maxStreams must be an integer in 1..64, not ${maxStreams}`);
		}
		checkInt('idleProbes', idleProbes, 0);
		checkInt('probeIntervalMs', probeIntervalMs, 1);
		if (simultaneous && direction !== 'both')
			throw new TypeError("simultaneous needs direction 'both'");
		if (signal && signal.aborted)
			throw abortError();
		const create = fixed ? { direction, packets, packet_size: packetSize }
		    : { direction, duration_ms: durationMs };
		if (simultaneous)
			create.simultaneous = true;
		if (client)
			create.client = client;
		const test = await this._json('POST', '/throughput-tests', create, { signal });
		const base = `/throughput-tests/${test.id}`;
		if (onStart)
			onStart(test);

		const ctl = linkedController(signal);
		const reports = [];
		let reporting = Promise.resolve();
		let reportError = null;
		// Reports go out one batch at a time, in the background of the transfers.
		const sendReports = (all) => {
			while (reports.length >= (all ? 1 : reportBatch)) {
				const batch = reports.splice(0, Math.max(1, reportBatch));
				reporting = reporting.then(() => this._json('POST', `${base}/reports`,
				    { packets: batch }).then(() => undefined, (e) => {
					reportError = reportError ?? e;
				}));
			}
			return reporting;
		};
		const dirs = direction === 'both' ? ['download', 'upload'] : [direction];
		const total = fixed ? packets * dirs.length : null;
		let done = 0;
		// One buffer of random bytes, made before the first packet so that making it never
		// sits in a measured interval; a timed upload sends a prefix of it.
		const payload = dirs.includes('upload')
		    ? randomBytes(fixed ? packetSize : TIMED.maxPacketSize) : null;
		// A browser copies a buffer body on the calling thread, megabytes at a time, which
		// stalls the probes' clock: it gets a Blob, made once, whose slices are not copied.
		const blob = payload && !inNode() && typeof Blob === 'function' ? new Blob([payload]) : null;
		const body = (size) => (blob ? (size === blob.size ? blob : blob.slice(0, size))
		    : size === payload.length ? payload : payload.subarray(0, size));

		// One packet of `size` bytes; resolves to TIME_UP when the server says the
		// direction's time is up (a timed test: nothing moved), else to the receiver's rate.
		// A rate is measured where the bytes arrive: a download's by this client, from the
		// moment fetch() resolves (the response's headers, the first bytes of the answer,
		// have arrived) to its last byte, and never from the first body chunk, which carries
		// bytes that arrived over a span before the read returned; an upload's by the server,
		// whose 200 answer carries its rate.  `lane` (timed tests) is the direction's meter
		// and stream count for onProgress.
		const one = async (dir, seq, size, t0, lane) => {
			const path = `${base}/${dir}/${seq}` + (fixed || dir === 'upload' ? '' : `?bytes=${size}`);
			let firstByte = null;
			let bytes = 0;
			let server = null;
			let res;
			let flight = null;
			if (dir === 'download') {
				res = await this._send('GET', path, {
					headers: this._headers(true, false), signal: ctl.signal,
				});
				firstByte = nowUs();
			} else {
				if (lane)
					flight = lane.meter.begin(t0);
				try {
					res = await this._send('PUT', path, {
						headers: { ...this._headers(true, false),
						    'Content-Type': 'application/octet-stream' },
						body: body(size),
						signal: ctl.signal,
					});
				} catch (e) {
					if (lane)
						lane.meter.end(flight);
					throw e;
				}
			}
			if (!res.ok) {
				if (lane)
					lane.meter.end(flight);
				const err = await Pingoo._error(res);
				// The direction's time is up on the server, or the server has completed the
				// test by itself (time up, every started packet ended): this stream is done.
				if (!fixed && err.status === 409 && (err.code === 'time_up' ||
				    err.code === 'invalid_state'))
					return TIME_UP;
				throw err;
			}
			if (dir === 'download') {
				let last = firstByte;
				let pending = 0;
				try {
					if (res.body && res.body.getReader) {
						const reader = res.body.getReader();
						for (;;) {
							const { done: end, value } = await reader.read();
							if (end)
								break;
							bytes += value.byteLength;
							if (lane) {
								// The meter gets the bytes as they arrive, a piece
								// every few ms at most.
								pending += value.byteLength;
								const at = nowUs();
								if (at - last >= 5000) {
									lane.meter.add(last, at, pending);
									last = at;
									pending = 0;
								}
							}
						}
					} else {
						bytes = (await res.arrayBuffer()).byteLength;
						pending = bytes;
					}
				} catch (e) {
					if (isAbort(e) || ctl.signal.aborted)
						throw abortError();
					throw new PingooError(0, 'network_error',
					    `download ${seq}: ${e && e.message ? e.message : e}`);
				}
				if (lane && pending)
					lane.meter.add(last, nowUs(), pending);
				// A report says the client holds the whole packet (it settles a
				// download whose worker never recorded it): never report a short one.
				if (bytes !== size)
					throw new PingooError(0, 'network_error',
					    `download ${seq}: ${bytes} of ${size} bytes arrived`);
				const started = res.headers.get('x-pingoo-server-started-at');
				if (started && /^[0-9]+$/.test(started))
					server = { server_started_at: Number(started) };
			} else {
				try {
					server = await this._readJson(res, ctl.signal);
				} finally {
					if (lane)
						lane.meter.end(flight);
				}
				bytes = Number.isInteger(server.bytes) ? server.bytes : size;
			}
			const t3 = nowUs();
			const report = { direction: dir, seq, client_sent_at: t0, client_received_at: t3 };
			if (firstByte !== null)
				report.client_first_byte_at = firstByte;
			reports.push(report);
			sendReports(false);
			done++;
			let durationUs;
			let bitsPerSecond;
			if (dir === 'download') {
				durationUs = t3 - firstByte;
				bitsPerSecond = bps(bytes, durationUs);
			} else {
				durationUs = Number.isInteger(server.duration_us) ? server.duration_us : null;
				bitsPerSecond = Number.isInteger(server.bits_per_second)
				    ? server.bits_per_second : null;
				// The server's interval, placed on this clock to end when its answer came.
				if (lane)
					lane.meter.add(durationUs === null ? t3 : t3 - durationUs, t3, bytes);
			}
			if (onProgress) {
				const p = {
					direction: dir, seq, bytes,
					measuredBy: dir === 'download' ? 'client' : 'server',
					durationUs, bitsPerSecond,
					clientSentAt: t0, clientFirstByteAt: firstByte, clientReceivedAt: t3,
					server, done, total,
				};
				if (lane) {
					p.stream = lane.stream;
					p.streams = lane.streams();
					p.elapsedMs = Math.round((t3 - lane.startUs) / 1000);
					p.durationMs = durationMs;
					p.runningBitsPerSecond = lane.meter.rate(TIMED.runningMs * 1000, t3);
				}
				onProgress(p);
			}
			// The next packet's size follows this one's rate at the receiver; an upload's also
			// the whole exchange's when that was slower: a proxy that holds the body before the
			// server reads it (nginx over HTTP/2) makes the server's interval shorter than the
			// bytes' time on the way, and a packet sized from it would last many times 250 ms.
			let sizing = bitsPerSecond;
			if (dir === 'upload') {
				const whole = bps(bytes, t3 - t0);
				if (whole !== null && (sizing === null || whole < sizing))
					sizing = whole;
			}
			return { sizingBitsPerSecond: sizing };
		};

		const prober = probes ? await this._prober(base, ctl.signal, onProbe) : null;
		// The first failure of a stream stops the others at once; it is what the run throws.
		let failure = null;
		const guard = (p) => p.catch((e) => {
			failure = failure ?? e;
			ctl.abort();
		});
		// One direction's packets of an N x S test over `streams` exchanges.
		const runFixed = async (dir) => {
			let nextSeq = 0;
			const worker = async () => {
				while (nextSeq < packets && !ctl.signal.aborted) {
					const seq = nextSeq++;
					await one(dir, seq, packetSize, nowUs(), null);
				}
			};
			const workers = [];
			for (let i = 0; i < Math.min(streams, packets); i++)
				workers.push(guard(worker()));
			await Promise.all(workers);
		};
		// One direction of a timed test: streams move packets until the client's deadline
		// (the first packet's start + durationMs) or the server's time_up; the ramp doubles
		// the streams while the receiver's rate grows.
		const runTimed = async (dir) => {
			const meter = new Meter();
			const lane = { meter, startUs: null, stream: 0, streams: () => workers.length };
			const workers = [];
			let nextSeq = 0;
			let deadlineUs = Infinity;
			let ramp = null;
			const rampCtl = linkedController(ctl.signal);
			const stream = async (k) => {
				let size = TIMED.minPacketSize;
				const mine = { ...lane, stream: k };
				for (;;) {
					if (ctl.signal.aborted || nextSeq >= TIMED.maxPackets)
						return;
					const t0 = nowUs();
					if (t0 >= deadlineUs)
						return;
					if (lane.startUs === null) {
						lane.startUs = t0;
						deadlineUs = t0 + durationMs * 1000;
						ramp = guard(rampUp(rampCtl.signal));
					}
					mine.startUs = lane.startUs;
					const r = await one(dir, nextSeq++, size, t0, mine);
					if (r === TIME_UP)
						return;
					size = nextPacketSize(size, r.sizingBitsPerSecond);
				}
			};
			const addStream = () => workers.push(guard(stream(workers.length)));
			// Every tick, the receiver's rate over the last tick of what is known (an upload's
			// bytes are known when its answer comes, so its figures lag by a packet), counted
			// from the last change of the stream count and over half a tick at least.  A rate
			// 10 % or more above the one before the change doubles the streams again; one that
			// is not, maxStreams, or the end of the grace, ends the ramp.
			const rampUp = async (sig) => {
				const graceUs = Math.min(durationMs * 200, TIMED.graceMaxMs * 1000);
				const tickUs = TIMED.tickMs * 1000;
				let changedAt = lane.startUs;
				let before = null;
				while (workers.length < maxStreams) {
					try {
						await sleep(TIMED.tickMs, sig);
					} catch {
						return;		// the direction ended, or the run was aborted
					}
					const now = nowUs();
					if (now - lane.startUs >= graceUs)
						return;
					const h = meter.horizon(now);
					const from = Math.max(h - tickUs, changedAt);
					if (h - from < tickUs / 2)
						continue;
					const r = meter.rateOver(from, h);
					if (!r)
						continue;
					if (before !== null && r < before * TIMED.rampGrowth)
						return;
					before = r;
					const n = Math.min(maxStreams, workers.length * 2);
					while (workers.length < n)
						addStream();
					changedAt = nowUs();
				}
			};
			addStream();
			let i = 0;
			for (; i < workers.length; i++)
				await workers[i];
			rampCtl.abort();
			await ramp;
			rampCtl.dispose();
			for (; i < workers.length; i++)	// any the ramp added as the last ended
				await workers[i];
		};
		try {
			// Each stream's connection is opened (TLS handshake and all) before the first
			// packet: a handshake running meanwhile delays the stamps of the packets already
			// moving, and a packet moving alone while the others connect overstates its rate.
			// A timed test opens as many as it may come to use.
			const conns = (fixed ? Math.min(streams, packets) : maxStreams) * (simultaneous ? 2 : 1);
			await Promise.all(Array.from({ length: conns },
			    () => this.health({ signal: ctl.signal }).catch(() => undefined)));
			if (prober)
				await prober.idle(idleProbes, probeIntervalMs);
			if (ctl.signal.aborted)
				throw abortError();
			const run = fixed ? runFixed : runTimed;
			for (const phase of simultaneous ? ['bidirectional'] : dirs) {
				if (prober)
					prober.load(phase, probeIntervalMs);
				await (phase === 'bidirectional' ? Promise.all(dirs.map(run)) : run(phase));
				if (prober)
					await prober.stop();
				if (failure)
					throw failure;
				if (ctl.signal.aborted)
					throw abortError();
			}
			// A timed test ends now rather than when the server's time runs out; one the
			// server has completed by itself answers invalid_state, which is as good.
			if (!fixed) {
				try {
					await this._json('POST', `${base}/close`, undefined, { signal });
				} catch (e) {
					if (!(e instanceof PingooError && e.code === 'invalid_state'))
						throw e;
				}
			}
			await sendReports(true);
			if (reportError)
				throw reportError;
			if (prober)
				await prober.receipts();
			return await this.test('throughput', test.id, { signal });
		} catch (e) {
			const aborted = isAbort(e) || (signal && signal.aborted);
			let ended = test;
			try {
				await sendReports(true);
				if (prober) {
					await prober.stop();
					await prober.receipts();
				}
			} catch {
				// best effort
			}
			try {
				ended = await this._json('POST', `${base}/abort`);
			} catch {
				// already complete or unreachable
			}
			if (aborted)
				throw abortError(ended);
			throw e;
		} finally {
			if (prober)
				prober.close();
			ctl.dispose();
		}
	}

	// The latency probes of throughput test `base`: idle(n) sends n probes one after the
	// other; load(phase, everyMs) sends one every everyMs until stop(); receipts() sends
	// what they measured.  A probe without an answer is reported lost; one the server
	// refused (the test had ended, a server without probes) is no measurement and is
	// dropped, and a refusal ends the probing.
	async _prober(base, signal, onProbe) {
		let probeFetch = this.probeFetch;
		let own = false;
		if (!probeFetch) {
			probeFetch = await nodeProbeFetch(this.baseUrl);
			own = probeFetch !== null;
		}
		const send = probeFetch
		    ? (path, init) => probeFetch(this._url(path), init).catch((e) => {
			throw new PingooError(0, 'network_error', `probe: ${e && e.message ? e.message : e}`);
		}) : (path, init) => this._send('POST', path, init);
		const done = [];
		let seq = 0;
		let refused = false;
		let loop = null;
		let stopping = false;
		const one = async (phase) => {
			const t0 = nowUs();
			const me = { seq: seq++, phase, client_sent_at: t0, client_received_at: null };
			let res;
			try {
				res = await send(`${base}/probes`, { method: 'POST',
				    headers: this._headers(true, true), signal,
				    body: JSON.stringify({ seq: me.seq, phase, client_sent_at: t0 }) });
			} catch (e) {
				if (isAbort(e) || signal.aborted)
					return;
				done.push(me);
				if (onProbe)
					onProbe({ seq: me.seq, phase, lost: true, clientSentAt: t0, error: e });
				return;
			}
			const t3 = nowUs();
			let echo = null;
			try {
				echo = res.ok ? JSON.parse(await res.text()) : null;
			} catch {
				echo = null;
			}
			if (!echo) {
				refused = true;
				return;
			}
			Object.assign(me, { client_received_at: t3,
			    server_received_at: echo.server_received_at,
			    server_sent_at: echo.server_sent_at, sig: echo.sig });
			done.push(me);
			if (onProbe)
				onProbe({ seq: me.seq, phase, lost: false, clientSentAt: t0,
				    clientReceivedAt: t3, serverReceivedAt: echo.server_received_at,
				    serverSentAt: echo.server_sent_at, rttUs: t3 - t0,
				    serverUs: echo.server_sent_at - echo.server_received_at });
		};
		return {
			idle: async (n, everyMs) => {
				// The probes' connection is opened (TLS handshake and all) first: no
				// probe's RTT carries it.
				await send('/health', { method: 'GET', headers: {}, signal })
				    .then((r) => r.text()).catch(() => undefined);
				// At the loaded probes' pace: both phases then see the same machine
				// (a process that sleeps longer is woken sooner on a busy one), and
				// only the load differs.
				for (let i = 0; i < n && !refused && !signal.aborted; i++) {
					const next = performance.now() + everyMs;
					await one('idle');
					if (i + 1 < n)
						await sleep(next - performance.now(), signal).catch(() => undefined);
				}
			},
			load: (phase, everyMs) => {
				stopping = false;
				loop = (async () => {
					while (!stopping && !refused && !signal.aborted) {
						const next = performance.now() + everyMs;
						await one(phase);
						if (!stopping)
							await sleep(next - performance.now(), signal)
							    .catch(() => undefined);
					}
				})();
			},
			stop: async () => {
				stopping = true;
				await loop;
				loop = null;
			},
			receipts: async () => {
				while (done.length) {
					const batch = done.splice(0, 100);
					await this._json('POST', `${base}/probe-receipts`, { receipts: batch });
				}
			},
			close: () => {
				if (own && probeFetch.close)
					probeFetch.close();
			},
		};
	}
}

export default Pingoo;
