// lib.mjs - what the accuracy tests share: a network namespace joined to the host by a veth
// pair, the stack's nginx listening on the host end, each end's egress shaped with tc tbf, the
// reference measurements that say what a shaped link carries, and the removal of all of it.
//
// The namespace, the veth pair and a /30 of 10.231.0.0/16 are named after the stack's HTTPS
// port (the first address on the host, the second in the namespace), so stacks of other
// checkouts on the machine may run the suite at the same time.  The host end carries
// downloads (its egress is shaped for them), the namespace end uploads.  The stack is made to
// listen on the host address with deploy/local/up and PINGOO_LISTEN_ADDRESS (the certificate
// gets the address); the listen addresses it had before are given back at the end.
//
// Every step runs with a time limit taken from the file's budget (budget()); cleanup() runs on
// exit and on SIGINT/SIGTERM/SIGHUP, and setUp() first removes what a killed run left.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as t from '../integration/lib/tap.mjs';
import { loadStack, stackEnvPath } from '../integration/lib/stack.mjs';

// A 1514-byte Ethernet frame (what tbf counts) carries 1448 bytes of TCP payload with
// timestamps: the most a TCP receiver can get of a link's rate.
export const GOODPUT = 1448 / 1514;
export const TOLERANCE = 0.03;
export const MiB = 1048576;
export const here = path.dirname(fileURLToPath(import.meta.url));

export const mbit = (bps) => (bps === null || bps === undefined || !Number.isFinite(bps)
    ? 'null' : (bps / 1e6).toFixed(3));
// A figure against the one it should be: "+1.23%".
export const pct = (got, want) => (Number.isFinite(got) && want
    ? `${got >= want ? '+' : ''}${((got / want - 1) * 100).toFixed(2)}%` : 'n/a');

export function within(got, want, tolerance = TOLERANCE) {
	return Number.isFinite(got) && Math.abs(got / want - 1) <= tolerance;
}

let deadline = Infinity;
// Starts the file's time budget: every step's time limit is cut to what is left of it.
export function budget(ms) {
	deadline = Date.now() + ms;
}
export function left() {
	return Math.max(1000, deadline - Date.now());
}

// Runs a command; its output, or an Error carrying its standard error.
export function run(cmd, args, opts = {}) {
	const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: Math.min(opts.timeout ?? 20000, left()),
	    env: opts.env ?? process.env, input: opts.input, maxBuffer: 64 * MiB });
	if (r.error || r.status !== 0) {
		const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
		throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${(r.stderr || '').trim().slice(-2000)}`);
	}
	return r.stdout;
}

export function quiet(cmd, args) {
	spawnSync(cmd, args, { stdio: 'ignore', timeout: 10000 });
}

// Lets the event loop run, so a signal that came during a step is handled before the next
// (the steps block in spawnSync, and the tests follow each other as promise callbacks).
export function breathe() {
	return new Promise((resolve) => setTimeout(resolve, 0));
}

// The stack and the names of this run's network, or a skip of the whole file.
export function prepare(file) {
	const stack = loadStack();
	if (!stack)
		t.skipAll(`no stack: ${stackEnvPath()} does not exist (run deploy/local/up)`);
	const need = ['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_DEMO_USER', 'PINGOO_DEMO_PASSWORD',
		'PINGOO_SRCDIR', 'PINGOO_BUILDDIR', 'PINGOO_CLI'];
	const missing = need.filter((k) => !stack[k]);
	if (missing.length)
		t.skipAll(`${stack.envFile} lacks ${missing.join(', ')}`);
	if (process.getuid() !== 0)
		t.skipAll('network namespaces and tc need root');
	for (const tool of ['ip', 'tc', 'curl']) {
		if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error)
			t.skipAll(`${tool} is not installed`);
	}
	// $PINGOO_CLI from the environment wins over the stack's (a client built elsewhere).
	if (process.env.PINGOO_CLI)
		stack.PINGOO_CLI = process.env.PINGOO_CLI;
	const port = Number(new URL(stack.PINGOO_URL).port || '443');
	const net = 4 * (port % 16384);
	const n = {
		file, stack, port,
		NS: `pingoo-acc-${port}`,
		HOST_IF: `pga${port}h`,
		NS_IF: `pga${port}n`,
		HOST_ADDR: `10.231.${net >> 8}.${(net & 255) + 1}`,
		NS_ADDR: `10.231.${net >> 8}.${(net & 255) + 2}`,
		up: path.join(stack.PINGOO_SRCDIR, 'deploy', 'local', 'up'),
	};
	n.nsUrl = `https://${n.HOST_ADDR}:${port}`;
	// The listen addresses the stack had before (others than ours), given back at the end.
	n.otherListen = (stack.PINGOO_LISTEN_ADDRESS || '').split(/\s+/)
	    .filter((a) => a && a !== n.HOST_ADDR).join(' ');
	net_ = n;
	lock(n);
	process.on('exit', cleanup);
	for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
		process.on(sig, () => {
			cleanup();
			process.exit(1);
		});
	}
	return n;
}
let net_ = null;

// One accuracy run at a time on a stack: two would share the namespace's names, the listen
// address and the machine's two cores.  The lock is a file in /tmp named after the port,
// holding its owner's pid; a lock whose owner is gone is taken over.  Waits for it up to
// 20 minutes (a full run of timed.mjs), then gives up.
let locked = null;
function lock(n) {
	const file = path.join(fs.realpathSync(os.tmpdir()), `pingoo-acc-${n.port}.lock`);
	const until = Date.now() + 20 * 60000;
	let said = false;
	for (;;) {
		try {
			fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
			locked = file;
			return;
		} catch (e) {
			if (e.code !== 'EEXIST')
				throw e;
		}
		const owner = Number(fs.readFileSync(file, 'utf8').trim());
		let alive = false;
		try {
			process.kill(owner, 0);
			alive = owner > 0;
		} catch (e) {
			alive = e.code === 'EPERM';
		}
		if (!alive) {
			fs.rmSync(file, { force: true });
			continue;
		}
		if (Date.now() > until)
			t.bailOut(`another accuracy run (pid ${owner}) holds ${file}`);
		if (!said)
			t.diag(`waiting for another accuracy run on this stack (pid ${owner}, ${file})`);
		said = true;
		spawnSync('sleep', ['2']);
	}
}

export function listenAddresses() {
	return (loadStack()?.PINGOO_LISTEN_ADDRESS || '').split(/\s+/).filter(Boolean);
}

// The environment for deploy/local/up with these listen addresses.  It keeps the ports it
// chose before; it is given the configure flags the stack was built with, or it would
// rebuild from clean, under a make check that may be running in that build.
function upEnv(addrs) {
	const env = { ...process.env, PINGOO_LISTEN_ADDRESS: addrs };
	try {
		env.PINGOO_CONFIGURE_FLAGS = fs.readFileSync(path.join(net_.stack.PINGOO_BUILDDIR,
		    '.configure-flags'), 'utf8').replace(/\n$/, '');
	} catch {
		// no record: up's own default
	}
	return env;
}

// Removes the namespace, the veth pair (with the namespace's end), our listen address and
// the files made for the run.
let cleaned = false;
const scratch = [];
export function cleanup() {
	if (cleaned || !net_)
		return;
	cleaned = true;
	const n = net_;
	quiet('ip', ['netns', 'del', n.NS]);
	quiet('ip', ['link', 'del', n.HOST_IF]);
	for (const f of scratch)
		fs.rmSync(f, { recursive: true, force: true });
	// Three tries, 5 s apart: another test on the stack may have MariaDB read-only for a
	// moment, and up's migrations fail then.
	for (let i = 0; i < 3 && listenAddresses().includes(n.HOST_ADDR); i++) {
		if (i > 0)
			spawnSync('sleep', ['5']);
		const r = spawnSync(n.up, [], { encoding: 'utf8', timeout: 90000, env: upEnv(n.otherListen) });
		if (r.status !== 0)
			process.stderr.write(`${n.file}: deploy/local/up failed while cleaning up\n${r.stderr}`);
	}
	if (locked)
		fs.rmSync(locked, { force: true });
}

// A folder of /tmp removed at the end.
export function scratchDir(tag) {
	const d = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), `pingoo-acc-${tag}-`));
	scratch.push(d);
	return d;
}

export function setUp() {
	const n = net_;
	quiet('ip', ['netns', 'del', n.NS]);
	quiet('ip', ['link', 'del', n.HOST_IF]);
	run('ip', ['netns', 'add', n.NS]);
	run('ip', ['link', 'add', n.HOST_IF, 'type', 'veth', 'peer', 'name', n.NS_IF, 'netns', n.NS]);
	run('ip', ['addr', 'add', `${n.HOST_ADDR}/30`, 'dev', n.HOST_IF]);
	run('ip', ['link', 'set', n.HOST_IF, 'up']);
	run('ip', ['-n', n.NS, 'addr', 'add', `${n.NS_ADDR}/30`, 'dev', n.NS_IF]);
	run('ip', ['-n', n.NS, 'link', 'set', n.NS_IF, 'up']);
	run('ip', ['-n', n.NS, 'link', 'set', 'lo', 'up']);
	run(n.up, [], { timeout: 90000, env: upEnv([n.otherListen, n.HOST_ADDR].filter(Boolean).join(' ')) });
}

// Another deploy/local/up on this stack (someone's deploy/local/test) renders nginx's
// configuration without our listen address.  Before each run: when the stack no longer says
// it listens there, it is given the address again, and the diagnostics say so (a run that
// was under way when the address went shows as a miss, and is not measured again).
export function keepListening() {
	const n = net_;
	if (listenAddresses().includes(n.HOST_ADDR))
		return true;
	t.diag(`the stack no longer listens on ${n.HOST_ADDR} (another deploy/local/up ran): setting it again`);
	run(n.up, [], { timeout: 90000, env: upEnv([n.otherListen, n.HOST_ADDR].filter(Boolean).join(' ')) });
	return reachable();
}

// True once the stack answers its health route from inside the namespace (nginx reloads
// in the background after up returns).
export function reachable() {
	const n = net_;
	for (let i = 0; i < 50; i++) {
		const r = spawnSync('ip', ['netns', 'exec', n.NS, 'curl', '-s', '-o', '/dev/null',
			'-w', '%{http_code}', '--max-time', '2', '--cacert', n.stack.PINGOO_CA_FILE,
			`${n.nsUrl}/api/v1/health`], { encoding: 'utf8', timeout: 5000 });
		if (r.stdout === '200')
			return true;
		spawnSync('sleep', ['0.2']);
	}
	return false;
}

// The checks every file makes once its network is up.
export async function setUpCase() {
	const n = net_;
	await t.test(`a namespace with a veth pair reaches the stack at ${n.nsUrl}`, async () => {
		setUp();
		await breathe();
		t.ok(listenAddresses().includes(n.HOST_ADDR), `the stack says it listens on ${n.HOST_ADDR} too`);
		t.ok(reachable(), `the health route answers 200 from inside ${n.NS}`);
	});
}

export async function cleanupCase() {
	const n = net_;
	await t.test('everything the suite created is gone', async () => {
		await breathe();
		cleanup();
		t.ok(!run('ip', ['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === n.NS),
		    `the namespace ${n.NS} is gone`);
		t.ok(spawnSync('ip', ['link', 'show', n.HOST_IF], { stdio: 'ignore' }).status !== 0,
		    `the veth ${n.HOST_IF} is gone`);
		t.ok(!listenAddresses().includes(n.HOST_ADDR), `the stack no longer listens on ${n.HOST_ADDR}`);
		const conf = n.stack.PINGOO_NGINX_ERROR_LOG &&
		    path.join(path.dirname(path.dirname(n.stack.PINGOO_NGINX_ERROR_LOG)), 'conf', 'pingoo.conf');
		t.ok(conf && fs.existsSync(conf) && !fs.readFileSync(conf, 'utf8').includes(n.HOST_ADDR),
		    `nginx's configuration has no ${n.HOST_ADDR} line`);
		t.ok(scratch.every((f) => !fs.existsSync(f)), 'the scratch files are gone');
	});
}

// The kernel's timer frequency: CONFIG_HZ from the kernel's configuration
// (/boot/config-RELEASE, else /proc/config.gz), else measured as the jiffies that pass in
// half a second (/proc/timer_list).  Not sysconf's CLK_TCK: that is the unit of times(2),
// 100 whatever the kernel ticks at.  {hz, from}.
let hz_ = null;
export function kernelHz() {
	if (hz_)
		return hz_;
	const fromConfig = (text, from) => {
		const m = /^CONFIG_HZ=(\d+)$/m.exec(text);
		return m ? { hz: Number(m[1]), from } : null;
	};
	const release = os.release();
	try {
		hz_ = fromConfig(fs.readFileSync(`/boot/config-${release}`, 'utf8'), `/boot/config-${release}`);
	} catch {
		// not there
	}
	if (!hz_) {
		try {
			hz_ = fromConfig(zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString('utf8'),
			    '/proc/config.gz');
		} catch {
			// not there
		}
	}
	if (!hz_) {
		const jiffies = () => Number(/^jiffies: (\d+)$/m.exec(fs.readFileSync('/proc/timer_list', 'utf8'))?.[1]);
		try {
			const [j0, t0] = [jiffies(), process.hrtime.bigint()];
			spawnSync('sleep', ['0.5']);
			const [j1, t1] = [jiffies(), process.hrtime.bigint()];
			const measured = (j1 - j0) / (Number(t1 - t0) / 1e9);
			// The nearest of the frequencies Linux is built with.
			const hz = [100, 250, 300, 1000].reduce((a, b) => (Math.abs(b - measured) < Math.abs(a - measured) ? b : a));
			if (Number.isFinite(measured))
				hz_ = { hz, from: `measured: ${measured.toFixed(0)} jiffies a second` };
		} catch {
			// no timer list either
		}
	}
	// None of them: the highest bucket Linux could need.
	hz_ = hz_ ?? { hz: 100, from: 'assumed (no kernel configuration, no /proc/timer_list)' };
	return hz_;
}

// The machine's CPU time so far, from /proc/stat: {busy, idle} in ticks.  cpuIdle(a, b) is
// the share of the cores that sat idle between two readings: near 0, the run was CPU-bound.
export function cpuTimes() {
	const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
	const idle = f[3] + (f[4] ?? 0);
	return { idle, busy: f.reduce((a, b) => a + b, 0) - idle };
}
export function cpuIdle(a, b) {
	const total = (b.idle - a.idle) + (b.busy - a.busy);
	return total > 0 ? (b.idle - a.idle) / total : null;
}

// tbf's bucket for a rate: the bytes the rate moves in one tick of the kernel's timer (tbf
// must be able to send a tick's worth at once, or its rate falls short: at 1 Gbit/s and HZ 250,
// 500 kB), and 16 KiB at least.  A smaller bucket splits TCP's 64 KiB segmentation-offload
// packets into frames that the queue takes or drops one by one: with buckets of two or three
// frames on the 2, 8 and 10 Mbit/s ends the links dropped up to twice the frames they sent and
// pingoo(1)'s N x S upload on the 40/10 link read 5% to 12% low in three runs of five; with
// 16 KiB, none of four.  A full bucket is also a burst the link sends at once: a packet's
// receiver rate may be overstated by the part of the bucket it gets.
export function bucket(rateMbit) {
	return Math.max(16384, Math.ceil((rateMbit * 1e6 / 8) / kernelHz().hz));
}

// Shapes one end's egress: `rateMbit` with the bucket above (or `burst` bytes) and a queue of
// `latencyMs` beyond it.
export function shape(rateMbit, nsSide, latencyMs = 50, burst = null) {
	const n = net_;
	burst = burst ?? bucket(rateMbit);
	const args = ['qdisc', 'replace', 'dev', nsSide ? n.NS_IF : n.HOST_IF, 'root', 'tbf',
		'rate', `${rateMbit}mbit`, 'burst', String(burst), 'latency', `${latencyMs}ms`];
	run('tc', nsSide ? ['-n', n.NS, ...args] : args);
}

// The qdisc's counters on one end of the link: {sent, dropped} packets, or null.
export function linkCounters(nsSide) {
	const n = net_;
	const r = spawnSync('tc', [...(nsSide ? ['-n', n.NS] : []), '-s', 'qdisc', 'show', 'dev',
	    nsSide ? n.NS_IF : n.HOST_IF], { encoding: 'utf8', timeout: 5000 });
	const m = /Sent \d+ bytes (\d+) pkt \(dropped (\d+)/.exec(r.stdout ?? '');
	return m ? { sent: Number(m[1]), dropped: Number(m[2]) } : null;
}

// --- references: what the shaped link carries, measured without Pingoo's clients ---------

// Plain TCP across the link, no TLS, no stack: t/accuracy/tcpref.mjs receives `bytes` on one
// connection and times them from the first byte to the last.  Downloads go from the host to
// the namespace, uploads the other way.  Resolves to the receiver's bit/s, or an Error.
export async function tcpReference(direction, bytes) {
	const n = net_;
	const tool = path.join(here, 'tcpref.mjs');
	const down = direction === 'download';
	const recvAddr = down ? n.NS_ADDR : n.HOST_ADDR;
	const inNs = (args) => ['ip', ['netns', 'exec', n.NS, ...args]];
	const recvCmd = [process.execPath, tool, 'recv', recvAddr, String(bytes)];
	const [rc, ra] = down ? inNs(recvCmd) : [recvCmd[0], recvCmd.slice(1)];
	const recv = spawn(rc, ra, { stdio: ['ignore', 'pipe', 'pipe'] });
	const timeout = Math.min(30000, left());
	const killer = setTimeout(() => recv.kill('SIGKILL'), timeout);
	let out = '';
	let err = '';
	recv.stdout.on('data', (c) => { out += c; });
	recv.stderr.on('data', (c) => { err += c; });
	const exited = new Promise((resolve) => recv.on('close', resolve));
	try {
		// The receiver prints its port once it listens.
		const port = await new Promise((resolve, reject) => {
			const check = () => {
				const m = /^listening (\d+)$/m.exec(out);
				if (m) {
					resolve(Number(m[1]));
					return;
				}
				setTimeout(check, 20);
			};
			exited.then(() => reject(new Error(`tcpref recv ended: ${err.trim()}`)));
			check();
		});
		const sendCmd = [process.execPath, tool, 'send', recvAddr, String(port), String(bytes)];
		const [sc, sa] = down ? [sendCmd[0], sendCmd.slice(1)] : inNs(sendCmd);
		const s = spawnSync(sc, sa, { encoding: 'utf8', timeout });
		if (s.status !== 0)
			throw new Error(`tcpref send: ${s.error?.message ?? `exit ${s.status ?? s.signal}`} ${s.stderr}`);
		await exited;
		const r = JSON.parse(out.trim().split('\n').at(-1));
		if (r.bytes !== bytes)
			throw new Error(`tcpref: ${r.bytes} of ${bytes} bytes arrived`);
		return Math.round(r.counted * 8e6 / r.us);
	} catch (e) {
		recv.kill('SIGKILL');
		return e;
	} finally {
		clearTimeout(killer);
	}
}

// Packets through the stack (TLS, nginx, the pool) by curl inside the namespace, in a
// time-bounded test of their own, closed at once: one of `bytes` and one of 4 × `bytes` (at
// most the server's tp_max_packet_size), a download timed by curl from its first byte to its
// last, an upload by the server (its answer's duration_us).  Resolves to {big, diff}: the large
// packet's receiver rate (what a lone packet reads, its head included: the bytes that arrive
// with the response's head, before the clock starts, and the bucket's burst) and the rate of
// the difference between the two (3 × `bytes` over the difference of their times: the head,
// the same in both, cancels out), in bit/s; or an Error.
let token_ = null;
let scratch_ = null;
export function stackReference(direction, bytes) {
	const n = net_;
	const curl = (args, opts = {}) => run('ip', ['netns', 'exec', n.NS, 'curl', '-sS', '--fail-with-body',
		'--cacert', n.stack.PINGOO_CA_FILE, ...args], { timeout: opts.timeout ?? 20000, input: opts.input });
	try {
		if (!token_) {
			token_ = JSON.parse(curl(['-H', 'Content-Type: application/json', '--data-binary', '@-',
				`${n.nsUrl}/api/v1/auth/token`], { input: JSON.stringify({
				username: n.stack.PINGOO_DEMO_USER, password: n.stack.PINGOO_DEMO_PASSWORD }) })).access_token;
		}
		const auth = ['-H', `Authorization: Bearer ${token_}`];
		const test = JSON.parse(curl([...auth, '-H', 'Content-Type: application/json', '--data-binary',
			JSON.stringify({ direction, duration_ms: 60000, client: { platform: 'curl', network_type: 'tbf' } }),
			`${n.nsUrl}/api/v1/throughput-tests`]));
		const base = `${n.nsUrl}/api/v1/throughput-tests/${test.id}`;
		const sizes = [bytes, 4 * bytes];
		const us = [];
		try {
			for (const [seq, size] of sizes.entries()) {
				if (direction === 'download') {
					const w = curl([...auth, '-o', '/dev/null', '-w', '%{size_download} %{time_starttransfer} %{time_total}',
						`${base}/download/${seq}?bytes=${size}`], { timeout: 60000 }).trim().split(' ').map(Number);
					if (w[0] !== size)
						throw new Error(`curl got ${w[0]} of ${size} bytes`);
					us.push((w[2] - w[1]) * 1e6);
				} else {
					scratch_ = scratch_ ?? scratchDir('upload');
					const file = path.join(scratch_, 'body');
					fs.writeFileSync(file, Buffer.alloc(size, 0x5a));
					const r = JSON.parse(curl([...auth, '-X', 'PUT', '-H', 'Content-Type: application/octet-stream',
						'--data-binary', `@${file}`, `${base}/upload/${seq}`], { timeout: 60000 }));
					fs.rmSync(file);
					us.push(r.duration_us);
				}
			}
		} finally {
			try {
				curl([...auth, '-X', 'POST', `${base}/close`]);
			} catch {
				// it completes by itself when its time is up
			}
		}
		return { big: Math.round(sizes[1] * 8e6 / us[1]),
		    diff: us[1] > us[0] ? Math.round((sizes[1] - sizes[0]) * 8e6 / (us[1] - us[0])) : null };
	} catch (e) {
		return e;
	}
}
