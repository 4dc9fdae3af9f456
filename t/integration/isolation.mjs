// isolation.mjs - one user's tests are invisible to another, over HTTPS
// through nginx against the running local stack.  User B tries to read, list, echo into,
// receipt into, close, download from, upload to, report into and abort user A's ping and
// throughput tests.  Each attempt must be answered exactly as if the test did not exist
// (404 not_found, the same status, type and body as for an id nobody has), must not leak
// what the test holds (no 409 for a seq A already used, no 422 for a seq past A's count),
// and A's tests must come out unchanged: the same GET answers, the same database rows.

import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { poll } from './lib/poll.mjs';
import { openStack } from './lib/open.mjs';
import { loadStack, stackEnvPath, missingKeys } from './lib/stack.mjs';
import { api, expectError, describe } from './lib/http.mjs';
import { query } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A: api0 } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN', 'PINGOO_DB_SOCKET']);
const users = userFactory(stack);

const nowUs = () => Date.now() * 1000;
const NOBODY = '9007199254740991';	// a well-formed id no test has

async function send(method, path, token, body) {
	const headers = {};
	if (body !== undefined)
		headers['Content-Type'] = Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
	const b = body === undefined || Buffer.isBuffer(body) ? body : JSON.stringify(body);
	try {
		return await api0.request({ method, path, token, headers, body: b });
	} catch (e) {
		return { status: 0, headers: {}, text: `no answer: ${e.message}`, json: undefined };
	}
}

// Every row of a user's tests, as text.
function rowsOf(uid) {
	const q = (sql) => query(stack, sql).map((r) => r.join('|')).join('\n');
	return {
		ping_tests: q(`SELECT t.id, t.user_id, t.state, t.count, t.interval_ms, t.client, t.created_at, t.closed_at,
		    s.summary FROM ping_tests t LEFT JOIN ping_summaries s ON s.test_id = t.id WHERE t.user_id = ${uid}
		    ORDER BY t.id`),
		ping_samples: q(`SELECT s.* FROM ping_samples s JOIN ping_tests p ON p.id = s.test_id
		    WHERE p.user_id = ${uid} ORDER BY s.test_id, s.seq`),
		throughput_tests: q(`SELECT id, user_id, direction, packets, packet_size, client, state, created_at, finished_at
		    FROM throughput_tests WHERE user_id = ${uid} ORDER BY id`),
		throughput_transfers: q(`SELECT x.* FROM throughput_transfers x JOIN throughput_tests p ON p.id = x.test_id
		    WHERE p.user_id = ${uid} ORDER BY x.test_id, x.direction, x.seq`),
	};
}

// ---- setup: A with a ping test and a throughput test in use, B with tests of its own -----

const ua = users.create();
const ub = users.create();
const A = { token: await api0.token(ua.username, ua.password) };
const B = { token: await api0.token(ub.username, ub.password) };
A.id = (await send('GET', '/api/v1/me', A.token)).json?.id;
B.id = (await send('GET', '/api/v1/me', B.token)).json?.id;
if (!Number.isInteger(A.id) || !Number.isInteger(B.id))
	t.bailOut('GET /me does not give the throwaway users their ids');

const pa = { id: 0, t0: 0 };
const ta = { id: 0, t0: 0, live: false };
const own = { ping: 0, tp: 0 };

await t.test("setup: A's ping test with echoes and a receipt", async () => {
	const res = await send('POST', '/api/v1/ping-tests', A.token, { count: 4, client: { os: 'a-os' } });
	if (!t.ok(res.status === 201, 'A creates a ping test of 4 samples', describe(res)))
		return;
	pa.id = res.json.id;
	pa.t0 = nowUs();
	for (const seq of [0, 1, 2]) {
		const e = await send('POST', `/api/v1/ping-tests/${pa.id}/echo`, A.token, { seq, client_sent_at: pa.t0 });
		t.is(e.status, 200, `A echoes sample ${seq}`);
		if (seq === 1)
			pa.echo1 = e.json;
	}
	await poll(() => Number(query(stack, `SELECT COUNT(*) FROM ping_samples WHERE test_id = ${pa.id}`)[0][0]) === 3);
	const r = await send('POST', `/api/v1/ping-tests/${pa.id}/receipts`, A.token,
	    { receipts: [{ seq: 0, client_received_at: pa.t0 + 2000 }] });
	t.is(r.status, 200, 'A sends the receipt of sample 0');
});

await t.test("setup: A's throughput test with a download, an upload and a report", async () => {
	const res = await send('POST', '/api/v1/throughput-tests', A.token, { direction: 'both', packets: 2, packet_size: 1024 });
	if (!t.ok(res.status === 201, 'A creates a throughput test (both directions, 2 packets of 1 KiB)', describe(res)))
		return;
	ta.id = res.json.id;
	ta.t0 = nowUs();
	const d = await send('GET', `/api/v1/throughput-tests/${ta.id}/download/0`, A.token);
	t.ok(d.status === 200 && d.body.length === 1024, 'A downloads packet 0', describe(d));
	const u = await send('PUT', `/api/v1/throughput-tests/${ta.id}/upload/0`, A.token, Buffer.alloc(1024, 3));
	t.is(u.status, 200, 'A uploads packet 0');
	const r = await send('POST', `/api/v1/throughput-tests/${ta.id}/reports`, A.token,
	    { packets: [{ direction: 'download', seq: 0, client_sent_at: ta.t0, client_first_byte_at: ta.t0 + 100,
	        client_received_at: ta.t0 + 500 }] });
	ta.live = t.is(r.status, 200, 'A reports download 0');
});

await t.test('setup: B has tests of its own', async () => {
	const p = await send('POST', '/api/v1/ping-tests', B.token, { count: 2 });
	const q = await send('POST', '/api/v1/throughput-tests', B.token, { direction: 'download', packets: 1, packet_size: 16 });
	own.ping = p.json?.id ?? 0;
	own.tp = q.json?.id ?? 0;
	t.ok(p.status === 201 && q.status === 201, 'B creates a ping test and a throughput test', `${describe(p)}\n${describe(q)}`);
});

// ---- what A has, before ------------------------------------------------------------------

const view = async () => ({
	ping: (await send('GET', `/api/v1/ping-tests/${pa.id}`, A.token)).text,
	tp: (await send('GET', `/api/v1/throughput-tests/${ta.id}`, A.token)).text,
	pingList: (await send('GET', '/api/v1/ping-tests', A.token)).text,
	tpList: (await send('GET', '/api/v1/throughput-tests', A.token)).text,
});
const viewBefore = await view();
const rowsBefore = rowsOf(A.id);

// ---- B against A's tests -------------------------------------------------------------------

// [what, method, path template ({id} is A's test or nobody's), body]
const attempts = () => [
	['read A\'s ping test', 'GET', '/api/v1/ping-tests/{p}'],
	['echo into A\'s ping test (a free seq)', 'POST', '/api/v1/ping-tests/{p}/echo', { seq: 3, client_sent_at: nowUs() }],
	['echo into A\'s ping test (a seq A already echoed: no 409 leak)', 'POST', '/api/v1/ping-tests/{p}/echo', { seq: 0, client_sent_at: nowUs() }],
	['echo into A\'s ping test (a seq past A\'s count: no 422 leak)', 'POST', '/api/v1/ping-tests/{p}/echo', { seq: 99, client_sent_at: nowUs() }],
	['send a receipt into A\'s ping test (an echoed sample)', 'POST', '/api/v1/ping-tests/{p}/receipts',
	    { receipts: [{ seq: 1, client_received_at: pa.t0 + 3000 }] }],
	['send a receipt into A\'s ping test (a receipted sample: no 409 leak)', 'POST', '/api/v1/ping-tests/{p}/receipts',
	    { receipts: [{ seq: 0, client_received_at: pa.t0 + 3000 }] }],
	['send a receipt into A\'s ping test (a sample never echoed: no 422 leak)', 'POST', '/api/v1/ping-tests/{p}/receipts',
	    { receipts: [{ seq: 3, client_received_at: pa.t0 + 3000 }] }],
	['close A\'s ping test', 'POST', '/api/v1/ping-tests/{p}/close'],
	['read A\'s throughput test', 'GET', '/api/v1/throughput-tests/{t}'],
	['download from A\'s throughput test (a packet not yet moved)', 'GET', '/api/v1/throughput-tests/{t}/download/1'],
	['download from A\'s throughput test (a packet A moved: no 409 leak)', 'GET', '/api/v1/throughput-tests/{t}/download/0'],
	['download from A\'s throughput test (a seq past A\'s packets: no 422 leak)', 'GET', '/api/v1/throughput-tests/{t}/download/2'],
	['upload to A\'s throughput test (a packet not yet moved)', 'PUT', '/api/v1/throughput-tests/{t}/upload/1', Buffer.alloc(1024, 9)],
	['upload to A\'s throughput test (a packet A moved: no 409 leak)', 'PUT', '/api/v1/throughput-tests/{t}/upload/0', Buffer.alloc(1024, 9)],
	['upload to A\'s throughput test (the wrong size: no 422 leak)', 'PUT', '/api/v1/throughput-tests/{t}/upload/1', Buffer.alloc(10, 9)],
	['report into A\'s throughput test (a moved packet)', 'POST', '/api/v1/throughput-tests/{t}/reports',
	    { packets: [{ direction: 'upload', seq: 0, client_sent_at: ta.t0, client_received_at: ta.t0 + 900 }] }],
	['report into A\'s throughput test (a reported packet: no 409 leak)', 'POST', '/api/v1/throughput-tests/{t}/reports',
	    { packets: [{ direction: 'download', seq: 0, client_sent_at: ta.t0, client_first_byte_at: ta.t0 + 100,
	        client_received_at: ta.t0 + 900 }] }],
	['abort A\'s throughput test', 'POST', '/api/v1/throughput-tests/{t}/abort'],
];

await t.test("B gets 404 for everything of A's, exactly as for a test that does not exist", async () => {
	if (!pa.id || !ta.id)
		return t.fail("B against A's tests", 'the setup made no tests for A');
	for (const [what, method, tpl, body] of attempts()) {
		const path = tpl.replace('{p}', pa.id).replace('{t}', ta.id);
		const res = await send(method, path, B.token, body);
		const r = expectError(res, 404, 'not_found');
		t.ok(r.pass, `B cannot ${what}: 404 not_found`, r.why);
		const ghost = await send(method, tpl.replace('{p}', NOBODY).replace('{t}', NOBODY), B.token, body);
		const same = res.status === ghost.status && res.text === ghost.text &&
		    (res.headers['content-type'] ?? '') === (ghost.headers['content-type'] ?? '');
		t.ok(same, `B's answer when trying to ${what} is identical to the answer for a test nobody has`,
		    `A's test: ${describe(res)}\nnobody's: ${describe(ghost)}`);
	}
});

await t.test("B's lists hold only B's tests", async () => {
	for (const [kind, path, aid, bid] of [['ping', '/api/v1/ping-tests', pa.id, own.ping],
	    ['throughput', '/api/v1/throughput-tests', ta.id, own.tp]]) {
		for (const q of ['', '?limit=100', `?cursor=${aid + 1}`, `?cursor=${aid + 1}&limit=1`, `?user_id=${A.id}`,
		    `?user=${ua.username}&owner=${A.id}`]) {
			const res = await send('GET', `${path}${q}`, B.token);
			const ids = (res.json?.tests ?? []).map((x) => x.id);
			t.ok(res.status === 200 && !ids.includes(aid),
			    `B's ${kind} list${q ? ` with ${q}` : ''} does not hold A's test`, describe(res));
		}
		const res = await send('GET', path, B.token);
		const ids = (res.json?.tests ?? []).map((x) => x.id);
		t.ok(ids.length === 1 && ids[0] === bid, `B's ${kind} list holds exactly B's one test`, `ids: ${ids.join(', ')}`);
		const mine = await send('GET', path, A.token);
		t.ok((mine.json?.tests ?? []).every((x) => x.id !== bid), `A's ${kind} list does not hold B's test`, describe(mine));
	}
});

await t.test("B cannot replay A's signed stamps into a test of its own", async () => {
	const x = pa.echo1;
	if (!x?.sig)
		return t.fail("B cannot replay A's signed stamps", 'no signed echo of A to replay');
	const bRows = rowsOf(B.id);
	const res = await send('POST', `/api/v1/ping-tests/${own.ping}/receipts`, B.token, { receipts: [{ seq: 1,
	    client_sent_at: pa.t0, server_received_at: x.server_received_at, server_sent_at: x.server_sent_at,
	    sig: x.sig, client_received_at: pa.t0 + 3000 }] });
	const r = expectError(res, 422, 'invalid_sig', { field: 'receipts[0].sig' });
	t.ok(r.pass, "A's sig on B's test (same seq and stamps) is refused with 422 invalid_sig", r.why);
	t.is(rowsOf(B.id).ping_samples, bRows.ping_samples, "B's test got no sample from A's stamps");
});

// ---- A's tests, after ----------------------------------------------------------------------

await t.test("A's tests are unchanged", async () => {
	await sleep(250);	// a wrongly accepted echo writes after answering
	const after = await view();
	t.is(after.ping, viewBefore.ping, "GET of A's ping test answers exactly as before");
	t.is(after.tp, viewBefore.tp, "GET of A's throughput test answers exactly as before");
	t.is(after.pingList, viewBefore.pingList, "A's ping test list is exactly as before");
	t.is(after.tpList, viewBefore.tpList, "A's throughput test list is exactly as before");
	const rows = rowsOf(A.id);
	for (const table of Object.keys(rowsBefore))
		t.is(rows[table], rowsBefore[table], `A's rows in ${table} are unchanged`);
	t.ok(JSON.parse(viewBefore.ping).state === 'incomplete' && JSON.parse(viewBefore.tp).state === 'incomplete',
	    "A's tests are still incomplete (neither closed nor aborted by B)");
});

await t.test('A can still use its tests', async () => {
	const e = await send('POST', `/api/v1/ping-tests/${pa.id}/echo`, A.token, { seq: 3, client_sent_at: nowUs() });
	t.is(e.status, 200, 'A echoes sample 3 (B did not take it)');
	const d = await send('GET', `/api/v1/throughput-tests/${ta.id}/download/1`, A.token);
	t.ok(d.status === 200 && d.body.length === 1024, 'A downloads packet 1 (B did not take it)', describe(d));
	const u = await send('PUT', `/api/v1/throughput-tests/${ta.id}/upload/1`, A.token, Buffer.alloc(1024, 4));
	t.is(u.status, 200, 'A uploads packet 1 (B did not take it)');
	const c = await send('POST', `/api/v1/ping-tests/${pa.id}/close`, A.token);
	t.is(c.status, 200, 'A closes its ping test');
	const g = await send('GET', `/api/v1/throughput-tests/${ta.id}`, A.token);
	t.is(g.json?.state, 'complete', "A's throughput test is complete with A's four packets");
});

await t.test('the throwaway users are deleted', async () => {
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'the throwaway users are deleted', errors.join('\n'));
});

await t.done();
