// retention.mjs - deleting tests: one (ping or throughput) or all of a user's, never another
// user's; and the retention period, which removes old tests in small batches in the background
// while the echo goes on answering.
import * as t from './lib/tap.mjs';
import { loadStack, stackEnvPath, readConfig } from './lib/stack.mjs';
import { api, request, expectError, describe } from './lib/http.mjs';
import { userFactory } from './lib/users.mjs';
import { query, scalar, count } from './lib/db.mjs';
import { poll } from './lib/poll.mjs';

const stack = loadStack();
if (!stack)
	t.skipAll(`no stack: ${stackEnvPath()} does not exist`);
const A = api(stack);
const cfg = readConfig(stack) || {};
const users = userFactory(stack);
const me = users.create();
const other = users.create();
const token = await A.token(me.username, me.password);
const otherToken = await A.token(other.username, other.password);

const ping = async (tok) => (await A.json('POST', '/api/v1/ping-tests', { count: 2 }, tok)).json.id;
const tput = async (tok) => (await A.json('POST', '/api/v1/throughput-tests',
    { direction: 'download', packets: 1, packet_size: 100 }, tok)).json.id;

await t.test('a user deletes one of their tests', async () => {
	const id = await ping(token);
	await A.json('POST', `/api/v1/ping-tests/${id}/echo`, { seq: 0, client_sent_at: Date.now() * 1000 }, token);
	const theirs = await ping(otherToken);
	const e = expectError(await A.request({ method: 'DELETE', path: `/api/v1/ping-tests/${theirs}`, token }), 404, 'not_found');
	t.ok(e.pass, 'another user\'s test answers 404, as a read does', e.why);
	t.is((await A.get(`/api/v1/ping-tests/${theirs}`, otherToken)).status, 200, 'and it is still there for its owner');
	const d = await A.request({ method: 'DELETE', path: `/api/v1/ping-tests/${id}`, token });
	t.is(d.status, 204, 'DELETE of one\'s own ping test answers 204');
	t.is((await A.get(`/api/v1/ping-tests/${id}`, token)).status, 404, 'it reads 404 afterwards');
	await poll(() => count(stack, 'ping_samples', `test_id = ${id}`) === 0, 3000, 100);
	t.is(count(stack, 'ping_samples', `test_id = ${id}`), 0, 'its samples are gone');
	const again = expectError(await A.request({ method: 'DELETE', path: `/api/v1/ping-tests/${id}`, token }), 404, 'not_found');
	t.ok(again.pass, 'deleting it again is 404', again.why);
	const echo = expectError(await A.json('POST', `/api/v1/ping-tests/${id}/echo`, { seq: 1, client_sent_at: Date.now() * 1000 }, token),
	    404, 'not_found');
	t.ok(echo.pass, 'its echo is 404 now', echo.why);
	const tid = await tput(token);
	const probe = (seq) => A.json('POST', `/api/v1/throughput-tests/${tid}/probes`,
	    { seq, phase: 'idle', client_sent_at: Date.now() * 1000 }, token);
	t.is((await probe(0)).status, 200, 'the throughput test has a probe');
	await poll(() => count(stack, 'throughput_probes', `test_id = ${tid}`) === 1, 3000, 100);
	t.is((await A.request({ method: 'DELETE', path: `/api/v1/throughput-tests/${tid}`, token })).status, 204,
	    'DELETE of one\'s own throughput test answers 204');
	t.is((await A.get(`/api/v1/throughput-tests/${tid}`, token)).status, 404, 'it reads 404 afterwards');
	t.is(count(stack, 'throughput_probes', `test_id = ${tid}`), 0, 'its probes are gone');
	const late = expectError(await probe(1), 404, 'not_found');
	t.ok(late.pass, 'its probe is 404 now', late.why);
	const bad = expectError(await A.request({ method: 'DELETE', path: '/api/v1/ping-tests/0', token }), 400, 'invalid_path');
	t.ok(bad.pass, 'a bad id is 400 invalid_path', bad.why);
});

await t.test('a user deletes all of their tests, and only theirs', async () => {
	await ping(token);
	await ping(token);
	await tput(token);
	const theirs = await ping(otherToken);
	const r = await A.request({ method: 'DELETE', path: '/api/v1/tests', token });
	t.is(r.status, 200, 'DELETE /api/v1/tests answers 200');
	t.is(r.json?.deleted, { ping: 2, throughput: 1 }, 'it says how many of each kind went');
	t.is((await A.get('/api/v1/ping-tests', token)).json.tests, [], 'the ping list is empty');
	t.is((await A.get('/api/v1/throughput-tests', token)).json.tests, [], 'the throughput list is empty');
	t.is((await A.get(`/api/v1/ping-tests/${theirs}`, otherToken)).status, 200, 'the other user\'s test is still there');
	const again = await A.request({ method: 'DELETE', path: '/api/v1/tests', token });
	t.is(again.json?.deleted, { ping: 0, throughput: 0 }, 'again: nothing left to delete');
	const get = expectError(await A.get('/api/v1/tests', token), 405, 'method_not_allowed');
	t.ok(get.pass, 'GET /api/v1/tests is 405', get.why);
	const n = expectError(await request(stack, { method: 'DELETE', path: '/api/v1/tests' }), 401, 'unauthorized');
	t.ok(n.pass, 'without a token: 401', n.why);
});

await t.test('a history too large to delete within the request goes on in the background, its progress readable', async () => {
	const big = users.create();
	const bigToken = await A.token(big.username, big.password);
	const uid = scalar(stack, `SELECT id FROM users WHERE name = '${big.username}'`);
	const n = 20000;
	const now = Date.now() * 1000;
	query(stack, `INSERT INTO ping_tests (user_id, state, count, created_at, closed_at)` +
	    ` SELECT ${uid}, 'complete', 2, ${now} + seq, ${now} + seq + 1 FROM seq_1_to_${n};` +
	    ` INSERT INTO ping_samples (test_id, seq, client_sent_at, server_received_at, server_sent_at)` +
	    ` SELECT t.id, s.seq, t.created_at, t.created_at + 10, t.created_at + 20 FROM ping_tests t` +
	    ` JOIN seq_0_to_1 s WHERE t.user_id = ${uid}`, { timeoutMs: 60000 });
	t.is(count(stack, 'ping_tests', `user_id = ${uid}`), n, `${n} tests are planted`);
	const none = expectError(await A.get('/api/v1/tests/deletion', bigToken), 404, 'not_found');
	t.ok(none.pass, 'before any deletion its progress is 404', none.why);
	const started = Date.now();
	const r = await A.request({ method: 'DELETE', path: '/api/v1/tests', token: bigToken, timeoutMs: 30000 });
	const answerMs = Date.now() - started;
	t.ok(r.status === 202 && r.json?.deletion?.state === 'running' &&
	    r.headers.location === '/api/v1/tests/deletion',
	    `the DELETE answers 202 with its progress in ${answerMs} ms`, describe(r));
	t.ok(answerMs < 10000, `well within nginx's timeout (${answerMs} ms)`);
	const soFar = r.json?.deleted?.ping ?? -1;
	t.ok(soFar >= 0 && soFar < n && count(stack, 'ping_tests', `user_id = ${uid}`) <= n - soFar,
	    `the ${soFar} tests it counts are gone`);
	let last = null;
	const done = await poll(async () => {
		const g = await A.get('/api/v1/tests/deletion', bigToken);
		last = g.json;
		return g.status === 200 && g.json.state === 'done';
	}, 300000, 250);
	t.diag(`the deletion took ${((Date.now() - started) / 1000).toFixed(1)} s`);
	t.ok(done && last.deleted.ping === n && last.deleted.throughput === 0 && last.finished_at !== null,
	    'its progress reads done with every test counted', JSON.stringify(last));
	t.is(count(stack, 'ping_tests', `user_id = ${uid}`), 0, 'no test of the user is left');
	t.is(Number(scalar(stack, `SELECT COUNT(*) FROM ping_samples s JOIN ping_tests t ON t.id = s.test_id ` +
	    `WHERE t.user_id = ${uid}`)), 0, 'nor any of their samples');
	const other = await A.get('/api/v1/tests/deletion', token);
	t.ok(other.status === 404 || other.json?.deleted?.ping !== n,
	    'another user reads their own progress, never this one');
	users.delete(big.username);
});

await t.test('the retention removes old tests in batches, not the recent ones', async () => {
	const days = Number(cfg.retention_days ?? 0);
	const batch = Number(cfg.retention_batch ?? 500);
	if (!(days > 0)) {
		t.fail('the stack sets retention_days', `${cfg.__file}: retention_days=${cfg.retention_days}`);
		return;
	}
	const uid = scalar(stack, `SELECT id FROM users WHERE name = '${me.username}'`);
	const old = (Date.now() - (days + 30) * 86400000) * 1000;
	const samples = batch * 3 + 7;
	// An old ping test with more samples than three batches, and an old throughput test with
	// more probes than two.
	// The background thread may take the old rows as soon as they are committed, so the plant
	// is checked by what the INSERT itself reports, not by a count read afterwards.
	const planted = query(stack, `INSERT INTO ping_tests (user_id, state, count, created_at, closed_at) VALUES (${uid}, 'complete', ${samples}, ${old}, ${old + 1});` +
	    ` SET @p = LAST_INSERT_ID();` +
	    ` INSERT INTO ping_samples (test_id, seq, client_sent_at, server_received_at, server_sent_at, client_received_at)` +
	    ` SELECT @p, seq, ${old}, ${old + 10}, ${old + 20}, ${old + 30} FROM seq_0_to_${samples - 1};` +
	    ` SELECT ROW_COUNT();` +
	    ` INSERT INTO throughput_tests (user_id, direction, packets, packet_size, state, created_at) VALUES (${uid}, 'upload', 3, 10, 'complete', ${old});` +
	    ` SET @t = LAST_INSERT_ID();` +
	    ` INSERT INTO throughput_transfers (test_id, direction, seq, status, bytes, server_started_at, server_finished_at)` +
	    ` SELECT @t, 'upload', seq, 'ok', 10, ${old}, ${old + 5} FROM seq_0_to_2;` +
	    ` INSERT INTO throughput_probes (test_id, seq, phase, client_sent_at, server_received_at, server_sent_at, client_received_at)` +
	    ` SELECT @t, seq, 'idle', ${old}, ${old + 10}, ${old + 20}, ${old + 30} FROM seq_0_to_${batch * 2 + 2};` +
	    ` SELECT @p, @t;`);
	const [oldPing, oldTp] = (planted[1] ?? []).map(Number);
	const recent = await ping(token);
	t.is(Number(planted[0]?.[0]), samples, `an old test with ${samples} samples is planted`);
	// The echo goes on while the pass runs.
	const live = await A.json('POST', '/api/v1/ping-tests', { count: 50 }, token);
	let worst = 0, refused = 0;
	for (let seq = 0; seq < 50; seq++) {
		const e = await A.json('POST', `/api/v1/ping-tests/${live.json.id}/echo`, { seq, client_sent_at: Date.now() * 1000 }, token);
		worst = Math.max(worst, e.ms);
		refused += e.status !== 200;
	}
	const gone = await poll(() => count(stack, 'ping_tests', `id = ${oldPing}`) === 0 &&
	    count(stack, 'throughput_tests', `id = ${oldTp}`) === 0, 30000, 200);
	t.ok(gone, 'the old ping and throughput tests are removed by the background thread');
	t.is(count(stack, 'ping_samples', `test_id = ${oldPing}`), 0, 'with every sample');
	t.is(count(stack, 'throughput_transfers', `test_id = ${oldTp}`), 0, 'and every transfer');
	t.is(count(stack, 'throughput_probes', `test_id = ${oldTp}`), 0, 'and every probe');
	t.is((await A.get(`/api/v1/ping-tests/${recent}`, token)).status, 200, 'a recent test stays');
	t.is(refused, 0, 'every echo meanwhile was answered 200', `worst ${worst.toFixed(1)} ms`);
	const metrics = (await request(stack, { path: '/metrics' })).text;
	t.like(metrics, /^pingoo_tests_expired_total\{kind="ping"\} [1-9]/m, 'pingoo_tests_expired_total counts it');
});

await t.test('the retention never removes a test still running, and removes one its client left', async () => {
	const days = Number(cfg.retention_days ?? 0);
	if (!(days > 0)) {
		t.fail('the stack sets retention_days', `${cfg.__file}: retention_days=${cfg.retention_days}`);
		return;
	}
	const uid = scalar(stack, `SELECT id FROM users WHERE name = '${me.username}'`);
	const old = (Date.now() - (days + 30) * 86400000) * 1000;
	const now = Date.now() * 1000;
	// Created long ago, still incomplete: one with a sample received a moment ago, one whose
	// last sample is as old as itself, and a throughput test with a probe a moment ago.
	const planted = query(stack,
	    `INSERT INTO ping_tests (user_id, state, count, created_at) VALUES (${uid}, 'incomplete', 100, ${old});` +
	    ` SET @a = LAST_INSERT_ID();` +
	    ` INSERT INTO ping_samples (test_id, seq, client_sent_at, server_received_at, server_sent_at)` +
	    ` VALUES (@a, 0, ${old}, ${old + 10}, ${old + 20}), (@a, 1, ${now}, ${now + 10}, ${now + 20});` +
	    ` INSERT INTO ping_tests (user_id, state, count, created_at) VALUES (${uid}, 'incomplete', 100, ${old});` +
	    ` SET @b = LAST_INSERT_ID();` +
	    ` INSERT INTO ping_samples (test_id, seq, client_sent_at, server_received_at, server_sent_at)` +
	    ` VALUES (@b, 0, ${old}, ${old + 10}, ${old + 20});` +
	    ` INSERT INTO throughput_tests (user_id, direction, packets, packet_size, state, created_at)` +
	    ` VALUES (${uid}, 'upload', 3, 10, 'incomplete', ${old});` +
	    ` SET @c = LAST_INSERT_ID();` +
	    ` INSERT INTO throughput_probes (test_id, seq, phase, client_sent_at, server_received_at, server_sent_at)` +
	    ` VALUES (@c, 0, 'idle', ${now}, ${now + 10}, ${now + 20});` +
	    ` SELECT @a, @b, @c;`);
	const [running, left, runningTp] = (planted[0] ?? []).map(Number);
	// A test the live table holds: created through the API, echoed, then made old, as if
	// its client had left it long ago.
	const live = (await A.json('POST', '/api/v1/ping-tests', { count: 10 }, token)).json.id;
	t.is((await A.json('POST', `/api/v1/ping-tests/${live}/echo`, { seq: 0, client_sent_at: Date.now() * 1000 },
	    token)).status, 200, 'a test the live table holds answers its first echo');
	await poll(() => count(stack, 'ping_samples', `test_id = ${live}`) === 1, 5000, 50);
	query(stack, `UPDATE ping_samples SET client_sent_at = ${old}, server_received_at = ${old + 10}, ` +
	    `server_sent_at = ${old + 20} WHERE test_id = ${live};` +
	    ` UPDATE ping_tests SET created_at = ${old} WHERE id = ${live}`);
	const gone = await poll(() => count(stack, 'ping_tests', `id IN (${left}, ${live})`) === 0, 30000, 200);
	t.ok(gone, 'the incomplete tests whose clients left them long ago are removed');
	t.is(count(stack, 'ping_tests', `id = ${running}`), 1, 'an old incomplete ping test with a sample a moment ago stays');
	t.is(count(stack, 'ping_samples', `test_id = ${running}`), 2, 'with its samples');
	t.is(count(stack, 'throughput_tests', `id = ${runningTp}`), 1,
	    'an old incomplete throughput test with a probe a moment ago stays');
	const e = await A.json('POST', `/api/v1/ping-tests/${live}/echo`, { seq: 1, client_sent_at: Date.now() * 1000 }, token);
	t.is(e.status, 404, 'the removed test\'s next echo is 404: the live table was told', `got ${e.status}`);
	query(stack, `DELETE FROM ping_tests WHERE id = ${running}; DELETE FROM throughput_tests WHERE id = ${runningTp}`);
});

t.is(users.cleanup(), [], 'the test users are removed');
await t.done();
