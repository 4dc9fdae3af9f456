// fcgi.mjs - a small FastCGI client, to talk to a worker pool straight on its socket as nginx
// does, without nginx: one request per connection (BEGIN_REQUEST, PARAMS, STDIN), the answer
// read from its STDOUT records up to END_REQUEST.
//
//   const r = await fcgi(socketPath, {method: 'POST', uri: '/api/v1/ping-tests', token,
//       json: {count: 5}});
//   // {status, headers (lower-case names), body: Buffer, text, json|undefined, stderr,
//   //  appStatus, sentAt, firstByteAt, endAt}
//
// Only the parameters nginx passes are sent (deploy/nginx/pingoo.conf.in: REQUEST_METHOD,
// REQUEST_URI, CONTENT_TYPE, CONTENT_LENGTH, HTTP_AUTHORIZATION, HTTP_ORIGIN), so the pool sees
// what it sees behind nginx.  The stamps are microseconds since the epoch by `now` (the
// caller's clock, so that they compare with its own): the request's first byte written, the
// answer's first STDOUT byte, its END_REQUEST.

import net from 'node:net';

const VERSION = 1;
const BEGIN_REQUEST = 1, END_REQUEST = 3, PARAMS = 4, STDIN = 5, STDOUT = 6, STDERR = 7;
const RESPONDER = 1;
// A record holds at most 65535 bytes; 32 KiB keeps each one well below that.
const CHUNK = 32768;
const REQUEST_ID = 1;

// Wall-clock microseconds that never go backwards within the process.
const wall0 = BigInt(Date.now()) * 1000n;
const mono0 = process.hrtime.bigint();
export const nowUs = () => Number(wall0 + (process.hrtime.bigint() - mono0) / 1000n);

function record(type, body = Buffer.alloc(0)) {
	const pad = (8 - (body.length % 8)) % 8;
	const h = Buffer.from([VERSION, type, REQUEST_ID >> 8, REQUEST_ID & 0xff,
	    body.length >> 8, body.length & 0xff, pad, 0]);
	return Buffer.concat([h, body, Buffer.alloc(pad)]);
}

// A name or value length: one byte below 128, else four with the top bit set.
function len(n) {
	if (n < 128)
		return Buffer.from([n]);
	const b = Buffer.alloc(4);
	b.writeUInt32BE((n | 0x80000000) >>> 0);
	return b;
}

function pairs(params) {
	const parts = [];
	for (const [k, v] of Object.entries(params)) {
		const name = Buffer.from(k), value = Buffer.from(String(v));
		parts.push(len(name.length), len(value.length), name, value);
	}
	return Buffer.concat(parts);
}

// The bytes of one request: BEGIN_REQUEST (responder, no keep-alive: the pool closes the
// connection after END_REQUEST), the parameters, an empty PARAMS, the body, an empty STDIN.
export function requestBytes(params, body = Buffer.alloc(0)) {
	const out = [record(BEGIN_REQUEST, Buffer.from([0, RESPONDER, 0, 0, 0, 0, 0, 0]))];
	const p = pairs(params);
	for (let at = 0; at < p.length; at += CHUNK)
		out.push(record(PARAMS, p.subarray(at, at + CHUNK)));
	out.push(record(PARAMS));
	for (let at = 0; at < body.length; at += CHUNK)
		out.push(record(STDIN, body.subarray(at, at + CHUNK)));
	out.push(record(STDIN));
	return Buffer.concat(out);
}

// Splits the CGI answer into status, headers and body.
function parseAnswer(stdout) {
	let end = stdout.indexOf('\r\n\r\n'), skip = 4;
	const lf = stdout.indexOf('\n\n');
	if (lf >= 0 && (end < 0 || lf < end)) {
		end = lf;
		skip = 2;
	}
	if (end < 0)
		return { status: null, headers: {}, body: stdout };
	const headers = {};
	for (const line of stdout.subarray(0, end).toString('latin1').split(/\r?\n/)) {
		const colon = line.indexOf(':');
		if (colon > 0)
			headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	const m = /^(\d{3})/.exec(headers.status ?? '');
	return { status: m ? Number(m[1]) : 200, headers, body: stdout.subarray(end + skip) };
}

// One request on a connection of its own to the pool's unix socket (or host:port).
// opts: method, uri, token, origin, contentType, body (Buffer|string), json (an object sent
// as the body with application/json), timeoutMs, now.  Rejects on a connection error, a
// connection closed before END_REQUEST, or no END_REQUEST within timeoutMs.
export function fcgi(where, opts = {}) {
	const { method = 'GET', uri = '/', token, origin, timeoutMs = 30000, now = nowUs } = opts;
	let body = opts.body;
	let contentType = opts.contentType;
	if (opts.json !== undefined) {
		body = JSON.stringify(opts.json);
		contentType ??= 'application/json';
	}
	if (typeof body === 'string')
		body = Buffer.from(body, 'utf8');
	const params = { REQUEST_METHOD: method, REQUEST_URI: uri };
	if (contentType)
		params.CONTENT_TYPE = contentType;
	if (body !== undefined)
		params.CONTENT_LENGTH = String(body.length);
	if (token)
		params.HTTP_AUTHORIZATION = `Bearer ${token}`;
	if (origin)
		params.HTTP_ORIGIN = origin;
	const bytes = requestBytes(params, body);
	const target = /^[^/]*:\d+$/.test(where)
	    ? { host: where.slice(0, where.lastIndexOf(':')), port: Number(where.slice(where.lastIndexOf(':') + 1)) }
	    : { path: where };

	return new Promise((resolve, reject) => {
		const stdout = [], stderr = [];
		let buf = Buffer.alloc(0), settled = false, sentAt = null, firstByteAt = null;
		const sock = net.connect(target);
		const settle = (fn, v) => {
			if (settled)
				return;
			settled = true;
			clearTimeout(timer);
			sock.destroy();
			fn(v);
		};
		const fail = (why) => settle(reject, new Error(`FastCGI ${method} ${uri}: ${why}`));
		const timer = setTimeout(() => fail(`no END_REQUEST within ${timeoutMs} ms`), timeoutMs);
		sock.on('connect', () => {
			sentAt = now();
			sock.write(bytes);
		});
		sock.on('data', (d) => {
			buf = buf.length ? Buffer.concat([buf, d]) : d;
			while (buf.length >= 8) {
				const type = buf[1], clen = (buf[4] << 8) | buf[5], end = 8 + clen + buf[6];
				if (buf.length < end)
					return;
				const content = buf.subarray(8, 8 + clen);
				if (type === STDOUT && clen > 0) {
					firstByteAt ??= now();
					stdout.push(Buffer.from(content));
				} else if (type === STDERR && clen > 0) {
					stderr.push(Buffer.from(content));
				} else if (type === END_REQUEST) {
					const endAt = now();
					const a = parseAnswer(Buffer.concat(stdout));
					const text = a.body.toString('utf8');
					let json;
					if (/^application\/(json|problem)/i.test(a.headers['content-type'] ?? '') ||
					    /^\s*[{[]/.test(text)) {
						try {
							json = JSON.parse(text);
						} catch {
							json = undefined;
						}
					}
					settle(resolve, { status: a.status, headers: a.headers, body: a.body, text, json,
					    stderr: Buffer.concat(stderr).toString('utf8'),
					    appStatus: content.length >= 4 ? content.readUInt32BE(0) : null,
					    protocolStatus: content.length >= 5 ? content[4] : null,
					    sentAt, firstByteAt, endAt });
					return;
				}
				buf = buf.subarray(end);
			}
		});
		sock.on('error', (e) => fail(e.message));
		sock.on('close', () => fail('the pool closed the connection before END_REQUEST'));
	});
}

// A short description of an answer for diagnostics.
export function describeFcgi(r) {
	if (!r)
		return 'no answer';
	const t = (r.text ?? '').trim();
	return `status ${r.status}, content-type ${r.headers?.['content-type'] ?? '-'}, body ` +
	    (t.length > 400 ? t.slice(0, 400) + '...' : t) + (r.stderr ? `, stderr ${r.stderr.trim()}` : '');
}
