// client.mjs - one throughput test run by the SDK, for t/accuracy/links.mjs and timed.mjs,
// which start it inside their network namespace (`ip netns exec`) with NODE_EXTRA_CA_CERTS set
// to the stack's certificate.  Prints one JSON object on stdout: {test, progress, callMs} (the
// test as the server read it back, every onProgress event, and how long the throughput() call
// took, from the call to its result, in ms, and its start and end on the SDK's clock, startUs and
// endUs), or {error, progress, callMs, startUs, endUs} when the run failed.
//
// Environment: PINGOO_URL, PINGOO_DEMO_USER, PINGOO_DEMO_PASSWORD, ACC_DIRECTION, and for an
// N x S test ACC_PACKETS, ACC_PACKET_SIZE, ACC_STREAMS.  Without ACC_PACKETS the test is the
// SDK's default, `throughput({direction})` (a time-bounded test), with an onProgress that only
// records what it is given.

import { Pingoo, nowUs } from '../../sdk/js/src/pingoo.js';

const env = process.env;
const progress = [];
let out;
let started = null;
let startUs = null;
const callMs = () => (started === null ? null : Number(process.hrtime.bigint() - started) / 1e6);
try {
	const pg = await Pingoo.login(env.PINGOO_URL, env.PINGOO_DEMO_USER, env.PINGOO_DEMO_PASSWORD);
	const opts = env.ACC_PACKETS
	    ? { direction: env.ACC_DIRECTION, packets: Number(env.ACC_PACKETS),
		packetSize: Number(env.ACC_PACKET_SIZE), streams: Number(env.ACC_STREAMS),
		client: { platform: 'node', network_type: 'tbf' } }
	    : { direction: env.ACC_DIRECTION };
	started = process.hrtime.bigint();
	startUs = nowUs();
	const test = await pg.throughput({ ...opts, onProgress: (p) => progress.push(p) });
	out = { test, progress, callMs: callMs(), startUs, endUs: nowUs() };
} catch (e) {
	out = { error: `${e.name}: ${e.code ? `[${e.code}] ` : ''}${e.message}`, progress, callMs: callMs(),
	    startUs, endUs: nowUs() };
}
process.stdout.write(JSON.stringify(out) + '\n');
