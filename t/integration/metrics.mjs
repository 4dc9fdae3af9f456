// metrics.mjs - GET /metrics: Prometheus text that promtool accepts, every family pingoo_*,
// counters summed over the worker processes that move as requests are made, and nginx's 403
// to an address outside metrics_allow.
import { execFileSync } from 'node:child_process';
import * as t from './lib/tap.mjs';
import { loadStack, stackEnvPath, readConfig, poolPids, childPids, pidAlive } from './lib/stack.mjs';
import { api, request, expectError } from './lib/http.mjs';
import { poll } from './lib/poll.mjs';

const stack = loadStack();
if (!stack)
	t.skipAll(`no stack: ${stackEnvPath()} does not exist`);
const A = api(stack);
const cfg = readConfig(stack) || {};

async function scrape() {
	const r = await request(stack, { path: '/metrics' });
	if (r.status !== 200)
		throw new Error(`/metrics answered ${r.status}: ${r.text.slice(0, 200)}`);
	return r;
}

// The value of one sample line (name with its labels, exactly as exposed), 0 when absent.
function value(text, series) {
	for (const line of text.split('\n'))
		if (line.startsWith(series + ' '))
			return Number(line.slice(series.length + 1));
	return 0;
}

async function sample(series) {
	return value((await scrape()).text, series);
}

await t.test('the exposition is Prometheus text that promtool accepts', async () => {
	const r = await scrape();
	t.like(r.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/, 'text/plain, version 0.0.4');
	const names = new Set(r.text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
	t.ok(names.size > 0, `it has samples (${names.size} series names)`);
	t.ok([...names].every((n) => n.startsWith('pingoo_')), 'every family is named pingoo_*', [...names].filter((n) => !n.startsWith('pingoo_')).join(' '));
	for (const family of ['pingoo_http_requests_total', 'pingoo_http_request_duration_seconds_bucket',
	    'pingoo_tests_created_total', 'pingoo_tests_completed_total', 'pingoo_ping_samples_recorded_total',
	    'pingoo_throughput_packets_recorded_total', 'pingoo_db_errors_total', 'pingoo_db_reconnects_total',
	    'pingoo_echo_queue_depth', 'pingoo_workers_replaced_total'])
		t.ok(names.has(family), `${family} is exposed`);
	let out = '';
	let ok = true;
	try {
		out = execFileSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
	} catch (e) {
		ok = false;
		out = `${e.stdout ?? ''}${e.stderr ?? e.message}`;
	}
	t.ok(ok, 'promtool check metrics accepts it', out);
});

await t.test('requests are counted by route and status, over every worker process', async () => {
	const token = await A.login();
	const series = 'pingoo_http_requests_total{route="/api/v1/me",status="200"}';
	const hist = 'pingoo_http_request_duration_seconds_count{route="/api/v1/me"}';
	const notFound = 'pingoo_http_requests_total{route="none",status="404"}';
	const before = await scrape();
	for (let i = 0; i < 20; i++)
		await A.get('/api/v1/me', token);
	await A.get('/api/v1/no-such-route', token);
	const after = await scrape();
	t.is(value(after.text, series) - value(before.text, series), 20, '20 answers of /me count 20, whichever process served them');
	t.is(value(after.text, hist) - value(before.text, hist), 20, 'and 20 in its latency histogram');
	t.is(value(after.text, notFound) - value(before.text, notFound), 1, 'a path that names no route counts under route "none"');
});

await t.test('tests, samples and packets are counted as they are recorded', async () => {
	const token = await A.login();
	const created = 'pingoo_tests_created_total{kind="ping"}';
	const completed = 'pingoo_tests_completed_total{kind="ping"}';
	const samples = 'pingoo_ping_samples_recorded_total';
	const tpDone = 'pingoo_tests_completed_total{kind="throughput"}';
	const upOk = 'pingoo_throughput_packets_recorded_total{direction="upload",status="ok"}';
	const b = (await scrape()).text;
	const p = await A.json('POST', '/api/v1/ping-tests', { count: 2 }, token);
	t.is(p.status, 201, 'a ping test is created');
	for (const seq of [0, 1])
		await A.json('POST', `/api/v1/ping-tests/${p.json.id}/echo`, { seq, client_sent_at: Date.now() * 1000 }, token);
	const moved = await poll(async () => (await sample(samples)) - value(b, samples) >= 2, 5000, 100);
	t.ok(moved, 'two echoes are counted as samples once the writer has them in MySQL');
	await A.json('POST', `/api/v1/ping-tests/${p.json.id}/close`, undefined, token);
	const tp = await A.json('POST', '/api/v1/throughput-tests', { direction: 'upload', packets: 1, packet_size: 1000 }, token);
	await A.request({ method: 'PUT', path: `/api/v1/throughput-tests/${tp.json.id}/upload/0`, token,
	    body: Buffer.alloc(1000), headers: { 'Content-Type': 'application/octet-stream' } });
	const a = (await scrape()).text;
	t.is(value(a, created) - value(b, created), 1, 'tests_created_total{kind="ping"} moved by one');
	t.is(value(a, completed) - value(b, completed), 1, 'closing it moved tests_completed_total{kind="ping"} by one');
	t.is(value(a, upOk) - value(b, upOk), 1, 'an uploaded packet is counted, by direction and outcome');
	t.is(value(a, tpDone) - value(b, tpDone), 1, 'its last packet completed the throughput test');
});

await t.test('a worker that dies is counted as replaced', async () => {
	const sup = (poolPids(stack) ?? [])[0];
	const kids = sup ? childPids(sup) : [];
	if (!sup || kids.length === 0 || Number(cfg.processes ?? 2) === 0) {
		t.fail('the pool has a supervisor and workers', `pidfile ${stack.PINGOO_POOL_PIDFILE}`);
		return;
	}
	const series = 'pingoo_workers_replaced_total';
	const before = await sample(series);
	process.kill(kids[0], 'SIGKILL');
	await poll(() => !pidAlive(kids[0]), 5000, 50);
	const moved = await poll(async () => {
		try {
			return (await sample(series)) === before + 1;
		} catch {
			return false;
		}
	}, 15000, 200);
	t.ok(moved, 'pingoo_workers_replaced_total moved by one');
	await poll(() => childPids(sup).length === kids.length, 15000, 100);
});

await t.test('an address outside metrics_allow gets nginx\'s JSON 403', async () => {
	const r = await request(stack, { path: '/metrics', localAddress: '127.0.0.2' });
	const e = expectError(r, 403, 'forbidden');
	t.ok(e.pass, '127.0.0.2 (loopback, but not in the list) is refused', e.why);
	t.ok(!/pingoo_/.test(r.text), 'and sees no metric');
});

await t.done();
