// http.mjs - a raw HTTP(S) client for the integration tests, and API helpers.
//
// The request path goes out exactly as given (https.request sends its `path` option
// verbatim: no normalization of `//`, `%2F` or `/../`), one connection per request, and
// the stack's own CA is the only one trusted.  rawRequest() writes bytes straight onto a
// TLS connection for what https.request refuses to send (spaces or control bytes in the
// path, bad header values, a lying Content-Length, a truncated body).

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

import { checkResponse } from './openapi.mjs';

const DEFAULT_TIMEOUT_MS = 10000;

const caCache = new Map();
function caOf(stack) {
	const file = stack.PINGOO_CA_FILE;
	if (!file)
		return undefined;
	if (!caCache.has(file))
		caCache.set(file, fs.readFileSync(file));
	return caCache.get(file);
}

function baseOf(stack, base) {
	const url = new URL(base === 'http' ? stack.PINGOO_HTTP_URL : stack.PINGOO_URL);
	const secure = url.protocol === 'https:';
	return {
		secure,
		host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
		port: Number(url.port) || (secure ? 443 : 80),
		hostHeader: url.host,
		prefix: url.pathname.replace(/\/+$/, ''),
	};
}

function finish(status, headers, body, extra) {
	const text = body.toString('utf8');
	let json;
	const ctype = headers['content-type'] ?? '';
	if (/^application\/json/i.test(ctype) || /^\s*[{[]/.test(text)) {
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
	}
	return { status, headers, body, text, json, ...extra };
}

// request(stack, {method, path, headers, body, token, timeoutMs, base, localAddress})
//   -> {status, headers (lower-case names), body: Buffer, text, json|undefined, ms}
// Rejects on a network error or when no complete answer arrives within timeoutMs.
export function request(stack, opts = {}) {
	const { method = 'GET', path = '/', token, timeoutMs = DEFAULT_TIMEOUT_MS, base } = opts;
	const b = baseOf(stack, base);
	const headers = { ...(opts.headers ?? {}) };
	const has = (name) => Object.keys(headers).some((k) => k.toLowerCase() === name);
	if (token !== undefined && token !== null && !has('authorization'))
		headers.Authorization = `Bearer ${token}`;
	let body = opts.body;
	if (typeof body === 'string')
		body = Buffer.from(body, 'utf8');
	if (body !== undefined && !has('content-length') && !has('transfer-encoding'))
		headers['Content-Length'] = String(body.length);
	const started = performance.now();
	const lib = b.secure ? https : http;
	return new Promise((resolve, reject) => {
		let settled = false;
		let response = null;
		const settle = (fn, v) => {
			if (!settled) {
				settled = true;
				clearTimeout(timer);
				fn(v);
			}
		};
		const req = lib.request({
			host: b.host,
			port: b.port,
			method,
			path: b.prefix + path,
			headers,
			agent: false,
			// {localAddress: '127.0.0.2'}: a loopback address outside an allow-list.
			localAddress: opts.localAddress,
			ca: b.secure ? caOf(stack) : undefined,
			setHost: !has('host'),
		});
		const timer = setTimeout(() => {
			const err = new Error(`${method} ${path}: no complete answer within ${timeoutMs} ms` +
			    (response ? ` (status ${response.statusCode} arrived)` : ''));
			err.code = 'ETIMEDOUT';
			req.destroy(err);
			settle(reject, err);
		}, timeoutMs);
		req.on('response', (res) => {
			response = res;
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const r = finish(res.statusCode, res.headers, Buffer.concat(chunks),
				    { ms: performance.now() - started, complete: res.complete });
				// Plain HTTP only redirects: the API is the HTTPS server's.
				if (b.secure)
					checkResponse(method, path, r);
				settle(resolve, r);
			});
			// A body cut short still resolves, with complete: false, so a test can say so.
			res.on('error', (e) => settle(resolve, finish(res.statusCode, res.headers,
			    Buffer.concat(chunks), { ms: performance.now() - started,
			    complete: false, error: e })));
		});
		req.on('error', (e) => {
			// A server that answers early (413) and closes while the body is still going
			// out makes the write fail; the answer, if it came, is what matters.
			if (response)
				return;
			e.message = `${method} ${path}: ${e.message}`;
			settle(reject, e);
		});
		if (body !== undefined)
			req.end(body);
		else
			req.end();
	});
}

// Parses a raw HTTP/1.x response (Content-Length, chunked or to-EOF body).
export function parseRawResponse(buf) {
	const end = buf.indexOf('\r\n\r\n');
	if (end < 0)
		throw new Error(`no complete header in ${buf.length} bytes: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`);
	const head = buf.subarray(0, end).toString('latin1').split('\r\n');
	const m = /^HTTP\/\d\.\d (\d{3})/.exec(head[0]);
	if (!m)
		throw new Error(`bad status line ${JSON.stringify(head[0])}`);
	const headers = {};
	for (const line of head.slice(1)) {
		const colon = line.indexOf(':');
		if (colon < 0)
			continue;
		const k = line.slice(0, colon).trim().toLowerCase();
		const v = line.slice(colon + 1).trim();
		headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
	}
	let rest = buf.subarray(end + 4);
	let body = rest;
	let complete = true;
	if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
		const parts = [];
		complete = false;
		for (;;) {
			const nl = rest.indexOf('\r\n');
			if (nl < 0)
				break;
			const size = parseInt(rest.subarray(0, nl).toString('latin1'), 16);
			if (!Number.isFinite(size))
				break;
			if (size === 0) {
				complete = true;
				break;
			}
			parts.push(rest.subarray(nl + 2, nl + 2 + size));
			rest = rest.subarray(nl + 2 + size + 2);
		}
		body = Buffer.concat(parts);
	} else if (headers['content-length'] !== undefined) {
		const len = Number(headers['content-length']);
		complete = rest.length >= len;
		body = rest.subarray(0, len);
	}
	return finish(Number(m[1]), headers, body, { complete });
}

// Writes `raw` (string or Buffer, sent byte for byte) on a new TLS (or, with base 'http',
// TCP) connection, reads until the server closes it or `timeoutMs`, and parses the answer.
// Send `Connection: close` in the raw request so the server closes after answering.
// {chunks: [Buffer...], gapMs} writes the pieces with pauses (slow or truncated bodies);
// {endAfterWrite: true} half-closes after writing.
export function rawRequest(stack, raw, opts = {}) {
	const { timeoutMs = DEFAULT_TIMEOUT_MS, base, chunks, gapMs = 50, endAfterWrite = false } = opts;
	const b = baseOf(stack, base);
	const started = performance.now();
	return new Promise((resolve, reject) => {
		const got = [];
		let settled = false;
		const connectOpts = { host: b.host, port: b.port };
		const sock = b.secure
			? tls.connect({ ...connectOpts, ca: caOf(stack),
			    servername: net.isIP(b.host) ? undefined : b.host })
			: net.connect(connectOpts);
		const done = (err) => {
			if (settled)
				return;
			settled = true;
			clearTimeout(timer);
			sock.destroy();
			const buf = Buffer.concat(got);
			if (buf.length === 0) {
				reject(err ?? new Error('connection closed with no answer'));
				return;
			}
			try {
				const r = { ...parseRawResponse(buf), raw: buf,
				    ms: performance.now() - started, timedOut: !!(err && err.code === 'ETIMEDOUT') };
				const line = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/.exec(
				    Buffer.from((chunks ?? [raw])[0]).toString('latin1'));
				if (line && b.secure && !r.timedOut && !err)
					checkResponse(line[1], line[2], r);
				resolve(r);
			} catch (e) {
				reject(e);
			}
		};
		const timer = setTimeout(() => {
			const err = new Error(`raw request: no close within ${timeoutMs} ms`);
			err.code = 'ETIMEDOUT';
			done(err);
		}, timeoutMs);
		sock.on(b.secure ? 'secureConnect' : 'connect', async () => {
			try {
				const pieces = chunks ?? [raw];
				for (let i = 0; i < pieces.length; i++) {
					if (i > 0 && gapMs > 0)
						await new Promise((r) => setTimeout(r, gapMs));
					if (sock.destroyed)
						return;
					sock.write(typeof pieces[i] === 'string' ? Buffer.from(pieces[i], 'latin1') : pieces[i]);
				}
				if (endAfterWrite)
					sock.end();
			} catch (e) {
				done(e);
			}
		});
		sock.on('data', (c) => got.push(c));
		sock.on('end', () => done());
		sock.on('close', () => done());
		sock.on('error', (e) => done(e));
	});
}

// ---- API helpers ---------------------------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');
export function b64urlJson(obj) {
	return b64url(JSON.stringify(obj));
}

// Splits a compact JWT into its decoded header and payload (undefined parts when malformed).
export function decodeJwt(token) {
	const parts = String(token).split('.');
	const dec = (s) => {
		try {
			return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
		} catch {
			return undefined;
		}
	};
	return { parts, header: dec(parts[0] ?? ''), payload: dec(parts[1] ?? '') };
}

function short(text) {
	const t = text.trim();
	return t.length > 400 ? t.slice(0, 400) + '...' : t;
}

// Checks that `res` is the JSON error of docs/api.md with this status and code.
// Returns {pass, why}: `why` says everything that is off, for a TAP diagnostic.
export function expectError(res, status, code, { field } = {}) {
	const problems = [];
	if (!res) {
		return { pass: false, why: 'no response' };
	}
	if (res.status !== status)
		problems.push(`status ${res.status}, want ${status}`);
	const ctype = res.headers['content-type'] ?? '';
	if (!/^application\/json\b/i.test(ctype))
		problems.push(`content-type ${JSON.stringify(ctype)}, want application/json`);
	const err = res.json && typeof res.json === 'object' ? res.json.error : undefined;
	if (!err || typeof err !== 'object') {
		problems.push('body has no "error" object');
	} else {
		const codes = Array.isArray(code) ? code : [code];
		if (!codes.includes(err.code))
			problems.push(`error.code ${JSON.stringify(err.code)}, want ${codes.map((c) => JSON.stringify(c)).join(' or ')}`);
		if (typeof err.message !== 'string' || err.message.length === 0)
			problems.push('error.message is not a non-empty string');
		if (field !== undefined && err.field !== field)
			problems.push(`error.field ${JSON.stringify(err.field)}, want ${JSON.stringify(field)}`);
	}
	if (problems.length)
		problems.push(`body: ${short(res.text)}`);
	return { pass: problems.length === 0, why: problems.join('\n') };
}

// A short description of a response for diagnostics.
export function describe(res) {
	if (!res)
		return 'no response';
	return `status ${res.status}, content-type ${res.headers['content-type'] ?? '-'}, body ${short(res.text)}`;
}

// nginx rate-limits the token route (per client address, shared by every test running
// at the same time): a 429 there is waited out and retried, for up to ~15 s, unless the
// caller asks to see it ({retry429: false}, for the test of the limit itself).
async function patient(stack, opts) {
	const giveUp = Date.now() + 15000;
	for (let attempt = 1; ; attempt++) {
		const res = await request(stack, opts);
		if (res.status !== 429 || opts.retry429 === false || Date.now() >= giveUp)
			return res;
		const after = Number(res.headers['retry-after']);
		await new Promise((r) => setTimeout(r, after > 0 ? after * 1000 : Math.min(250 * attempt, 1000)));
	}
}

// The API of one stack: request(), json(), token(), login() bound to it.
export function api(stack) {
	const self = {
		stack,
		request: (opts) => patient(stack, opts),
		raw: (bytes, opts) => rawRequest(stack, bytes, opts),
		get: (path, token, opts = {}) => patient(stack, { ...opts, method: 'GET', path, token }),
		// Sends obj as a JSON body (none when obj is undefined).
		json: (method, path, obj, token, opts = {}) => {
			const headers = { ...(opts.headers ?? {}) };
			let body;
			if (obj !== undefined) {
				body = typeof obj === 'string' || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj);
				if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type'))
					headers['Content-Type'] = 'application/json';
			}
			return patient(stack, { ...opts, method, path, token, headers, body });
		},
		// A fresh access token, or an exception saying what the server answered.
		async token(username, password) {
			const res = await self.json('POST', '/api/v1/auth/token', { username, password });
			if (res.status !== 200 || !res.json || typeof res.json.access_token !== 'string')
				throw new Error(`token for ${username}: ${describe(res)}`);
			return res.json.access_token;
		},
		login() {
			return self.token(stack.PINGOO_DEMO_USER, stack.PINGOO_DEMO_PASSWORD);
		},
	};
	return self;
}

