// sdk.mjs - the JavaScript SDK (sdk/js) against the real local stack, over HTTPS through
// nginx: login and me, the server's error codes, a whole ping test and whole throughput tests
// (download, upload, both) whose summaries equal what GET returns and what MariaDB stores,
// abort in the middle of each kind, history.  TAP on stdout.
//
// Run: node t/sdk/sdk.mjs   (from any directory, after deploy/local/up)
// Skips when var/stack.env is absent, fails instead when PINGOO_REQUIRE_STACK=1.
// Node's fetch must trust the stack's self-signed certificate: when NODE_EXTRA_CA_CERTS is not
// already $PINGOO_CA_FILE, the script runs itself again with it set (Node reads it at start).

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadStack, stackEnvPath } from '../integration/lib/stack.mjs';

const stack = loadStack();
if (stack && stack.PINGOO_CA_FILE && /^https:/i.test(stack.PINGOO_URL) &&
    process.env.NODE_EXTRA_CA_CERTS !== stack.PINGOO_CA_FILE &&
    process.env.PINGOO_SDK_REEXEC !== '1') {
	const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
		stdio: 'inherit',
		env: { ...process.env, NODE_EXTRA_CA_CERTS: stack.PINGOO_CA_FILE, PINGOO_SDK_REEXEC: '1' },
	});
	process.exit(r.status ?? 1);
}

const t = await import('../integration/lib/tap.mjs');
const { rejects } = t;
const { pingSummary, median, percentile, sortNum, latencySummary } = await import('../integration/lib/summary.mjs');
const { records } = await import('../integration/lib/db.mjs');
const { Pingoo, PingooError } = await import('../../sdk/js/src/pingoo.js');

if (!stack)
	t.skipAll(`no stack: ${stackEnvPath()} does not exist (run deploy/local/up)`);
const need = ['PINGOO_URL', 'PINGOO_DEMO_USER', 'PINGOO_DEMO_PASSWORD', 'PINGOO_DB_SOCKET',
	'PINGOO_DB_NAME', 'PINGOO_DB_USER', 'PINGOO_DB_PASSWORD'];
const missing = need.filter((k) => !stack[k]);
if (missing.length)
	t.skipAll(`${stack.envFile} lacks ${missing.join(', ')}`);
const base = stack.PINGOO_URL;

try {
	await new Pingoo({ baseUrl: base }).health();
} catch (e) {
	t.skipAll(`the stack of ${stack.envFile} does not answer at ${base}: ${e.message}`);
}

// ---- MariaDB, through the mariadb client -------------------------------------------------

// Rows of a query as objects; each ? is replaced by one integer argument.
function sql(text, ...args) {
	return records(stack, text.replace(/\?/g, () => {
		const v = args.shift();
		if (!Number.isInteger(v))
			throw new Error(`sql(): only integer parameters, got ${v}`);
		return String(v);
	}));
}

// Compares the API object's fields with a DB row's columns of the same name (numbers as
// text); returns the differences.  Fields the table does not have are not compared.
function diffRow(obj, row, what) {
	const bad = [];
	let n = 0;
	for (const [k, v] of Object.entries(obj)) {
		if (!(k in row) || (v !== null && typeof v === 'object'))
			continue;
		n++;
		const db = row[k];
		const same = v === null ? db === null
		    : typeof v === 'number' ? db !== null && Number(db) === v
		    : typeof v === 'boolean' ? Number(db) === Number(v)
		    : String(v) === db;
		if (!same)
			bad.push(`${what}.${k}: API ${JSON.stringify(v)}, DB ${JSON.stringify(db)}`);
	}
	return { bad, n };
}

// ---- helpers -------------------------------------------------------------------------------

function errorIs(e, status, code, sentence) {
	return t.ok(e instanceof PingooError && e.status === status && e.code === code, sentence,
	    e ? `got ${e.name} status ${e.status} code ${e.code}: ${e.message}` : 'it did not fail');
}

const client = { platform: 'node', app_version: 'pingoo-sdk-test', network_type: 'loopback' };
let pg;

// ---- session and errors ---------------------------------------------------------------------

await t.test('login as the demo user and me()', async () => {
	pg = await Pingoo.login(base, stack.PINGOO_DEMO_USER, stack.PINGOO_DEMO_PASSWORD);
	t.ok(typeof pg.token === 'string' && pg.token.split('.').length === 3, 'a JWT came back');
	t.ok(pg.expiresAt > Date.now(), 'its expiry is known');
	const me = await pg.me();
	t.is(me.username, stack.PINGOO_DEMO_USER, 'me() names the demo user');
});

await t.test('errors are PingooErrors with the server\'s status and code', async () => {
	errorIs(await rejects(Pingoo.login(base, stack.PINGOO_DEMO_USER, 'not the password')),
	    401, 'invalid_credentials', 'a wrong password gives invalid_credentials');
	errorIs(await rejects(new Pingoo({ baseUrl: base, token: 'not-a-token' }).me()),
	    401, 'unauthorized', 'a bad token gives unauthorized');
	const forged = pg.token.replace(/\.[^.]*$/, '.AAAA');
	errorIs(await rejects(new Pingoo({ baseUrl: base, token: forged }).history({ kind: 'ping' })),
	    401, 'unauthorized', 'a token with a bad signature gives unauthorized');
	errorIs(await rejects(new Pingoo({ baseUrl: base }).me()), 401, 'unauthorized',
	    'no token gives unauthorized');
	errorIs(await rejects(pg.test('ping', 2 ** 52)), 404, 'not_found', 'an unknown test is not_found');
	const big = await rejects(pg.throughput({ direction: 'download', packets: 1,
	    packetSize: 2 ** 40 }));
	errorIs(big, 422, 'limit_exceeded', 'a packet size over the limit is limit_exceeded');
	t.ok(big && typeof big.message === 'string' && big.message.length > 0,
	    'the server\'s message is kept', big && big.message);
});

// ---- ping ----------------------------------------------------------------------------------

// The tables of schema/ (ping_tests, ping_samples, throughput_tests, throughput_transfers).
const TABLES = {
	ping: 'ping_tests', samples: 'ping_samples',
	tp: 'throughput_tests', transfers: 'throughput_transfers',
};

// ---- summaries recomputed from the stored records (docs/api.md's definitions) -----------

const n = (v) => (v === null || v === undefined ? null : Number(v));

// The stored samples as numbers, summarized by the shared checker.
function pingSummaryFromRows(rows, count, finished) {
	return pingSummary(rows.map((r) => ({ seq: n(r.seq), client_sent_at: n(r.client_sent_at),
	    server_received_at: n(r.server_received_at), server_sent_at: n(r.server_sent_at),
	    client_received_at: n(r.client_received_at) })), count, finished);
}

// The interval one side saw a row's bytes in, or null: the receiver is the server for an
// upload and the client (first byte to last, once reported) for a download; the sender the
// other one (an upload's client: request sent to answer received).
function span(r, side) {
	const server = (r.direction === 'upload') === (side === 'receiver');
	const [a, b] = server ? [r.server_started_at, r.server_finished_at] :
	    [r.direction === 'download' ? r.client_first_byte_at : r.client_sent_at, r.client_received_at];
	if (r.status !== 'ok' || a === null || b === null || n(b) < n(a))
		return null;
	return [n(a), n(b)];
}

function tpSummaryFromRows(rows, dir, packets) {
	const mine = rows.filter((r) => r.direction === dir);
	const ok = mine.filter((r) => r.status === 'ok');
	const bps = (bytes, us) => (us > 0 ? Math.floor(bytes * 8e6 / us + 0.5) : null);
	const reported = ok.filter((r) => r.client_received_at !== null).length;
	const out = { packets, received: ok.length, failed: mine.filter((r) => r.status === 'failed').length,
	    bytes: ok.reduce((a, r) => a + n(r.bytes), 0), reported,
	    report_missing: dir === 'download' && reported < ok.length,
	    elapsed_us: null, bits_per_second: null, packet_bps_min: null,
	    packet_bps_median: null, packet_bps_p90: null, packet_bps_max: null,
	    sender_elapsed_us: null, sender_bits_per_second: null };
	const view = (side) => {
		const timed = ok.map((r) => [r, span(r, side)]).filter(([, sp]) => sp !== null);
		if (!timed.length)
			return null;
		const elapsed = Math.max(...timed.map(([, sp]) => sp[1])) - Math.min(...timed.map(([, sp]) => sp[0]));
		return { elapsed, bps: bps(timed.reduce((a, [r]) => a + n(r.bytes), 0), elapsed),
		    rates: sortNum(timed.map(([r, sp]) => bps(n(r.bytes), sp[1] - sp[0])).filter((x) => x !== null)) };
	};
	const sender = view('sender');
	if (sender) {
		out.sender_elapsed_us = sender.elapsed;
		out.sender_bits_per_second = sender.bps;
	}
	const rx = view('receiver');
	if (!rx)
		return out;
	out.elapsed_us = rx.elapsed;
	out.bits_per_second = rx.bps;
	const rates = rx.rates;
	if (rates.length) {
		out.packet_bps_min = rates[0];
		out.packet_bps_max = rates.at(-1);
		out.packet_bps_median = median(rates);
		out.packet_bps_p90 = percentile(rates, 90);
	}
	return out;
}

// Compares two summaries key by key (only keys present in `want`); the differences.
function diffSummary(got, want, what) {
	const bad = [];
	for (const [k, v] of Object.entries(want)) {
		if (!(k in got))
			continue;
		if (got[k] !== v)
			bad.push(`${what}.${k}: API ${JSON.stringify(got[k])}, from the DB ${JSON.stringify(v)}`);
	}
	return bad;
}

function dbPing(test) {
	const [row] = sql(`SELECT t.*, s.summary FROM ${TABLES.ping} t LEFT JOIN ping_summaries s ON s.test_id = t.id
	    WHERE t.id = ?`, test.id);
	if (!t.ok(row, `the database holds ping test #${test.id}`))
		return;
	const top = diffRow({ id: test.id, state: test.state, count: test.count,
	    interval_ms: test.interval_ms, created_at: test.created_at, closed_at: test.closed_at },
	row, 'test');
	t.ok(top.bad.length === 0, `the stored test row equals the API's (${top.n} columns)`,
	    top.bad.join('\n'));
	if (row.client !== undefined)
		t.is(row.client === null ? null : JSON.parse(row.client), test.client, 'the stored client equals the API\'s');
	if (row.summary !== undefined && row.summary !== null)
		t.is(JSON.parse(row.summary), test.summary, 'the summary stored with the test equals the API\'s');
	const rows = sql(`SELECT * FROM ${TABLES.samples} WHERE test_id = ? ORDER BY seq`, test.id);
	t.is(rows.length, test.samples.length, `the database holds the ${test.samples.length} samples`);
	const bad = [];
	for (const [i, smp] of test.samples.entries()) {
		if (rows[i])
			bad.push(...diffRow(smp, rows[i], `samples[${i}]`).bad);
	}
	t.ok(bad.length === 0, 'every stored sample equals the API\'s', bad.slice(0, 10).join('\n'));
	const fromDb = pingSummaryFromRows(rows, test.count, test.state !== 'incomplete');
	const d = diffSummary(test.summary, fromDb, 'summary');
	t.ok(d.length === 0, `the summary equals the one recomputed from the stored samples (${Object.keys(fromDb).length} values)`,
	    d.join('\n'));
}

let pingTest;
await t.test('a whole ping test: summary equals GET and the database', async () => {
	const samples = [];
	pingTest = await pg.ping({ count: 30, intervalMs: 10, client,
	    onSample: (s) => samples.push(s) });
	t.is(pingTest.state, 'complete', 'the test is complete');
	t.is(samples.length, 30, 'onSample once per echo');
	t.ok(samples.every((s) => !s.lost && s.rttUs >= 0), 'every echo answered, RTT >= 0');
	t.is(pingTest.summary.sent, 30, 'the server counts 30 sent');
	t.is(pingTest.summary.received, 30, 'and 30 received');
	t.is(pingTest.summary.lost, 0, 'none lost');
	const s = pingTest.summary;
	t.ok(s.rtt_min_us <= s.rtt_median_us && s.rtt_median_us <= s.rtt_max_us,
	    'min <= median <= max', JSON.stringify(s));
	const again = await pg.test('ping', pingTest.id);
	t.is(again.summary, pingTest.summary, 'the summary returned equals what GET returns');
	t.is(again.client, client, 'the client description is stored');
	const bySeq = new Map((again.samples || []).map((x) => [x.seq, x]));
	t.ok(samples.every((x) => bySeq.get(x.seq)?.client_sent_at === x.clientSentAt &&
	    bySeq.get(x.seq)?.client_received_at === x.clientReceivedAt),
	    'stored t0 and t3 are the SDK\'s stamps');
	t.ok(samples.every((x) => bySeq.get(x.seq)?.rtt_us === x.rttUs),
	    'stored RTT equals the RTT onSample reported');
	const withTiming = samples.filter((x) => x.serverTimingUs !== null).length;
	t.is(withTiming, 30, 'Server-Timing read on every echo');
	dbPing(again);
});

// ---- throughput ----------------------------------------------------------------------------

function dbThroughput(test) {
	const [row] = sql(`SELECT * FROM ${TABLES.tp} WHERE id = ?`, test.id);
	if (!t.ok(row, `the database holds throughput test #${test.id}`))
		return;
	const top = diffRow({ id: test.id, state: test.state, direction: test.direction,
	    packets: test.packets, packet_size: test.packet_size, created_at: test.created_at,
	    finished_at: test.finished_at }, row, 'test');
	t.ok(top.bad.length === 0, `the stored test row equals the API's (${top.n} columns)`,
	    top.bad.join('\n'));
	const rows = sql(`SELECT * FROM ${TABLES.transfers} WHERE test_id = ?`, test.id);
	const key = (x) => `${x.direction}/${x.seq}`;
	const byKey = new Map(rows.map((r) => [key(r), r]));
	t.is(rows.length, test.transfers.length, `the database holds the ${test.transfers.length} transfers`);
	const bad = [];
	for (const x of test.transfers) {
		const r = byKey.get(key(x));
		if (!r)
			bad.push(`${key(x)} not stored`);
		else
			bad.push(...diffRow(x, r, key(x)).bad);
	}
	t.ok(bad.length === 0, 'every stored transfer equals the API\'s', bad.slice(0, 10).join('\n'));
	for (const dir of ['download', 'upload']) {
		const s = test.summary[dir];
		if (!s)
			continue;
		const fromDb = tpSummaryFromRows(rows, dir, test.packets);
		const d = diffSummary(s, fromDb, dir);
		t.ok(d.length === 0, `${dir}: the summary equals the one recomputed from the stored transfers`,
		    d.join('\n'));
	}
}

async function wholeThroughput(direction, packets, packetSize, streams) {
	const prog = [];
	const test = await pg.throughput({ direction, packets, packetSize, streams, client,
	    onProgress: (p) => prog.push(p) });
	const dirs = direction === 'both' ? ['download', 'upload'] : [direction];
	t.is(test.state, 'complete', `${direction}: the test is complete`);
	t.is(prog.length, packets * dirs.length, `${direction}: onProgress once per packet`);
	t.ok(prog.every((p) => p.bytes === packetSize), `${direction}: every packet moved ${packetSize} bytes`);
	for (const d of dirs) {
		t.is([test.summary[d]?.received, test.summary[d]?.bytes], [packets, packets * packetSize],
		    `${direction}: the ${d} summary counts every packet and byte`);
	}
	for (const d of ['download', 'upload'].filter((x) => !dirs.includes(x)))
		t.is(test.summary[d], null, `${direction}: no ${d} summary`);
	const again = await pg.test('throughput', test.id);
	t.is(again.summary, test.summary, `${direction}: the summary returned equals what GET returns`);
	const byKey = new Map(again.transfers.map((x) => [`${x.direction}/${x.seq}`, x]));
	t.ok(prog.every((p) => {
		const x = byKey.get(`${p.direction}/${p.seq}`);
		return x && x.client_sent_at === p.clientSentAt && x.client_received_at === p.clientReceivedAt;
	}), `${direction}: the client stamps the SDK reported are stored`);
	t.ok(prog.every((p) => {
		const x = byKey.get(`${p.direction}/${p.seq}`);
		return x && x.client_first_byte_at === p.clientFirstByteAt &&
		    x.duration_us === p.durationUs && x.bits_per_second === p.bitsPerSecond &&
		    p.measuredBy === (p.direction === 'download' ? 'client' : 'server');
	}), `${direction}: onProgress gave each packet the receiver's duration and rate that the read gives it`);
	dbThroughput(again);
	return again;
}

await t.test('a whole download test over 2 streams', () => wholeThroughput('download', 8, 262144, 2));
await t.test('a whole upload test over 2 streams', () => wholeThroughput('upload', 6, 200000, 2));
await t.test('a whole test in both directions', () => wholeThroughput('both', 3, 65536, 1));

// ---- time-bounded tests ----------------------------------------------------------------------

// The contract's window of a direction (api.md "Time-bounded tests"), from stored rows: it
// opens grace_us after the first byte at the receiver, closes at the first packet end after
// the last packet start, and is the whole span when that would be shorter than the grace;
// each packet's bytes spread over its receiver interval.
function windowFromRows(rows, dir, durationMs) {
	const spans = rows.filter((r) => r.direction === dir).map((r) => [r, span(r, 'receiver')])
	    .filter(([, sp]) => sp !== null).map(([r, sp]) => [n(r.bytes), ...sp]);
	const grace = Math.min(durationMs * 1000 / 5, 2000000);
	if (!spans.length)
		return { grace_us: grace, window_start_at: null, window_end_at: null, window_bytes: null, bits_per_second: null };
	const first = Math.min(...spans.map((x) => x[1]));
	const lastStart = Math.max(...spans.map((x) => x[1]));
	const lastEnd = Math.max(...spans.map((x) => x[2]));
	let start = first + grace;
	let end = Math.min(lastEnd, ...spans.map((x) => x[2]).filter((b) => b > lastStart));
	if (end - start < grace)
		[start, end] = [first, lastEnd];
	let bytes = 0;
	for (const [b, a, e] of spans) {
		if (e === a)
			bytes += a >= start && a < end ? b : 0;
		else if (Math.min(e, end) > Math.max(a, start))
			bytes += b * (Math.min(e, end) - Math.max(a, start)) / (e - a);
	}
	bytes = Math.floor(bytes + 0.5);
	return { grace_us: grace, window_start_at: start, window_end_at: end, window_bytes: bytes,
	    bits_per_second: end > start ? Math.floor(bytes * 8e6 / (end - start) + 0.5) : null };
}

await t.test('a time-bounded test in both directions: packets until the deadline, the window headline from the stored transfers', async () => {
	const prog = [];
	const D = 2000;
	const test = await pg.throughput({ direction: 'both', durationMs: D, client,
	    onProgress: (p) => prog.push(p) });
	t.is([test.state, test.duration_ms, test.packets, test.packet_size], ['complete', D, null, null],
	    'a complete timed test, read back with duration_ms and no packets or size');
	const again = await pg.test('throughput', test.id);
	t.is(again.summary, test.summary, 'the summary returned equals what GET returns');
	const rows = sql(`SELECT * FROM ${TABLES.transfers} WHERE test_id = ?`, test.id);
	t.is(rows.length, prog.length, `the database holds the ${prog.length} packets the SDK moved`);
	t.ok(rows.every((r) => r.status === 'ok' && r.client_received_at !== null),
	    'every one ok and reported');
	const byKey = new Map(again.transfers.map((x) => [`${x.direction}/${x.seq}`, x]));
	t.ok(prog.every((p) => {
		const x = byKey.get(`${p.direction}/${p.seq}`);
		return x && x.bytes === p.bytes && x.client_sent_at === p.clientSentAt &&
		    x.client_received_at === p.clientReceivedAt && x.bits_per_second === p.bitsPerSecond;
	}), 'each packet is stored with the size, stamps and receiver rate onProgress gave');
	for (const d of ['download', 'upload']) {
		const mine = prog.filter((p) => p.direction === d);
		const first = Math.min(...mine.map((p) => p.clientSentAt));
		t.ok(mine.length > 0 && mine.every((p) => p.clientSentAt < first + D * 1000),
		    `${d}: ${mine.length} packets, none started after the client's deadline`);
		t.is(mine[0]?.bytes, 65536, `${d}: the first packet is 64 KiB`);
		const s = again.summary[d];
		t.is(s.time_up_at - s.started_at, D * 1000, `${d}: the server's clock ran duration_ms`);
		const want = windowFromRows(rows, d, D);
		t.is({ grace_us: s.grace_us, window_start_at: s.window_start_at, window_end_at: s.window_end_at,
			window_bytes: s.window_bytes, bits_per_second: s.bits_per_second }, want,
		`${d}: the headline is the window's rate, recomputed from the stored transfers`);
		t.is(s.packets, mine.length, `${d}: packets counts the transfers moved`);
	}
	const phases = [...new Set(again.probes.map((p) => p.phase))];
	t.is(phases, ['idle', 'download', 'upload'], 'idle probes, then download and upload ones');
});

// ---- latency probes ------------------------------------------------------------------------

// The stored probes of a test, as the API names them.
function dbProbes(id) {
	return sql('SELECT seq, phase, client_sent_at, server_received_at, server_sent_at, ' +
	    'client_received_at FROM throughput_probes WHERE test_id = ? ORDER BY seq', id)
	    .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) =>
		[k, k === 'phase' || v === null ? v : Number(v)])));
}

async function probedThroughput(opts, loadedPhases) {
	const seen = [];
	const test = await pg.throughput({ packets: 6, packetSize: 1 << 20, streams: 1, client,
	    onProbe: (p) => seen.push(p), ...opts });
	const label = `${opts.direction}${opts.simultaneous ? ' at once' : ''}`;
	t.is(test.state, 'complete', `${label}: the test is complete`);
	const idle = seen.filter((p) => p.phase === 'idle');
	t.ok(idle.length >= 10 && seen.slice(0, idle.length).every((p) => p.phase === 'idle'),
	    `${label}: at least 10 idle probes come first`, seen.map((p) => p.phase));
	t.is([...new Set(seen.map((p) => p.phase))], ['idle', ...loadedPhases],
	    `${label}: then probes of the phases ${loadedPhases.join(', ')}`);
	const rows = dbProbes(test.id);
	t.is(rows, seen.map((p) => ({ seq: p.seq, phase: p.phase, client_sent_at: p.clientSentAt,
	    server_received_at: p.serverReceivedAt ?? null, server_sent_at: p.serverSentAt ?? null,
	    client_received_at: p.clientReceivedAt ?? null })),
	    `${label}: MySQL holds each probe onProbe reported, with its four stamps`);
	t.is(test.probes.map(({ rtt_us: _r, server_us: _s, ...p }) => p), rows,
	    `${label}: the read lists them as stored`);
	const want = latencySummary(rows, true);
	t.is({ latency: test.summary.latency, bufferbloat_grade: test.summary.bufferbloat_grade,
	    responsiveness_rpm: test.summary.responsiveness_rpm }, want,
	    `${label}: summary.latency, the grade and the RPM follow from the stored probes`);
	return test;
}

await t.test('a download carries probes; one reaches the server while a packet moves on the only stream', async () => {
	// The phase's first probe goes out before the first packet's request, the next ones every
	// probeIntervalMs: at the default 100 ms, a transfer shorter than that (12 packets of 1 MiB
	// over loopback can take under 100 ms) leaves no probe to send while a packet moves.  24
	// packets and a probe every 5 ms keep several probes inside the phase at any speed a
	// loopback transfer reaches.
	const test = await probedThroughput({ direction: 'download', packets: 24, probeIntervalMs: 5 },
	    ['download']);
	// One stream: a probe sent after a packet's request and received by the server before
	// that packet's last byte reached the client was not queued behind it.  (When its answer
	// comes back depends on when the client's event loop, busy reading the packet, gets to
	// it: not a property of the connection.)  Client and server share this machine's clock.
	const during = test.probes.filter((p) => p.phase === 'download' && test.transfers.some((x) =>
	    p.client_sent_at > x.client_sent_at && p.server_received_at !== null &&
	    p.server_received_at < x.client_received_at));
	t.ok(during.length > 0, 'a probe reached the server while a packet was moving on the ' +
	    `only stream (${during.length} of ${test.probes.filter((p) => p.phase === 'download').length}): ` +
	    'in Node probes have a connection of their own',
	    { probes: test.probes, transfers: test.transfers });
});

await t.test('both directions, one after the other, carry download then upload probes', () =>
	probedThroughput({ direction: 'both', packets: 6 }, ['download', 'upload']));

await t.test('both directions at once carry bidirectional probes', async () => {
	const test = await probedThroughput({ direction: 'both', simultaneous: true, packets: 6 },
	    ['bidirectional']);
	t.is(test.simultaneous, true, 'the test says it ran both directions at once');
	const span = (d) => [Math.min(...test.transfers.filter((x) => x.direction === d)
	    .map((x) => x.server_started_at)), Math.max(...test.transfers
	    .filter((x) => x.direction === d).map((x) => x.server_finished_at))];
	const [ds, de] = span('download');
	const [us, ue] = span('upload');
	t.ok(us < de && ds < ue, 'the downloads and the uploads overlapped in time', { ds, de, us, ue });
});

await t.test('probes: false runs no probes', async () => {
	let n = 0;
	const test = await pg.throughput({ direction: 'upload', packets: 1, packetSize: 65536,
	    probes: false, onProbe: () => n++ });
	t.is([n, test.probes, test.summary.latency, test.summary.bufferbloat_grade,
	    test.summary.responsiveness_rpm], [0, [], {}, null, null],
	    'no probe, no latency, no grade, no RPM');
});

// ---- abort ---------------------------------------------------------------------------------

await t.test('abort in the middle of a ping test closes it', async () => {
	const ac = new AbortController();
	let n = 0;
	const e = await rejects(pg.ping({ count: 200, intervalMs: 20, client, signal: ac.signal,
	    onSample: () => {
		if (++n === 5)
			ac.abort();
	} }));
	t.is(e?.name, 'AbortError', 'the run rejects with an AbortError');
	if (!t.ok(Number.isInteger(e?.testId), 'the error names the test'))
		return;
	const got = await pg.test('ping', e.testId);
	t.is(got.state, 'complete', 'the test was closed (complete, closed early)');
	// `echoed` where the server gives it (`sent` then counts every planned sample), else `sent`.
	const echoed = got.summary.echoed ?? got.summary.sent;
	t.ok(echoed >= 5 && echoed < 200, `it stopped early (${echoed} echoed)`);
	t.is(got.summary.lost, (got.summary.sent ?? 0) - 5, 'lost = sent - received');
	t.is(got.summary.received, 5, 'the 5 samples measured before the abort were receipted');
	const later = await rejects(new Pingoo({ baseUrl: base, token: pg.token })
	    ._json('POST', `/ping-tests/${e.testId}/echo`, { seq: 199, client_sent_at: Date.now() * 1000 }));
	errorIs(later, 409, 'invalid_state', 'a later echo is refused with invalid_state');
	const [row] = sql(`SELECT state FROM ${TABLES.ping} WHERE id = ?`, e.testId);
	t.is(row?.state, 'complete', 'the database says so too');
	dbPing(got);
});

await t.test('abort in the middle of a throughput test aborts it', async () => {
	const ac = new AbortController();
	const e = await rejects(pg.throughput({ direction: 'download', packets: 200,
	    packetSize: 262144, streams: 2, client, signal: ac.signal,
	    onProgress: (p) => {
		if (p.done === 4)
			ac.abort();
	} }));
	t.is(e?.name, 'AbortError', 'the run rejects with an AbortError');
	if (!t.ok(Number.isInteger(e?.testId), 'the error names the test'))
		return;
	const got = await pg.test('throughput', e.testId);
	t.is(got.state, 'aborted', 'the test is aborted');
	t.ok(got.summary.download.received >= 4 && got.summary.download.received < 200,
	    `it stopped early (${got.summary.download.received} packets)`);
	const [row] = sql(`SELECT state FROM ${TABLES.tp} WHERE id = ?`, e.testId);
	t.is(row?.state, 'aborted', 'the database says so too');
	dbThroughput(got);
});

// ---- history -------------------------------------------------------------------------------

await t.test('history lists the tests newest first, page by page', async () => {
	const h = await pg.history({ kind: 'ping', limit: 2 });
	t.is(h.tests.length, 2, 'limit 2 gives 2 tests');
	t.ok(h.tests[0].id > h.tests[1].id, 'newest first');
	t.ok(h.tests.every((x) => x.summary && x.samples === undefined), 'summaries, no samples');
	t.ok(typeof h.next_cursor === 'string' && h.next_cursor.length > 0, 'a cursor for the next page');
	const h2 = await pg.history({ kind: 'ping', limit: 2, cursor: h.next_cursor });
	t.ok(h2.tests.length > 0 && h2.tests[0].id < h.tests[1].id, 'the next page is older');
	const ids = [];
	let cursor = null;
	for (let i = 0; i < 50; i++) {
		const page = await pg.history({ kind: 'ping', limit: 100, cursor });
		ids.push(...page.tests.map((x) => x.id));
		cursor = page.next_cursor;
		if (!cursor)
			break;
	}
	t.ok(ids.includes(pingTest.id), 'the ping test of this run is in the history');
	const tp = await pg.history({ kind: 'throughput', limit: 5 });
	t.ok(tp.tests.length > 0 && tp.tests.every((x) => x.kind === 'throughput'),
	    'throughput history lists throughput tests');
});

// ---- export, aggregates, deletion -------------------------------------------------------------

await t.test('export, aggregates and deletion, for one user only', async () => {
	const { userFactory } = await import('../integration/lib/users.mjs');
	const users = userFactory(stack);
	const u = users.create();
	const mine = await Pingoo.login(base, u.username, u.password);
	const p = await mine.ping({ count: 3, intervalMs: 0, client: { network_type: 'sdk-net', platform: 'node' } });
	const tp = await mine.throughput({ direction: 'upload', packets: 2, packetSize: 100000,
	    client: { network_type: 'sdk-net' } });
	const recs = [];
	for await (const r of mine.exportRecords())
		recs.push(r);
	t.is(recs.filter((r) => r.type.endsWith('_test')).map((r) => r.test_id), [p.id, tp.id],
	    'exportRecords streams this user\'s two tests, and nobody else\'s');
	t.is(recs.filter((r) => r.type === 'ping_sample').length, 3, 'with its three samples');
	t.is(recs.filter((r) => r.type === 'transfer').map((r) => r.bits_per_second),
	    tp.transfers.map((x) => x.bits_per_second), 'and the transfers\' receiver-side rates');
	const pingOnly = [];
	for await (const r of mine.exportRecords({ kind: 'ping' }))
		pingOnly.push(r.type);
	t.ok(pingOnly.length === 4 && !pingOnly.includes('transfer'), 'kind filters the records');
	const csv = await mine.exportText({ format: 'csv' });
	t.like(csv, /^record,test_id,/, 'exportText gives the CSV with its header');
	t.like(csv, /\r\nend,/, 'ending with the end row');
	const agg = await mine.aggregates({ group: 'network_type' });
	const g = agg.groups.find((x) => x.key === 'sdk-net');
	t.ok(g && g.ping.tests === 1 && g.ping.rtt_median_us === p.summary.rtt_median_us,
	    'aggregates: the group\'s RTT median is the test\'s', JSON.stringify(agg.groups));
	t.is(g?.throughput.upload.bits_per_second_median, tp.summary.upload.bits_per_second,
	    'and its upload rate is summary.upload.bits_per_second');
	errorIs(await rejects(pg.deleteTest('ping', p.id)), 404, 'not_found',
	    'another user cannot delete the test: 404, as a read');
	await mine.deleteTest('ping', p.id);
	errorIs(await rejects(mine.test('ping', p.id)), 404, 'not_found', 'deleteTest removes it');
	t.is(await mine.deleteAllTests(), { ping: 0, throughput: 1 }, 'deleteAllTests says what went');
	t.is((await mine.history({ kind: 'throughput' })).tests, [], 'nothing is left');
	t.is(users.cleanup(), [], 'the test user is removed');
});

await t.done();
