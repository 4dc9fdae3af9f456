// throughput.mjs - throughput tests end to end, over HTTPS through nginx against the running
// local stack: downloads and uploads of 8 x 1 MiB with every packet
// checked in MariaDB, a `both` test, parallel streams, the refusals (wrong size, out of
// range, twice, another user's test, limits, bad bodies), a download cut by its client,
// reports, abort and the list.  Without a stack the file is skipped.

import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { loadStack, stackEnvPath, missingKeys, readConfig } from './lib/stack.mjs';
import { api, expectError, describe } from './lib/http.mjs';
import { query, literal } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_DB_NAME', 'PINGOO_DB_USER']);
const users = userFactory(stack);

const MIB = 1024 * 1024;
const cfg = readConfig(stack) ?? {};
const limit = (key, dflt) => (cfg[key] !== undefined ? Number(cfg[key]) : dflt);
const LIMITS = {
	tp_max_packets: limit('tp_max_packets', 10000),
	tp_max_packet_size: limit('tp_max_packet_size', 64 * MIB),
	tp_max_total_bytes: limit('tp_max_total_bytes', 4 * 1024 * MIB),
	tp_max_reports: limit('tp_max_reports', 500),
	list_max_limit: limit('list_max_limit', 100),
};

// ---- helpers --------------------------------------------------------------------------------

function okError(res, status, code, sentence, opts) {
	const r = expectError(res, status, code, opts);
	return t.ok(r.pass, sentence, r.why);
}

const base = '/api/v1/throughput-tests';
const create = (token, body) => A.json('POST', base, body, token);
const read = (token, id) => A.get(`${base}/${id}`, token);
const download = (token, id, seq, opts = {}) =>
	A.request({ method: 'GET', path: `${base}/${id}/download/${seq}`, token, timeoutMs: 60000, ...opts });
const upload = (token, id, seq, body, headers = {}) =>
	A.request({ method: 'PUT', path: `${base}/${id}/upload/${seq}`, token, body, timeoutMs: 60000,
	    headers: { 'Content-Type': 'application/octet-stream', ...headers } });
const report = (token, id, packets) => A.json('POST', `${base}/${id}/reports`, { packets }, token);
const abort = (token, id) => A.request({ method: 'POST', path: `${base}/${id}/abort`, token });

// Creates a test or throws with what the server said.
async function made(token, body) {
	const res = await create(token, body);
	if (res.status !== 201 || !res.json || !Number.isInteger(res.json.id))
		throw new Error(`create ${JSON.stringify(body)}: ${describe(res)}`);
	return res.json;
}

// The transfers of a test as MariaDB has them, ordered like the API.
function dbTransfers(id) {
	return query(stack, 'SELECT direction, seq, status, bytes, server_started_at, ' +
	    'server_finished_at, client_sent_at, client_received_at FROM throughput_transfers ' +
	    `WHERE test_id = ${Number(id)} ORDER BY direction, seq`).map((r) => ({
		direction: r[0], seq: Number(r[1]), status: r[2], bytes: Number(r[3]),
		started: Number(r[4]), finished: r[5] === null ? null : Number(r[5]),
		sent: r[6] === null ? null : Number(r[6]), received: r[7] === null ? null : Number(r[7]),
	}));
}

function dbTest(id) {
	const rows = query(stack, 'SELECT state, created_at, finished_at FROM throughput_tests ' +
	    `WHERE id = ${Number(id)}`);
	if (!rows.length)
		return null;
	return { state: rows[0][0], created: Number(rows[0][1]),
	    finished: rows[0][2] === null ? null : Number(rows[0][2]) };
}

// Row counts of the main user's tests and transfers (other suites may be running too).
function mine() {
	const u = `(SELECT id FROM users WHERE name = ${literal(main.name)})`;
	const row = query(stack, `SELECT (SELECT COUNT(*) FROM throughput_tests WHERE user_id = ${u}), ` +
	    '(SELECT COUNT(*) FROM throughput_transfers x JOIN throughput_tests t ON t.id = x.test_id ' +
	    `WHERE t.user_id = ${u})`)[0];
	return { throughput_tests: Number(row[0]), throughput_transfers: Number(row[1]) };
}

// A download record is committed right after its last byte (docs/api.md): wait for it.
async function waitFor(fn, ms = 5000) {
	const until = Date.now() + ms;
	for (;;) {
		const v = fn();
		if (v || Date.now() > until)
			return v;
		await sleep(20);
	}
}

// Random data does not shrink under deflate; a repeated pattern or zeros would.
function incompressible(buf) {
	return zlib.deflateRawSync(buf, { level: 1 }).length >= buf.length * 0.99;
}

// Checks that packets 0..n-1 of one direction are ok, of `size` bytes, each with start <=
// end and each starting after the previous one ended (they were moved one after another).
function checkSequential(rows, direction, n, size) {
	const mine = rows.filter((r) => r.direction === direction);
	const problems = [];
	if (mine.length !== n)
		problems.push(`${mine.length} ${direction} rows, want ${n}`);
	mine.forEach((r, i) => {
		if (r.seq !== i || r.status !== 'ok' || r.bytes !== size)
			problems.push(`row ${i}: seq ${r.seq} status ${r.status} bytes ${r.bytes}`);
		if (r.finished === null || r.finished < r.started)
			problems.push(`row ${i}: started ${r.started} finished ${r.finished}`);
		if (i > 0 && r.started < mine[i - 1].finished)
			problems.push(`row ${i} started ${r.started} before row ${i - 1} finished ${mine[i - 1].finished}`);
	});
	return problems;
}

let main = null;	// {token, other}

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

// The create answers from the test as created, never read back (a read failing after the commit
// would answer 503 for a test that exists): that answer must be the test as a read gives it.
await t.test('the create answer of each kind of test is the test as a read gives it', async () => {
	for (const body of [{ direction: 'download', packets: 2, packet_size: 1024 },
	    { direction: 'both', packets: 3, packet_size: 2048, simultaneous: true, client: { os: 'linux' } },
	    { direction: 'upload', duration_ms: 1000 },
	    { direction: 'both', duration_ms: 2000, packet_size: 4096, client: { app_version: 'a/1' } }]) {
		const c = await create(main.token, body);
		if (!t.ok(c.status === 201 && Number.isSafeInteger(c.json?.id), `create ${JSON.stringify(body)} answers 201`,
		    describe(c)))
			continue;
		const g = await A.get(`${base}/${c.json.id}`, main.token);
		t.is(c.json, g.json, `the create answer of ${JSON.stringify(body)} equals its read`);
	}
});

// ---- downloads ------------------------------------------------------------------------------

await t.test('a download test of 8 x 1 MiB runs end to end', async () => {
	const res = await create(main.token, { direction: 'download', packets: 8, packet_size: MIB,
	    client: { platform: 'node', network_type: 'loopback' } });
	const j = res.json ?? {};
	t.ok(res.status === 201 && j.kind === 'throughput' && j.state === 'incomplete' &&
	    j.direction === 'download' && j.packets === 8 && j.packet_size === MIB &&
	    j.client?.platform === 'node' && j.finished_at === null && Array.isArray(j.transfers) &&
	    j.transfers.length === 0 && j.summary?.upload === null && j.summary?.download?.received === 0,
	    'create answers 201 with the incomplete test', describe(res));
	const id = j.id;
	let allGood = true;
	for (let seq = 0; seq < 8; seq++) {
		const d = await download(main.token, id, seq);
		const h = d.headers;
		const good = d.status === 200 && d.body.length === MIB && d.complete &&
		    h['content-length'] === String(MIB) && h['content-type'] === 'application/octet-stream' &&
		    /no-store/.test(h['cache-control'] ?? '') && /no-transform/.test(h['cache-control'] ?? '') &&
		    !h['content-encoding'] && /^\d{16}$/.test(h['x-pingoo-server-started-at'] ?? '') &&
		    incompressible(d.body);
		if (!good) {
			allGood = false;
			t.fail(`download packet ${seq}`, `status ${d.status}, ${d.body.length} bytes, headers ${JSON.stringify(h)}`);
		}
		if (seq === 6) {
			const mid = await read(main.token, id);
			t.ok(mid.json?.state === 'incomplete' && dbTest(id).state === 'incomplete',
			    'after the 7th packet the test is still incomplete', describe(mid));
		}
	}
	t.ok(allGood, 'each packet is 200, exactly 1 MiB of incompressible bytes, Content-Length set, ' +
	    'no-store/no-transform, uncompressed, with X-Pingoo-Server-Started-At');
	const state = await waitFor(() => dbTest(id).state === 'complete');
	t.ok(state, 'after the 8th packet the test is complete in MariaDB', JSON.stringify(dbTest(id)));
	const rows = dbTransfers(id);
	const problems = checkSequential(rows, 'download', 8, MIB);
	t.ok(problems.length === 0, 'MariaDB has 8 ok download rows of 1 MiB with ordered stamps',
	    problems.join('\n'));
	const test = dbTest(id);
	t.ok(test.created <= rows[0].started && test.finished >= rows[7].finished,
	    'the test was created before its first packet and finished after its last', JSON.stringify(test));
	const g = (await read(main.token, id)).json ?? {};
	const s = g.summary?.download ?? {};
	t.ok(g.state === 'complete' && g.transfers?.length === 8 && g.transfers.every((x, i) =>
	    x.direction === 'download' && x.seq === i && x.status === 'ok' && x.bytes === MIB &&
	    x.sender_duration_us === x.server_finished_at - x.server_started_at &&
	    x.sender_bits_per_second > 0 && x.client_sent_at === null &&
	    x.duration_us === null && x.bits_per_second === null),
	    'unreported, the read has each transfer\'s sender figures and no rate where the bytes arrive',
	    JSON.stringify(g.transfers?.[0]));
	t.ok(s.packets === 8 && s.received === 8 && s.failed === 0 && s.bytes === 8 * MIB &&
	    s.reported === 0 && s.report_missing === true && s.elapsed_us === null &&
	    s.bits_per_second === null && s.packet_bps_max === null &&
	    s.sender_elapsed_us === rows[7].finished - rows[0].started && s.sender_bits_per_second > 0 &&
	    g.summary.upload === null,
	    'the download summary says the report is missing: its headline rates are null, the server\'s are sender_',
	    JSON.stringify(g.summary));
	// The client's stamps: packet k's bytes arrived over (k + 1) ms, back to back.
	const at = Date.now() * 1000;
	const packets = Array.from({ length: 8 }, (_, k) => ({ direction: 'download', seq: k,
	    client_sent_at: at + k * 10000, client_first_byte_at: at + k * 10000 + 500,
	    client_received_at: at + k * 10000 + 500 + (k + 1) * 1000 }));
	const rp = await report(main.token, id, packets);
	t.is(rp.status, 200, 'the client reports the 8 downloads with their first bytes', describe(rp));
	const g2 = (await read(main.token, id)).json ?? {};
	const s2 = g2.summary?.download ?? {};
	t.ok(g2.transfers?.every((x, k) => x.duration_us === (k + 1) * 1000 &&
	    x.bits_per_second === Math.round(MIB * 8e6 / ((k + 1) * 1000))),
	    'each transfer\'s rate is the client\'s, first byte to last', JSON.stringify(g2.transfers?.[1]));
	t.ok(s2.reported === 8 && s2.report_missing === false && s2.elapsed_us === 70000 + 8000 &&
	    s2.bits_per_second === Math.round(8 * MIB * 8e6 / 78000) &&
	    s2.packet_bps_max === Math.round(MIB * 8e6 / 1000) &&
	    s2.packet_bps_min === Math.round(MIB * 8e6 / 8000) &&
	    s2.sender_elapsed_us === s.sender_elapsed_us,
	    'reported, the summary\'s headline rates are the client\'s (8 MiB over 78 ms)', JSON.stringify(s2));
});

// The worker sends a body in 1 MiB chunks of FastCGI records of 65528 bytes: full records
// through a pipe (splice), a shorter last one with writev (app/rawout.c).  Sizes on both sides
// of one record and one that spans several chunks and ends mid-record.
await t.test('downloads of sizes around a FastCGI record and across 1 MiB chunks arrive whole', async () => {
	const sizes = [1000, 65528, 65529, 3 * MIB + 1001];
	const problems = [];
	for (const size of sizes) {
		const { id } = await made(main.token, { direction: 'download', packets: 1, packet_size: size });
		const d = await download(main.token, id, 0);
		if (d.status !== 200 || !d.complete || d.body.length !== size ||
		    d.headers['content-length'] !== String(size) || (size > 4096 && !incompressible(d.body)))
			problems.push(`${size}: status ${d.status}, ${d.body.length} bytes, complete ${d.complete}`);
		const row = await waitFor(() => dbTransfers(id).find((r) => r.status !== 'started'));
		if (row?.status !== 'ok' || row.bytes !== size || dbTest(id).state !== 'complete')
			problems.push(`${size}: recorded ${JSON.stringify(row)}, test ${JSON.stringify(dbTest(id))}`);
	}
	t.ok(problems.length === 0, `packets of ${sizes.join(', ')} bytes arrive exactly, random, ` +
	    'and are recorded ok with their size in complete tests', problems.join('\n'));
});

// ---- uploads --------------------------------------------------------------------------------

await t.test('an upload test of 8 x 1 MiB runs end to end', async () => {
	const { id } = await made(main.token, { direction: 'upload', packets: 8, packet_size: MIB });
	let allGood = true;
	for (let seq = 0; seq < 8; seq++) {
		const body = crypto.randomBytes(MIB);
		const u = await upload(main.token, id, seq, body);
		const j = u.json ?? {};
		if (!(u.status === 200 && j.direction === 'upload' && j.seq === seq && j.bytes === MIB &&
		    j.server_finished_at >= j.server_started_at &&
		    j.duration_us === j.server_finished_at - j.server_started_at)) {
			allGood = false;
			t.fail(`upload packet ${seq}`, describe(u));
		}
		if (seq === 6)
			t.ok(dbTest(id).state === 'incomplete', 'after the 7th upload the test is still incomplete');
	}
	t.ok(allGood, 'each upload answers 200 with its bytes and the server\'s stamps');
	// An upload's 200 comes after its commit: no waiting here.
	t.ok(dbTest(id).state === 'complete', 'after the 8th upload the test is complete', JSON.stringify(dbTest(id)));
	const problems = checkSequential(dbTransfers(id), 'upload', 8, MIB);
	t.ok(problems.length === 0, 'MariaDB has 8 ok upload rows of 1 MiB with ordered stamps',
	    problems.join('\n'));
});

await t.test('a chunked upload (no Content-Length) of the right size is accepted', async () => {
	const { id } = await made(main.token, { direction: 'upload', packets: 1, packet_size: 300000 });
	const u = await upload(main.token, id, 0, crypto.randomBytes(300000), { 'Transfer-Encoding': 'chunked' });
	t.ok(u.status === 200 && u.json?.bytes === 300000, 'a chunked upload answers 200', describe(u));
	t.ok(dbTest(id).state === 'complete', 'and completes its one-packet test');
});

// The server counts a test's ok packets only once the last packet of each direction is
// claimed (lib/store/tp.c): moved last first, the test must still wait for all the others.
await t.test('packets moved in reverse order complete the test only with the last of them', async () => {
	const { id } = await made(main.token, { direction: 'upload', packets: 4, packet_size: 65536 });
	const states = [];
	for (let seq = 3; seq >= 0; seq--) {
		const u = await upload(main.token, id, seq, crypto.randomBytes(65536));
		states.push(`${seq}:${u.status}:${dbTest(id).state}`);
	}
	t.is(states.join(' '), '3:200:incomplete 2:200:incomplete 1:200:incomplete 0:200:complete',
	    'uploads 3, 2, 1 leave it incomplete; upload 0 completes it');
});

// A packet's outcome commits before the test's completion is checked; a worker that dies in
// between leaves every packet ok and the test incomplete.  That state is made here by hand,
// and the client's report must complete the test.
await t.test('a report completes a test whose packets are all ok but which is still incomplete', async () => {
	const { id } = await made(main.token, { direction: 'upload', packets: 1, packet_size: 65536 });
	const u = await upload(main.token, id, 0, crypto.randomBytes(65536));
	t.ok(u.status === 200 && dbTest(id).state === 'complete', 'the upload completes the test', describe(u));
	query(stack, `UPDATE throughput_tests SET state = 'incomplete', finished_at = NULL WHERE id = ${Number(id)}`);
	const rp = await report(main.token, id, [{ direction: 'upload', seq: 0, client_sent_at: u.json.server_started_at,
	    client_received_at: u.json.server_finished_at + 1 }]);
	t.is(rp.status, 200, 'the report is accepted', describe(rp));
	const d = dbTest(id);
	t.ok(d.state === 'complete' && d.finished !== null, 'and the test is complete again, with its end',
	    JSON.stringify(d));
});

// ---- both, parallel ---------------------------------------------------------------------------

await t.test('a both test is complete only when both directions are', async () => {
	const { id } = await made(main.token, { direction: 'both', packets: 2, packet_size: 65536 });
	for (let seq = 0; seq < 2; seq++)
		t.ok((await download(main.token, id, seq)).status === 200, `both: download ${seq} is 200`);
	await waitFor(() => dbTransfers(id).every((r) => r.status === 'ok'));
	t.ok(dbTest(id).state === 'incomplete', 'with its downloads done the both test is still incomplete');
	for (let seq = 0; seq < 2; seq++)
		t.ok((await upload(main.token, id, seq, crypto.randomBytes(65536))).status === 200,
		    `both: upload ${seq} is 200`);
	t.ok(dbTest(id).state === 'complete', 'after the last upload it is complete');
	const g = (await read(main.token, id)).json ?? {};
	t.ok(g.summary?.download?.received === 2 && g.summary?.upload?.received === 2 &&
	    g.transfers?.map((x) => `${x.direction}${x.seq}`).join() === 'download0,download1,upload0,upload1',
	    'the read orders transfers by direction then seq, with a summary for each direction',
	    JSON.stringify(g.summary));
});

await t.test('four parallel streams move a both test of 8 + 8 packets', async () => {
	const size = 512 * 1024;
	const { id } = await made(main.token, { direction: 'both', packets: 8, packet_size: size });
	const jobs = [];
	for (let seq = 0; seq < 8; seq++) {
		jobs.push({ dir: 'download', seq });
		jobs.push({ dir: 'upload', seq });
	}
	const statuses = [];
	const stream = async () => {
		for (let job = jobs.shift(); job; job = jobs.shift()) {
			const res = job.dir === 'download' ? await download(main.token, id, job.seq)
			    : await upload(main.token, id, job.seq, crypto.randomBytes(size));
			statuses.push(res.status === 200 && (job.dir === 'upload' || res.body.length === size));
		}
	};
	await Promise.all([stream(), stream(), stream(), stream()]);
	t.ok(statuses.length === 16 && statuses.every(Boolean), 'all 16 transfers over 4 streams succeed',
	    JSON.stringify(statuses));
	const done = await waitFor(() => dbTest(id).state === 'complete');
	const rows = dbTransfers(id);
	t.ok(done && rows.length === 16 && rows.every((r) => r.status === 'ok' && r.bytes === size),
	    'the test is complete with 16 ok rows', JSON.stringify(rows.map((r) => r.status)));
});

// ---- refusals on packets --------------------------------------------------------------------

await t.test('wrong sizes are refused and recorded as failed packets', async () => {
	const { id } = await made(main.token, { direction: 'upload', packets: 4, packet_size: 100000 });
	const short = await upload(main.token, id, 0, crypto.randomBytes(99999));
	okError(short, 422, 'wrong_size', 'a body one byte short is 422 wrong_size');
	const long = await upload(main.token, id, 1, crypto.randomBytes(100001));
	okError(long, 413, 'body_too_large', 'a body one byte too long is 413');
	const chunkedLong = await upload(main.token, id, 2, crypto.randomBytes(150000),
	    { 'Transfer-Encoding': 'chunked' });
	okError(chunkedLong, 413, 'body_too_large', 'a chunked body that runs past packet_size is 413');
	const rows = dbTransfers(id);
	t.ok(rows.length === 3 && rows.every((r) => r.status === 'failed') && rows[0].bytes === 99999,
	    'the three are recorded as failed packets, never as good ones', JSON.stringify(rows));
	okError(await upload(main.token, id, 0, crypto.randomBytes(100000)), 409, 'duplicate_packet',
	    'a failed packet cannot be sent again (409 duplicate_packet)');
	t.ok(dbTest(id).state === 'incomplete', 'the test stays incomplete');
});

await t.test('packets out of range or twice are refused', async () => {
	const { id } = await made(main.token, { direction: 'download', packets: 2, packet_size: 1000 });
	okError(await download(main.token, id, 2), 422, 'out_of_range', 'download seq = packets is 422 out_of_range');
	okError(await upload(main.token, id, 0, Buffer.alloc(1000)), 422, 'out_of_range',
	    'an upload to a download-only test is 422 out_of_range');
	t.ok((await download(main.token, id, 0)).status === 200, 'packet 0 downloads once');
	okError(await download(main.token, id, 0), 409, 'duplicate_packet', 'and the second time is 409 duplicate_packet');
	const up = await made(main.token, { direction: 'upload', packets: 2, packet_size: 10 });
	t.ok((await upload(main.token, up.id, 0, Buffer.alloc(10))).status === 200, 'an upload packet goes once');
	okError(await upload(main.token, up.id, 0, Buffer.alloc(10)), 409, ['duplicate_packet', 'invalid_state'],
	    'and a second time is refused with 409');
	okError(await download(main.token, up.id, 0), 422, 'out_of_range', 'a download from an upload-only test is 422');
	const rows = dbTransfers(id);
	t.ok(rows.length === 1 && rows[0].seq === 0, 'refused packets left no rows', JSON.stringify(rows));
});

await t.test('another user\'s test is 404 on every route', async () => {
	const { id } = await made(main.token, { direction: 'both', packets: 2, packet_size: 1000 });
	const before = JSON.stringify([dbTest(id), dbTransfers(id)]);
	const o = main.other;
	okError(await read(o, id), 404, 'not_found', 'read: 404');
	okError(await download(o, id, 0), 404, 'not_found', 'download: 404');
	okError(await upload(o, id, 0, Buffer.alloc(1000)), 404, 'not_found', 'upload: 404');
	okError(await report(o, id, [{ direction: 'download', seq: 0, client_sent_at: 1, client_first_byte_at: 1,
	    client_received_at: 2 }]),
	    404, 'not_found', 'reports: 404');
	okError(await abort(o, id), 404, 'not_found', 'abort: 404');
	okError(await read(main.token, 999999999), 404, 'not_found', 'a missing test is the same 404');
	const list = await A.get(base, o);
	t.ok(list.status === 200 && !list.json.tests.some((x) => x.id === id), 'the other user\'s list does not show it');
	t.ok(JSON.stringify([dbTest(id), dbTransfers(id)]) === before, 'and nothing changed in MariaDB');
});

await t.test('a client that drops a download midway leaves it failed, and the pool serves on', async () => {
	const size = 32 * MIB;
	const { id } = await made(main.token, { direction: 'download', packets: 2, packet_size: size });
	const url = new URL(stack.PINGOO_URL);
	const got = await new Promise((resolve, reject) => {
		let n = 0;
		const sock = tls.connect({ host: url.hostname, port: Number(url.port) || 443,
		    ca: fs.readFileSync(stack.PINGOO_CA_FILE) }, () => {
			sock.write(`GET ${base}/${id}/download/0 HTTP/1.1\r\nHost: ${url.host}\r\n` +
			    `Authorization: Bearer ${main.token}\r\n\r\n`);
		});
		sock.on('data', (c) => {
			n += c.length;
			if (n >= 2 * MIB) {
				sock.destroy();
				resolve(n);
			}
		});
		sock.on('error', reject);
		setTimeout(() => reject(new Error(`only ${n} bytes in 20 s`)), 20000).unref();
	});
	t.ok(got < size, `the client read ${got} bytes and hung up`);
	const failed = await waitFor(() => dbTransfers(id)[0]?.status === 'failed', 10000);
	const row = dbTransfers(id)[0];
	t.ok(failed && row.bytes < size && row.finished !== null,
	    'the packet is recorded as failed with fewer bytes than its size', JSON.stringify(row));
	const next = await download(main.token, id, 1, { timeoutMs: 30000 });
	t.ok(next.status === 200 && next.body.length === size, 'the next download is served in full', describe(next));
	t.ok((await A.get('/api/v1/health')).status === 200, 'and health still answers');
});

// ---- limits and bad bodies --------------------------------------------------------------------

await t.test('limits are refused with 422 limit_exceeded naming the limit', async () => {
	const before = mine();
	const L = LIMITS;
	const cases = [
		[{ direction: 'download', packets: L.tp_max_packets + 1, packet_size: 1 }, 'tp_max_packets', 'packets'],
		[{ direction: 'upload', packets: 1, packet_size: L.tp_max_packet_size + 1 }, 'tp_max_packet_size', 'packet_size'],
		[{ direction: 'both', packets: L.tp_max_packets, packet_size: L.tp_max_packet_size }, 'tp_max_total_bytes', undefined],
	];
	for (const [body, name, field] of cases) {
		const res = await create(main.token, body);
		const r = expectError(res, 422, 'limit_exceeded', field ? { field } : {});
		t.ok(r.pass && res.json.error.message.includes(name) &&
		    res.json.error.message.includes(String(L[name])),
		    `${name} is refused with 422 limit_exceeded naming it and its value`, r.why || res.text);
	}
	okError(await create(main.token, { direction: 'download', packets: 0, packet_size: 10 }), 422,
	    'out_of_range', '0 packets is 422 out_of_range', { field: 'packets' });
	okError(await create(main.token, { direction: 'download', packets: 1, packet_size: -5 }), 422,
	    'out_of_range', 'a negative packet_size is 422 out_of_range', { field: 'packet_size' });
	const { id } = await made(main.token, { direction: 'download', packets: 1, packet_size: 10 });
	const many = Array.from({ length: L.tp_max_reports + 1 }, (_, i) =>
	    ({ direction: 'download', seq: i, client_sent_at: 1, client_received_at: 2 }));
	// Such a batch may not fit in max_body (then nginx and the app answer 413 first).
	const maxBody = limit('max_body', 65536);
	if (JSON.stringify({ packets: many }).length <= maxBody)
		okError(await report(main.token, id, many), 422, 'limit_exceeded',
		    'more than tp_max_reports reports is 422 limit_exceeded');
	else
		t.skip('more than tp_max_reports reports is 422 limit_exceeded',
		    `tp_max_reports + 1 reports do not fit in max_body (${maxBody} bytes)`);
	const after = mine();
	t.ok(after.throughput_tests === before.throughput_tests + 1 &&
	    after.throughput_transfers === before.throughput_transfers,
	    'refused creations stored nothing', JSON.stringify({ before, after }));
});

await t.test('bad JSON and bad types are 400 and store nothing', async () => {
	const before = mine();
	const cases = [
		['{"direction":"download","packets":1,', 'invalid_json', undefined],
		['{"direction":"download","packets":1,"packet_size":1} x', 'invalid_json', undefined],
		[{ direction: 'download', packets: '8', packet_size: 10 }, 'invalid_field', 'packets'],
		[{ direction: 'download', packets: 1.5, packet_size: 10 }, 'invalid_field', 'packets'],
		[{ direction: 'sideways', packets: 1, packet_size: 10 }, 'invalid_field', 'direction'],
		[{ direction: 'download', packets: 1 }, 'missing_field', 'packet_size'],
		[{ direction: 'download', packets: 1, packet_size: 10, extra: 1 }, 'unknown_field', 'extra'],
		[{ direction: 'download', packets: 1, packet_size: 10, client: 'phone' }, 'invalid_field', 'client'],
		[{ direction: 'download', packets: 1, packet_size: 10, client: { platform: 7 } }, 'invalid_field', 'client.platform'],
	];
	for (const [body, code, field] of cases)
		okError(await create(main.token, body), 400, code,
		    `create with ${typeof body === 'string' ? body : JSON.stringify(body)} is 400 ${code}`,
		    field ? { field } : {});
	const noType = await A.request({ method: 'POST', path: base, token: main.token,
	    body: JSON.stringify({ direction: 'download', packets: 1, packet_size: 1 }) });
	okError(noType, 415, 'unsupported_media_type', 'a JSON body without its Content-Type is 415');
	const after = mine();
	t.ok(JSON.stringify(after) === JSON.stringify(before), 'the row counts did not change',
	    JSON.stringify({ before, after }));
});

// ---- reports, abort, list -----------------------------------------------------------------

await t.test('client reports are all or nothing and land on their packets', async () => {
	const { id } = await made(main.token, { direction: 'both', packets: 2, packet_size: 1000 });
	await download(main.token, id, 0);
	await upload(main.token, id, 0, Buffer.alloc(1000));
	await waitFor(() => dbTransfers(id).every((r) => r.status === 'ok'));
	const good = { direction: 'download', seq: 0, client_sent_at: 1000, client_first_byte_at: 1500,
	    client_received_at: 2000 };
	okError(await report(main.token, id, [good, { direction: 'upload', seq: 'x', client_sent_at: 1, client_received_at: 2 }]),
	    400, 'invalid_field', 'a bad type names its item', { field: 'packets[1].seq' });
	okError(await report(main.token, id, [good, { direction: 'upload', seq: 0, client_sent_at: 5, client_received_at: 4 }]),
	    422, 'out_of_range', 'received before sent is 422', { field: 'packets[1].client_received_at' });
	okError(await report(main.token, id, [good, { direction: 'download', seq: 1, client_sent_at: 1,
	    client_first_byte_at: 1, client_received_at: 2 }]),
	    422, 'not_transferred', 'a packet never moved is 422 not_transferred', { field: 'packets[1].seq' });
	okError(await report(main.token, id, [{ direction: 'download', seq: 0, client_sent_at: 1000, client_received_at: 2000 }]),
	    400, 'missing_field', 'a download\'s report needs client_first_byte_at', { field: 'packets[0].client_first_byte_at' });
	okError(await report(main.token, id, [{ ...good, client_first_byte_at: 2500 }]),
	    422, 'out_of_range', 'a first byte after the last is 422', { field: 'packets[0].client_first_byte_at' });
	okError(await report(main.token, id, [good, { direction: 'upload', seq: 0, client_sent_at: 1,
	    client_first_byte_at: 1, client_received_at: 2 }]),
	    400, 'invalid_field', 'an upload\'s report has no client_first_byte_at', { field: 'packets[1].client_first_byte_at' });
	okError(await report(main.token, id, [good, { ...good }]), 409, 'duplicate_packet',
	    'the same packet twice in one batch is 409', { field: 'packets[1].seq' });
	okError(await report(main.token, id, []), 422, 'out_of_range', 'an empty batch is 422');
	t.ok(dbTransfers(id).every((r) => r.sent === null && r.received === null),
	    'none of the refused batches stored anything');
	const ok2 = await report(main.token, id, [good,
	    { direction: 'upload', seq: 0, client_sent_at: 3000, client_received_at: 3500 }]);
	t.ok(ok2.status === 200 && ok2.json?.accepted === 2, 'a good batch answers 200 {"accepted":2}', describe(ok2));
	const rows = dbTransfers(id);
	t.ok(rows[0].sent === 1000 && rows[0].received === 2000 && rows[1].sent === 3000 && rows[1].received === 3500,
	    'the client stamps are in MariaDB', JSON.stringify(rows));
	okError(await report(main.token, id, [good]), 409, 'duplicate_packet', 'reporting a packet again is 409');
	const g = (await read(main.token, id)).json;
	t.ok(g.transfers[0].client_sent_at === 1000 && g.transfers[0].client_first_byte_at === 1500 &&
	    g.transfers[0].client_received_at === 2000 && g.transfers[1].client_first_byte_at === null,
	    'the read shows the client stamps');
});

await t.test('abort ends a test; later packets are refused', async () => {
	const { id } = await made(main.token, { direction: 'download', packets: 3, packet_size: 1000 });
	await download(main.token, id, 0);
	const a = await abort(main.token, id);
	t.ok(a.status === 200 && a.json?.state === 'aborted' && Number.isInteger(a.json?.finished_at),
	    'abort answers 200 with the aborted test', describe(a));
	okError(await download(main.token, id, 1), 409, 'invalid_state', 'a download after abort is 409 invalid_state');
	okError(await abort(main.token, id), 409, 'invalid_state', 'aborting again is 409 invalid_state');
	t.ok(dbTest(id).state === 'aborted' && dbTransfers(id).length === 1, 'MariaDB has it aborted with one packet');
});

await t.test('the list pages newest first with an opaque cursor', async () => {
	const u = users.create();
	const token = await A.token(u.username, u.password);
	const ids = [];
	for (let i = 0; i < 3; i++)
		ids.push((await made(token, { direction: 'upload', packets: 1, packet_size: 10 })).id);
	const p1 = await A.get(`${base}?limit=2`, token);
	t.ok(p1.status === 200 && p1.json.tests.map((x) => x.id).join() === `${ids[2]},${ids[1]}` &&
	    typeof p1.json.next_cursor === 'string' && p1.json.tests.every((x) => x.summary && !('transfers' in x)),
	    'page 1 has the two newest, with summaries and no transfers, and a cursor', describe(p1));
	const p2 = await A.get(`${base}?limit=2&cursor=${encodeURIComponent(p1.json.next_cursor)}`, token);
	t.ok(p2.status === 200 && p2.json.tests.map((x) => x.id).join() === `${ids[0]}` && p2.json.next_cursor === null,
	    'page 2 has the oldest and no next cursor', describe(p2));
	const all = await A.get(base, token);
	t.ok(all.status === 200 && all.json.tests.length === 3, 'the default page holds all three');
	for (const q of ['limit=0', 'limit=abc', `limit=${LIMITS.list_max_limit + 1}`, 'limit=-1', 'cursor=abc',
	    'cursor=', 'limit=1&limit=2'])
		okError(await A.get(`${base}?${q}`, token), 400, 'invalid_query', `?${q} is 400 invalid_query`);
	t.ok((await A.get(`${base}?foo=bar`, token)).status === 200, 'an unknown parameter is ignored');
});

await t.test('throwaway users are deleted', async () => {
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'every user made here is gone', errors.join('\n'));
});

await t.done();
