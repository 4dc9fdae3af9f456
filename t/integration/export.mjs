// export.mjs - a user's data out: every test with its samples, transfers and probes as CSV and NDJSON
// (filtered by time and kind, ending with an `end` record), and the aggregates by network type,
// platform, carrier or day; nobody gets another user's data.
import * as t from './lib/tap.mjs';
import { loadStack, stackEnvPath } from './lib/stack.mjs';
import { api, expectError } from './lib/http.mjs';
import { userFactory } from './lib/users.mjs';

const stack = loadStack();
if (!stack)
	t.skipAll(`no stack: ${stackEnvPath()} does not exist`);
const A = api(stack);
const users = userFactory(stack);
const me = users.create();
const other = users.create();
const token = await A.token(me.username, me.password);
const otherToken = await A.token(other.username, other.password);
const nowUs = () => Date.now() * 1000;

// A complete ping test of `count` samples, every one received; returns the read.
async function pingTest(tok, client, count = 3) {
	const c = await A.json('POST', '/api/v1/ping-tests', { count, client }, tok);
	const id = c.json.id;
	const receipts = [];
	for (let seq = 0; seq < count; seq++) {
		const t0 = nowUs();
		const e = await A.json('POST', `/api/v1/ping-tests/${id}/echo`, { seq, client_sent_at: t0 }, tok);
		receipts.push({ seq, client_received_at: Math.max(nowUs(), t0 + 1), client_sent_at: t0,
		    server_received_at: e.json.server_received_at, server_sent_at: e.json.server_sent_at, sig: e.json.sig });
	}
	await A.json('POST', `/api/v1/ping-tests/${id}/receipts`, { receipts }, tok);
	return (await A.get(`/api/v1/ping-tests/${id}`, tok)).json;
}

// An upload test of `packets` packets (the server is where the bytes arrive), with latency
// probes: three idle ones before the first packet, two in the upload phase after it, and their
// receipts with client stamps that make the idle RTT 1 ms and the loaded one 41 ms (a rise of
// 40 ms: grade B).
async function uploadTest(tok, client, packets = 2, size = 200000) {
	const c = await A.json('POST', '/api/v1/throughput-tests', { direction: 'upload', packets, packet_size: size, client }, tok);
	const id = c.json.id;
	const receipts = [];
	const probe = async (seq, phase, rtt) => {
		const t0 = nowUs();
		const p = await A.json('POST', `/api/v1/throughput-tests/${id}/probes`, { seq, phase, client_sent_at: t0 }, tok);
		receipts.push({ seq, phase, client_sent_at: t0, client_received_at: t0 + rtt,
		    server_received_at: p.json.server_received_at, server_sent_at: p.json.server_sent_at, sig: p.json.sig });
	};
	for (let seq = 0; seq < 3; seq++)
		await probe(seq, 'idle', 1000);
	for (let seq = 0; seq < packets; seq++) {
		await A.request({ method: 'PUT', path: `/api/v1/throughput-tests/${id}/upload/${seq}`, token: tok,
		    body: Buffer.alloc(size, 7), headers: { 'Content-Type': 'application/octet-stream' } });
		if (seq === 0) {
			await probe(3, 'upload', 41000);
			await probe(4, 'upload', 41000);
		}
	}
	await A.json('POST', `/api/v1/throughput-tests/${id}/probe-receipts`, { receipts }, tok);
	return (await A.get(`/api/v1/throughput-tests/${id}`, tok)).json;
}

const since = nowUs();
const wifi = await pingTest(token, { network_type: 'wifi', platform: 'node', carrier: 'acme' }, 4);
const cell = await pingTest(token, { network_type: 'cellular', platform: 'node' }, 2);
const up = await uploadTest(token, { network_type: 'wifi', platform: 'node' });
const strangers = await pingTest(otherToken, { network_type: 'wifi' }, 2);
const until = nowUs() + 1;

function ndjson(text) {
	return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// RFC 4180 rows (quoted fields may hold commas and doubled quotes).
function csv(text) {
	const rows = [];
	for (const line of text.split('\r\n').filter(Boolean)) {
		const cells = [];
		let cur = '', q = false;
		for (let i = 0; i < line.length; i++) {
			const ch = line[i];
			if (q && ch === '"' && line[i + 1] === '"') {
				cur += '"';
				i++;
			} else if (ch === '"') {
				q = !q;
			} else if (ch === ',' && !q) {
				cells.push(cur);
				cur = '';
			} else {
				cur += ch;
			}
		}
		cells.push(cur);
		rows.push(cells);
	}
	const [head, ...body] = rows;
	return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

await t.test('NDJSON: every test of the user, each before its items, and an end record', async () => {
	const r = await A.get(`/api/v1/export/tests.ndjson?from=${since}&to=${until}`, token);
	t.is(r.status, 200, 'it answers 200');
	t.like(r.headers['content-type'] ?? '', /^application\/x-ndjson/, 'as application/x-ndjson');
	t.ok(r.headers['content-length'] === undefined, 'streamed (no Content-Length)');
	const recs = ndjson(r.text);
	const tests = recs.filter((x) => /_test$/.test(x.type)).map((x) => x.test_id);
	t.is(tests, [wifi.id, cell.id, up.id], 'the user\'s three tests of the range, ping tests first');
	t.ok(!recs.some((x) => x.test_id === strangers.id), 'another user\'s test is not there');
	const end = recs[recs.length - 1];
	t.is(end, { type: 'end', tests: 3, records: recs.length - 1 }, 'the last record is end, counting what came');
	const samples = recs.filter((x) => x.type === 'ping_sample' && x.test_id === wifi.id);
	t.is(samples.map(({ type, test_id, ...s }) => s), wifi.samples, 'the samples are the read\'s, field by field');
	const xfers = recs.filter((x) => x.type === 'transfer');
	t.is(xfers.map(({ type, test_id, ...x }) => x).map((x) => Object.keys(x).sort()),
	    up.transfers.map((x) => Object.keys(x).sort()), 'a transfer has the read\'s fields');
	t.is(xfers.map((x) => x.bits_per_second), up.transfers.map((x) => x.bits_per_second),
	    'and its receiver-side rate');
	const probes = recs.filter((x) => x.type === 'probe');
	t.is(probes.map(({ type, test_id, ...p }) => p), up.probes, 'the probes are the read\'s, field by field');
	t.ok(probes.every((p) => p.test_id === up.id) && recs.indexOf(probes[0]) >
	    recs.findIndex((x) => x.type === 'throughput_test' && x.test_id === up.id),
	    'each after its test\'s record');
	const head = recs.find((x) => x.test_id === wifi.id);
	t.is(head.client, { carrier: 'acme', network_type: 'wifi', platform: 'node' }, 'a test carries its client object');
	t.is(recs.indexOf(head) < recs.indexOf(recs.find((x) => x.type === 'ping_sample' && x.test_id === wifi.id)), true,
	    'a test\'s record comes before its samples');
});

await t.test('CSV: the same records, one header row', async () => {
	const r = await A.get(`/api/v1/export/tests.csv?from=${since}&to=${until}`, token);
	t.is(r.status, 200, 'it answers 200');
	t.like(r.headers['content-type'] ?? '', /^text\/csv/, 'as text/csv');
	t.like(r.headers['content-disposition'] ?? '', /attachment; filename="pingoo-tests\.csv"/, 'as a file to save');
	const rows = csv(r.text);
	const nd = ndjson((await A.get(`/api/v1/export/tests.ndjson?from=${since}&to=${until}`, token)).text);
	t.is(rows.map((x) => x.record), nd.map((x) => x.type), 'row for row what the NDJSON export has');
	const s = rows.find((x) => x.record === 'ping_sample' && x.test_id === String(wifi.id) && x.seq === '1');
	t.is(s.rtt_us, String(wifi.samples[1].rtt_us), 'a sample\'s rtt_us is the read\'s');
	t.is(JSON.parse(rows.find((x) => x.test_id === String(cell.id)).client), { network_type: 'cellular', platform: 'node' },
	    'the client object is one quoted JSON cell');
	t.is(rows.filter((x) => x.record === 'transfer').map((x) => x.bits_per_second),
	    up.transfers.map((x) => String(x.bits_per_second)), 'transfers carry their receiver-side rates');
	t.is(rows.filter((x) => x.record === 'probe').map((x) => [x.seq, x.phase, x.rtt_us]),
	    up.probes.map((p) => [String(p.seq), p.phase, String(p.rtt_us)]), 'probes carry their phase and RTT');
});

await t.test('filters: kind and time range', async () => {
	const p = ndjson((await A.get(`/api/v1/export/tests.ndjson?kind=ping&from=${since}&to=${until}`, token)).text);
	t.ok(p.every((x) => x.type !== 'throughput_test' && x.type !== 'transfer'), 'kind=ping has no throughput test');
	const tp = ndjson((await A.get(`/api/v1/export/tests.ndjson?kind=throughput&from=${since}&to=${until}`, token)).text);
	t.is(tp.filter((x) => x.type === 'throughput_test').map((x) => x.test_id), [up.id], 'kind=throughput has the upload test only');
	const early = ndjson((await A.get(`/api/v1/export/tests.ndjson?to=${cell.created_at}&from=${since}`, token)).text);
	t.is(early.filter((x) => /_test$/.test(x.type)).map((x) => x.test_id), [wifi.id], 'to is exclusive: the tests created before it');
	const none = ndjson((await A.get('/api/v1/export/tests.ndjson?from=1&to=2', token)).text);
	t.is(none, [{ type: 'end', tests: 0, records: 0 }], 'an empty range is just the end record');
});

await t.test('bad queries are refused before anything is sent', async () => {
	for (const [q, field] of [['from=abc', 'from'], ['from=5&to=5', 'to'], ['kind=dns', 'kind'], ['to=1&to=2', 'to']]) {
		const e = expectError(await A.get(`/api/v1/export/tests.csv?${q}`, token), 400, 'invalid_query', { field });
		t.ok(e.pass, `${q} is 400 invalid_query naming ${field}`, e.why);
	}
	const g = expectError(await A.get('/api/v1/export/aggregates?group=os', token), 400, 'invalid_query', { field: 'group' });
	t.ok(g.pass, 'an unknown group is refused', g.why);
	const n = expectError(await A.get('/api/v1/export/tests.ndjson'), 401, 'unauthorized');
	t.ok(n.pass, 'no token: 401', n.why);
});

await t.test('aggregates by network type: counts, RTT, loss and receiver-side rates of the user only', async () => {
	const r = await A.get(`/api/v1/export/aggregates?group=network_type&from=${since}&to=${until}`, token);
	t.is(r.status, 200, 'it answers 200');
	const by = Object.fromEntries(r.json.groups.map((g) => [g.key, g]));
	t.is(Object.keys(by).sort(), ['cellular', 'wifi'], 'one group per network type the user\'s tests named');
	t.is(by.wifi.ping.tests, 1, 'wifi has one ping test (the other user\'s is not counted)');
	t.is(by.wifi.ping.planned, 4, 'of four planned samples');
	t.is(by.wifi.ping.loss_pct, 0, 'none lost');
	t.is(by.wifi.ping.rtt_median_us, wifi.summary.rtt_median_us, 'its RTT median is the test\'s own (all its samples)');
	t.is(by.wifi.ping.rtt_p90_us, wifi.summary.rtt_p90_us, 'and its p90');
	t.is(by.wifi.throughput.upload.bits_per_second_median, up.summary.upload.bits_per_second,
	    'the upload rate is summary.upload.bits_per_second, measured where the bytes arrived');
	t.is(by.wifi.throughput.download.tests, 0, 'no download was measured');
	t.is(by.cellular.throughput.tests, 0, 'cellular ran no throughput test');
	t.is([up.summary.latency.upload.rise_median_us, up.summary.bufferbloat_grade], [40000, 'B'],
	    'the upload test\'s probes rise 40 ms under load: grade B');
	t.is(by.wifi.loaded_latency, { rise_median_us: 40000, bufferbloat_grade: 'B' },
	    'wifi\'s loaded latency is the median of its tests\' largest rises, graded as a test\'s');
	t.is(by.cellular.loaded_latency, { rise_median_us: null, bufferbloat_grade: null },
	    'a group without probes has no loaded latency');
	const day = await A.get(`/api/v1/export/aggregates?group=day&kind=ping&from=${since}&to=${until}`, token);
	const today = new Date(wifi.created_at / 1000).toISOString().slice(0, 10);
	t.ok(day.json.groups.some((g) => g.key === today && g.ping.tests >= 2 && g.throughput === null),
	    'by day: the UTC day, and kind=ping leaves throughput null', JSON.stringify(day.json.groups));
	const o = await A.get(`/api/v1/export/aggregates?group=carrier&from=${since}&to=${until}`, otherToken);
	t.is(o.json.groups.map((g) => [g.key, g.ping.tests]), [[null, 1]], 'the other user sees only their own test');
});

t.is(users.cleanup(), [], 'the test users are removed');
await t.done();
