// unit.mjs - the SDK's exchanges against an in-memory mock of the API (mock-server.mjs):
// batching of receipts and reports, latency probes, abort, error mapping.  Needs no stack; TAP
// on stdout.
// Run: node t/sdk/unit.mjs

import { ok, is, test, done, diag, rejects } from '../integration/lib/tap.mjs';
import { createMock, MOCK_PING_STATS, MOCK_TP_STATS } from './mock-server.mjs';
import { Pingoo, PingooError, parseServerTiming, randomBytes } from '../../sdk/js/src/pingoo.js';

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
	is(t.summary.download.packet_bps_median, MOCK_TP_STATS.packet_bps_median,
	    'the rates are the server\'s (the mock\'s fixed ones), passed through');
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

await test('stop the mock', () => mock.close());
await done();
