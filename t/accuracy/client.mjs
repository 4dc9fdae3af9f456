// client.mjs - one throughput test run by the SDK, for t/accuracy/links.mjs, which starts it
// inside its network namespace (`ip netns exec`) with NODE_EXTRA_CA_CERTS set to the stack's
// certificate.  Prints one JSON object on stdout: {test, progress} (the test as the server
// read it back, and every onProgress event), or {error, progress} when the run failed.
//
// Environment: PINGOO_URL, PINGOO_DEMO_USER, PINGOO_DEMO_PASSWORD, and
// ACC_DIRECTION, ACC_PACKETS, ACC_PACKET_SIZE, ACC_STREAMS for the test.

import { Pingoo } from '../../sdk/js/src/pingoo.js';

const env = process.env;
const progress = [];
let out;
try {
	const pg = await Pingoo.login(env.PINGOO_URL, env.PINGOO_DEMO_USER, env.PINGOO_DEMO_PASSWORD);
	const test = await pg.throughput({
		direction: env.ACC_DIRECTION, packets: Number(env.ACC_PACKETS),
		packetSize: Number(env.ACC_PACKET_SIZE), streams: Number(env.ACC_STREAMS),
		client: { platform: 'node', network_type: 'tbf' },
		onProgress: (p) => progress.push(p),
	});
	out = { test, progress };
} catch (e) {
	out = { error: `${e.name}: ${e.code ? `[${e.code}] ` : ''}${e.message}`, progress };
}
process.stdout.write(JSON.stringify(out) + '\n');
