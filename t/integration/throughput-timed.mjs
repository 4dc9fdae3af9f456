// throughput-timed.mjs - time-bounded throughput tests end to end, over HTTPS through nginx
// against the running local stack: creation and its refusals (nothing created), packets whose
// size the client chooses (?bytes= downloads, uploads of any length, chunked too), the clock
// that starts at a direction's first packet and refuses packets after it (409 time_up), the
// test that completes by itself once its time is up and its last packet has ended, close, and
// the headline computed over its window exactly as the API documents it, from the stamps in
// MariaDB.  Without a stack the file is skipped.

import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { readConfig } from './lib/stack.mjs';
import { expectError, describe } from './lib/http.mjs';
import { query } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_DB_NAME', 'PINGOO_DB_USER']);
const users = userFactory(stack);
const cfg = readConfig(stack) ?? {};
const MAX_SIZE = cfg.tp_max_packet_size !== undefined ? Number(cfg.tp_max_packet_size) : 64 << 20;
const MAX_PACKETS = cfg.tp_max_packets !== undefined ? Number(cfg.tp_max_packets) : 10000;

const base = '/api/v1/throughput-tests';
const create = (token, body) => A.json('POST', base, body, token);
const read = (token, id) => A.get(`${base}/${id}`, token);
const close = (token, id) => A.request({ method: 'POST', path: `${base}/${id}/close`, token });
const download = (token, id, seq, query = '') =>
	A.request({ method: 'GET', path: `${base}/${id}/download/${seq}${query}`, token, timeoutMs: 60000 });
const upload = (token, id, seq, body, headers = {}) =>
	A.request({ method: 'PUT', path: `${base}/${id}/upload/${seq}`, token, body, timeoutMs: 60000,
	    headers: { 'Content-Type': 'application/octet-stream', ...headers } });
const report = (token, id, packets) => A.json('POST', `${base}/${id}/reports`, { packets }, token);

function okError(res, status, code, sentence, opts) {
	const r = expectError(res, status, code, opts);
	return t.ok(r.pass, sentence, r.why);
}

async function made(token, body) {
	const res = await create(token, body);
	if (res.status !== 201 || !res.json || !Number.isInteger(res.json.id))
		throw new Error(`create ${JSON.stringify(body)}: ${describe(res)}`);
	return res.json;
}

function dbTransfers(id) {
	return query(stack, 'SELECT direction, seq, status, bytes, server_started_at, server_finished_at, ' +
	    'client_first_byte_at, client_received_at FROM throughput_transfers ' +
	    `WHERE test_id = ${Number(id)} ORDER BY direction, seq`).map((r) => ({
		direction: r[0], seq: Number(r[1]), status: r[2], bytes: Number(r[3]),
		started: Number(r[4]), finished: r[5] === null ? null : Number(r[5]),
		first: r[6] === null ? null : Number(r[6]), received: r[7] === null ? null : Number(r[7]),
	}));
}

function dbTest(id) {
	const r = query(stack, 'SELECT state, duration_ms, packets, packet_size, download_started_at, ' +
	    `upload_started_at FROM throughput_tests WHERE id = ${Number(id)}`)[0];
	if (!r)
		return null;
	const n = (v) => (v === null ? null : Number(v));
	return { state: r[0], duration_ms: n(r[1]), packets: n(r[2]), packet_size: n(r[3]),
	    download_started_at: n(r[4]), upload_started_at: n(r[5]) };
}

function countTests(username) {
	return Number(query(stack, 'SELECT COUNT(*) FROM throughput_tests t JOIN users u ON u.id = t.user_id ' +
	    `WHERE u.name = '${username}'`)[0][0]);
}

// The headline window as docs/api.md states it, from the receiver's stamps: it opens grace_us
// after the first byte (a fifth of the duration, at most 2 s) and closes at the first end
// after the last start; each packet's bytes are spread over its interval.  A window shorter
// than the grace is the whole span.
function windowOf(rows, direction, durationMs) {
	const spans = rows.filter((r) => r.direction === direction && r.status === 'ok').map((r) => (
		direction === 'upload' ? { s: r.started, e: r.finished, b: r.bytes }
		    : { s: r.first, e: r.received, b: r.bytes })).filter((x) => x.s !== null && x.e !== null && x.e >= x.s);
	const grace = Math.min(durationMs * 1000 / 5, 2000000);
	if (!spans.length)
		return { grace, start: null, end: null, bytes: null, bps: null };
	const first = Math.min(...spans.map((x) => x.s));
	const lastStart = Math.max(...spans.map((x) => x.s));
	const lastEnd = Math.max(...spans.map((x) => x.e));
	let start = first + grace;
	let end = Math.min(...spans.map((x) => x.e).filter((e) => e > lastStart), lastEnd);
	if (end - start < grace) {
		start = first;
		end = lastEnd;
	}
	let bytes = 0;
	for (const x of spans) {
		if (x.e === x.s) {
			bytes += x.s >= start && x.s < end ? x.b : 0;
			continue;
		}
		const lo = Math.max(x.s, start);
		const hi = Math.min(x.e, end);
		if (hi > lo)
			bytes += x.b * (hi - lo) / (x.e - x.s);
	}
	bytes = Math.round(bytes);
	const bps = end - start > 0 ? Math.round(bytes * 8e6 / (end - start)) : null;
	return { grace, start, end, bytes, bps };
}

// An upload whose body goes out in `chunks` pieces `gapMs` apart, chunked (no
// Content-Length): a packet that is still moving when the clock runs out.
function slowUpload(token, id, seq, chunks, size, gapMs) {
	const url = new URL(`${stack.PINGOO_URL}${base}/${id}/upload/${seq}`);
	return new Promise((resolve, reject) => {
		const req = https.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT',
		    ca: fs.readFileSync(stack.PINGOO_CA_FILE), agent: false,
		    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream',
			'Transfer-Encoding': 'chunked' } }, (res) => {
			const parts = [];
			res.on('data', (c) => parts.push(c));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString() }));
		});
		req.on('error', reject);
		(async () => {
			for (let i = 0; i < chunks; i++) {
				req.write(crypto.randomBytes(size));
				await sleep(gapMs);
			}
			req.end();
		})();
	});
}

let main = null;

await t.test('two throwaway users get tokens', async () => {
	const u = users.create();
	const v = users.create();
	main = { token: await A.token(u.username, u.password), other: await A.token(v.username, v.password),
	    name: u.username };
	for (const [x, token] of [[u, main.token], [v, main.other]]) {
		const me = await A.get('/api/v1/me', token);
		t.ok(me.status === 200 && me.json?.username === x.username,
		    `${x.username} gets a token that GET /me answers as that user`, describe(me));
	}
});
if (!main) {
	users.cleanup();
	t.bailOut('no users, nothing else can run');
}

await t.test('a create body with duration_ms out of range, with packets too, or with neither is refused and creates nothing', async () => {
	const before = countTests(main.name);
	okError(await create(main.token, { direction: 'download', duration_ms: 999 }), 422, 'out_of_range',
	    'duration_ms 999 is 422 out_of_range', { field: 'duration_ms' });
	okError(await create(main.token, { direction: 'download', duration_ms: 60001 }), 422, 'out_of_range',
	    'duration_ms 60001 is 422 out_of_range', { field: 'duration_ms' });
	okError(await create(main.token, { direction: 'upload', duration_ms: 5000, packets: 4, packet_size: 1024 }),
	    422, 'conflicting_fields', 'duration_ms with packets is 422 naming duration_ms', { field: 'duration_ms' });
	okError(await create(main.token, { direction: 'upload', packet_size: 1024 }), 422, 'missing_size',
	    'neither duration_ms nor packets is 422 naming packets', { field: 'packets' });
	okError(await create(main.token, { direction: 'upload', duration_ms: 2.5e3 + 0.5 }), 400, 'invalid_field',
	    'a fractional duration_ms is refused', { field: 'duration_ms' });
	okError(await create(main.token, { direction: 'upload', duration_ms: 5000, packet_size: MAX_SIZE + 1 }), 422,
	    'limit_exceeded', 'a packet_size past tp_max_packet_size is refused', { field: 'packet_size' });
	t.ok(countTests(main.name) === before, 'no test was created by the refused bodies');
});

await t.test('a time-bounded test is created with its duration and no packet count', async () => {
	const test = await made(main.token, { direction: 'both', duration_ms: 5000 });
	t.ok(test.duration_ms === 5000 && test.packets === null && test.packet_size === null &&
	    test.state === 'incomplete', 'the answer has duration_ms, packets null and packet_size null', JSON.stringify(test));
	t.ok(test.summary.download.grace_us === 1000000 && test.summary.download.started_at === null &&
	    test.summary.download.time_up_at === null && test.summary.upload.window_start_at === null,
	    'the summary has the grace (a fifth of 5 s) and no clock before the first packet');
	const row = dbTest(test.id);
	t.ok(row.duration_ms === 5000 && row.packets === 0 && row.packet_size === 0,
	    'MariaDB holds duration_ms with 0 packets and no size', JSON.stringify(row));
	const ns = await made(main.token, { direction: 'upload', packets: 2, packet_size: 1000 });
	t.ok(ns.duration_ms === null && ns.packets === 2 && ns.summary.upload.grace_us === null &&
	    ns.summary.upload.window_start_at === null, 'an N x S test has duration_ms and the window fields null');
});

await t.test('each download of a time-bounded test sends exactly the bytes it asked for', async () => {
	const { id } = await made(main.token, { direction: 'download', duration_ms: 30000 });
	const sizes = [1, 8192, 65529, 300000, 1 << 20];
	for (const [seq, n] of sizes.entries()) {
		const d = await download(main.token, id, seq, `?bytes=${n}`);
		t.ok(d.status === 200 && d.body.length === n && d.headers['content-length'] === String(n),
		    `?bytes=${n} sends exactly ${n} bytes with Content-Length`, describe(d));
	}
	const rows = dbTransfers(id);
	t.ok(rows.length === sizes.length && rows.every((r, i) => r.status === 'ok' && r.bytes === sizes[i]),
	    'MariaDB records each packet with its own size', JSON.stringify(rows.map((r) => r.bytes)));
	okError(await download(main.token, id, 9), 400, 'invalid_query',
	    'a download without bytes, of a test without packet_size, is 400 invalid_query', { field: 'bytes' });
	okError(await download(main.token, id, 9, '?bytes=0'), 400, 'invalid_query', 'bytes=0 is refused',
	    { field: 'bytes' });
	okError(await download(main.token, id, 9, `?bytes=${MAX_SIZE + 1}`), 422, 'limit_exceeded',
	    'bytes past tp_max_packet_size is refused naming the limit', { field: 'bytes' });
	okError(await download(main.token, id, MAX_PACKETS, '?bytes=10'), 422, 'out_of_range',
	    'a seq at tp_max_packets is out of range');
	t.ok(dbTransfers(id).length === sizes.length, 'the refused packets claimed nothing');
	const withSize = await made(main.token, { direction: 'download', duration_ms: 30000, packet_size: 5000 });
	const d = await download(main.token, withSize.id, 0);
	t.ok(d.status === 200 && d.body.length === 5000, 'without bytes a test created with packet_size sends that size');
	const ns = await made(main.token, { direction: 'download', packets: 2, packet_size: 4000 });
	okError(await download(main.token, ns.id, 0, '?bytes=4001'), 422, 'out_of_range',
	    'an N x S download refuses a bytes other than packet_size', { field: 'bytes' });
	const same = await download(main.token, ns.id, 0, '?bytes=4000');
	t.ok(same.status === 200 && same.body.length === 4000, 'and takes bytes equal to packet_size');
});

await t.test('each upload of a time-bounded test is as long as its body', async () => {
	const { id } = await made(main.token, { direction: 'upload', duration_ms: 30000 });
	const a = await upload(main.token, id, 0, crypto.randomBytes(5000));
	t.ok(a.status === 200 && a.json?.bytes === 5000, 'a 5000-byte body is a 5000-byte packet', describe(a));
	const b = await upload(main.token, id, 1, crypto.randomBytes(123457), { 'Transfer-Encoding': 'chunked' });
	t.ok(b.status === 200 && b.json?.bytes === 123457, 'a chunked body of 123457 bytes is read to its end', describe(b));
	okError(await upload(main.token, id, 2, Buffer.alloc(0)), 422, 'wrong_size', 'an empty body is refused');
	const rows = dbTransfers(id);
	t.ok(rows[0].bytes === 5000 && rows[0].status === 'ok' && rows[1].bytes === 123457 &&
	    rows[1].status === 'ok' && rows[2].status === 'failed',
	    'MariaDB has both sizes ok and the empty one failed', JSON.stringify(rows));
});

await t.test('a direction\'s clock starts with its first packet and refuses packets after its time', async () => {
	const test = await made(main.token, { direction: 'both', duration_ms: 1000 });
	await sleep(1200);	// the clock has not started: nothing is up yet
	const first = await download(main.token, test.id, 0, '?bytes=1000');
	t.ok(first.status === 200, 'the first download, 1.2 s after the creation, is taken');
	const row = dbTest(test.id);
	t.ok(row.download_started_at !== null && row.upload_started_at === null,
	    'the download clock started and the upload clock did not', JSON.stringify(row));
	await sleep(1100);
	okError(await download(main.token, test.id, 1, '?bytes=1000'), 409, 'time_up',
	    'a download after the download time is 409 time_up');
	const up = await upload(main.token, test.id, 0, crypto.randomBytes(1000));
	t.ok(up.status === 200, 'the upload, whose clock starts now, is taken', describe(up));
	t.ok(dbTransfers(test.id).filter((r) => r.direction === 'download').length === 1,
	    'the refused packet claimed nothing');
	const r = await read(main.token, test.id);
	const dl = r.json.summary.download;
	t.ok(dl.time_up_at === dl.started_at + 1000000 && dl.started_at === row.download_started_at,
	    'the read shows the download clock and when its time was up');
	await sleep(1100);
	okError(await upload(main.token, test.id, 1, crypto.randomBytes(1000)), 409, 'time_up',
	    'an upload after the upload time is 409 time_up');
});

await t.test('a test completes by itself when its last packet ends after its time', async () => {
	const { id } = await made(main.token, { direction: 'upload', duration_ms: 1000 });
	// Starts inside the second, ends after it.
	const slow = await slowUpload(main.token, id, 0, 8, 4096, 200);
	t.ok(slow.status === 200, 'a packet moving across the end of the time is recorded', slow.body);
	const test = dbTest(id);
	t.ok(test.state === 'complete', 'the test is complete once that packet ended', JSON.stringify(test));
});

await t.test('a test whose client stopped early reads complete once its time is up', async () => {
	const { id } = await made(main.token, { direction: 'upload', duration_ms: 1000 });
	await upload(main.token, id, 0, crypto.randomBytes(1000));
	t.ok(dbTest(id).state === 'incomplete', 'before its time is up the test is incomplete');
	await sleep(1100);
	const r = await read(main.token, id);
	t.ok(r.status === 200 && r.json.state === 'complete' && r.json.finished_at !== null,
	    'its first read after the time says complete', describe(r));
	t.ok(dbTest(id).state === 'complete', 'and MariaDB has it complete');
});

await t.test('close ends a time-bounded test as complete and refuses what it cannot close', async () => {
	const { id } = await made(main.token, { direction: 'download', duration_ms: 60000 });
	await download(main.token, id, 0, '?bytes=1000');
	okError(await close(main.token.replace(/.$/, 'x'), id), 401, 'unauthorized', 'a bad token cannot close it');
	okError(await close(main.other, id), 404, 'not_found', 'another user\'s close is 404');
	const c = await close(main.token, id);
	t.ok(c.status === 200 && c.json.state === 'complete' && c.json.finished_at !== null,
	    'close answers the test, complete', describe(c));
	okError(await close(main.token, id), 409, 'invalid_state', 'closing it again is 409 invalid_state');
	okError(await download(main.token, id, 1, '?bytes=1000'), 409, 'invalid_state',
	    'a packet after the close is 409 invalid_state');
	const ns = await made(main.token, { direction: 'upload', packets: 2, packet_size: 1000 });
	okError(await close(main.token, ns.id), 409, 'invalid_state', 'an N x S test cannot be closed');
	t.ok(dbTest(ns.id).state === 'incomplete', 'and stays incomplete');
});

await t.test('the headline of a time-bounded test is its window\'s, computed from the receiver\'s stamps', async () => {
	// Two streams of uploads for 2 s, then downloads reported by this client.
	const test = await made(main.token, { direction: 'both', duration_ms: 2000 });
	const until = Date.now() + 2000;
	let seq = 0;
	const stream = async () => {
		while (Date.now() < until - 50) {
			const s = seq++;
			const r = await upload(main.token, test.id, s, crypto.randomBytes(200000));
			if (r.status !== 200)
				break;
		}
	};
	await Promise.all([stream(), stream()]);
	const reports = [];
	const dUntil = Date.now() + 2000;
	for (let s = 0; Date.now() < dUntil - 50; s++) {
		const sent = Date.now() * 1000;
		const d = await download(main.token, test.id, s, '?bytes=200000');
		if (d.status !== 200)
			break;
		const received = Date.now() * 1000;
		reports.push({ direction: 'download', seq: s, client_sent_at: sent,
		    client_first_byte_at: sent + Math.round(d.ms * 100), client_received_at: received });
	}
	const rep = await report(main.token, test.id, reports);
	t.ok(rep.status === 200, 'the downloads are reported', describe(rep));
	await close(main.token, test.id);
	const r = await read(main.token, test.id);
	const rows = dbTransfers(test.id);
	for (const dir of ['upload', 'download']) {
		const want = windowOf(rows, dir, 2000);
		const s = r.json.summary[dir];
		t.ok(s.grace_us === want.grace && s.window_start_at === want.start && s.window_end_at === want.end &&
		    s.window_bytes === want.bytes && s.bits_per_second === want.bps,
		    `${dir}: the window and the headline match the stated rule over MariaDB's stamps`,
		    `api ${JSON.stringify(s)} want ${JSON.stringify(want)}`);
		t.ok(s.packets === rows.filter((x) => x.direction === dir).length && s.received > 1,
		    `${dir}: packets counts the transfers moved`);
	}
});

await t.test('throwaway users are deleted', async () => {
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'every user made here is gone', errors.join('\n'));
});

await t.done();
