// timed.mjs - the accuracy of the clients' defaults: the SDK's `throughput({direction})` and
// `pingoo throughput -d DIRECTION` run time-bounded tests (10 s a direction, packet sizes and
// streams their own), across links shaped with tc tbf at rates from 1 Mbit/s to 1 Gbit/s.
//
// Each link is symmetric (both ends' egress shaped to the rate, a queue of 50 ms and 64 KiB at
// least: t/accuracy/lib.mjs), and first measured without Pingoo's clients: plain TCP across it
// (t/accuracy/tcpref.mjs) says the link carries its goodput, and curl through the stack (TLS,
// nginx, the pool: the difference between a packet and one four times its size, so that the
// head of a packet cancels out) says the machine carries it through TLS; each is the median of
// three, and all are printed, so that a miss of a client can be told apart from a link or a
// machine that cannot carry the rate.  Then every run, of each client and direction, is one
// case that asserts:
//
// - the test completed, time-bounded, with no download report missing;
// - the headline, `summary.<direction>.bits_per_second`, is within 3% of the link's TCP
//   goodput (the rate × 1448/1514: a 1514-byte Ethernet frame, what tbf counts, carries 1448
//   bytes of TCP payload with timestamps);
// - no per-packet receiver rate (`packet_bps_max`) exceeds the link's rate;
// - the direction was done within its duration + 2 s, timed from outside the client: the
//   SDK's throughput() call from its start to its result, pingoo(1)'s process.
//
// A run that misses is a failure, and is never measured again.  At the end the file prints,
// per link and client, how many runs missed and by how much, every run's headline against the
// goodput, and a summary line.
//
// Length: PINGOO_ACCURACY=short runs each link, direction and client once (CI); `full` (the
// default) 5 times; a number, that many times.  PINGOO_ACCURACY_RATES="1 10" (Mbit/s) picks
// other links.  Its time budget grows with the number of runs.
//
// Run: node t/accuracy/timed.mjs, as root, after deploy/local/up.  It is not yet part of
// deploy/local/test: its per-packet check fails (docs/reliability.md, "Limits an operator
// should know").  Skips without a stack, fails instead when PINGOO_REQUIRE_STACK=1.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as t from '../integration/lib/tap.mjs';
import { GOODPUT, MiB, bucket, breathe, budget, cleanupCase, cpuIdle, cpuTimes, here, kernelHz, keepListening,
	left, linkCounters, mbit, pct, prepare, scratchDir, setUpCase, shape, stackReference, tcpReference,
	within } from './lib.mjs';

// 1 Mbit/s to 1 Gbit/s, a decade apart: the smallest link where a packet's head (a TLS record,
// the bucket) weighs most against its body, the largest where the two cores must carry the
// link through TLS while they run the client.
const RATES = (process.env.PINGOO_ACCURACY_RATES ?? '1 10 100 1000').split(/\s+/).filter(Boolean).map(Number);
const LENGTH = process.env.PINGOO_ACCURACY || 'full';
const REPS = LENGTH === 'short' ? 1 : LENGTH === 'full' ? 5 : Number(LENGTH);
const CLIENTS = ['SDK', 'pingoo(1)'];
const DIRECTIONS = ['download', 'upload'];
// The clients' default duration of a direction, and the time they may take beyond it.
const DURATION_MS = 10000;
const SLACK_MS = 2000;

const started = Date.now();
const n = prepare('timed.mjs');
if (!RATES.length || !RATES.every((r) => r > 0) || !(Number.isInteger(REPS) && REPS > 0))
	t.bailOut(`PINGOO_ACCURACY (${LENGTH}) or PINGOO_ACCURACY_RATES (${RATES}) is not a length or a list of rates`);
// Setting up and cleaning up (deploy/local/up twice) 2 min, each link's references 60 s, each
// run 30 s (10 s to 12 s is its own; the rest, a client's start and a slow machine's).
budget(120000 + RATES.length * 60000 + RATES.length * REPS * CLIENTS.length * DIRECTIONS.length * 30000);

// Each end's queue: 50 ms, and 64 KiB at least.  A link must let TCP fill it for its goodput
// to be the bar: at 1 Mbit/s 50 ms is four frames, and the clients' two streams lost a frame
// in two (the link sent 1168 frames and dropped 928 in a download) and sat out
// retransmission timeouts, 20% of the window.
const queueMs = (rate) => Math.max(50, Math.ceil(65536 * 8 / (rate * 1e6) * 1000));

const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// The SDK's default test inside the namespace (t/accuracy/client.mjs); {test, progress,
// callMs, wallMs} or {error, ...}.
function sdk(direction) {
	const t0 = process.hrtime.bigint();
	const r = spawnSync('ip', ['netns', 'exec', n.NS, process.execPath, path.join(here, 'client.mjs')], {
		encoding: 'utf8', timeout: Math.min(DURATION_MS + 30000, left()), maxBuffer: 256 * MiB,
		env: { ...process.env, NODE_EXTRA_CA_CERTS: n.stack.PINGOO_CA_FILE, PINGOO_URL: n.nsUrl,
		    PINGOO_DEMO_USER: n.stack.PINGOO_DEMO_USER, PINGOO_DEMO_PASSWORD: n.stack.PINGOO_DEMO_PASSWORD,
		    ACC_DIRECTION: direction },
	});
	const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
	if (r.error || r.status !== 0)
		return { error: `client.mjs: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}: ${(r.stderr || '').trim().slice(-500)}`, wallMs };
	try {
		return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)), wallMs };
	} catch (e) {
		return { error: `client.mjs printed no JSON: ${e.message}`, wallMs };
	}
}

// pingoo(1)'s default test inside the namespace, logged in before each run (as the SDK's
// client.mjs is: another test on the stack may revoke the demo user's tokens) into a
// configuration folder of its own: `pingoo --json --cacert CA throughput -d DIRECTION`, timed
// as a process.
let cliHome = null;
function cli(direction) {
	const env = { ...process.env };
	cliHome = cliHome ?? scratchDir('cli');
	env.XDG_CONFIG_HOME = cliHome;
	const base = ['netns', 'exec', n.NS, n.stack.PINGOO_CLI, '--cacert', n.stack.PINGOO_CA_FILE];
	const login = spawnSync('ip', [...base, 'login', n.nsUrl, n.stack.PINGOO_DEMO_USER], { encoding: 'utf8',
	    input: n.stack.PINGOO_DEMO_PASSWORD + '\n', env, timeout: Math.min(20000, left()) });
	if (login.status !== 0)
		return { error: `pingoo login: exit ${login.status ?? login.signal}: ${(login.stderr || '').trim()}` };
	const t0 = process.hrtime.bigint();
	const startUs = Date.now() * 1000;
	const r = spawnSync('ip', [...base, '--json', 'throughput', '-d', direction],
	    { encoding: 'utf8', env, timeout: Math.min(DURATION_MS + 30000, left()), maxBuffer: 256 * MiB });
	const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
	const endUs = Date.now() * 1000;
	if (r.error || r.status !== 0)
		return { error: `pingoo throughput: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}: ${(r.stderr || '').trim().slice(-500)}`, wallMs };
	try {
		const j = JSON.parse(r.stdout);
		return { test: j.test ?? j, wallMs, startUs, endUs };
	} catch (e) {
		return { error: `pingoo --json printed no JSON: ${e.message}`, wallMs };
	}
}

// A run's packets, for the log: how many, their sizes' range, and for the SDK the most streams
// it ran (from its onProgress events).
function packetsLine(direction, test, progress) {
	const sizes = (test?.transfers ?? []).filter((x) => x.direction === direction).map((x) => x.bytes);
	if (!sizes.length)
		return '';
	const streams = progress?.length ? `, up to ${Math.max(...progress.map((p) => p.streams ?? 1))} streams` : '';
	return `; ${sizes.length} packets of ${Math.min(...sizes)}..${Math.max(...sizes)} B${streams}`;
}

// Where a run's time went, on the client's clock: before its first packet was sent (the test
// created, connections opened, idle probes), from then to its last packet's end, and after
// (close, the test read back); and the part of the headline's window in which no packet was
// moving (the receiver's intervals: a download's from the client's first byte to its last,
// an upload's the server's).
function timeLine(direction, test, r) {
	const xs = (test?.transfers ?? []).filter((x) => x.direction === direction);
	const sent = xs.map((x) => x.client_sent_at).filter(Number.isFinite);
	const got = xs.map((x) => x.client_received_at).filter(Number.isFinite);
	const sec = (us) => (us / 1e6).toFixed(2);
	let line = '';
	if (sent.length && got.length && Number.isFinite(r.startUs) && Number.isFinite(r.endUs)) {
		const first = Math.min(...sent);
		const last = Math.max(...got);
		line += `; ${sec(first - r.startUs)} s before the first packet, ${sec(last - first)} s of packets, ` +
		    `${sec(r.endUs - last)} s after`;
	}
	const s = test?.summary?.[direction];
	const from = s?.window_start_at;
	const to = s?.window_end_at;
	if (Number.isFinite(from) && Number.isFinite(to) && to > from) {
		const iv = xs.map((x) => (direction === 'download' ? [x.client_first_byte_at, x.client_received_at]
		    : [x.server_started_at, x.server_finished_at]))
		    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
		    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)]).filter(([a, b]) => b > a)
		    .sort((p, q) => p[0] - q[0]);
		let covered = 0;
		let end = from;
		for (const [a, b] of iv) {
			if (b > end) {
				covered += b - Math.max(a, end);
				end = b;
			}
		}
		const idle = to - from - covered;
		line += `; no packet moving for ${(idle / 1000).toFixed(0)} ms of the window (${(idle / (to - from) * 100).toFixed(1)}%)`;
	}
	return line;
}

// One run of a client's default test, its figures into `record`, its misses too.
async function measureRun(record, label) {
	const { rate, who, direction } = record;
	const bps = rate * 1e6;
	const goodput = record.goodput;
	await breathe();
	keepListening();
	const load = loadavg();
	record.load = load;
	const before = linkCounters(direction === 'upload');
	const cpu0 = cpuTimes();
	const r = who === 'SDK' ? sdk(direction) : cli(direction);
	const idle = cpuIdle(cpu0, cpuTimes());
	const after = linkCounters(direction === 'upload');
	const test = r.test;
	const s = test?.summary?.[direction];
	const durationMs = test?.duration_ms ?? DURATION_MS;
	const wallMs = who === 'SDK' ? r.callMs : r.wallMs;
	const check = (cond, what, miss, why) => {
		if (!t.ok(cond, `${label}: ${what}`, why))
			record.misses.push(miss);
	};
	t.diag(`${label}: headline ${mbit(s?.bits_per_second)} Mbit/s against the goodput ` +
	    `${mbit(goodput)} (${pct(s?.bits_per_second, goodput)}), packet max ${mbit(s?.packet_bps_max)} ` +
	    `(${pct(s?.packet_bps_max, bps)} of the rate), sender ${mbit(s?.sender_bits_per_second)}, ` +
	    `window ${((s?.window_end_at - s?.window_start_at) / 1e6).toFixed(2)} s after a grace of ` +
	    `${(s?.grace_us / 1e6).toFixed(2)} s, ${s?.packets ?? 'no'} packets; ` +
	    `${who === 'SDK' ? `the call took ${(r.callMs / 1000).toFixed(2)} s, the process ` : ''}` +
	    `${(r.wallMs / 1000).toFixed(2)} s; the link sent ${after && before ? after.sent - before.sent : '?'} ` +
	    `frames, dropped ${after && before ? after.dropped - before.dropped : '?'}${packetsLine(direction, test, r.progress)}` +
	    `${timeLine(direction, test, r)}; ` +
	    `load average ${load}, the cores ${(idle * 100).toFixed(0)}% idle during the run`);
	// The packets that read faster than the link: each one's size, rate, and the bytes that
	// must have arrived before its receiver's clock started for the link to give that rate
	// (its bytes × (1 - rate / its rate)).
	const mine = (test?.transfers ?? []).filter((x) => x.direction === direction && x.status === 'ok');
	const over = mine.filter((x) => x.bits_per_second > bps);
	// A tbf link may deliver its bucket at once, when it is full: a packet ahead by no more than
	// the bucket may be the link's doing, one ahead by more is the clock's.
	const ahead = (x) => x.bytes * (1 - bps / x.bits_per_second);
	if (over.length)
		t.diag(`${label}: ${over.length} of ${mine.length} packets read above the link's rate, ` +
		    `${over.filter((x) => ahead(x) > bucket(rate)).length} of them by more than the ` +
		    `${(bucket(rate) / 1024).toFixed(1)} KiB bucket explains: ` +
		    over.slice(0, 10).map((x) => `#${x.seq} ${x.bytes} B at ${mbit(x.bits_per_second)} ` +
		    `(${(ahead(x) / 1024).toFixed(1)} KiB ahead of the clock)`).join(', ') +
		    (over.length > 10 ? ', ...' : ''));
	check(!r.error && test?.state === 'complete' && test?.packets === null &&
	    Number.isInteger(test?.duration_ms), 'the test completes, time-bounded',
	    `incomplete (${r.error ?? `state ${test?.state}, packets ${test?.packets}, duration_ms ${test?.duration_ms}`})`,
	    r.error);
	check(within(s?.bits_per_second, goodput),
	    `summary.${direction}.bits_per_second is within 3% of the ${mbit(goodput)} Mbit/s goodput ` +
	    `(${mbit(s?.bits_per_second)}, ${pct(s?.bits_per_second, goodput)})`,
	    `headline ${pct(s?.bits_per_second, goodput)}`);
	check(Number.isFinite(s?.packet_bps_max) && s.packet_bps_max <= bps,
	    `packet_bps_max is not above the link's ${mbit(bps)} Mbit/s (${mbit(s?.packet_bps_max)})`,
	    `packet max ${pct(s?.packet_bps_max, bps)} of the rate`);
	check(Number.isFinite(wallMs) && wallMs <= durationMs + SLACK_MS,
	    `done within its ${durationMs / 1000} s + ${SLACK_MS / 1000} s (${(wallMs / 1000).toFixed(2)} s)`,
	    `took ${(wallMs / 1000).toFixed(2)} s`);
	check(s?.report_missing === false, 'no report is missing', 'a report missing');
	record.headline = s?.bits_per_second;
	record.wallMs = wallMs;
}

// Every run's figures and misses, for the tally at the end: by link, then client.
const runs = [];
const references = [];

await setUpCase();

for (const rate of RATES) {
	const name = `${rate} Mbit/s`;
	const bps = rate * 1e6;
	const goodput = bps * GOODPUT;
	await t.test(`${name} link: plain TCP and curl through the stack carry its goodput`, async () => {
		await breathe();
		shape(rate, false, queueMs(rate));
		shape(rate, true, queueMs(rate));
		t.diag(`${name}: tbf bucket ${bucket(rate)} B (HZ ${kernelHz().hz}, ${kernelHz().from}), queue ${queueMs(rate)} ms, ` +
		    `goodput ${mbit(goodput)} Mbit/s; load average ${loadavg()}`);
		for (const direction of DIRECTIONS) {
			// Each reference is the median of three, all three printed: a transfer that sat
			// out a retransmission timeout (the link drops frames: tbf's queue takes TSO's
			// bursts whole or not at all) reads far off, and a pair through the stack magnifies
			// the stall in its difference.  Plain TCP: three transfers of a second each.
			const tcps = [];
			for (let i = 0; i < 3; i++)
				tcps.push(await tcpReference(direction, Math.round(bps / 8)));
			const tcpFailed = tcps.find((x) => x instanceof Error);
			const tcpOk = tcps.filter((x) => !(x instanceof Error));
			const tcp = tcpOk.length === 3 ? [...tcpOk].sort((a, b) => a - b)[1] : null;
			const pairs = [0, 1, 2].map(() => stackReference(direction, Math.min(16 * MiB, Math.round(bps / 8 / 2))));
			const failed = pairs.find((p) => p instanceof Error);
			const diffs = pairs.filter((p) => !(p instanceof Error)).map((p) => p.diff);
			const median = diffs.length === 3 && diffs.every(Number.isFinite) ? [...diffs].sort((a, b) => a - b)[1] : null;
			const bigs = pairs.filter((p) => !(p instanceof Error)).map((p) => p.big);
			const ref = { rate, direction, tcp, diff: median, tcps: tcpOk, diffs, bigs };
			references.push(ref);
			t.diag(`${name} ${direction} reference: plain TCP ${mbit(ref.tcp)} Mbit/s (${pct(ref.tcp, goodput)}; ` +
			    `the three ${tcpOk.map((d) => pct(d, goodput)).join(' ')}), ` +
			    `curl through the stack ${mbit(ref.diff)} (${pct(ref.diff, goodput)}; the three pairs ` +
			    `${diffs.map((d) => pct(d, goodput)).join(' ')}; lone packets with their heads ` +
			    `${bigs.map((d) => pct(d, goodput)).join(' ')})`);
			t.ok(within(ref.tcp, goodput), `${name}, ${direction}: plain TCP carries the ${mbit(goodput)} Mbit/s goodput ` +
			    `within 3% (the median of three, ${mbit(ref.tcp)})`, tcpFailed?.message);
			t.ok(within(ref.diff, goodput), `${name}, ${direction}: curl through the stack carries it within 3% ` +
			    `(the median of three, ${mbit(ref.diff)})`, failed?.message);
			await breathe();
		}
	});

	for (let rep = 1; rep <= REPS; rep++) {
		for (const who of CLIENTS) {
			for (const direction of DIRECTIONS) {
				const label = `${name}, ${direction}, ${who}, run ${rep}/${REPS}`;
				// A run that throws is counted as a miss too.
				const record = { rate, who, direction, rep, headline: null, goodput, misses: [], wallMs: null,
				    load: loadavg() };
				runs.push(record);
				await t.test(`${label}: the headline is the link's`, async () => {
					try {
						await measureRun(record, label);
					} catch (e) {
						record.misses.push(`threw: ${e.message.split('\n')[0]}`);
						throw e;
					}
				});
			}
		}
	}
}

await cleanupCase();

// The tally: per link and client, the runs that missed and by how much, and every run's
// headline against the goodput.
const missed = runs.filter((r) => r.misses.length);
for (const rate of RATES) {
	for (const who of CLIENTS) {
		const mine = runs.filter((r) => r.rate === rate && r.who === who);
		const bad = mine.filter((r) => r.misses.length);
		t.diag(`${rate} Mbit/s, ${who}: ${bad.length} of ${mine.length} runs missed` +
		    (bad.length ? `: ${bad.map((r) => `${r.direction} run ${r.rep} (${r.misses.join(', ')})`).join('; ')}` : ''));
		for (const direction of DIRECTIONS) {
			const d = mine.filter((r) => r.direction === direction);
			t.diag(`    ${direction}: headline against goodput ${d.map((r) => pct(r.headline, r.goodput)).join(' ')}; ` +
			    `wall ${d.map((r) => (r.wallMs / 1000).toFixed(2)).join(' ')} s`);
		}
	}
}
const refsOk = references.filter((r) => within(r.tcp, r.rate * 1e6 * GOODPUT) && within(r.diff, r.rate * 1e6 * GOODPUT));
const transfers = references.flatMap((r) => [...r.tcps, ...r.diffs].map((x) => [x, r.rate * 1e6 * GOODPUT]));
t.diag(`timed.mjs: ${missed.length} of ${runs.length} runs missed (${REPS} a link, direction and client; ` +
    `links ${RATES.join(', ')} Mbit/s); ${refsOk.length} of ${references.length} references carried their goodput ` +
    `(${transfers.filter(([x, g]) => !within(x, g)).length} of their ${transfers.length} single measurements read more than 3% off); ` +
    `${((Date.now() - started) / 1000).toFixed(0)} s; load average now ${loadavg()}`);
await t.done();
