// unit.mjs - the SDK's exchanges against an in-memory mock of the API (mock-server.mjs):
// batching of receipts and reports, latency probes, abort, error mapping, and time-bounded
// throughput tests over the mock's shaped link (ramp, packet sizes, deadline, time_up, the
// window).  Needs no stack; TAP on stdout; about 25 s.
// Run: node t/sdk/unit.mjs

import { ok, is, test, done, diag, rejects } from '../integration/lib/tap.mjs';
import { createMock, MOCK_PING_STATS } from './mock-server.mjs';
import { Pingoo, PingooError, parseServerTiming, randomBytes, nextPacketSize, TIMED }
    from '../../sdk/js/src/pingoo.js';

const mock = createMock({ users: { demo: 'pw', other: 'pw2' } });
const base = await mock.listen();
diag(`mock on ${base}`);

let pg;

test('helpers: Server-Timing parsing and random buffers', () => {
	is(parseServerTiming('app;dur=0.123'), 123, 'app;dur in ms becomes µs');
	is(parseServerTiming('db;dur=2, app;desc="x";dur=1.5'), 1500, 'the app entry wins');
	is(parseServerTiming(null), null, 'no header, no value');
	const b = randomBytes(200000);
	is(b.length, 200000, 'random buffer has the size asked for');
	ok(b.subarray(131072, 131172).some((x) => x !== 0), 'bytes past the first 64 KiB are filled');
});

test('pickServer keeps the candidate with the lowest median round trip', async () => {
	// Three names for the one mock: "far" answers 30 ms late, "dead" never connects.
	const via = (f) => (url, init) => {
		const u = String(url);
		if (u.startsWith('http://dead.invalid'))
			return Promise.reject(new TypeError('fetch failed'));
		const real = u.replace(/^http:\/\/(far|near)\.invalid/, base);
		return u.startsWith('http://far.invalid') ?
		    new Promise((r) => setTimeout(r, 30)).then(() => f(real, init)) : f(real, init);
	};
	const r = await Pingoo.pickServer(['http://far.invalid/', 'http://dead.invalid', 'http://near.invalid'],
	    { fetch: via(globalThis.fetch), probes: 3 });
	is(r.url, 'http://near.invalid', 'the near server wins');
	ok(r.results[0].rttUs >= 30000 && r.results[0].samples === 3, 'the far one was probed 3 times, 30 ms or more');
	ok(r.results[1].rttUs === null && /cannot reach/.test(r.results[1].error), 'the dead one is out, with its error');
	const e = await rejects(Pingoo.pickServer(['http://dead.invalid'], { fetch: via(globalThis.fetch) }));
	is(e?.code, 'no_server', 'no candidate answering is a no_server error');
});

test('login and me', async () => {
	pg = await Pingoo.login(base + '/', 'demo', 'pw');
	ok(typeof pg.token === 'string' && pg.token.length > 0, 'login gives a token');
	is(pg.baseUrl, base, 'trailing slash of baseUrl dropped');
	const me = await pg.me();
	is(me.username, 'demo', 'me() names the user');
});

test('errors carry the server code, status and field', async () => {
	const e1 = await rejects(Pingoo.login(base, 'demo', 'nope'));
	ok(e1 instanceof PingooError, 'wrong password rejects with a PingooError');
	is([e1?.status, e1?.code], [401, 'invalid_credentials'], 'status and code from the server');
	const bad = new Pingoo({ baseUrl: base, token: 'garbage' });
	const e2 = await rejects(bad.me());
	is([e2?.status, e2?.code], [401, 'unauthorized'], 'a bad token gives unauthorized');
	const e3 = await rejects(pg.throughput({ direction: 'download', packets: 1,
	    packetSize: 65 * 1048576 }));
	is([e3?.status, e3?.code, e3?.field], [422, 'limit_exceeded', 'packet_size'],
	    'field is kept');
	const e4 = await rejects(pg.test('ping', 999999));
	is(e4?.code, 'not_found', 'missing test is not_found');
	const dead = new Pingoo({ baseUrl: 'http://127.0.0.1:9', token: 'x' });
	const e5 = await rejects(dead.me());
	is([e5?.status, e5?.code], [0, 'network_error'], 'an unreachable server is network_error');
	const e6 = await rejects(pg.ping({ count: 0 }));
	ok(e6 instanceof RangeError, 'count 0 is refused before any request');
});

test('ping: sequential echoes, receipts batched by 10, summary from the server', async () => {
	const samples = [];
	mock.log.length = 0;
	const t = await pg.ping({ count: 25, intervalMs: 2, client: { platform: 'node' },
	    onSample: (s) => samples.push(s) });
	is(t.state, 'complete', 'test complete');
	is(t.summary.received, 25, 'server saw 25 receipts');
	is(Object.fromEntries(Object.keys(MOCK_PING_STATS).map((k) => [k, t.summary[k]])),
	    { ...MOCK_PING_STATS }, 'the statistics are the server\'s (the mock\'s fixed ones), passed through');
	is(samples.map((s) => s.seq), [...Array(25).keys()], 'onSample per echo, in order');
	ok(samples.every((s) => s.rttUs >= 0 && s.serverTimingUs !== null),
	    'local RTT and Server-Timing read');
	is(mock.log.filter((l) => l.kind === 'receipts').map((l) => l.n), [10, 10, 5],
	    'receipts in batches of 10 and the rest');
	ok(!mock.log.some((l) => l.kind === 'close'), 'no close needed when all receipts landed');
	const rc = mock.log[0].body.receipts[0];
	is(Object.keys(rc).sort(), ['client_received_at', 'client_sent_at', 'seq', 'server_received_at',
	    'server_sent_at', 'sig'], 'a receipt echoes the server stamps and sig back');
	is(t.samples[3].client_sent_at, samples[3].clientSentAt, 'stored t0 is the SDK\'s t0');
	is(t.client, { platform: 'node' }, 'client description sent');
	const later = Date.now() * 1000;
	ok(Math.abs(samples[0].clientSentAt - later) < 60e6, 'timestamps are µs since the epoch');
});

test('ping: abort closes the test and rejects with AbortError', async () => {
	const ac = new AbortController();
	let n = 0;
	mock.log.length = 0;
	const e = await rejects(pg.ping({ count: 50, intervalMs: 5, signal: ac.signal,
	    onSample: () => {
		if (++n === 4)
			ac.abort();
	} }));
	is(e?.name, 'AbortError', 'rejects with an AbortError');
	ok(Number.isInteger(e?.testId), 'the error names the test');
	const t = await pg.test('ping', e.testId);
	is(t.state, 'complete', 'closed on the server');
	is(t.summary.received, 4, 'the samples measured before the abort were receipted');
	ok(mock.log.some((l) => l.kind === 'close'), 'close was called');
	const pre = new AbortController();
	pre.abort();
	const e2 = await rejects(pg.ping({ count: 3, signal: pre.signal }));
	is(e2?.name, 'AbortError', 'an already aborted signal rejects at once');
});

test('throughput download over 3 streams', async () => {
	const prog = [];
	mock.log.length = 0;
	const t = await pg.throughput({ direction: 'download', packets: 12, packetSize: 100000,
	    streams: 3, onProgress: (p) => prog.push(p) });
	is(t.state, 'complete', 'complete');
	is(t.summary.download.received, 12, '12 packets received');
	const mine = t.transfers.map((x) => x.bits_per_second).sort((a, b) => a - b);
	is([t.summary.download.packet_bps_min, t.summary.download.packet_bps_max], [mine[0], mine.at(-1)],
	    'the rates are the server\'s (the mock\'s, from the reported stamps), passed through');
	is(prog.length, 12, 'onProgress per packet');
	ok(prog.every((p) => p.bytes === 100000 && p.total === 12 && p.bitsPerSecond > 0),
	    'bytes counted from the body stream');
	is(prog.at(-1).done, 12, 'done counts up to total');
	is([...new Set(prog.map((p) => p.seq))].sort((a, b) => a - b), [...Array(12).keys()],
	    'every seq once');
	is(mock.log.filter((l) => l.kind === 'reports').map((l) => l.n), [10, 2], 'reports batched');
	ok(t.transfers.every((x) => x.client_sent_at <= x.client_first_byte_at &&
	    x.client_first_byte_at <= x.client_received_at),
	    'every download is reported with its first byte between the request and the last byte');
	const bySeq = new Map(t.transfers.map((x) => [x.seq, x]));
	ok(prog.every((p) => p.measuredBy === 'client' &&
	    p.clientFirstByteAt === bySeq.get(p.seq).client_first_byte_at &&
	    p.durationUs === p.clientReceivedAt - p.clientFirstByteAt &&
	    p.bitsPerSecond === Math.round((p.bytes * 8e6) / p.durationUs)),
	    'onProgress gives a download\'s rate from its first byte to its last, as reported');
	ok(prog.every((p) => p.bitsPerSecond === bySeq.get(p.seq).bits_per_second),
	    'and it is the rate the read gives the transfer');
	is([t.summary.download.reported, t.summary.download.report_missing], [12, false],
	    'every download reported, none missing');
});

test('throughput upload and both', async () => {
	const prog = [];
	const t = await pg.throughput({ direction: 'upload', packets: 5, packetSize: 150000,
	    streams: 2, onProgress: (p) => prog.push(p) });
	is([t.state, t.summary.upload.received, t.summary.upload.bytes], ['complete', 5, 750000],
	    'upload complete');
	const bySeq = new Map(t.transfers.map((x) => [x.seq, x]));
	ok(prog.every((p) => p.measuredBy === 'server' && p.clientFirstByteAt === null &&
	    p.durationUs === bySeq.get(p.seq).duration_us &&
	    p.bitsPerSecond === bySeq.get(p.seq).bits_per_second),
	    'onProgress gives an upload\'s rate as the server measured it');
	ok(t.transfers.every((x) => x.client_first_byte_at === null &&
	    x.sender_duration_us === x.client_received_at - x.client_sent_at),
	    'an upload is reported without a first byte; its client time is the sender\'s');
	const dirs = [];
	const b = await pg.throughput({ direction: 'both', packets: 3, packetSize: 1000,
	    onProgress: (p) => dirs.push(p.direction) });
	is(b.state, 'complete', 'both complete');
	is(dirs, ['download', 'download', 'download', 'upload', 'upload', 'upload'],
	    'download first, then upload');
});

test('throughput abort calls the abort route', async () => {
	const ac = new AbortController();
	const e = await rejects(pg.throughput({ direction: 'download', packets: 40, packetSize: 50000,
	    streams: 2, signal: ac.signal, onProgress: (p) => {
		if (p.done === 3)
			ac.abort();
	} }));
	is(e?.name, 'AbortError', 'rejects with an AbortError');
	is(e?.test?.state, 'aborted', 'the error carries the aborted test');
	const t = await pg.test('throughput', e.testId);
	is(t.state, 'aborted', 'aborted on the server');
});

test('throughput probes: idle first, answers sent back signed, a cut one reported lost, none after the end', async () => {
	mock.log.length = 0;
	mock.cutProbes.add(3);
	const seen = [];
	const t = await pg.throughput({ direction: 'upload', packets: 6, packetSize: 300000,
	    idleProbes: 5, probeIntervalMs: 5, onProbe: (p) => seen.push(p) });
	mock.cutProbes.clear();
	is(t.state, 'complete', 'the test completes');
	const sent = mock.log.filter((x) => x.kind === 'probe' && x.id === t.id);
	const rec = mock.log.filter((x) => x.kind === 'probe-receipts' && x.id === t.id)
	    .flatMap((x) => x.body.receipts);
	is(sent.slice(0, 5).map((x) => x.phase), Array(5).fill('idle'), 'five idle probes come first');
	ok(sent.slice(5).every((x) => x.phase === 'upload'), 'then upload probes', sent);
	const cut = rec.find((r) => r.seq === 3);
	ok(cut && cut.client_received_at === null && cut.sig === undefined &&
	    cut.server_received_at === undefined, 'the cut probe is reported lost, with no server stamps', cut);
	is(seen.find((p) => p.seq === 3)?.lost, true, 'onProbe said it was lost');
	ok(rec.filter((r) => r.seq !== 3).every((r) => r.sig === 'f'.repeat(32) &&
	    Number.isInteger(r.server_received_at) && r.client_received_at >= r.client_sent_at),
	    'every answered probe goes back with its signed stamps and client_received_at', rec);
	is(rec.map((r) => r.seq), seen.map((p) => p.seq),
	    'every probe onProbe reported is in the receipts, and nothing else');
	ok(sent.length - rec.length <= 1,
	    'at most one probe, refused once the test had ended, goes unreported');
	const quiet = await pg.throughput({ direction: 'upload', packets: 1, packetSize: 1000,
	    probes: false });
	ok(!mock.log.some((x) => x.kind === 'probe' && x.id === quiet.id), 'probes: false sends none');
});

// ---- time-bounded throughput tests ------------------------------------------------------

const KiB = 1024;
const MiB = 1048576;
const logOf = (id, kind) => mock.log.filter((l) => l.id === id && l.kind === kind);
const creates = () => mock.log.filter((l) => l.kind === 'create').map((l) => l.body);
// Runs one timed test with the mock shaped as given; resolves to {t, prog} (the read test
// and the onProgress events), the mock's knobs reset after.
async function timed(opts, { shape = null, serverDurationMs = null } = {}) {
	mock.knobs.shape = shape;
	mock.knobs.serverDurationMs = serverDurationMs;
	const prog = [];
	try {
		const t = await pg.throughput({ probes: false, ...opts, onProgress: (p) => prog.push(p) });
		return { t, prog };
	} finally {
		mock.knobs.shape = null;
		mock.knobs.serverDurationMs = null;
	}
}

// The contract's window of a direction, recomputed here from the read's transfers: from
// grace_us after the first byte to the first packet end after the last packet start, or the
// whole span, first byte to last, when that would be shorter than the grace.
function windowOf(test, dir) {
	const spans = test.transfers.filter((x) => x.direction === dir && x.status === 'ok')
	    .map((x) => [x.bytes, ...(dir === 'download' ? [x.client_first_byte_at, x.client_received_at]
		: [x.server_started_at, x.server_finished_at])]);
	const grace = Math.min(test.duration_ms / 5, 2000) * 1000;
	const first = Math.min(...spans.map((x) => x[1]));
	const lastStart = Math.max(...spans.map((x) => x[1]));
	const lastEnd = Math.max(...spans.map((x) => x[2]));
	let start = first + grace;
	let end = Math.min(lastEnd, ...spans.map((x) => x[2]).filter((b) => b > lastStart));
	if (end - start < grace)
		[start, end] = [first, lastEnd];
	let bytes = 0;
	for (const [n, a, b] of spans) {
		const over = Math.min(b, end) - Math.max(a, start);
		if (b > a && over > 0)
			bytes += (n * over) / (b - a);
	}
	bytes = Math.round(bytes);
	return { window_start_at: start, window_end_at: end, window_bytes: bytes, grace_us: grace,
	    bits_per_second: Math.round((bytes * 8e6) / (end - start)) };
}
const windowShown = (sum) => ({ window_start_at: sum.window_start_at,
    window_end_at: sum.window_end_at, window_bytes: sum.window_bytes, grace_us: sum.grace_us,
    bits_per_second: sum.bits_per_second });

test('timed: the default is a time-bounded test of 10 s a direction, no packets or sizes', async () => {
	mock.log.length = 0;
	const ac = new AbortController();
	let started = null;
	const e = await rejects(pg.throughput({ direction: 'download', signal: ac.signal,
	    onStart: (t) => {
		started = t;
		ac.abort();
	} }));
	is(creates()[0], { direction: 'download', duration_ms: 10000 },
	    'throughput({direction}) creates {direction, duration_ms: 10000} and nothing else');
	is([started?.duration_ms, started?.packets, started?.packet_size], [10000, null, null],
	    'the server\'s test is timed: duration_ms 10000, packets and packet_size null');
	is(e?.name, 'AbortError', '(stopped there)');
	mock.log.length = 0;
	const { t, prog } = await timed({ direction: 'both', durationMs: 1000 });
	is([t.state, t.duration_ms, t.packets, t.packet_size], ['complete', 1000, null, null],
	    'a whole timed test in both directions completes, read back as timed');
	const dirs = prog.map((p) => p.direction);
	ok(dirs.indexOf('upload') > 0 && dirs.lastIndexOf('download') < dirs.indexOf('upload'),
	    'both: every download before the first upload', dirs.join(','));
	const packets = logOf(t.id, 'packet');
	ok(packets.filter((l) => l.dir === 'download').every((l) => /^\?bytes=[0-9]+$/.test(l.query)),
	    'each download names its size with ?bytes=');
	ok(logOf(t.id, 'close').length + logOf(t.id, 'completed').length === 1,
	    'the test was closed, or had completed by itself');
	is([t.summary.download.reported, t.summary.download.report_missing],
	    [t.summary.download.received, false], 'every download reported');
	for (const d of ['download', 'upload'])
		is(windowShown(t.summary[d]), windowOf(t, d),
		    `${d}: the headline is the window's rate, by the contract's rule`);
});

test('timed: the ramp doubles the streams while the receiver\'s rate grows, up to 16 and no more', async () => {
	// Each stream is held to 8 Mbit/s, all together to 1 Gbit/s: every doubling pays.  8 s
	// give a grace of 1.6 s, room for the four doublings a tick apart on a busy machine.
	const { prog } = await timed({ direction: 'download', durationMs: 8000 },
	    { shape: { streamBitsPerSecond: 8e6, totalBitsPerSecond: 1e9 } });
	const counts = [...new Set(prog.map((p) => p.streams))];
	is(counts, [1, 2, 4, 8, 16], 'the stream count went 1, 2, 4, 8, 16');
	ok(prog.every((p) => p.stream < 16 && p.streams <= 16), 'no 17th stream, none above 16');
	const moved = new Set(prog.map((p) => p.stream));
	is(moved.size, 16, 'all 16 streams moved packets');
	// Held to 12 Mbit/s in all: 2 streams beat 1, 4 do not beat 2.
	const cap = await timed({ direction: 'download', durationMs: 4000 },
	    { shape: { streamBitsPerSecond: 8e6, totalBitsPerSecond: 12e6 } });
	is([...new Set(cap.prog.map((p) => p.streams))], [1, 2, 4],
	    'on a link that 2 streams fill, the ramp stops at the first doubling that did not pay (4)');
});

test('timed: packet sizes start at 64 KiB and follow each stream\'s last rate, at most 8x, within 64 KiB..32 MiB', async () => {
	// One stream held to 32 Mbit/s: 64 KiB, then 8x that (the cap), then 250 ms' worth, ~1 MB.
	const { prog } = await timed({ direction: 'download', durationMs: 2000, maxStreams: 1 },
	    { shape: { streamBitsPerSecond: 32e6 } });
	const sizes = prog.map((p) => p.bytes);
	is(sizes.slice(0, 2), [64 * KiB, 512 * KiB], 'the first packet is 64 KiB, the second 8 times that');
	ok(prog.slice(1).every((p, i) => p.bytes === nextPacketSize(prog[i].bytes, prog[i].bitsPerSecond)),
	    'every next packet is 250 ms of the last one\'s receiver rate, capped at 8x', sizes);
	ok(sizes.slice(2).every((n) => n > 0.6e6 && n < 1.25e6),
	    'at 32 Mbit/s the packets settle near 1 MB (250 ms)', sizes);
	is([nextPacketSize(64 * KiB, 1e6), nextPacketSize(64 * KiB, 1e9), nextPacketSize(32 * MiB, 1e11),
	    nextPacketSize(4 * MiB, null)], [64 * KiB, 512 * KiB, 32 * MiB, 32 * MiB],
	'the rule: 1 Mbit/s keeps 64 KiB, 1 Gbit/s grows 8x at a time, 32 MiB at most, 8x when the rate is unknown');
	// A 1 Mbit/s link: 250 ms is less than 64 KiB, so every packet is 64 KiB.
	const slow = await timed({ direction: 'upload', durationMs: 1500, maxStreams: 1 },
	    { shape: { streamBitsPerSecond: 1e6 } });
	ok(slow.prog.length >= 2 && slow.prog.every((p) => p.bytes === 64 * KiB),
	    'at 1 Mbit/s every packet is 64 KiB', slow.prog.map((p) => p.bytes));
});

test('timed: no packet starts after the client\'s deadline (first packet\'s start + durationMs)', async () => {
	const D = 1500;
	const { t, prog } = await timed({ direction: 'download', durationMs: D },
	    { shape: { streamBitsPerSecond: 16e6 } });
	const first = Math.min(...prog.map((p) => p.clientSentAt));
	const deadline = first + D * 1000;
	const last = Math.max(...prog.map((p) => p.clientSentAt));
	ok(last < deadline, `the last packet started ${((deadline - last) / 1000).toFixed(1)} ms before the deadline`);
	ok(last > deadline - 500000, 'and the streams used their time (the last start within 500 ms of it)');
	is(t.transfers.length, prog.length, 'every packet the client started is in the test');
	ok(prog.every((p) => p.durationMs === D && p.elapsedMs === Math.round((p.clientReceivedAt - first) / 1000) &&
	    Number.isInteger(p.streams) && p.streams >= 1 && p.runningBitsPerSecond > 0 && p.total === null),
	'onProgress gives durationMs, elapsedMs from the first packet\'s start, streams and a running receiver rate');
	const late = prog.filter((p) => p.elapsedMs > 1000);
	ok(late.length > 0 && late.every((p) => Math.abs(p.runningBitsPerSecond - 16e6 * p.streams) < 0.35 * 16e6 * p.streams),
	    'the running rate (last second, at the receiver) is the link\'s, streams x 16 Mbit/s',
	    late.map((p) => [p.streams, p.runningBitsPerSecond]));
});

test('timed: a 409 time_up ends a stream cleanly', async () => {
	// The server's time runs out after 500 ms, long before the client's 1500 ms.
	const { t, prog } = await timed({ direction: 'upload', durationMs: 1500, maxStreams: 4 },
	    { shape: { streamBitsPerSecond: 16e6 }, serverDurationMs: 500 });
	const ups = logOf(t.id, 'time_up');
	const streams = new Set(prog.map((p) => p.stream)).size;
	ok(ups.length >= 1 && ups.length <= streams,
	    `${ups.length} packet(s) refused time_up, at most one a stream (${streams} streams)`);
	is(t.state, 'complete', 'the run resolved to the completed test, no error');
	ok(t.transfers.every((x) => x.status === 'ok' && x.client_received_at !== null),
	    'every packet that moved is ok and reported');
	const first = Math.min(...prog.map((p) => p.clientSentAt));
	ok(Math.max(...prog.map((p) => p.clientSentAt)) < first + 1000000,
	    'no stream went on to its own deadline after its time_up');
});

test('timed: both directions at once, and the summary window by the contract\'s rule', async () => {
	const { t, prog } = await timed({ direction: 'both', simultaneous: true, durationMs: 1000,
	    probes: true, idleProbes: 3, probeIntervalMs: 20 }, { shape: { streamBitsPerSecond: 40e6 } });
	is([t.state, t.simultaneous], ['complete', true], 'complete, both at once');
	const span = (d) => prog.filter((p) => p.direction === d).map((p) => p.clientSentAt);
	ok(Math.min(...span('upload')) < Math.max(...span('download')) &&
	    Math.min(...span('download')) < Math.max(...span('upload')), 'the directions overlapped');
	ok(Object.keys(t.summary.latency).includes('bidirectional'), 'probes of phase bidirectional');
	for (const d of ['download', 'upload']) {
		is(windowShown(t.summary[d]), windowOf(t, d), `${d}: window and headline by the rule`);
		ok(t.summary[d].window_start_at - Math.min(...t.transfers.filter((x) => x.direction === d)
		    .map((x) => (d === 'download' ? x.client_first_byte_at : x.server_started_at))) === 200000,
		'the window starts a fifth of the duration (200 ms) after the first byte');
	}
});

test('timed: packets, packetSize or streams select the N x S form as before', async () => {
	mock.log.length = 0;
	const a = await pg.throughput({ direction: 'download', packets: 3, packetSize: 1000, probes: false });
	const b = await pg.throughput({ direction: 'upload', streams: 2, probes: false });
	is(creates(), [{ direction: 'download', packets: 3, packet_size: 1000 },
		{ direction: 'upload', packets: 10, packet_size: 1048576 }],
	'created with packets and packet_size (defaults 10 x 1 MiB), no duration_ms');
	is([a.duration_ms, a.packets, b.packets, b.packet_size], [null, 3, 10, 1048576], 'read back as N x S tests');
	ok(logOf(a.id, 'packet').every((l) => l.query === ''), 'downloads without ?bytes=');
	is([...logOf(a.id, 'close'), ...logOf(b.id, 'close')], [], 'no close: they complete with their last packet');
	is([a.state, b.state, b.summary.upload.received], ['complete', 'complete', 10], 'both complete');
});

test('timed: an abort in the middle calls the abort route and keeps what moved', async () => {
	mock.knobs.shape = { streamBitsPerSecond: 16e6 };
	const ac = new AbortController();
	let n = 0;
	try {
		const e = await rejects(pg.throughput({ direction: 'download', durationMs: 5000, probes: false,
		    signal: ac.signal, onProgress: () => {
			if (++n === 3)
				ac.abort();
		} }));
		is([e?.name, e?.test?.state], ['AbortError', 'aborted'], 'rejects with an AbortError carrying the aborted test');
		const t = await pg.test('throughput', e.testId);
		ok(t.state === 'aborted' && t.summary.download.reported >= 3,
		    'aborted on the server, the packets moved before it reported', t.summary.download);
		is(logOf(t.id, 'close'), [], 'not closed: aborted');
	} finally {
		mock.knobs.shape = null;
	}
});

test('timed: bad options throw TypeError before any request', async () => {
	mock.log.length = 0;
	const bad = [{ durationMs: 999 }, { durationMs: 60001 }, { durationMs: 1500.5 }, { durationMs: '2000' },
		{ durationMs: 2000, packets: 5 }, { durationMs: 2000, packetSize: 65536 },
		{ durationMs: 2000, streams: 2 }, { maxStreams: 4, packets: 5 }, { maxStreams: 0 }];
	for (const o of bad) {
		const e = await rejects(pg.throughput({ direction: 'download', ...o }));
		ok(e instanceof TypeError, `${JSON.stringify(o)} is a TypeError`, e);
	}
	is(creates(), [], 'no test was created');
	is(TIMED.durationMs, 10000, '(the default duration is 10 s)');
});

test('history pages newest first', async () => {
	const h1 = await pg.history({ kind: 'ping', limit: 1 });
	is(h1.tests.length, 1, 'limit honoured');
	ok(h1.next_cursor, 'a cursor to go on');
	const h2 = await pg.history({ kind: 'ping', limit: 1, cursor: h1.next_cursor });
	ok(h2.tests[0].id < h1.tests[0].id, 'the next page is older');
	const tp = await pg.history({ kind: 'throughput' });
	ok(tp.tests.every((t) => t.kind === 'throughput'), 'throughput history');
	const other = await Pingoo.login(base, 'other', 'pw2');
	is((await other.history({ kind: 'ping' })).tests.length, 0, 'another user sees none');
});

test('the SDK uses no DOM', async () => {
	const fs = await import('node:fs');
	const src = fs.readFileSync(new URL('../../sdk/js/src/pingoo.js', import.meta.url), 'utf8');
	ok(!/\b(document|window|localStorage|sessionStorage|navigator)\b/.test(src),
	    'no document/window/storage/navigator');
});

await test('stop the mock', async () => {
	await mock.close();
	ok(!mock.server.listening, 'the mock no longer listens');
});
await done();
