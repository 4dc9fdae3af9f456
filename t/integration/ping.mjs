// ping.mjs - the ping tests' integration tests, over HTTPS through nginx against the running
// local stack, with MariaDB read back through db.mjs:
// a 20-sample test with two lost samples closed early, a 100-sample test completed by its
// receipts, every refusal of the echo and receipt routes, another user's test, list
// pagination, and each field's wrong type, range or size (nothing stored).  Without a stack
// (no var/stack.env) the whole file is skipped, unless PINGOO_REQUIRE_STACK=1.

import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { loadStack, stackEnvPath, missingKeys, readConfig } from './lib/stack.mjs';
import { api, expectError, describe } from './lib/http.mjs';
import { query, literal } from './lib/db.mjs';
import { userFactory, usersOrBail } from './lib/users.mjs';
import { pingSummary, sampleDerived } from './lib/summary.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_DB_USER', 'PINGOO_DB_NAME']);
const users = userFactory(stack);

// The configured limits (docs: defaults 10000, 60000, 1000, 1024).
const cfg = (() => {
	try {
		return readConfig(stack) ?? {};
	} catch {
		return {};
	}
})();
const num = (v, d) => (v !== undefined && /^\d+$/.test(String(v)) ? Number(v) : d);
const MAX_COUNT = num(cfg.ping_max_count, 10000);
const MAX_INTERVAL = num(cfg.ping_max_interval_ms, 60000);
const MAX_RECEIPTS = num(cfg.ping_max_receipts, 250);
const MAX_CLIENT = num(cfg.max_client_bytes, 1024);

// ---- clock ---------------------------------------------------------------------------------

// Microseconds since the epoch: the wall clock once, then the monotonic clock, so the stamps
// this test takes never go backwards and t0 < t3 always holds.
const wall0 = BigInt(Date.now()) * 1000n;
const mono0 = process.hrtime.bigint();
const nowUs = () => Number(wall0 + (process.hrtime.bigint() - mono0) / 1000n);

// ---- helpers -------------------------------------------------------------------------------

const BASE = '/api/v1/ping-tests';

function okError(res, status, code, sentence, opts) {
	// status may be a list of acceptable statuses
	const st = Array.isArray(status) ? (status.includes(res?.status) ? res.status : status[0]) : status;
	const r = expectError(res, st, code, opts);
	return t.ok(r.pass, sentence, r.why);
}

const create = (token, body) => A.json('POST', BASE, body, token);
const getTest = (token, id) => A.get(`${BASE}/${id}`, token);
const closeTest = (token, id) => A.request({ method: 'POST', path: `${BASE}/${id}/close`, token });
const list = (token, qs = '') => A.get(`${BASE}${qs}`, token);
const receipts = (token, id, items) => A.json('POST', `${BASE}/${id}/receipts`,
    Array.isArray(items) ? { receipts: items } : items, token);

// One echo: {res, t0, t3} with t0 taken right before the request and t3 right after.
async function echo(token, id, seq, t0 = nowUs()) {
	const res = await A.json('POST', `${BASE}/${id}/echo`, { seq, client_sent_at: t0 }, token);
	const t3 = nowUs();
	return { res, t0, t3 };
}

async function mustCreate(token, body) {
	const res = await create(token, body);
	if (res.status !== 201 || !Number.isSafeInteger(res.json?.id))
		throw new Error(`create ${JSON.stringify(body)}: ${describe(res)}`);
	return res.json;
}

async function mustEcho(token, id, seq) {
	const e = await echo(token, id, seq);
	if (e.res.status !== 200)
		throw new Error(`echo ${id}/${seq}: ${describe(e.res)}`);
	return e;
}

const n = (v) => (v === null ? null : Number(v));

// The stored samples of a test, as the API names them.
function dbSamples(testId) {
	return query(stack, 'SELECT seq, client_sent_at, server_received_at, server_sent_at, ' +
	    `client_received_at FROM ping_samples WHERE test_id = ${literal(testId)} ORDER BY seq`)
		.map(([seq, t0, t1, t2, t3]) => ({ seq: n(seq), client_sent_at: n(t0),
		    server_received_at: n(t1), server_sent_at: n(t2), client_received_at: n(t3) }));
}

// What a user has stored: tests, samples, samples with a receipt, finished tests.
function userRows(uid) {
	const u = literal(uid);
	const [row] = query(stack,
	    `SELECT (SELECT COUNT(*) FROM ping_tests WHERE user_id = ${u}), ` +
	    `(SELECT COUNT(*) FROM ping_samples s JOIN ping_tests p ON p.id = s.test_id WHERE p.user_id = ${u}), ` +
	    `(SELECT COUNT(*) FROM ping_samples s JOIN ping_tests p ON p.id = s.test_id WHERE p.user_id = ${u} ` +
	    'AND s.client_received_at IS NOT NULL), ' +
	    `(SELECT COUNT(*) FROM ping_tests WHERE user_id = ${u} AND state <> 'incomplete')`);
	return { tests: n(row[0]), samples: n(row[1]), receipts: n(row[2]), finished: n(row[3]) };
}

// The echo writes its row after answering: wait (briefly) until the test has `want` rows.
async function waitRows(testId, want, ms = 3000) {
	const end = Date.now() + ms;
	let rows = dbSamples(testId);
	while (rows.length < want && Date.now() < end) {
		await sleep(10);
		rows = dbSamples(testId);
	}
	return rows;
}

// The samples the test expects: its own t0/t3, the server's t1/t2 from the echo answers.
function expectedSamples(echoes, receipted) {
	return [...echoes.entries()].sort((a, b) => a[0] - b[0]).map(([seq, e]) => ({
		seq,
		client_sent_at: e.t0,
		server_received_at: e.res.json.server_received_at,
		server_sent_at: e.res.json.server_sent_at,
		client_received_at: receipted.has(seq) ? e.t3 : null,
	}));
}

const stampsOf = (s) => ({ seq: s.seq, client_sent_at: s.client_sent_at,
    server_received_at: s.server_received_at, server_sent_at: s.server_sent_at,
    client_received_at: s.client_received_at });

// Checks an echo answer: 200, body, headers.  Returns a list of problems.
function echoProblems(e, seq) {
	const p = [];
	const res = e.res;
	const j = res.json ?? {};
	if (res.status !== 200)
		return [`status ${res.status}: ${describe(res)}`];
	if (j.seq !== seq)
		p.push(`seq ${j.seq}, want ${seq}`);
	if (!Number.isSafeInteger(j.server_received_at) || !Number.isSafeInteger(j.server_sent_at))
		p.push(`stamps not integers: ${res.text}`);
	else if (j.server_received_at > j.server_sent_at)
		p.push(`server_received_at ${j.server_received_at} > server_sent_at ${j.server_sent_at}`);
	else if (Math.abs(j.server_received_at - e.t0) > 60e6)
		p.push(`server_received_at ${j.server_received_at} is not near now (${e.t0})`);
	if (typeof j.sig !== 'string' || j.sig.length === 0)
		p.push(`no sig: ${res.text}`);
	const st = res.headers['server-timing'] ?? '';
	const m = /(?:^|,\s*)app;dur=(\d+\.\d{3})(?:\s*[,;]|$)/.exec(st);
	if (!m)
		p.push(`Server-Timing ${JSON.stringify(st)}, want app;dur=<ms with 3 decimals>`);
	else if (Number.isSafeInteger(j.server_sent_at) &&
	    Math.abs(Number(m[1]) * 1000 - (j.server_sent_at - j.server_received_at)) > 1)
		p.push(`Server-Timing dur ${m[1]} ms does not match server_sent_at - server_received_at`);
	if (res.headers['timing-allow-origin'] !== '*')
		p.push(`Timing-Allow-Origin ${JSON.stringify(res.headers['timing-allow-origin'])}, want *`);
	if (!/(^|,)\s*no-store\s*(,|$)/i.test(res.headers['cache-control'] ?? ''))
		p.push(`Cache-Control ${JSON.stringify(res.headers['cache-control'])}, want no-store`);
	if (!/^application\/json/i.test(res.headers['content-type'] ?? ''))
		p.push(`content-type ${res.headers['content-type']}`);
	return p;
}

// Checks the samples of a test body against what the test knows, the DB and the summary.
function checkTestBody(label, body, want, count, finished) {
	const samples = Array.isArray(body?.samples) ? body.samples : [];
	t.is(samples.map(stampsOf), want,
	    `${label}: the samples carry exactly the stamps sent and received (t0 and t3 of the test, t1 and t2 of the echo answers)`);
	const keys = ['seq', 'client_sent_at', 'server_received_at', 'server_sent_at',
	    'client_received_at', 'rtt_us', 'server_us', 'network_rtt_us', 'offset_us'];
	const badKeys = samples.filter((s) => JSON.stringify(Object.keys(s).sort()) !== JSON.stringify([...keys].sort()));
	t.ok(badKeys.length === 0, `${label}: every sample has exactly the documented fields`, badKeys[0]);
	const disorder = samples.filter((s) => !(s.server_received_at <= s.server_sent_at &&
	    (s.client_received_at === null || s.client_sent_at <= s.client_received_at)));
	t.ok(disorder.length === 0, `${label}: every sample's stamps are ordered (t0 <= t3, t1 <= t2)`, disorder[0]);
	const wrongDerived = samples.filter((s) => {
		const d = sampleDerived(s);
		return s.rtt_us !== d.rtt_us || s.server_us !== d.server_us ||
		    s.network_rtt_us !== d.network_rtt_us || s.offset_us !== d.offset_us;
	});
	t.ok(wrongDerived.length === 0,
	    `${label}: each sample's rtt_us, server_us, network_rtt_us and offset_us follow from its stamps`,
	    wrongDerived[0] ? { got: wrongDerived[0], want: sampleDerived(wrongDerived[0]) } : undefined);
	t.is(body?.summary, pingSummary(samples, count, finished),
	    `${label}: the summary equals the one recomputed from the samples, field by field`);
}

// ---- users ---------------------------------------------------------------------------------

async function newUser() {
	const u = users.create();
	const token = await A.token(u.username, u.password);
	const me = await A.get('/api/v1/me', token);
	if (me.status !== 200 || !Number.isSafeInteger(me.json?.id))
		throw new Error(`/me for ${u.username}: ${describe(me)}`);
	return { ...u, token, id: me.json.id };
}

const [alice, bob] = await usersOrBail(users, newUser, 2);

// ---- a client description at the limit reads back whole -----------------------------------

// A description of exactly `size` bytes serialized (JSON.stringify writes it as the server
// measures it: no whitespace), of plain keys and values within the per-member limits (16 keys
// of up to 32 bytes, values of up to 128): at most 2657 bytes.
const CLIENT_MEMBERS_MAX = 16 * (32 + 128 + 5) + 15 + 2;
function clientOf(size) {
	const n = Math.min(16, Math.max(1, Math.ceil((size - 1) / (32 + 128 + 5 + 1))));
	let content = size - 2 - (n - 1) - 5 * n;	// bytes of keys and values together
	const out = {};
	for (let i = 0; i < n; i++) {
		const c = Math.floor(content / (n - i));
		const key = Math.min(32, Math.max(2, c - 128));
		out[`k${String.fromCharCode(97 + i)}${'_'.repeat(key - 2)}`] = 'v'.repeat(c - key);
		content -= c;
	}
	return out;
}

await t.test('a client description at max_client_bytes reads back whole', async () => {
	const size = Math.min(MAX_CLIENT, CLIENT_MEMBERS_MAX);
	const client = clientOf(size);
	if (!t.is(JSON.stringify(client).length, size, `the description is ${size} bytes serialized`))
		return;
	const cr = await create(alice.token, { count: 2, client });
	if (!t.ok(cr.status === 201 && Number.isSafeInteger(cr.json?.id), 'create answers 201', describe(cr)))
		return;
	t.is(cr.json.client, client, 'the create answer carries the description whole');
	const g = await getTest(alice.token, cr.json.id);
	t.is(g.json?.client, client, 'GET reads the description back whole', describe(g));
	// The create answers from the test as created, never read back: it must be the test as a
	// read gives it.
	t.is(cr.json, g.json, 'the create answer is the test as a read gives it');
	const l = await list(alice.token, '?limit=100');
	const row = (l.json?.tests ?? []).find((x) => x.id === cr.json.id);
	t.is(row?.client, client, 'the list reads the description back whole', describe(l));
});

// ---- the 20-sample test: 18 receipts, then close ------------------------------------------

let closed20 = null;	// {id, body} for later tests

await t.test('a 20-sample test with 18 receipts, closed: two lost, summary recomputed', async () => {
	const client = { platform: 'node', app_version: 'ping.mjs/1', network_type: 'loopback' };
	const cr = await create(alice.token, { count: 20, interval_ms: 10, client });
	const c = cr.json ?? {};
	if (!t.ok(cr.status === 201 && Number.isSafeInteger(c.id) && c.id > 0,
	    'create answers 201 with a positive integer id', describe(cr)))
		return;
	t.like(cr.headers['content-type'], /^application\/json/i, 'the create answer is JSON');
	t.ok(c.state === 'incomplete' && c.count === 20 && c.interval_ms === 10 && c.kind === 'ping' &&
	    c.closed_at === null && Number.isSafeInteger(c.created_at),
	    'the new test is ping, incomplete, count 20, interval_ms 10, closed_at null', c);
	t.is(c.client, client, 'the new test carries the client description as sent');
	t.ok(Math.abs(c.created_at - nowUs()) < 60e6, 'created_at is microseconds since the epoch, now',
	    `created_at ${c.created_at}, now ${nowUs()}`);
	const id = c.id;

	const echoes = new Map();
	const problems = [];
	for (let seq = 0; seq < 20; seq++) {
		const e = await echo(alice.token, id, seq);
		echoes.set(seq, e);
		for (const p of echoProblems(e, seq))
			problems.push(`seq ${seq}: ${p}`);
	}
	t.ok(problems.length === 0,
	    'all 20 echoes answer 200 with seq, server_received_at <= server_sent_at and a sig, ' +
	    'Server-Timing app;dur=, Timing-Allow-Origin * and Cache-Control no-store',
	    problems.slice(0, 5).join('\n'));
	if (problems.length)
		return;

	const lostSeqs = new Set([6, 13]);
	const withReceipt = [...echoes.keys()].filter((s) => !lostSeqs.has(s));
	// two batches of 9, the first in reverse order
	const batch1 = withReceipt.slice(0, 9).reverse();
	const batch2 = withReceipt.slice(9);
	const item = (seq) => ({ seq, client_received_at: echoes.get(seq).t3 });
	const r1 = await receipts(alice.token, id, batch1.map(item));
	t.ok(r1.status === 200 && JSON.stringify(r1.json?.accepted) === JSON.stringify(batch1) &&
	    r1.json?.received === 9 && r1.json?.state === 'incomplete',
	    'the first batch of 9 receipts is accepted: received 9, state incomplete', describe(r1));
	const r2 = await receipts(alice.token, id, batch2.map(item));
	t.ok(r2.status === 200 && JSON.stringify(r2.json?.accepted) === JSON.stringify(batch2) &&
	    r2.json?.received === 18 && r2.json?.state === 'incomplete',
	    'the second batch of 9 receipts is accepted: received 18, state incomplete', describe(r2));

	// The two samples without receipts are written after their answers: let them land.
	const before = await waitRows(id, 20);
	t.is(before.length, 20, 'MySQL holds a row for each of the 20 echoed samples before the close');

	const running = await getTest(alice.token, id);
	t.ok(running.status === 200 && running.json?.state === 'incomplete' &&
	    running.json?.summary?.sent === 20 && running.json?.summary?.received === 18 &&
	    running.json?.summary?.lost === 2,
	    'before the close the test reads incomplete with sent 20 (echoed), received 18',
	    describe(running));

	const cl = await closeTest(alice.token, id);
	const want = expectedSamples(echoes, new Set(withReceipt));
	if (!t.ok(cl.status === 200 && cl.json?.state === 'complete' && Number.isSafeInteger(cl.json?.closed_at),
	    'close answers 200 with the test, state complete and a closed_at', describe(cl)))
		return;
	t.ok(cl.json.closed_at >= c.created_at, 'closed_at is not before created_at',
	    `created_at ${c.created_at}, closed_at ${cl.json.closed_at}`);
	checkTestBody('the close answer', cl.json, want, 20, true);

	const g = await getTest(alice.token, id);
	if (!t.ok(g.status === 200 && g.json?.id === id, 'GET of the closed test answers 200', describe(g)))
		return;
	t.ok(g.json.state === 'complete' && g.json.count === 20 && g.json.closed_at === cl.json.closed_at,
	    'the read test is complete, count 20, with the same closed_at', g.json);
	t.is(g.json.client, client, 'the read test carries the client description');
	const s = g.json.summary ?? {};
	t.ok(s.sent === 20 && s.received === 18 && s.lost === 2 && s.loss_pct === 10,
	    'the summary says sent 20, received 18, lost 2, loss_pct 10', s);
	const noReceipt = (g.json.samples ?? []).filter((x) => x.client_received_at === null).map((x) => x.seq);
	t.is(noReceipt, [...lostSeqs], 'exactly the two samples without a receipt have client_received_at null');
	t.ok((g.json.samples ?? []).filter((x) => x.client_received_at === null)
	    .every((x) => x.rtt_us === null && x.network_rtt_us === null && x.offset_us === null),
	    'a sample without a receipt has rtt_us, network_rtt_us and offset_us null');
	checkTestBody('the read test', g.json, want, 20, true);
	t.is(dbSamples(id), (g.json.samples ?? []).map(stampsOf),
	    'the ping_samples rows in MySQL are exactly the samples the API returns');
	const [dbTest] = query(stack, `SELECT state, count, closed_at, user_id FROM ping_tests WHERE id = ${id}`);
	t.is(dbTest, ['complete', '20', String(cl.json.closed_at), String(alice.id)],
	    'the ping_tests row is complete, count 20, with the closed_at of the API, owned by its user');
	closed20 = { id, body: g.json, echoes };
});

await t.test('echoes and receipts after the close are refused with 409 invalid_state', async () => {
	if (!closed20)
		return t.skip('echo and receipts after close', 'the 20-sample test did not run');
	const id = closed20.id;
	const before = dbSamples(id);
	const e = await echo(alice.token, id, 6);
	okError(e.res, 409, 'invalid_state', 'an echo of a lost seq after the close is 409 invalid_state');
	const r = await receipts(alice.token, id, [{ seq: 6, client_received_at: closed20.echoes.get(6).t3 }]);
	okError(r, 409, 'invalid_state', 'a receipt for a lost sample after the close is 409 invalid_state');
	const r2 = await receipts(alice.token, id, [{ seq: 13, client_received_at: closed20.echoes.get(13).t3,
	    client_sent_at: closed20.echoes.get(13).t0,
	    server_received_at: closed20.echoes.get(13).res.json.server_received_at,
	    server_sent_at: closed20.echoes.get(13).res.json.server_sent_at,
	    sig: closed20.echoes.get(13).res.json.sig }]);
	okError(r2, 409, 'invalid_state', 'a receipt bringing valid signed stamps after the close is still 409 invalid_state');
	t.is(dbSamples(id), before, 'the refused echo and receipts after the close changed no row');
	const g = await getTest(alice.token, id);
	t.is(g.json?.summary, closed20.body.summary, 'the closed test reads the same as before');
});

// ---- the 100-sample test: complete by its receipts ----------------------------------------

let complete100 = null;

await t.test('a 100-sample test with every receipt is complete without a close; MySQL holds all four stamps', async () => {
	const c = await mustCreate(alice.token, { count: 100 });
	t.ok(c.state === 'incomplete' && c.count === 100 && c.interval_ms === null && c.client === null,
	    'a 100-sample test is created incomplete, interval_ms and client null when not given', c);
	const id = c.id;
	const echoes = new Map();
	const problems = [];
	for (let seq = 0; seq < 100; seq++) {
		const e = await echo(alice.token, id, seq);
		echoes.set(seq, e);
		for (const p of echoProblems(e, seq))
			problems.push(`seq ${seq}: ${p}`);
	}
	t.ok(problems.length === 0, 'all 100 echoes answer 200 with well-formed stamps and headers',
	    problems.slice(0, 5).join('\n'));
	if (problems.length)
		return;
	const states = [];
	let withStamps = 0;
	for (let b = 0; b < 4; b++) {
		const items = [];
		for (let seq = b * 25; seq < (b + 1) * 25; seq++) {
			const e = echoes.get(seq);
			const it = { seq, client_received_at: e.t3 };
			if (seq % 3 === 0) {
				// the signed stamps brought back, as a client does to survive a lost write
				Object.assign(it, { client_sent_at: e.t0, server_received_at: e.res.json.server_received_at,
				    server_sent_at: e.res.json.server_sent_at, sig: e.res.json.sig });
				withStamps++;
			}
			items.push(it);
		}
		if (b === 2)
			items.reverse();
		const r = await receipts(alice.token, id, items);
		states.push(r.status === 200 ? `${r.json?.received}/${r.json?.state}` : describe(r));
	}
	t.is(states, ['25/incomplete', '50/incomplete', '75/incomplete', '100/complete'],
	    `four batches of 25 receipts (${withStamps} bringing the signed server stamps back) are accepted; the last makes the test complete`);
	const g = await getTest(alice.token, id);
	if (!t.ok(g.status === 200, 'GET of the 100-sample test answers 200', describe(g)))
		return;
	t.ok(g.json.state === 'complete' && Number.isSafeInteger(g.json.closed_at),
	    'the test is complete, with a closed_at, without any close', { state: g.json.state, closed_at: g.json.closed_at });
	const s = g.json.summary ?? {};
	t.ok(s.sent === 100 && s.received === 100 && s.lost === 0 && s.loss_pct === 0,
	    'its summary says sent 100, received 100, lost 0, loss_pct 0', s);
	const want = expectedSamples(echoes, new Set(echoes.keys()));
	checkTestBody('the 100-sample test', g.json, want, 100, true);
	const rows = dbSamples(id);
	t.ok(rows.length === 100 && rows.every((r, i) => r.seq === i && [r.client_sent_at,
	    r.server_received_at, r.server_sent_at, r.client_received_at].every(Number.isSafeInteger)),
	    'MySQL holds 100 rows, seq 0..99, each with all four stamps',
	    `${rows.length} rows; first incomplete: ${JSON.stringify(rows.find((r) => r.client_received_at === null))}`);
	t.is(rows, want, 'the four stamps in MySQL are exactly the ones sent and received');
	t.is(rows, (g.json.samples ?? []).map(stampsOf), 'the rows in MySQL are the samples the API returns');
	const [[state, summaryText]] = query(stack, `SELECT t.state, s.summary FROM ping_tests t
	    LEFT JOIN ping_summaries s ON s.test_id = t.id WHERE t.id = ${id}`);
	let stored = null;
	try {
		stored = JSON.parse(summaryText);
	} catch { /* reported below */ }
	t.ok(state === 'complete', 'the ping_tests row is complete', state);
	t.is(stored, g.json.summary, 'the summary stored in ping_summaries equals the one the API computes');
	complete100 = { id, echoes, body: g.json };

	const e = await echo(alice.token, id, 0);
	okError(e.res, 409, 'invalid_state', 'an echo on the complete test is 409 invalid_state');
	const r = await receipts(alice.token, id, [{ seq: 0, client_received_at: nowUs() }]);
	okError(r, 409, 'invalid_state', 'a receipt on the complete test is 409 invalid_state');
	t.is(dbSamples(id), rows, 'the refused echo and receipt on the complete test changed no row');
});

await t.test('hand-picked RTTs give the hand-computed statistics', async () => {
	// The client's stamps are the client's: t0 taken 10 s behind the real clock, t3 = t0 + a
	// chosen RTT (well above the server's own time, so network RTTs stay positive).
	// RTTs in seq order 10000, 30001, 20000, 40000 (receipts sent out of order):
	// min 10000, max 40000, mean 25000.25 -> 25000, median (20000 + 30001) / 2 = 25000.5 -> 25001,
	// p90 = 4th of 4 (ceil 3.6) = 40000, p99 = 40000, jitter (20001 + 10001 + 20000) / 3 =
	// 16667.33 -> 16667, population stddev sqrt(500010000.75 / 4) = 11180.45 -> 11180.
	const behind = 10000000;
	const rtts = [10000, 30001, 20000, 40000];
	const c = await mustCreate(alice.token, { count: 5 });
	const id = c.id;
	const echoes = new Map();
	for (let seq = 0; seq < 4; seq++) {
		const e = await echo(alice.token, id, seq, nowUs() - behind);
		if (!t.ok(e.res.status === 200, `the echo of seq ${seq} with a clock 10 s behind answers 200`, describe(e.res)))
			return;
		echoes.set(seq, { ...e, t3: e.t0 + rtts[seq] });
	}
	const r = await receipts(alice.token, id, [3, 1, 0, 2].map((seq) =>
	    ({ seq, client_received_at: echoes.get(seq).t3 })));
	t.ok(r.status === 200 && r.json?.received === 4 && r.json?.state === 'incomplete',
	    'the four receipts are accepted, out of seq order; the fifth sample was never echoed', describe(r));
	const cl = await closeTest(alice.token, id);
	const s = cl.json?.summary ?? {};
	t.is([s.sent, s.echoed, s.received, s.lost, s.loss_pct], [5, 4, 4, 1, 20],
	    'closed with 4 of 5 samples: sent 5, echoed 4, received 4, lost 1, loss_pct 20');
	t.is([s.rtt_min_us, s.rtt_mean_us, s.rtt_median_us, s.rtt_p90_us, s.rtt_p99_us, s.rtt_max_us,
	    s.rtt_stddev_us, s.jitter_us], [10000, 25000, 25001, 40000, 40000, 40000, 11180, 16667],
	    'rtt min/mean/median/p90/p99/max/stddev and jitter are 10000/25000/25001/40000/40000/40000/11180/16667, as computed by hand');
	checkTestBody('the test with hand-picked RTTs', cl.json, expectedSamples(echoes, new Set([0, 1, 2, 3])), 5, true);

	const again = await closeTest(alice.token, id);
	t.ok((again.status === 200 && again.json?.closed_at === cl.json?.closed_at &&
	    JSON.stringify(again.json?.summary) === JSON.stringify(cl.json?.summary)) ||
	    expectError(again, 409, 'invalid_state').pass,
	    'closing the closed test again changes nothing (200 with the same closed_at and summary, or 409 invalid_state)',
	    describe(again));
});

// The offset's claim is physical: the true offset lies within half a sample's network round
// trip of that sample's offset.  So this test's stamps are real ones, shifted: t0 taken 10 s
// behind when the echo leaves and t3 10 s behind when its answer is in (invented t3s, as in
// the test above, may end before the server even received the echo on a busy machine).
await t.test('a client clock 10 s behind gives offset_us +10 s, within its uncertainty', async () => {
	const behind = 10000000;
	const c = await mustCreate(alice.token, { count: 6 });
	const list = [];
	for (let seq = 0; seq < 6; seq++) {
		const e = await echo(alice.token, c.id, seq, nowUs() - behind);
		if (!t.ok(e.res.status === 200, `the echo of seq ${seq} with a clock 10 s behind answers 200`, describe(e.res)))
			return;
		list.push({ seq, client_received_at: e.t3 - behind });
	}
	const r = await receipts(alice.token, c.id, list);
	t.is(r.status, 200, 'the six receipts are accepted', describe(r));
	const s = (await closeTest(alice.token, c.id)).json?.summary ?? {};
	// This client's clock is anchored to Date.now(), in whole milliseconds, so it runs up to
	// 1 ms behind the server's on top of the 10 s: the true offset is 10 s to 10.001 s.
	t.ok(Number.isSafeInteger(s.offset_us) && Number.isSafeInteger(s.offset_uncertainty_us) &&
	    s.offset_us + s.offset_uncertainty_us >= behind &&
	    s.offset_us - s.offset_uncertainty_us <= behind + 1000,
	    'offset_us is +10 s (server ahead of the client) within its uncertainty',
	    `offset_us ${s.offset_us}, offset_uncertainty_us ${s.offset_uncertainty_us}`);
});

// ---- echo and receipt refusals ------------------------------------------------------------

await t.test('echo and receipt refusals: duplicate, out of range, not echoed, t3 < t0, forged sig, all or nothing', async () => {
	const c = await mustCreate(alice.token, { count: 10 });
	const id = c.id;
	const e0 = await mustEcho(alice.token, id, 0);
	const e1 = await mustEcho(alice.token, id, 1);
	const e2 = await mustEcho(alice.token, id, 2);

	const dup = await echo(alice.token, id, 0);
	okError(dup.res, 409, 'duplicate_seq', 'an echo of a seq already echoed is 409 duplicate_seq (field seq)', { field: 'seq' });
	const high = await echo(alice.token, id, 10);
	okError(high.res, 422, 'out_of_range', 'an echo with seq = count is 422 out_of_range (field seq)', { field: 'seq' });
	const neg = await echo(alice.token, id, -1);
	okError(neg.res, [422, 400], ['out_of_range', 'invalid_field'], 'an echo with a negative seq is a 422/400 JSON error (field seq)', { field: 'seq' });
	const rows = await waitRows(id, 3);
	t.is(rows.map((r) => r.seq), [0, 1, 2], 'only the three accepted echoes have rows; the refused ones stored nothing');

	const okItem = (e, seq) => ({ seq, client_received_at: e.t3 });
	let r = await receipts(alice.token, id, [{ seq: 5, client_received_at: nowUs() }]);
	okError(r, 422, 'not_echoed', 'a receipt for a sample never echoed is 422 not_echoed (field receipts[0].seq)', { field: 'receipts[0].seq' });
	r = await receipts(alice.token, id, [{ seq: 10, client_received_at: nowUs() }]);
	okError(r, 422, 'out_of_range', 'a receipt with seq = count is 422 out_of_range', { field: 'receipts[0].seq' });
	r = await receipts(alice.token, id, [{ seq: 0, client_received_at: e0.t0 - 1 }]);
	okError(r, 422, 'out_of_range', 'a receipt with client_received_at < client_sent_at is 422 out_of_range (field receipts[0].client_received_at)',
	    { field: 'receipts[0].client_received_at' });

	// all or nothing: a good receipt then a bad one
	r = await receipts(alice.token, id, [okItem(e0, 0), { seq: 1, client_received_at: e1.t0 - 5 }]);
	okError(r, 422, 'out_of_range', 'a batch whose second receipt is bad is refused naming receipts[1].client_received_at',
	    { field: 'receipts[1].client_received_at' });
	r = await receipts(alice.token, id, [okItem(e0, 0), okItem(e1, 1), { seq: 7, client_received_at: nowUs() }]);
	okError(r, 422, 'not_echoed', 'a batch whose third receipt was never echoed is refused naming receipts[2].seq',
	    { field: 'receipts[2].seq' });
	r = await receipts(alice.token, id, [okItem(e0, 0), okItem(e0, 0)]);
	okError(r, 409, 'duplicate_seq', 'a batch with the same seq twice is 409 duplicate_seq', { field: 'receipts[1].seq' });
	t.ok(dbSamples(id).every((x) => x.client_received_at === null),
	    'none of the refused batches stored any receipt (the good receipts in them included)', dbSamples(id));

	// forged signatures
	const stamps = (e, seq) => ({ seq, client_received_at: e.t3, client_sent_at: e.t0,
	    server_received_at: e.res.json.server_received_at, server_sent_at: e.res.json.server_sent_at,
	    sig: e.res.json.sig });
	const flip = (s) => s.slice(0, -1) + (s.slice(-1) === '0' ? '1' : '0');
	r = await receipts(alice.token, id, [{ ...stamps(e1, 1), sig: flip(e1.res.json.sig) }]);
	okError(r, 422, ['invalid_sig', 'out_of_range'], 'a receipt with a forged sig (one character changed) is 422', { field: 'receipts[0].sig' });
	r = await receipts(alice.token, id, [{ ...stamps(e1, 1), server_received_at: e1.res.json.server_received_at - 1000 }]);
	okError(r, 422, ['invalid_sig', 'out_of_range'], 'a receipt whose server_received_at does not match its sig is 422', { field: 'receipts[0].sig' });
	r = await receipts(alice.token, id, [{ ...stamps(e2, 2), seq: 3 }]);
	okError(r, 422, ['invalid_sig', 'out_of_range'], 'a receipt using the sig of another seq is 422', { field: 'receipts[0].sig' });
	if (complete100) {
		// A genuine sig of another test (same seq) must not plant a row here.
		const other = complete100.echoes.get(4);
		r = await receipts(alice.token, id, [stamps(other, 4)]);
		okError(r, 422, ['invalid_sig', 'out_of_range'], "a receipt bringing another test's genuine signed stamps is 422", { field: 'receipts[0].sig' });
	}
	r = await receipts(alice.token, id, [{ seq: 1, client_received_at: e1.t3, sig: e1.res.json.sig }]);
	okError(r, 400, 'missing_field', 'a receipt with a sig but without the stamps it signs is 400 missing_field', { field: 'receipts[0].sig' });
	t.is(dbSamples(id).map(stampsOf), rows, 'the forged receipts changed and added no row');

	r = await receipts(alice.token, id, [okItem(e0, 0), stamps(e1, 1)]);
	t.ok(r.status === 200 && r.json?.received === 2 && r.json?.state === 'incomplete',
	    'a good batch of two receipts is accepted afterwards', describe(r));
	r = await receipts(alice.token, id, [okItem(e0, 0)]);
	okError(r, 409, 'duplicate_seq', 'a second receipt for the same seq is 409 duplicate_seq', { field: 'receipts[0].seq' });
	r = await receipts(alice.token, id, [okItem(e2, 2), okItem(e1, 1)]);
	okError(r, 409, 'duplicate_seq', 'a batch with one new and one already received seq is 409 duplicate_seq naming receipts[1].seq',
	    { field: 'receipts[1].seq' });
	const after = dbSamples(id);
	t.ok(after.find((x) => x.seq === 0)?.client_received_at === e0.t3 &&
	    after.find((x) => x.seq === 1)?.client_received_at === e1.t3 &&
	    after.find((x) => x.seq === 2)?.client_received_at === null,
	    'MySQL holds the two accepted receipts, the first receipt kept, and nothing of the refused batch', after);
});

await t.test('a receipt bringing its signed stamps records a sample whose row was lost', async () => {
	const c = await mustCreate(alice.token, { count: 2 });
	const id = c.id;
	const e0 = await mustEcho(alice.token, id, 0);
	const e1 = await mustEcho(alice.token, id, 1);
	const rows = await waitRows(id, 2);
	t.is(rows.length, 2, 'both echoes were written to MySQL after their answers');
	// Simulate a post-response write that failed: the row of seq 1 is gone.
	query(stack, `DELETE FROM ping_samples WHERE test_id = ${id} AND seq = 1`);
	const r = await receipts(alice.token, id, [
		{ seq: 0, client_received_at: e0.t3 },
		{ seq: 1, client_received_at: e1.t3, client_sent_at: e1.t0,
		    server_received_at: e1.res.json.server_received_at,
		    server_sent_at: e1.res.json.server_sent_at, sig: e1.res.json.sig },
	]);
	t.ok(r.status === 200 && r.json?.received === 2 && r.json?.state === 'complete',
	    'the receipts are accepted and complete the test', describe(r));
	t.is(dbSamples(id), expectedSamples(new Map([[0, e0], [1, e1]]), new Set([0, 1])),
	    'the lost row is back in MySQL with all four stamps from the signed receipt');
});

// ---- another user's test ------------------------------------------------------------------

await t.test("another user's test answers 404 not_found on every ping route and is not in their list", async () => {
	const c = await mustCreate(alice.token, { count: 5, client: { platform: 'alice' } });
	const id = c.id;
	const e0 = await mustEcho(alice.token, id, 0);
	const rr = await receipts(alice.token, id, [{ seq: 0, client_received_at: e0.t3 }]);
	if (!t.ok(rr.status === 200, "the owner's receipt is accepted", describe(rr)))
		return;
	await mustEcho(alice.token, id, 1);
	await waitRows(id, 2);
	const before = await getTest(alice.token, id);
	const rowsBefore = dbSamples(id);
	const missingId = 9007199254740991;	// 2^53 - 1: a valid id no test has

	const eb = await echo(bob.token, id, 2);
	okError(eb.res, 404, 'not_found', "another user's echo on the test is 404 not_found");
	const eb1 = await echo(bob.token, id, 1);
	okError(eb1.res, 404, 'not_found', "another user's echo of an already echoed seq is 404 not_found too (no duplicate_seq leak)");
	const rb = await receipts(bob.token, id, [{ seq: 1, client_received_at: nowUs() }]);
	okError(rb, 404, 'not_found', "another user's receipts on the test are 404 not_found");
	const cb = await closeTest(bob.token, id);
	okError(cb, 404, 'not_found', "another user's close of the test is 404 not_found");
	const gb = await getTest(bob.token, id);
	okError(gb, 404, 'not_found', "another user's read of the test is 404 not_found");
	const gm = await getTest(bob.token, missingId);
	okError(gm, 404, 'not_found', 'a test that does not exist is 404 not_found');
	t.is(gb.text, gm.text, "another user's test answers exactly like a missing one (same body)");
	const lb = await list(bob.token, '?limit=100');
	t.ok(lb.status === 200 && Array.isArray(lb.json?.tests) && !lb.json.tests.some((x) => x.id === id),
	    "the test is not in the other user's list", describe(lb));
	const em = await echo(alice.token, missingId, 0);
	okError(em.res, 404, 'not_found', 'an echo on a test that does not exist is 404 not_found');

	const after = await getTest(alice.token, id);
	t.is(after.json, before.json, "the owner's test reads exactly as before (state, summary, samples)");
	t.is(dbSamples(id), rowsBefore, "the owner's rows in MySQL are unchanged");
	const e2 = await echo(alice.token, id, 2);
	t.ok(e2.res.status === 200, "the owner can still echo the seq the other user tried (it was not consumed)", describe(e2.res));
	const cl = await closeTest(alice.token, id);
	t.ok(cl.status === 200 && cl.json?.state === 'complete', 'the owner can still close the test', describe(cl));
});

// ---- list ---------------------------------------------------------------------------------

await t.test('list: newest first, limit and cursor pagination, bad limit or cursor refused', async () => {
	const carol = await newUser();
	const empty = await list(carol.token);
	t.ok(empty.status === 200 && Array.isArray(empty.json?.tests) && empty.json.tests.length === 0 &&
	    empty.json.next_cursor === null, 'a user without tests lists none, next_cursor null', describe(empty));
	const ids = [];
	for (let i = 0; i < 3; i++)
		ids.push((await mustCreate(carol.token, { count: 2 + i })).id);
	// the newest gets an echo and a receipt, so its live summary has something in it
	const e = await mustEcho(carol.token, ids[2], 0);
	await receipts(carol.token, ids[2], [{ seq: 0, client_received_at: e.t3 }]);
	const all = await list(carol.token);
	t.is(all.json?.tests?.map((x) => x.id), [...ids].reverse(), 'the list without limit holds the 3 tests, newest first');
	const p1 = await list(carol.token, '?limit=2');
	t.ok(p1.status === 200 && JSON.stringify(p1.json?.tests?.map((x) => x.id)) === JSON.stringify([ids[2], ids[1]]) &&
	    typeof p1.json?.next_cursor === 'string' && p1.json.next_cursor.length > 0,
	    'limit=2 gives the two newest and a next_cursor', describe(p1));
	const first = p1.json?.tests?.[0] ?? {};
	t.ok(first.kind === 'ping' && first.state === 'incomplete' && first.count === 4 &&
	    !('samples' in first) && first.summary && typeof first.summary === 'object',
	    'a listed test carries its fields and summary but no samples', first);
	t.is(first.summary, (await getTest(carol.token, ids[2])).json?.summary,
	    'the listed summary of a running test equals the one its read gives');
	const p2 = await list(carol.token, `?limit=2&cursor=${encodeURIComponent(p1.json?.next_cursor ?? '')}`);
	t.ok(p2.status === 200 && JSON.stringify(p2.json?.tests?.map((x) => x.id)) === JSON.stringify([ids[0]]) &&
	    p2.json.next_cursor === null,
	    'the second page holds the oldest test and next_cursor null', describe(p2));
	if (closed20 && complete100) {
		const la = await list(alice.token, '?limit=100');
		const byId = new Map((la.json?.tests ?? []).map((x) => [x.id, x]));
		t.is(byId.get(closed20.id)?.summary, closed20.body.summary,
		    'in the list, the closed 20-sample test has the summary its read gives');
		t.is(byId.get(complete100.id)?.summary, complete100.body.summary,
		    'in the list, the complete 100-sample test has the summary its read gives');
		const order = (la.json?.tests ?? []).map((x) => x.id);
		t.ok(order.every((v, i) => i === 0 || order[i - 1] > v), "alice's list is in decreasing id order", order);
	}
	for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=-1', 'limit=', 'limit=1.5',
	    'cursor=abc', 'cursor=-1', 'cursor=0', 'cursor=1.5', 'cursor=99999999999999999999999']) {
		const r = await list(carol.token, `?${q}`);
		okError(r, 400, 'invalid_query', `list with ${q} is 400 invalid_query`);
	}
});

// ---- field validation: nothing stored -----------------------------------------------------

// Runs one refused request; checks the error and that the user's rows did not change.
async function refused(user, sentence, send, status, code, field) {
	const before = userRows(user.id);
	const res = await send();
	const e = expectError(res, Array.isArray(status) ? (status.includes(res.status) ? res.status : status[0]) : status,
	    code, field === undefined ? {} : { field });
	const after = userRows(user.id);
	const same = JSON.stringify(before) === JSON.stringify(after);
	t.ok(e.pass && same, sentence, [e.why, same ? '' : `rows before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`]
	    .filter(Boolean).join('\n'));
	return res;
}

const HUGE = '99999999999999999999';	// beyond 64 bits, sent as a literal
// A JSON body with one raw value spliced in (for literals JSON.stringify cannot make).
const rawBody = (obj, key, literalText) => {
	const marker = '"__RAW__"';
	return JSON.stringify({ ...obj, [key]: '__RAW__' }).replace(marker, literalText);
};

await t.test('create: each field with a wrong type, range or size is a JSON error and stores nothing', async () => {
	const post = (body) => () => create(alice.token, body);
	const cases = [
		// [what, body, status, code, field]
		['count missing', {}, 400, 'missing_field', 'count'],
		['count null', { count: null }, 400, 'missing_field', 'count'],
		['count a string', { count: '5' }, 400, 'invalid_field', 'count'],
		['count a float 1.5', { count: 1.5 }, 400, 'invalid_field', 'count'],
		['count 5.0', rawBody({}, 'count', '5.0'), 400, 'invalid_field', 'count'],
		['count a boolean', { count: true }, 400, 'invalid_field', 'count'],
		['count an object', { count: {} }, 400, 'invalid_field', 'count'],
		['count an array', { count: [5] }, 400, 'invalid_field', 'count'],
		['count 0', { count: 0 }, 422, 'out_of_range', 'count'],
		['count -1', { count: -1 }, 422, 'out_of_range', 'count'],
		['count 1e30', rawBody({}, 'count', '1e30'), 400, 'invalid_field', 'count'],
		[`count ${HUGE}`, rawBody({}, 'count', HUGE), 422, ['out_of_range', 'limit_exceeded'], 'count'],
		[`count -${HUGE}`, rawBody({}, 'count', '-' + HUGE), 422, 'out_of_range', 'count'],
		['count 2^31', { count: 2 ** 31 }, 422, ['out_of_range', 'limit_exceeded'], 'count'],
		[`count ping_max_count + 1 (${MAX_COUNT + 1})`, { count: MAX_COUNT + 1 }, 422, 'limit_exceeded', 'count'],
		['interval_ms a string', { count: 5, interval_ms: '10' }, 400, 'invalid_field', 'interval_ms'],
		['interval_ms 1.5', { count: 5, interval_ms: 1.5 }, 400, 'invalid_field', 'interval_ms'],
		['interval_ms a boolean', { count: 5, interval_ms: false }, 400, 'invalid_field', 'interval_ms'],
		['interval_ms an object', { count: 5, interval_ms: { ms: 1 } }, 400, 'invalid_field', 'interval_ms'],
		['interval_ms -1', { count: 5, interval_ms: -1 }, 422, 'out_of_range', 'interval_ms'],
		[`interval_ms ping_max_interval_ms + 1 (${MAX_INTERVAL + 1})`, { count: 5, interval_ms: MAX_INTERVAL + 1 }, 422,
		    ['out_of_range', 'limit_exceeded'], 'interval_ms'],
		['interval_ms 1e30', rawBody({ count: 5 }, 'interval_ms', '1e30'), 400, 'invalid_field', 'interval_ms'],
		[`interval_ms ${HUGE}`, rawBody({ count: 5 }, 'interval_ms', HUGE), 422, 'out_of_range', 'interval_ms'],
		['client a string', { count: 5, client: 'web' }, 400, 'invalid_field', 'client'],
		['client a number', { count: 5, client: 1 }, 400, 'invalid_field', 'client'],
		['client an array', { count: 5, client: ['web'] }, 400, 'invalid_field', 'client'],
		['client a boolean', { count: 5, client: true }, 400, 'invalid_field', 'client'],
		['client with a number value', { count: 5, client: { platform: 5 } }, 400, 'invalid_field', 'client.platform'],
		['client with a null value', { count: 5, client: { platform: null } }, 400, 'invalid_field', 'client.platform'],
		['client with a boolean value', { count: 5, client: { os: true } }, 400, 'invalid_field', 'client.os'],
		['client with an object value', { count: 5, client: { os: { name: 'x' } } }, 400, 'invalid_field', 'client.os'],
		['client with an array value', { count: 5, client: { os: ['x'] } }, 400, 'invalid_field', 'client.os'],
		['client with an upper-case key', { count: 5, client: { Platform: 'web' } }, 400, 'invalid_field', 'client'],
		['client with an empty key', { count: 5, client: { '': 'web' } }, 400, 'invalid_field', 'client'],
		['client with a 33-byte key', { count: 5, client: { ['k'.repeat(33)]: 'web' } }, 400, 'invalid_field', 'client'],
		['client with a 129-byte value', { count: 5, client: { carrier: 'x'.repeat(129) } }, 422, 'limit_exceeded', 'client.carrier'],
		['client with 17 keys', { count: 5, client: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
		    422, 'limit_exceeded', 'client'],
		[`client over ${MAX_CLIENT} bytes serialized`,
		    { count: 5, client: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`key_${i}`, 'v'.repeat(120)])) },
		    422, 'limit_exceeded', 'client'],
		['client with a NUL in a value', { count: 5, client: { os: 'a\u0000b' } }, 400, ['invalid_field', 'invalid_json'], undefined],
		['an unknown field', { count: 5, colour: 'blue' }, 400, 'unknown_field', 'colour'],
		['an unknown field "samples"', { count: 5, samples: [] }, 400, 'unknown_field', 'samples'],
		['a body that is an array', [{ count: 5 }], 400, 'invalid_json', undefined],
		['a body that is a number', '5', 400, 'invalid_json', undefined],
		['an empty body', '', 400, ['invalid_json', 'missing_field'], undefined],
		['a body with trailing bytes', '{"count":5}x', 400, 'invalid_json', undefined],
		['a body with count twice', '{"count":5,"count":6}', 400, 'invalid_json', undefined],
	];
	for (const [what, body, status, code, field] of cases) {
		const sentence = `create with ${what} is ${status} ${Array.isArray(code) ? code.join('/') : code}` +
		    `${field ? ` (field ${field})` : ''} and stores nothing`;
		await refused(alice, sentence, post(body), status, code, field);
	}
	// the edges that are allowed
	const okc = await create(alice.token, { count: 1, interval_ms: MAX_INTERVAL,
	    client: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'])) });
	t.ok(okc.status === 201 && okc.json?.interval_ms === MAX_INTERVAL && Object.keys(okc.json?.client ?? {}).length === 16,
	    'count 1, interval_ms at its maximum and a client of 16 keys are accepted', describe(okc));
	const okn = await create(alice.token, { count: 1, interval_ms: null, client: null });
	t.ok(okn.status === 201 && okn.json?.interval_ms === null && okn.json?.client === null,
	    'interval_ms null and client null are taken as absent', describe(okn));
	const okm = await create(alice.token, { count: MAX_COUNT, client: { app_version: 'web/1.2', carrier: 'Ünïcödé' } });
	t.ok(okm.status === 201 && okm.json?.count === MAX_COUNT && okm.json?.client?.app_version === 'web/1.2' &&
	    okm.json?.client?.carrier === 'Ünïcödé',
	    `count ping_max_count (${MAX_COUNT}) is accepted, the client comes back as sent (slash, UTF-8)`, describe(okm));
});

await t.test('echo: each field with a wrong type or range is a JSON error and consumes and stores nothing', async () => {
	const c = await mustCreate(alice.token, { count: 3 });
	const id = c.id;
	const send = (body) => () => A.json('POST', `${BASE}/${id}/echo`, body, alice.token);
	const t0 = nowUs();
	const cases = [
		['seq missing', { client_sent_at: t0 }, 400, 'missing_field', 'seq'],
		['seq null', { seq: null, client_sent_at: t0 }, 400, 'missing_field', 'seq'],
		['seq a string', { seq: '0', client_sent_at: t0 }, 400, 'invalid_field', 'seq'],
		['seq 1.5', { seq: 1.5, client_sent_at: t0 }, 400, 'invalid_field', 'seq'],
		['seq 0.0', rawBody({ client_sent_at: t0 }, 'seq', '0.0'), 400, 'invalid_field', 'seq'],
		['seq a boolean', { seq: false, client_sent_at: t0 }, 400, 'invalid_field', 'seq'],
		['seq an object', { seq: { n: 0 }, client_sent_at: t0 }, 400, 'invalid_field', 'seq'],
		['seq -1', { seq: -1, client_sent_at: t0 }, [422, 400], ['out_of_range', 'invalid_field'], 'seq'],
		['seq = count', { seq: 3, client_sent_at: t0 }, 422, 'out_of_range', 'seq'],
		['seq 2^32', { seq: 2 ** 32, client_sent_at: t0 }, 422, 'out_of_range', 'seq'],
		['seq 1e30', rawBody({ client_sent_at: t0 }, 'seq', '1e30'), 400, 'invalid_field', 'seq'],
		[`seq ${HUGE}`, rawBody({ client_sent_at: t0 }, 'seq', HUGE), 422, 'out_of_range', 'seq'],
		['client_sent_at missing', { seq: 0 }, 400, 'missing_field', 'client_sent_at'],
		['client_sent_at null', { seq: 0, client_sent_at: null }, 400, 'missing_field', 'client_sent_at'],
		['client_sent_at a string', { seq: 0, client_sent_at: String(t0) }, 400, 'invalid_field', 'client_sent_at'],
		['client_sent_at 1.5', { seq: 0, client_sent_at: 1.5 }, 400, 'invalid_field', 'client_sent_at'],
		['client_sent_at in milliseconds with a fraction', { seq: 0, client_sent_at: Date.now() + 0.25 }, 400, 'invalid_field', 'client_sent_at'],
		['client_sent_at a boolean', { seq: 0, client_sent_at: true }, 400, 'invalid_field', 'client_sent_at'],
		['client_sent_at an object', { seq: 0, client_sent_at: {} }, 400, 'invalid_field', 'client_sent_at'],
		['client_sent_at 0', { seq: 0, client_sent_at: 0 }, 422, 'out_of_range', 'client_sent_at'],
		['client_sent_at -1', { seq: 0, client_sent_at: -1 }, 422, 'out_of_range', 'client_sent_at'],
		['client_sent_at 1e30', rawBody({ seq: 0 }, 'client_sent_at', '1e30'), 400, 'invalid_field', 'client_sent_at'],
		[`client_sent_at ${HUGE}`, rawBody({ seq: 0 }, 'client_sent_at', HUGE), 422, 'out_of_range', 'client_sent_at'],
		['client_sent_at 2^60', rawBody({ seq: 0 }, 'client_sent_at', String(2n ** 60n)), 422, 'out_of_range', 'client_sent_at'],
		['an unknown field', { seq: 0, client_sent_at: t0, server_received_at: t0 }, 400, 'unknown_field', 'server_received_at'],
		['a body that is an array', [0, t0], 400, 'invalid_json', undefined],
	];
	for (const [what, body, status, code, field] of cases) {
		const sentence = `echo with ${what} is ${Array.isArray(status) ? status.join('/') : status} ` +
		    `${Array.isArray(code) ? code.join('/') : code}${field ? ` (field ${field})` : ''} and stores nothing`;
		await refused(alice, sentence, send(body), status, code, field);
	}
	const e = await echo(alice.token, id, 0);
	t.ok(e.res.status === 200 && e.res.json?.seq === 0,
	    'after all those refusals seq 0 is still free: a good echo of it answers 200', describe(e.res));
	const e2 = await echo(alice.token, id, 2);
	t.ok(e2.res.status === 200, 'seq = count - 1 is accepted', describe(e2.res));
});

await t.test('receipts: each field with a wrong type or range is a JSON error and stores nothing', async () => {
	const c = await mustCreate(alice.token, { count: 3 });
	const id = c.id;
	const e0 = await mustEcho(alice.token, id, 0);
	await waitRows(id, 1);
	const t3 = e0.t3;
	const send = (body) => () => receipts(alice.token, id, body);
	const one = (over) => ({ receipts: [{ seq: 0, client_received_at: t3, ...over }] });
	const rawItem = (key, lit) => `{"receipts":[${rawBody(key === 'seq' ? { client_received_at: t3 } : { seq: 0 }, key, lit)}]}`;
	const cases = [
		['no receipts field', {}, 400, 'missing_field', 'receipts'],
		['receipts null', { receipts: null }, 400, 'missing_field', 'receipts'],
		['receipts a string', { receipts: 'x' }, 400, 'invalid_field', 'receipts'],
		['receipts an object', { receipts: { seq: 0, client_received_at: t3 } }, 400, 'invalid_field', 'receipts'],
		['receipts empty', { receipts: [] }, [422, 400], ['out_of_range', 'invalid_field'], 'receipts'],
		[`more than ping_max_receipts (${MAX_RECEIPTS}) receipts`,
		    { receipts: Array.from({ length: MAX_RECEIPTS + 1 }, () => ({ seq: 0, client_received_at: t3 })) },
		    [422, 413], ['limit_exceeded', 'body_too_large'], undefined],
		['a receipt that is a number', { receipts: [5] }, 400, 'invalid_field', 'receipts[0]'],
		['a receipt that is null', { receipts: [null] }, 400, 'invalid_field', 'receipts[0]'],
		['seq missing', { receipts: [{ client_received_at: t3 }] }, 400, 'missing_field', 'receipts[0].seq'],
		['seq null', one({ seq: null }), 400, 'missing_field', 'receipts[0].seq'],
		['seq a string', one({ seq: '0' }), 400, 'invalid_field', 'receipts[0].seq'],
		['seq 1.5', one({ seq: 1.5 }), 400, 'invalid_field', 'receipts[0].seq'],
		['seq a boolean', one({ seq: true }), 400, 'invalid_field', 'receipts[0].seq'],
		['seq an object', one({ seq: {} }), 400, 'invalid_field', 'receipts[0].seq'],
		['seq -1', one({ seq: -1 }), [422, 400], ['out_of_range', 'invalid_field'], 'receipts[0].seq'],
		['seq = count', one({ seq: 3 }), 422, 'out_of_range', 'receipts[0].seq'],
		['seq 1e30', rawItem('seq', '1e30'), 400, 'invalid_field', 'receipts[0].seq'],
		[`seq ${HUGE}`, rawItem('seq', HUGE), 422, 'out_of_range', 'receipts[0].seq'],
		['client_received_at missing', { receipts: [{ seq: 0 }] }, 400, 'missing_field', 'receipts[0].client_received_at'],
		['client_received_at null', one({ client_received_at: null }), 400, 'missing_field', 'receipts[0].client_received_at'],
		['client_received_at a string', one({ client_received_at: String(t3) }), 400, 'invalid_field', 'receipts[0].client_received_at'],
		['client_received_at 1.5', one({ client_received_at: 1.5 }), 400, 'invalid_field', 'receipts[0].client_received_at'],
		['client_received_at a boolean', one({ client_received_at: true }), 400, 'invalid_field', 'receipts[0].client_received_at'],
		['client_received_at an object', one({ client_received_at: {} }), 400, 'invalid_field', 'receipts[0].client_received_at'],
		['client_received_at 0', one({ client_received_at: 0 }), 422, 'out_of_range', 'receipts[0].client_received_at'],
		['client_received_at -1', one({ client_received_at: -1 }), 422, 'out_of_range', 'receipts[0].client_received_at'],
		['client_received_at 1e30', rawItem('client_received_at', '1e30'), 400, 'invalid_field', 'receipts[0].client_received_at'],
		[`client_received_at ${HUGE}`, rawItem('client_received_at', HUGE), 422, 'out_of_range', 'receipts[0].client_received_at'],
		['client_sent_at a string', one({ client_sent_at: 'x' }), 400, 'invalid_field', 'receipts[0].client_sent_at'],
		['server_received_at 1.5', one({ server_received_at: 1.5 }), 400, 'invalid_field', 'receipts[0].server_received_at'],
		['server_sent_at -1', one({ server_sent_at: -1 }), 422, 'out_of_range', 'receipts[0].server_sent_at'],
		['sig a number', one({ sig: 5 }), 400, 'invalid_field', 'receipts[0].sig'],
		['sig of 65 characters', one({ sig: 'a'.repeat(65) }), [422, 400], ['limit_exceeded', 'invalid_field', 'invalid_sig'], 'receipts[0].sig'],
		['an unknown field in a receipt', one({ rtt_us: 5 }), 400, 'unknown_field', 'receipts[0].rtt_us'],
		['an unknown top-level field', { receipts: [{ seq: 0, client_received_at: t3 }], state: 'complete' }, 400, 'unknown_field', 'state'],
		['a good receipt followed by a bad one', { receipts: [{ seq: 0, client_received_at: t3 }, { seq: '1', client_received_at: t3 }] },
		    400, 'invalid_field', 'receipts[1].seq'],
	];
	for (const [what, body, status, code, field] of cases) {
		const sentence = `receipts with ${what} is ${Array.isArray(status) ? status.join('/') : status} ` +
		    `${Array.isArray(code) ? code.join('/') : code}${field ? ` (field ${field})` : ''} and stores nothing`;
		await refused(alice, sentence, send(body), status, code, field);
	}
	t.is(dbSamples(id).map((x) => x.client_received_at), [null], 'the echoed sample still has no receipt');
	const r = await receipts(alice.token, id, [{ seq: 0, client_received_at: t3 }]);
	t.ok(r.status === 200 && r.json?.received === 1, 'a good receipt is accepted afterwards', describe(r));
});

// ---- media type and authentication ---------------------------------------------------------

await t.test('a JSON body without Content-Type is 415; no token is 401 on every ping route', async () => {
	const c = await mustCreate(alice.token, { count: 2 });
	const id = c.id;
	const bare = (path, obj, headers = {}) => () => A.request({ method: 'POST', path, token: alice.token,
	    body: JSON.stringify(obj), headers });
	await refused(alice, 'create without Content-Type is 415 unsupported_media_type and stores nothing',
	    bare(BASE, { count: 2 }), 415, 'unsupported_media_type');
	await refused(alice, 'create with Content-Type text/plain is 415 unsupported_media_type and stores nothing',
	    bare(BASE, { count: 2 }, { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
	await refused(alice, 'echo without Content-Type is 415 unsupported_media_type and stores nothing',
	    bare(`${BASE}/${id}/echo`, { seq: 0, client_sent_at: nowUs() }), 415, 'unsupported_media_type');
	const e = await mustEcho(alice.token, id, 0);
	await waitRows(id, 1);
	await refused(alice, 'receipts without Content-Type are 415 unsupported_media_type and store nothing',
	    bare(`${BASE}/${id}/receipts`, { receipts: [{ seq: 0, client_received_at: e.t3 }] }), 415, 'unsupported_media_type');

	const routes = [
		['create', () => A.json('POST', BASE, { count: 2 })],
		['list', () => A.get(BASE)],
		['read', () => A.get(`${BASE}/${id}`)],
		['echo', () => A.json('POST', `${BASE}/${id}/echo`, { seq: 1, client_sent_at: nowUs() })],
		['receipts', () => A.json('POST', `${BASE}/${id}/receipts`, { receipts: [{ seq: 0, client_received_at: e.t3 }] })],
		['close', () => A.request({ method: 'POST', path: `${BASE}/${id}/close` })],
	];
	for (const [what, send] of routes) {
		const before = userRows(alice.id);
		const res = await send();
		const r = expectError(res, 401, 'unauthorized');
		const www = res.headers['www-authenticate'] ?? '';
		const same = JSON.stringify(before) === JSON.stringify(userRows(alice.id));
		t.ok(r.pass && /^Bearer\b/i.test(www) && same,
		    `${what} without a token is 401 unauthorized with WWW-Authenticate: Bearer, and changes nothing`,
		    [r.why, /^Bearer\b/i.test(www) ? '' : `WWW-Authenticate ${JSON.stringify(www)}`, same ? '' : 'rows changed']
			.filter(Boolean).join('\n'));
	}
	const g = await getTest(alice.token, id);
	t.ok(g.json?.state === 'incomplete' && g.json?.samples?.length === 1 &&
	    g.json.samples[0].client_received_at === null,
	    'the test is still incomplete with one sample and no receipt', describe(g));
	const bad = await getTest(alice.token, 'abc');
	okError(bad, 400, 'invalid_path', 'a test id that is not a number is 400 invalid_path');
	const badEcho = await A.json('POST', `${BASE}/-1/echo`, { seq: 0, client_sent_at: nowUs() }, alice.token);
	okError(badEcho, 400, 'invalid_path', 'an echo on test id -1 is 400 invalid_path');
});

await t.test('throwaway users are cleaned up', async () => {
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'throwaway users are deleted', errors.join('\n'));
	const left = query(stack, `SELECT COUNT(*) FROM ping_tests WHERE user_id IN (${literal(alice.id)}, ${literal(bob.id)})`);
	t.is(left, [['0']], "the deleted users' ping tests are gone with them");
});

await t.done();
