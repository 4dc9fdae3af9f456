// probes.mjs - the latency probes of throughput tests, over HTTPS through nginx
// against the running local stack: the four stamps, the refusals (bad phase, duplicate seq,
// another user's test, a finished test), a probe whose row was lost brought back by its
// signed receipt, lost probes counted, and a read whose summary.latency equals the one
// recomputed from the rows MariaDB holds.

import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { expectError, describe } from './lib/http.mjs';
import { query } from './lib/db.mjs';
import { userFactory, usersOrBail } from './lib/users.mjs';
import { nowUs } from './lib/load.mjs';
import { latencySummary } from './lib/summary.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_DB_NAME', 'PINGOO_DB_USER']);
const users = userFactory(stack);

const base = '/api/v1/throughput-tests';
const create = (token, body) => A.json('POST', base, body, token);
const read = (token, id) => A.get(`${base}/${id}`, token);
const probe = (token, id, body) => A.json('POST', `${base}/${id}/probes`, body, token);
const receipts = (token, id, list) => A.json('POST', `${base}/${id}/probe-receipts`,
    { receipts: list }, token);
const upload = (token, id, seq, size) => A.request({ method: 'PUT',
    path: `${base}/${id}/upload/${seq}`, token, body: Buffer.alloc(size, 7),
    headers: { 'Content-Type': 'application/octet-stream' }, timeoutMs: 60000 });

function okError(res, status, code, sentence, opts) {
	const r = expectError(res, status, code, opts);
	return t.ok(r.pass, sentence, r.why);
}

async function made(token, body) {
	const res = await create(token, body);
	if (res.status !== 201 || !Number.isInteger(res.json?.id))
		throw new Error(`create ${JSON.stringify(body)}: ${describe(res)}`);
	return res.json;
}

// Sends probe seq of phase and stamps its answer: {seq, phase, t0, t3, res}.
async function send(token, id, seq, phase) {
	const t0 = nowUs();
	const res = await probe(token, id, { seq, phase, client_sent_at: t0 });
	return { seq, phase, t0, t3: nowUs(), res };
}

// The receipt of an answered probe, its signed stamps brought back.
const receiptOf = (p) => ({ seq: p.seq, phase: p.phase, client_sent_at: p.t0,
    client_received_at: p.t3, server_received_at: p.res.json.server_received_at,
    server_sent_at: p.res.json.server_sent_at, sig: p.res.json.sig });

const num = (v) => (v === null ? null : Number(v));
function dbProbes(id) {
	return query(stack, 'SELECT seq, phase, client_sent_at, server_received_at, ' +
	    'server_sent_at, client_received_at FROM throughput_probes ' +
	    `WHERE test_id = ${Number(id)} ORDER BY seq`).map((r) => ({
		seq: Number(r[0]), phase: r[1], client_sent_at: num(r[2]),
		server_received_at: num(r[3]), server_sent_at: num(r[4]),
		client_received_at: num(r[5]),
	}));
}

// The writer puts echoed probes in MySQL after their answers: wait for n rows.
async function waitRows(id, n) {
	const end = Date.now() + 10000;
	let rows = dbProbes(id);
	while (rows.length < n && Date.now() < end) {
		await sleep(50);
		rows = dbProbes(id);
	}
	return rows;
}

async function newUser() {
	const u = users.create();
	return { ...u, token: await A.token(u.username, u.password) };
}

const [alice, bob] = await usersOrBail(users, newUser, 2);

const SIZE = 65536;

await t.test('probes of every phase answer with the four stamps, signed, and are stored after the answer', async () => {
	const c = await made(alice.token, { direction: 'both', simultaneous: true, packets: 1,
	    packet_size: SIZE });
	t.is([c.simultaneous, c.probes, c.summary.latency, c.summary.bufferbloat_grade,
	    c.summary.responsiveness_rpm], [true, [], {}, null, null],
	    'a new simultaneous test says so and has no probes, no latency, no grade, no RPM');
	const phases = ['idle', 'idle', 'idle', 'download', 'upload', 'bidirectional'];
	const sent = [];
	for (let i = 0; i < phases.length; i++)
		sent.push(await send(alice.token, c.id, i, phases[i]));
	const bad = sent.filter((p) => p.res.status !== 200 || p.res.json?.seq !== p.seq ||
	    p.res.json?.phase !== p.phase || !(p.res.json.server_received_at <=
	    p.res.json.server_sent_at) || !/^[0-9a-f]{32}$/.test(p.res.json.sig ?? ''));
	t.ok(bad.length === 0, 'each probe answers 200 with its seq, phase, server_received_at <= ' +
	    'server_sent_at and a sig', bad[0] && describe(bad[0].res));
	const rows = await waitRows(c.id, phases.length);
	t.is(rows, sent.map((p) => ({ seq: p.seq, phase: p.phase, client_sent_at: p.t0,
	    server_received_at: p.res.json.server_received_at,
	    server_sent_at: p.res.json.server_sent_at, client_received_at: null })),
	    'MySQL holds each probe with its phase and three stamps, no t3 before the receipt');
	const r = await receipts(alice.token, c.id, sent.map((p) => ({ seq: p.seq, phase: p.phase,
	    client_sent_at: p.t0, client_received_at: p.t3 })));
	t.is([r.status, r.json?.accepted], [200, [0, 1, 2, 3, 4, 5]], 'the receipts are accepted');
	const after = dbProbes(c.id);
	t.ok(after.every((x, i) => x.client_received_at === sent[i].t3),
	    'MySQL holds each client_received_at', after);
});

await t.test('probe refusals: bad phase, duplicate seq, out of range, no token, another user, a finished test', async () => {
	const c = await made(alice.token, { direction: 'upload', packets: 1, packet_size: SIZE });
	let r = await probe(alice.token, c.id, { seq: 0, phase: 'busy', client_sent_at: nowUs() });
	okError(r, 400, 'invalid_field', 'an unknown phase is 400 invalid_field', { field: 'phase' });
	r = await probe(alice.token, c.id, { seq: 0, client_sent_at: nowUs() });
	okError(r, 400, 'missing_field', 'a probe without a phase is 400', { field: 'phase' });
	r = await probe(alice.token, c.id, { seq: 4096, phase: 'idle', client_sent_at: nowUs() });
	okError(r, 422, 'out_of_range', 'a seq past 4095 is 422 out_of_range', { field: 'seq' });
	const p0 = await send(alice.token, c.id, 0, 'idle');
	t.is(p0.res.status, 200, 'the refusals consumed nothing: seq 0 still answers');
	r = await probe(alice.token, c.id, { seq: 0, phase: 'idle', client_sent_at: nowUs() });
	okError(r, 409, 'duplicate_seq', 'the same seq again is 409 duplicate_seq', { field: 'seq' });
	r = await A.json('POST', `${base}/${c.id}/probes`, { seq: 1, phase: 'idle',
	    client_sent_at: nowUs() });
	okError(r, 401, 'unauthorized', 'a probe without a token is 401');
	r = await probe(bob.token, c.id, { seq: 1, phase: 'idle', client_sent_at: nowUs() });
	okError(r, 404, 'not_found', "a probe on another user's test is 404");
	r = await receipts(bob.token, c.id, [{ seq: 0, phase: 'idle', client_sent_at: p0.t0,
	    client_received_at: p0.t3 }]);
	okError(r, 404, 'not_found', "probe receipts on another user's test are 404");
	r = await probe(alice.token, 999999999, { seq: 0, phase: 'idle', client_sent_at: nowUs() });
	okError(r, 404, 'not_found', 'a probe on a test that does not exist is 404');
	const up = await upload(alice.token, c.id, 0, SIZE);
	t.is(up.status, 200, 'the only packet moves and completes the test', describe(up));
	r = await probe(alice.token, c.id, { seq: 1, phase: 'upload', client_sent_at: nowUs() });
	okError(r, 409, 'invalid_state', 'a probe on a complete test is 409 invalid_state');
	r = await receipts(alice.token, c.id, [{ seq: 0, phase: 'idle', client_sent_at: p0.t0,
	    client_received_at: p0.t3 }]);
	t.is(r.status, 200, 'the receipt of a probe answered before the end is taken after it',
	    describe(r));
	r = await receipts(alice.token, c.id, [{ seq: 0, phase: 'idle', client_sent_at: p0.t0,
	    client_received_at: p0.t3 }]);
	okError(r, 409, 'duplicate_seq', 'a second receipt for the same probe is 409',
	    { field: 'receipts[0].seq' });
	r = await receipts(alice.token, c.id, [{ seq: 7, phase: 'idle', client_sent_at: p0.t0,
	    client_received_at: p0.t3 }]);
	okError(r, 422, 'not_echoed', 'an answer claimed for a probe never echoed is 422',
	    { field: 'receipts[0].seq' });
	const a = await made(alice.token, { direction: 'download', packets: 1, packet_size: SIZE });
	const ab = await A.request({ method: 'POST', path: `${base}/${a.id}/abort`, token: alice.token });
	r = await probe(alice.token, a.id, { seq: 0, phase: 'idle', client_sent_at: nowUs() });
	t.ok(ab.status === 200 && r.status === 409 && r.json?.error?.code === 'invalid_state',
	    'a probe on an aborted test is 409 invalid_state', describe(r));
});

await t.test('a receipt bringing its signed stamps records a probe whose row was lost', async () => {
	const c = await made(alice.token, { direction: 'download', packets: 1, packet_size: SIZE });
	const p0 = await send(alice.token, c.id, 0, 'idle');
	const p1 = await send(alice.token, c.id, 1, 'download');
	t.is((await waitRows(c.id, 2)).length, 2, 'both probes were written after their answers');
	// A write after the answer that failed: the row of seq 1 is gone.
	query(stack, `DELETE FROM throughput_probes WHERE test_id = ${c.id} AND seq = 1`);
	let r = await receipts(alice.token, c.id, [{ ...receiptOf(p1), sig: p0.res.json.sig }]);
	okError(r, 422, 'invalid_sig', "a receipt with another probe's sig is 422",
	    { field: 'receipts[0].sig' });
	r = await receipts(alice.token, c.id, [{ ...receiptOf(p1), phase: 'upload' }]);
	okError(r, 422, 'invalid_sig', 'a receipt naming another phase than the one signed is 422',
	    { field: 'receipts[0].sig' });
	r = await receipts(alice.token, c.id, [receiptOf(p0), receiptOf(p1)]);
	t.is(r.status, 200, 'the signed receipts are accepted', describe(r));
	t.is(dbProbes(c.id)[1], { seq: 1, phase: 'download', client_sent_at: p1.t0,
	    server_received_at: p1.res.json.server_received_at,
	    server_sent_at: p1.res.json.server_sent_at, client_received_at: p1.t3 },
	    'the lost row is back in MySQL with all four stamps from the signed receipt');
});

await t.test('lost probes: reported without an answer, or echoed without a receipt once the test ends', async () => {
	const c = await made(alice.token, { direction: 'upload', packets: 1, packet_size: SIZE });
	const sent = [];
	for (let i = 0; i < 4; i++)
		sent.push(await send(alice.token, c.id, i, 'idle'));
	sent.push(await send(alice.token, c.id, 4, 'upload'));
	const echoedOnly = await send(alice.token, c.id, 5, 'upload');
	await waitRows(c.id, 6);
	// Seq 6 never reached the server: the client says so.
	const lost = { seq: 6, phase: 'upload', client_sent_at: nowUs(), client_received_at: null };
	let r = await receipts(alice.token, c.id, [...sent.map(receiptOf), lost]);
	t.is(r.status, 200, 'answered probes and a lost one are accepted in one batch', describe(r));
	t.is(dbProbes(c.id)[6], { ...lost, server_received_at: null, server_sent_at: null },
	    'the lost probe is stored without server stamps');
	r = await receipts(alice.token, c.id, [lost]);
	okError(r, 409, 'duplicate_seq', 'reporting it lost twice is 409', { field: 'receipts[0].seq' });
	let body = (await read(alice.token, c.id)).json;
	t.is(body.summary.latency.upload, { samples: 1, lost: 1,
	    rtt_median_us: sent[4].t3 - sent[4].t0, rtt_p90_us: sent[4].t3 - sent[4].t0,
	    rtt_p99_us: sent[4].t3 - sent[4].t0,
	    rise_median_us: body.summary.latency.upload.rise_median_us },
	    'while the test runs the echoed probe without a receipt is pending, the reported one lost');
	const up = await upload(alice.token, c.id, 0, SIZE);
	t.is(up.status, 200, 'the packet completes the test', describe(up));
	body = (await read(alice.token, c.id)).json;
	t.is([body.state, body.summary.latency.upload.samples, body.summary.latency.upload.lost],
	    ['complete', 1, 2], 'once the test is complete the probe without a receipt is lost too');
	t.ok(echoedOnly.res.status === 200, 'that probe had been answered', describe(echoedOnly.res));
});

await t.test("a test read's summary.latency, grade and RPM equal those recomputed from MySQL's rows", async () => {
	const c = await made(alice.token, { direction: 'both', packets: 1, packet_size: SIZE });
	const sent = [];
	let seq = 0;
	for (let i = 0; i < 10; i++)
		sent.push(await send(alice.token, c.id, seq++, 'idle'));
	for (const phase of ['download', 'upload'])
		for (let i = 0; i < 25; i++) {
			const p = await send(alice.token, c.id, seq++, phase);
			// A loaded link, simulated: the answer is taken 20 to 45 ms late.
			p.t3 += 20000 + (i % 6) * 5000;
			sent.push(p);
		}
	const r = await receipts(alice.token, c.id, [...sent.map(receiptOf),
	    { seq: seq, phase: 'upload', client_sent_at: nowUs(), client_received_at: null }]);
	t.is(r.status, 200, 'the receipts of 60 probes and one lost are accepted', describe(r));
	const res = await read(alice.token, c.id);
	const body = res.json;
	const rows = dbProbes(c.id);
	t.is(body.probes.map((p) => ({ seq: p.seq, phase: p.phase, client_sent_at: p.client_sent_at,
	    server_received_at: p.server_received_at, server_sent_at: p.server_sent_at,
	    client_received_at: p.client_received_at })), rows,
	    'the read lists every probe as MySQL holds it');
	t.ok(body.probes.every((p) => p.rtt_us === (p.client_received_at === null ? null :
	    p.client_received_at - p.client_sent_at)), "each probe's rtt_us is t3 - t0");
	const want = latencySummary(rows, false);
	t.is({ latency: body.summary.latency, bufferbloat_grade: body.summary.bufferbloat_grade,
	    responsiveness_rpm: body.summary.responsiveness_rpm }, want,
	    'summary.latency, bufferbloat_grade and responsiveness_rpm equal the recomputed ones');
	t.ok(['A', 'B'].includes(body.summary.bufferbloat_grade) &&
	    body.summary.latency.upload.rise_median_us >= 20000,
	    'the simulated 20-45 ms rise grades A or B', body.summary);
	const list = await A.get(`${base}?limit=5`, alice.token);
	const mine = list.json?.tests?.find((x) => x.id === c.id);
	t.ok(mine && mine.summary.bufferbloat_grade === want.bufferbloat_grade &&
	    mine.probes === undefined, 'the list gives the grade, without the probes');
});

await t.test('throwaway users are cleaned up', async () => {
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'every throwaway user is deleted', errors);
});

await t.done();
