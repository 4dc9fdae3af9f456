// cli.mjs - the command-line client pingoo(1) against the running local stack:
// login (a wrong password, a right one from standard input, the 0600 file), me, ping,
// throughput in each direction, time-bounded by default (its printed headline the stored
// one, its packets growing, its streams pausing nowhere between packets, its bar on a
// terminal only) and N x S with -n, -s, -P, history, show, --json on each (one document,
// the test as stored), an unreachable server, a connection cut mid-download by a proxy in
// this file, an interruption, help and usage errors (one table), logout; and a test run
// from the client reads like one from the SDK.
// The client is $PINGOO_CLI of the environment, else of var/stack.env (so a build of
// another tree can be tried against a running stack); its login lives in a temporary
// XDG_CONFIG_HOME.  Without a stack the file is skipped.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { repoDir } from './lib/stack.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_CLI']);
const users = userFactory(stack);
const cli = process.env.PINGOO_CLI || stack.PINGOO_CLI;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pingoo-cli-'));
const stderrs = [];

// Runs the client: {code, signal, stdout, stderr}.  opts: input (standard input), env
// (added), onStdout(text so far, child) to act while it runs.
function run(args, opts = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(cli, args, {
			env: {
				PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: home,
				PINGOO_CA_FILE: stack.PINGOO_CA_FILE,
				...(process.env.ASAN_OPTIONS ? { ASAN_OPTIONS: process.env.ASAN_OPTIONS } : {}),
				...(opts.env ?? {}),
			},
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120000);
		child.stdout.on('data', (d) => {
			stdout += d;
			if (opts.onStdout)
				opts.onStdout(stdout, child);
		});
		child.stderr.on('data', (d) => {
			stderr += d;
		});
		child.on('error', reject);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			stderrs.push(stderr);
			resolve({ code, signal, stdout, stderr });
		});
		// A client that exits before reading its input (a usage error, --version) closes
		// the pipe first: EPIPE here is no failure of the client.
		child.stdin.on('error', () => {});
		child.stdin.end(opts.input ?? '');
	});
}

// The one JSON document of a --json run's stdout, or an exception saying what it held.
function doc(r) {
	const text = r.stdout.trim();
	if (text.includes('\n'))
		throw new Error(`stdout holds more than one line: ${r.stdout.slice(0, 300)}`);
	return JSON.parse(text);
}

function why(r) {
	return `exit ${r.code}${r.signal ? ' ' + r.signal : ''}\nstdout: ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 500)}`;
}

// The usage in a help or an error text: the "usage:" line and the lines that continue it.
function usageOf(text) {
	const lines = text.split('\n');
	const i = lines.findIndex((l) => l.startsWith('usage: '));
	if (i < 0)
		return null;
	let j = i + 1;
	while (j < lines.length && lines[j].startsWith(' '))
		j++;
	return lines.slice(i, j).join('\n');
}

// A proxy to the stack that cuts every connection once `cutAfter` bytes have gone from the
// server to the client on it: small exchanges pass, a large download is cut in its middle.
async function cuttingProxy(cutAfter) {
	const target = new URL(stack.PINGOO_URL);
	const conns = new Set();
	const server = net.createServer((client) => {
		const upstream = net.connect(Number(target.port), target.hostname);
		conns.add(client);
		conns.add(upstream);
		let down = 0;
		const cut = () => {
			client.destroy();
			upstream.destroy();
		};
		client.on('data', (d) => upstream.write(d));
		upstream.on('data', (d) => {
			down += d.length;
			if (down > cutAfter) {
				server.cuts++;
				cut();
			} else {
				client.write(d);
			}
		});
		for (const s of [client, upstream]) {
			s.on('error', cut);
			s.on('close', () => {
				conns.delete(s);
				cut();
			});
		}
	});
	server.cuts = 0;
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	server.url = `https://127.0.0.1:${server.address().port}`;
	server.shut = () => {
		for (const s of conns)
			s.destroy();
		return new Promise((resolve) => server.close(resolve));
	};
	return server;
}

// A loopback port nothing listens on.
async function closedPort() {
	const s = net.createServer();
	await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
	const port = s.address().port;
	await new Promise((resolve) => s.close(resolve));
	return port;
}

// The keys of an object, and of its nested objects, as paths (arrays by their first item).
function shape(v, prefix = '') {
	if (Array.isArray(v))
		return v.length ? shape(v[0], `${prefix}[]`) : [`${prefix}[]`];
	if (v && typeof v === 'object') {
		const keys = [];
		for (const k of Object.keys(v).sort()) {
			if (k === 'client')
				continue;
			keys.push(`${prefix}.${k}`, ...shape(v[k], `${prefix}.${k}`));
		}
		return keys;
	}
	return [];
}

// A rate as the client prints it (cli_fmt_bps): two decimals of the unit that keeps it readable.
function fmtBps(bps) {
	if (bps === null || bps < 0)
		return '-';
	for (const [div, unit] of [[1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s']])
		if (bps >= div)
			return `${(bps / div).toFixed(2)} ${unit}`;
	return `${bps.toFixed(0)} bit/s`;
}

// The pauses between one packet's end and the next one's start on the same stream, in µs,
// with the streams told apart by the stamps alone: a stream moves one packet at a time, so
// each packet (by its start) follows the stream whose last packet ended latest before it
// began, or opens a stream of its own.
function streamGaps(xs, startKey, endKey) {
	const ends = [];
	const gaps = [];
	for (const x of [...xs].sort((a, b) => a[startKey] - b[startKey])) {
		let best = -1;
		for (let i = 0; i < ends.length; i++)
			if (ends[i] <= x[startKey] && (best < 0 || ends[i] > ends[best]))
				best = i;
		if (best < 0) {
			ends.push(x[endKey]);
		} else {
			gaps.push(x[startKey] - ends[best]);
			ends[best] = x[endKey];
		}
	}
	return gaps;
}

function median(v) {
	const s = [...v].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Runs the client under script(1), so that its standard error alone is a terminal: what it
// draws there.
function runOnTerminal(args) {
	const quote = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
	const cmd = `${[cli, ...args].map(quote).join(' ')} 2>&1 >/dev/null`;
	return new Promise((resolve, reject) => {
		const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
			env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: home,
			    PINGOO_CA_FILE: stack.PINGOO_CA_FILE, TERM: 'dumb' },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
		child.stdout.on('data', (d) => { out += d; });
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({ code, out });
		});
	});
}

// A throughput test run from the SDK in another Node (which must trust the stack's CA
// from its start).
function sdkThroughput(u, opts) {
	const script = `
		import { Pingoo } from ${JSON.stringify(path.join(repoDir, 'sdk/js/src/pingoo.js'))};
		const pg = await Pingoo.login(process.env.URL, process.env.U, process.env.P);
		const test = await pg.throughput(JSON.parse(process.env.OPTS));
		process.stdout.write(JSON.stringify(test));`;
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
			env: { ...process.env, NODE_EXTRA_CA_CERTS: stack.PINGOO_CA_FILE,
			    URL: stack.PINGOO_URL, U: u.username, P: u.password, OPTS: JSON.stringify(opts) },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		let err = '';
		child.stdout.on('data', (d) => { out += d; });
		child.stderr.on('data', (d) => { err += d; });
		child.on('error', reject);
		child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out))
		    : reject(new Error(`the SDK run failed: ${err}`))));
	});
}

const u = users.create();
const token = await A.token(u.username, u.password);
const session = path.join(home, 'pingoo', 'session.json');
const readTest = async (kind, id) => (await A.get(`/api/v1/${kind}-tests/${id}`, token)).json;

try {
	await t.test('a wrong password exits 4 with invalid_credentials on stderr and nothing on stdout', async () => {
		const r = await run(['login', stack.PINGOO_URL, u.username], { input: 'not-the-password\n' });
		t.is(r.code, 4, 'the exit status is the authentication one');
		t.like(r.stderr, /invalid_credentials/, 'stderr names the server\'s error code');
		t.is(r.stdout, '', 'stdout is empty');
		t.ok(!fs.existsSync(session), 'no login is saved');
	});

	await t.test('login takes the password on standard input and keeps the token in a 0600 file', async () => {
		const r = await run(['login', stack.PINGOO_URL, u.username], { input: u.password + '\n' });
		t.is(r.code, 0, 'login exits 0', why(r));
		t.like(r.stdout, new RegExp(`as ${u.username}`), 'it says who is logged in');
		const st = fs.statSync(session);
		t.is(st.mode & 0o777, 0o600, 'the file is 0600');
		t.is(fs.statSync(path.dirname(session)).mode & 0o777, 0o700, 'its folder is 0700');
		const s = JSON.parse(fs.readFileSync(session, 'utf8'));
		t.is(s.url, stack.PINGOO_URL, 'the file keeps the URL');
		t.ok(typeof s.token === 'string' && s.token.split('.').length === 3, 'the file keeps a JWT');
		t.ok(!JSON.stringify(s).includes(u.password), 'the password is not kept');
	});

	await t.test('login takes its URL from PINGOO_URL and --json prints the user', async () => {
		const r = await run(['login', '--json', u.username],
		    { input: u.password + '\n', env: { PINGOO_URL: stack.PINGOO_URL } });
		t.is(r.code, 0, 'login exits 0', why(r));
		t.is(doc(r).username, u.username, 'stdout is the user as one JSON document');
	});

	await t.test('me prints the user, and --json the server\'s answer', async () => {
		const r = await run(['me']);
		t.is(r.code, 0, 'me exits 0', why(r));
		t.like(r.stdout, new RegExp(`^${u.username} \\(id \\d+\\)`), 'the text names the user');
		const j = await run(['me', '--json']);
		const me = (await A.get('/api/v1/me', token)).json;
		t.is(doc(j), me, '--json is GET /me');
	});

	let pingId = null;
	await t.test('ping prints a line per sample, then the stored summary', async () => {
		const r = await run(['ping', '-c', '5', '-i', '20']);
		t.is(r.code, 0, 'ping exits 0', why(r));
		const lines = r.stdout.split('\n').filter((l) => / seq=\d+ time=/.test(l));
		t.is(lines.length, 5, 'five sample lines');
		t.ok(lines.every((l, i) => new RegExp(`seq=${i} time=\\d+\\.\\d{3} ms server=\\d+\\.\\d{3} ms$`).test(l)),
		    'each line gives the seq, the round trip and the server time', lines);
		t.like(r.stdout, /^5 sent, 5 received, 0% loss$/m, 'the summary counts five received');
		t.like(r.stdout, /^rtt min\/avg\/median\/p90\/p99\/max\/mdev = [\d.]+(\/[\d.]+){6} ms$/m,
		    'the summary gives the round trips');
		pingId = Number(/ping test (\d+)/.exec(r.stdout)?.[1]);
	});

	await t.test('ping --json prints the test exactly as stored, every sample with its four stamps', async () => {
		const r = await run(['--json', 'ping', '-c', '4', '-i', '0']);
		t.is(r.code, 0, 'ping exits 0', why(r));
		const test = doc(r);
		t.is(test.state, 'complete', 'the test is complete');
		t.is(test.summary.received, 4, 'four samples received');
		t.ok(test.samples.every((s) => s.client_received_at >= s.client_sent_at &&
		    s.server_sent_at >= s.server_received_at), 'every sample has t0 <= t3 and t1 <= t2');
		t.is(test.client.platform, 'cli', 'the client describes itself');
		t.is(test, await readTest('ping', test.id), 'stdout equals GET of the test');
	});

	let tpId = null;
	await t.test('throughput --json downloads over parallel streams and reports every packet', async () => {
		const r = await run(['throughput', '--json', '-n', '6', '-s', '256k', '-P', '3']);
		t.is(r.code, 0, 'throughput exits 0', why(r));
		const test = doc(r);
		tpId = test.id;
		t.is(test.state, 'complete', 'the test is complete');
		t.is(test.packet_size, 262144, 'the size suffix is KiB');
		const d = test.summary.download;
		t.is([d.received, d.reported, d.report_missing], [6, 6, false], 'six received and reported');
		t.ok(Number.isInteger(d.bits_per_second) && d.bits_per_second > 0,
		    'the receiver-side rate is there', d);
		t.ok(test.transfers.every((x) => x.status === 'ok' && x.client_sent_at <= x.client_first_byte_at &&
		    x.client_first_byte_at <= x.client_received_at &&
		    x.duration_us === x.client_received_at - x.client_first_byte_at),
		    'every transfer has the three client stamps and the receiver\'s duration', test.transfers);
		t.is(test, await readTest('throughput', test.id), 'stdout equals GET of the test');
	});

	await t.test('throughput upload sends exactly packet_size bytes a packet', async () => {
		const r = await run(['throughput', '--json', '-d', 'upload', '-n', '3', '-s', '100000', '-P', '2']);
		t.is(r.code, 0, 'throughput exits 0', why(r));
		const test = doc(r);
		t.is(test.state, 'complete', 'the test is complete');
		t.ok(test.transfers.every((x) => x.bytes === 100000 && x.status === 'ok'), 'every upload is whole');
		t.ok(test.summary.upload.bits_per_second > 0, 'the server gives the upload rate');
	});

	await t.test('throughput both over HTTP/1.1 prints a plain line per packet and the receiver\'s rates', async () => {
		const r = await run(['--http1.1', 'throughput', '-d', 'both', '-n', '2', '-s', '64k', '-P', '2']);
		t.is(r.code, 0, 'throughput exits 0', why(r));
		t.is(r.stdout.split('\n').filter((l) => /^download seq=\d bytes=65536 time=[\d.]+ ms rate=/.test(l)).length,
		    2, 'two download lines');
		t.is(r.stdout.split('\n').filter((l) => /^upload seq=\d bytes=65536 time=[\d.]+ ms rate=.*\(server\)$/.test(l)).length,
		    2, 'two upload lines');
		t.like(r.stdout, /^download: 2\/2 received, 0 failed, 131072 bytes, [\d.]+ [kMG]?bit\/s \(received at the client\)$/m,
		    'the download summary is the client\'s');
		t.like(r.stdout, /^upload: 2\/2 received, 0 failed, 131072 bytes, [\d.]+ [kMG]?bit\/s \(received at the server\)$/m,
		    'the upload summary is the server\'s');
		t.ok(!/sender/.test(r.stdout), 'no sender figure is printed');
	});

	await t.test('throughput sends latency probes on a connection of its own and prints the grade and the RPM', async () => {
		const r = await run(['throughput', '-d', 'upload', '-n', '8', '-s', '2M', '-P', '1']);
		t.is(r.code, 0, 'throughput exits 0', why(r));
		const id = Number(/^--- throughput test (\d+):/m.exec(r.stdout)?.[1]);
		const test = await readTest('throughput', id);
		const lat = test.summary.latency;
		t.ok(lat.idle?.samples >= 10 && lat.upload?.samples >= 1 && !lat.download,
		    'at least 10 idle probes and upload probes are stored, all answered', lat);
		t.ok(test.probes.every((p) => p.client_received_at !== null && p.server_received_at !== null),
		    'every probe has its four stamps', test.probes);
		const ms = (v) => (v / 1000).toFixed(3);
		t.like(r.stdout, new RegExp(`^latency idle: ${lat.idle.samples} probes, 0 lost, rtt median/p90/p99 = ` +
		    `${ms(lat.idle.rtt_median_us)} / ${ms(lat.idle.rtt_p90_us)} / ${ms(lat.idle.rtt_p99_us)} ms$`, 'm'),
		    'the idle line is the stored one');
		t.like(r.stdout, new RegExp(`^latency upload: .*, rise ${ms(lat.upload.rise_median_us)} ms$`, 'm'),
		    'the upload line gives the stored rise');
		t.like(r.stdout, new RegExp(`^bufferbloat grade ${test.summary.bufferbloat_grade.replace('+', '\\+')}, ` +
		    `responsiveness ${test.summary.responsiveness_rpm} RPM$`, 'm'), 'the grade and the RPM are the stored ones');
		const quiet = doc(await run(['throughput', '--json', '-N', '-d', 'upload', '-n', '1', '-s', '64k']));
		t.is([quiet.probes, quiet.summary.bufferbloat_grade], [[], null], '-N sends no probe');
	});

	await t.test('throughput -B moves both directions at once, with bidirectional probes', async () => {
		const r = await run(['throughput', '--json', '-d', 'both', '-B', '-n', '6', '-s', '1M', '-P', '2']);
		t.is(r.code, 0, 'throughput -B exits 0', why(r));
		const test = doc(r);
		t.is([test.simultaneous, test.state, Object.keys(test.summary.latency)],
		    [true, 'complete', ['idle', 'bidirectional']], 'a simultaneous test with idle and bidirectional probes');
		const span = (d) => {
			const xs = test.transfers.filter((x) => x.direction === d);
			return [Math.min(...xs.map((x) => x.server_started_at)), Math.max(...xs.map((x) => x.server_finished_at))];
		};
		const [ds, de] = span('download');
		const [us, ue] = span('upload');
		t.ok(us < de && ds < ue, 'the downloads and the uploads overlapped', { ds, de, us, ue });
		t.is((await run(['throughput', '-B', '-d', 'upload'])).code, 2, '-B without -d both is a usage error');
	});

	let timed = null;
	await t.test('throughput with no size option runs a time-bounded test, download then upload, and prints the stored headlines', async () => {
		const started = Date.now();
		const r = await run(['throughput', '-d', 'both', '-t', '2']);
		const wallMs = Date.now() - started;
		t.is(r.code, 0, 'throughput exits 0', why(r));
		t.like(r.stdout, /^THROUGHPUT \S+ test \d+: both, 2 s per direction, up to 16 streams$/m,
		    'it says it runs 2 s per direction');
		const id = Number(/^--- throughput test (\d+): both, 2 s per direction \(complete\) ---$/m.exec(r.stdout)?.[1]);
		const test = timed = await readTest('throughput', id);
		t.is([test.state, test.duration_ms, test.packets, test.packet_size], ['complete', 2000, null, null],
		    'the stored test is time-bounded (duration_ms 2000, no packets) and complete');
		for (const [dir, at] of [['download', 'client'], ['upload', 'server']]) {
			const s = test.summary[dir];
			t.ok(Number.isInteger(s.bits_per_second) && s.bits_per_second > 0 && s.window_bytes > 0,
			    `the ${dir} has a headline over its window`, s);
			const line = new RegExp(`^${dir}: (\\d+)/(\\d+) received, 0 failed, (\\d+) bytes, (.+) \\(received at the ${at}\\)$`, 'm')
			    .exec(r.stdout);
			t.is(line?.slice(1), [String(s.received), String(s.packets), String(s.bytes), fmtBps(s.bits_per_second)],
			    `the ${dir} line printed is the stored summary, its headline the server's bits_per_second`);
			t.like(r.stdout, new RegExp(`^${dir} window: ${((s.window_end_at - s.window_start_at) / 1e6).toFixed(3)} s ` +
			    `after a ${(s.grace_us / 1e6).toFixed(3)} s grace, ${s.window_bytes} bytes$`, 'm'),
			    `the ${dir} window printed is the stored one`);
		}
		const xs = (d) => test.transfers.filter((x) => x.direction === d);
		t.ok(Math.max(...xs('download').map((x) => x.client_received_at)) <=
		    Math.min(...xs('upload').map((x) => x.client_sent_at)), 'the download ended before the upload began');
		for (const dir of ['download', 'upload']) {
			const span = Math.max(...xs(dir).map((x) => x.client_received_at)) -
			    Math.min(...xs(dir).map((x) => x.client_sent_at));
			t.ok(span >= 1900000 && span <= 4000000, `the ${dir} moved for its 2 s (less 0.1 s at most) and at most 2 s more`, { span });
		}
		t.ok(wallMs < 20000, 'the whole run took less than 20 s', { wallMs });
		t.is(r.stderr, '', 'nothing on stderr when it is not a terminal: no bar');
	});

	await t.test('a time-bounded test grows its packets from 64 KiB, and no stream pauses 100 ms between two', async () => {
		t.ok(timed !== null, 'the time-bounded test above ran');
		for (const dir of ['download', 'upload']) {
			const xs = timed.transfers.filter((x) => x.direction === dir);
			const sizes = xs.map((x) => x.bytes);
			t.ok(xs.every((x) => x.status === 'ok'), `every ${dir} packet is ok`);
			t.ok(xs.find((x) => x.seq === 0)?.bytes === 65536 && Math.max(...sizes) > 65536 &&
			    new Set(sizes).size > 1, `the ${dir} packets grew from 64 KiB (not all of one size)`, sizes);
		}
		// The receiver's stamps: a download's end is the client's last byte and its next start
		// the client's request; an upload's are the server's last and first bytes read.
		const gaps = {
			download: streamGaps(timed.transfers.filter((x) => x.direction === 'download'),
			    'client_sent_at', 'client_received_at'),
			upload: streamGaps(timed.transfers.filter((x) => x.direction === 'upload'),
			    'server_started_at', 'server_finished_at'),
		};
		for (const dir of ['download', 'upload'])
			t.ok(gaps[dir].length > 0 && median(gaps[dir]) < 25000,
			    `a ${dir} stream's next packet starts well under 100 ms after its last (median gap under 25 ms)`,
			    gaps[dir]);
	});

	await t.test('the N x S options still give an N x S test, whose packets follow each other with no 100 ms pause', async () => {
		const r = await run(['throughput', '--json', '-N', '-d', 'both', '-n', '8', '-s', '1M', '-P', '1']);
		t.is(r.code, 0, 'throughput exits 0', why(r));
		const test = doc(r);
		t.is([test.state, test.packets, test.packet_size, test.duration_ms], ['complete', 8, 1048576, null],
		    'an N x S test of 8 x 1 MiB, complete, with no duration');
		t.ok(test.transfers.length === 16 && test.transfers.every((x) => x.bytes === 1048576 && x.status === 'ok'),
		    'every packet of each direction is 1 MiB and ok');
		t.is(test.summary.download.window_start_at, null, 'its headline is over the whole span (no window)');
		// One stream a direction: the packets follow each other by seq.  The server's stamps.
		for (const dir of ['download', 'upload']) {
			const xs = test.transfers.filter((x) => x.direction === dir).sort((a, b) => a.seq - b.seq);
			const gaps = xs.slice(1).map((x, i) => x.server_started_at - xs[i].server_finished_at);
			t.ok(gaps.every((g) => g < 100000) && median(gaps) < 25000,
			    `each ${dir} packet starts under 100 ms after the last ended at the server (median under 25 ms)`, gaps);
		}
	});

	await t.test('on a terminal a bar on stderr gives the direction, time, streams and rate; -q draws none', async () => {
		const r = await runOnTerminal(['throughput', '-N', '-t', '1']);
		t.is(r.code, 0, 'throughput exits 0', r.out);
		const draws = r.out.split('\r').filter((l) => l.startsWith('download '));
		t.ok(draws.length >= 3 && draws.every((l) =>
		    /^download +\[[# ]{20}\] \d+\.\d\/1 s  \d+ streams?  (-|[\d.]+ [kMG]?bit\/s)\x1b\[K/.test(l)),
		    'the bar is redrawn in place with the direction, elapsed/duration, streams and rate', draws);
		t.ok(draws.some((l) => /bit\/s/.test(l)), 'a running rate is shown');
		t.ok(draws.length <= 40, 'it is redrawn at most every 100 ms or so', draws.length);
		const q = await runOnTerminal(['throughput', '-N', '-q', '-t', '1']);
		t.is([q.code, q.out], [0, ''], '-q draws nothing');
	});

	await t.test('a test run from the client reads like one run from the SDK', async () => {
		const r = await run(['throughput', '--json', '-d', 'both', '-n', '3', '-s', '128k', '-P', '2']);
		t.is(r.code, 0, 'the client\'s run exits 0', why(r));
		const cli = doc(r);
		const sdk = await sdkThroughput(u, { direction: 'both', packets: 3, packetSize: 131072, streams: 2 });
		t.is(shape(cli), shape(sdk), 'the same fields, nested the same way');
		for (const dir of ['download', 'upload']) {
			for (const [who, test] of [['client', cli], ['SDK', sdk]]) {
				const s = test.summary[dir];
				t.ok(s.received === 3 && s.reported === 3 && s.report_missing === false &&
				    s.bits_per_second > 0 && s.packet_bps_median > 0,
				    `the ${who}'s ${dir} is received, reported and rated at the receiver`, s);
			}
		}
		t.ok(cli.transfers.every((x) => x.bits_per_second > 0) && sdk.transfers.every((x) => x.bits_per_second > 0),
		    'every transfer of both has its receiver rate');
	});

	await t.test('history lists both kinds, and --json with -k is the server\'s answer', async () => {
		const r = await run(['history', '-l', '30']);
		t.is(r.code, 0, 'history exits 0', why(r));
		t.like(r.stdout, new RegExp(`^ping +${pingId} +complete`, 'm'), 'the ping test is listed');
		t.like(r.stdout, new RegExp(`^throughput +${tpId} +complete`, 'm'), 'the throughput test is listed');
		const both = doc(await run(['history', '--json']));
		t.ok(both.ping.tests.some((x) => x.id === pingId) && both.throughput.tests.some((x) => x.id === tpId),
		    'without -k --json holds both lists');
		const one = doc(await run(['history', '--json', '-k', 'ping', '-l', '2']));
		t.is(one, (await A.get('/api/v1/ping-tests?limit=2', token)).json, 'with -k it is the list as served');
	});

	await t.test('show prints a stored test, --json exactly as GET', async () => {
		const r = await run(['show', '-k', 'throughput', String(tpId)]);
		t.is(r.code, 0, 'show exits 0', why(r));
		t.is(r.stdout.split('\n').filter((l) => /^download seq=\d ok bytes=262144/.test(l)).length, 6,
		    'a line per transfer');
		const j = await run(['show', '--json', '-k', 'ping', String(pingId)]);
		t.is(doc(j), await readTest('ping', pingId), 'the --json is the test as stored');
	});

	await t.test('show of a test that is not the user\'s exits 5 with not_found', async () => {
		const r = await run(['show', '--json', '-k', 'ping', String(2 ** 52)]);
		t.is(r.code, 5, 'the exit status is the server-error one', why(r));
		t.like(r.stderr, /not_found/, 'stderr names the code');
		t.is(r.stdout, '', 'stdout is empty');
	});

	await t.test('an unreachable server exits 3 with network_error', async () => {
		const url = `https://127.0.0.1:${await closedPort()}`;
		const r = await run(['--json', '--url', url, 'me']);
		t.is(r.code, 3, 'the exit status is the network one', why(r));
		t.like(r.stderr, /network_error/, 'stderr says network_error');
		t.is(r.stdout, '', 'stdout is empty');
		const l = await run(['login', url, u.username], { input: u.password + '\n' });
		t.is(l.code, 3, 'login to it exits 3 too');
	});

	await t.test('a connection cut mid-download exits 3 and leaves the test aborted', async () => {
		const proxy = await cuttingProxy(512 * 1024);
		let r;
		try {
			// A packet far larger than what nginx and the sockets can hold, so the worker
			// cannot hand it all over before the cut and records it failed.
			r = await run(['--json', '--url', proxy.url, 'throughput', '-n', '2', '-s', '32M']);
		} finally {
			await proxy.shut();
		}
		t.ok(proxy.cuts >= 1, 'the proxy cut a connection');
		t.is(r.code, 3, 'the exit status is the network one', why(r));
		t.like(r.stderr, /^pingoo: download 0: .*; test \d+ aborted \(network_error\)$/m,
		    'stderr says which packet and that the test was aborted');
		t.is(r.stdout, '', 'stdout is empty');
		const id = Number(/test (\d+) aborted/.exec(r.stderr)?.[1]);
		let test = await readTest('throughput', id);
		t.is(test.state, 'aborted', 'the test is aborted');
		// The worker notices the cut when its next write fails.
		for (let i = 0; i < 50 && test.transfers[0]?.status === 'started'; i++) {
			await sleep(100);
			test = await readTest('throughput', id);
		}
		t.is(test.transfers.map((x) => [x.seq, x.status, x.client_received_at]), [[0, 'failed', null]],
		    'the cut packet is recorded failed, without client stamps, and no other moved');
		t.is(test.summary.download.reported, 0, 'nothing short was reported');
	});

	await t.test('an interruption aborts the test after reporting what arrived, and exits 130', async () => {
		let sent = false;
		const r = await run(['throughput', '-n', '1000', '-s', '1M'], {
			onStdout: (out, child) => {
				if (!sent && /^download seq=2 /m.test(out)) {
					sent = true;
					child.kill('SIGINT');
				}
			},
		});
		t.is(r.code, 130, 'the exit status is 130', why(r));
		t.like(r.stderr, /interrupted/, 'stderr says so');
		const id = Number(/throughput test (\d+)/.exec(r.stdout)?.[1]);
		const test = await readTest('throughput', id);
		t.is(test.state, 'aborted', 'the test is aborted');
		t.like(r.stdout, /\(aborted\) ---/, 'the aborted test is printed');
		const d = test.summary.download;
		// A packet cut by the interruption may still be whole at the server's end; the
		// client reports exactly the ones it holds whole, a line each.
		const whole = r.stdout.split('\n').filter((l) => /^download seq=\d+ bytes=1048576 /.test(l)).length;
		t.ok(whole >= 3 && d.reported === whole && d.received >= whole,
		    'every packet the client held whole was reported', { whole, ...d });
	});

	await t.test('usage errors exit 2 and print nothing on stdout', async () => {
		for (const args of [['ping', '-c', '0'], ['throughput', '-d', 'sideways'], ['frobnicate'],
		    ['show', 'x'], ['login'], ['throughput', '-t', '2', '-n', '3'], ['throughput', '-t', '0'],
		    ['throughput', '-t', '61'], ['throughput', '-s', '1M', '-t', '5']]) {
			const r = await run(args);
			t.ok(r.code === 2 && r.stdout === '', `pingoo ${args.join(' ')} is a usage error`, why(r));
		}
	});

	await t.test('help, a command\'s --help and its usage error print the one table\'s usage', async () => {
		const all = await run(['help']);
		t.ok(all.code === 0 && all.stderr === '', 'help exits 0 with nothing on stderr', why(all));
		for (const c of ['login', 'logout', 'me', 'ping', 'throughput', 'history', 'show', 'help', 'version'])
			t.like(all.stdout, new RegExp(`^  ${c}\\b`, 'm'), `help lists ${c}`);
		t.ok(all.stdout.split('\n').every((l) => l.length <= 80), 'no line of help is over 80 columns');
		t.is((await run(['--help'])).stdout, all.stdout, '--help is help');
		const h = await run(['throughput', '--help']);
		t.ok(h.code === 0 && h.stderr === '', 'throughput --help exits 0 with nothing on stderr', why(h));
		t.like(usageOf(h.stdout).replace(/\s+/g, ' '),
		    /\[-d download\|upload\|both\] \[-t SECONDS \| \[-n PACKETS\] \[-s SIZE\] \[-P STREAMS\]\] \[-B\] \[-N\] \[-q\]$/,
		    'its usage has every option');
		t.is((await run(['help', 'throughput'])).stdout, h.stdout, 'help throughput says the same');
		const flat = (text) => text.replace(/\s+/g, ' ');
		t.ok(flat(all.stdout).includes(flat(usageOf(h.stdout)).replace('usage: pingoo ', '')),
		    'help lists the same usage');
		const bad = await run(['throughput', '-d', 'sideways']);
		t.is(usageOf(bad.stderr), usageOf(h.stdout), 'the usage error prints the same usage');
		const version = /AC_INIT\(\[pingoo\], \[([^\]]+)\]/.exec(
		    fs.readFileSync(path.join(repoDir, 'configure.ac'), 'utf8'))[1];
		const v = await run(['--version']);
		t.ok(v.code === 0 && v.stdout.startsWith(`pingoo ${version} `), '--version prints configure.ac\'s version', why(v));
	});

	await t.test('logout forgets the login, after which commands exit 4', async () => {
		const r = await run(['logout', '--json']);
		t.is(r.code, 0, 'logout exits 0');
		t.is(doc(r), { logged_out: true }, '--json says it logged out');
		t.ok(!fs.existsSync(session), 'the file is gone');
		const me = await run(['me']);
		t.is(me.code, 4, 'me exits 4');
		t.like(me.stderr, /not_logged_in/, 'stderr says not_logged_in');
	});

	await t.test('no client run printed a sanitizer report', async () => {
		const bad = stderrs.filter((s) => /Sanitizer|runtime error:/.test(s));
		t.is(bad.length, 0, 'no sanitizer report on stderr', bad[0]);
	});
} finally {
	users.cleanup();
	fs.rmSync(home, { recursive: true, force: true });
}
await t.done();
