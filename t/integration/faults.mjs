// faults.mjs - faults under load, against the running local stack:
//   - MariaDB stopped in the middle of a mixed load, then started again;
//   - a worker process killed with SIGKILL under load;
//   - clients that go away mid-download and mid-upload;
//   - SIGTERM to the pool with downloads in flight;
//   - the FastCGI socket out of reach of everything but nginx (CVE-2025-23016).
// Each load keeps its own list of every 2xx it got (tests created, echoes, receipts,
// packets moved) and compares it with MySQL afterwards: nothing acknowledged may be lost.
// Whatever happens (failure, exception, signal), MariaDB and the pool are left running.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { readConfig } from './lib/stack.mjs';
import { openStack } from './lib/open.mjs';
import { describe } from './lib/http.mjs';
import { query } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';
import { loadKit, stackGuard, tally, poll, procState, supervisorPid as supPid, liveKids }
    from './lib/load.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_DB_CTL',
    'PINGOO_POOL_CTL', 'PINGOO_POOL_PIDFILE', 'PINGOO_FCGI_SOCKET', 'PINGOO_DB_SOCKET']);
const cfg = readConfig(stack) ?? {};
const THREADS = Number(cfg.threads ?? 16);
const L = loadKit(stack);
const { call, startLoad, verifyRecorded, CA, URL0 } = L;
const supervisorPid = () => supPid(stack);
const guard = stackGuard();
const ctl = guard.ctl;
const ctlSync = guard.ctlSync;

// ---- leaving the stack as we found it -------------------------------------------------------

let dbStopped = false;
let poolStopped = false;
let stoppingPid = null;	// the supervisor sent SIGTERM
const poolWasRunning = !!supervisorPid();
guard.undo('stack', () => {
	if (dbStopped) {
		try {
			ctlSync(stack.PINGOO_DB_CTL, 'start');
			dbStopped = false;
		} catch (e) {
			process.stdout.write(`# could not restart MariaDB: ${e.message}\n`);
		}
	}
	if (poolStopped && stoppingPid) {
		// The pool told to stop is still finishing its requests: let it, or a start now
		// would find it running and do nothing.
		const gone = () => !procState(stoppingPid) || /[ZX]/.test(procState(stoppingPid));
		const end = Date.now() + 15000;
		while (!gone() && Date.now() < end)
			execFileSync('sleep', ['0.1']);
		if (!gone()) {
			try {
				process.kill(-stoppingPid, 'SIGKILL');
			} catch {
				// gone meanwhile
			}
			execFileSync('sleep', ['0.5']);
		}
	}
	if (poolStopped || (poolWasRunning && !supervisorPid())) {
		try {
			ctlSync(stack.PINGOO_POOL_CTL, 'start');
			poolStopped = false;
		} catch (e) {
			process.stdout.write(`# could not restart the pool: ${e.message}\n`);
		}
	}
});
guard.install(() => {
	try {
		users.cleanup();	// the throwaway user, and its tests with it
	} catch {
		// not made yet, or already gone
	}
});

const users = userFactory(stack);
const user = users.create();
const token = await A.token(user.username, user.password);
const plain = new https.Agent({ keepAlive: false, ca: CA });

// ---- the socket ------------------------------------------------------------------------------

// Tries to connect to the FastCGI socket as another user; prints OK or the error code.
function connectAs(userName) {
	const js = `const s=require('net').connect(process.argv[1]);` +
	    `s.on('connect',()=>{console.log('OK');s.destroy()});` +
	    `s.on('error',(e)=>{console.log(e.code);process.exit(0)})`;
	try {
		return execFileSync('setpriv', [`--reuid=${userName}`, `--regid=${userName === 'nobody' ? 'nogroup' : userName}`,
		    '--init-groups', '--', process.execPath, '-e', js, stack.PINGOO_FCGI_SOCKET],
		    { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
	} catch (e) {
		return `setpriv failed: ${(e.stderr || e.message).toString().trim()}`;
	}
}

await t.test('the FastCGI socket is out of reach of everything but nginx', async () => {
	const st = fs.statSync(stack.PINGOO_FCGI_SOCKET);
	const mode = (st.mode & 0o777).toString(8);
	const owner = execFileSync('stat', ['-c', '%U:%G', stack.PINGOO_FCGI_SOCKET], { encoding: 'utf8' }).trim();
	t.diag(`socket ${stack.PINGOO_FCGI_SOCKET}: mode 0${mode}, owner ${owner}`);
	t.ok(st.isSocket() && (st.mode & 0o007) === 0,
	    'the FastCGI socket gives other users no access (mode 0' + mode + ')');
	const nginxUser = stack.PINGOO_NGINX_USER || 'www-data';
	t.is(owner.split(':')[1], nginxUser, `the socket's group is nginx's (${nginxUser})`);
	if (process.getuid() !== 0) {
		t.skip('an unprivileged user cannot connect', 'not root: cannot switch users');
		return;
	}
	t.is(connectAs('nobody'), 'EACCES', 'connecting as nobody fails with EACCES, so no crafted PARAMS record (CVE-2025-23016) reaches a worker');
	t.is(connectAs(nginxUser), 'OK', `nginx's user (${nginxUser}) can connect`);
});

// ---- MariaDB stopped under load ----------------------------------------------------------

await t.test('MariaDB stopped under a mixed load, then started again', async () => {
	const sup = supervisorPid();
	const before = liveKids(sup);
	t.diag(`pool ${sup}, workers ${before.join(' ')}`);
	const rec = startLoad(token, 4);
	let tDown, tUp, resumeMs = null, healthMs = null;
	try {
		await sleep(1500);
		dbStopped = true;
		const t0 = Date.now();
		await ctl(stack.PINGOO_DB_CTL, 'stop');
		tDown = Date.now();
		t.diag(`MariaDB stopped in ${tDown - t0} ms`);
		await sleep(2500);
	} finally {
		await ctl(stack.PINGOO_DB_CTL, 'start');
		dbStopped = false;
	}
	tUp = Date.now();
	// Service is back when a write succeeds and health says the database is up.
	await Promise.all([
		poll(async () => {
			const r = await call(plain, { method: 'POST', path: '/api/v1/ping-tests', token,
			    json: { count: 1 } });
			if (r.status === 201) {
				resumeMs = Date.now() - tUp;
				return true;
			}
			return false;
		}, 10000),
		poll(async () => {
			const r = await call(plain, { path: '/api/v1/health' });
			if (r.status === 200 && r.json?.database === 'up') {
				healthMs = Date.now() - tUp;
				return true;
			}
			return false;
		}, 10000),
	]);
	await sleep(1500);
	await rec.finish();
	t.diag(`outcomes: ${tally(rec.events)}`);
	const during = rec.events.filter((e) => e.at >= tDown && e.at <= tUp);
	const dbErrs = during.filter((e) => e.status === 503 && e.code === 'database_unavailable');
	t.ok(dbErrs.length > 0, 'while MariaDB was down the load got 503 database_unavailable',
	    `during the outage: ${tally(during)}`);
	const unclean = rec.events.filter((e) => !e.clean);
	t.ok(unclean.length === 0, 'every request got its 2xx or a clean JSON error (no 500, no hang, no reset)',
	    unclean.slice(0, 10).map((e) => JSON.stringify(e)).join('\n'));
	const slowest = Math.max(...rec.events.map((e) => e.ms));
	t.ok(slowest < 10000, `every request answered within 10 s (slowest ${Math.round(slowest)} ms)`);
	t.ok(resumeMs !== null && resumeMs <= 2000,
	    `a write succeeds within 2 s of MariaDB's return (${resumeMs} ms)`);
	t.ok(healthMs !== null && healthMs <= 2000,
	    `health says the database is up within 2 s of its return (${healthMs} ms)`);
	t.is(supervisorPid(), sup, 'the supervisor was not restarted');
	t.is(liveKids(sup), before, 'no worker died: the same worker pids serve');
	await verifyRecorded(rec, 'MariaDB stopped');
	rec.agent.destroy();
});

// ---- a worker killed -------------------------------------------------------------------------

// True when one of pid's threads sits in write(2) or writev(2) (x86-64: 1, 20; arm64: 64, 66).
function writingThread(pid) {
	const writes = process.arch === 'arm64' ? ['64', '66'] : ['1', '20'];
	let tasks = [];
	try {
		tasks = fs.readdirSync(`/proc/${pid}/task`);
	} catch {
		return false;
	}
	return tasks.some((tid) => {
		try {
			return writes.includes(fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'latin1').split(' ')[0]);
		} catch {
			return false;
		}
	});
}

// Starts a download of a fresh packet of `size` bytes and holds it after its first bytes;
// release() reads the rest and resolves {status, bytes, cl, err}.
async function heldDownload(size) {
	const c = await call(plain, { method: 'POST', path: '/api/v1/throughput-tests', token,
	    json: { direction: 'download', packets: 1, packet_size: size } });
	if (c.status !== 201)
		return null;
	let res0 = null, bytes = 0;
	let resolveDone;
	const done = new Promise((r) => (resolveDone = r));
	const fin = (err) => resolveDone({ status: res0?.statusCode ?? 0, bytes,
	    cl: res0 ? Number(res0.headers['content-length']) : null,
	    complete: !!res0?.complete && !err, err: err?.message });
	const gotFirst = new Promise((resolve) => {
		const req = https.request({ host: URL0.hostname, port: URL0.port, agent: false, ca: CA,
		    path: `/api/v1/throughput-tests/${c.json.id}/download/0`,
		    headers: { Authorization: `Bearer ${token}` } });
		req.on('response', (res) => {
			res0 = res;
			res.once('data', () => {
				res.pause();
				resolve(true);
			});
			res.on('data', (d) => (bytes += d.length));
			res.on('end', () => fin(res.complete ? undefined : new Error('cut short')));
			res.on('error', (e) => fin(e));
			res.on('aborted', () => fin(new Error('aborted')));
		});
		req.on('error', (e) => {
			fin(e);
			resolve(false);
		});
		req.end();
		setTimeout(() => resolve(false), 5000).unref();
	});
	if (!(await gotFirst))
		return null;
	return {
		id: c.json.id,
		release: async () => {
			res0.resume();
			const timer = setTimeout(() => fin(new Error('no end within 10 s')), 10000);
			const r = await done;
			clearTimeout(timer);
			return r;
		},
	};
}

await t.test('a worker killed with SIGKILL under load is replaced', async () => {
	const sup = supervisorPid();
	const before = liveKids(sup);
	if (!sup || before.length === 0) {
		t.fail('the pool has worker processes', `supervisor ${sup}, workers ${before}`);
		return;
	}
	const rec = startLoad(token, 4);
	// A download held mid-packet: the worker serving it is the one killed, so the kill
	// certainly cuts a request in flight.
	const held = await heldDownload(16 * 1024 * 1024);
	await sleep(1000);
	const writer = before.find(writingThread);
	const victim = writer ?? before[0];
	t.diag(writer ? `worker ${writer} is writing the held download` :
	    'no worker is seen writing the held download: killing the first one');
	const tKill = Date.now();
	process.kill(victim, 'SIGKILL');
	let fresh = null;
	await poll(() => {
		const now = liveKids(sup);
		fresh = now.filter((p) => !before.includes(p));
		return fresh.length > 0 && !now.includes(victim);
	}, 5000, 20);
	const replacedMs = Date.now() - tKill;
	const cut = held ? await held.release() : null;
	await sleep(1500);
	await rec.finish();
	if (cut) {
		t.diag(`held download: ${cut.status}, ${cut.bytes}/${cut.cl} bytes${cut.err ? ', ' + cut.err : ''}`);
		if (writer)
			t.ok(cut.status === 200 && cut.bytes < cut.cl,
			    'the download cut by the kill is visibly short of its Content-Length');
		t.diag(`its packet is recorded as ${JSON.stringify(await transferStatus(held.id, 'download'))}`);
	}
	t.diag(`killed ${victim}; workers now ${liveKids(sup).join(' ')}; outcomes: ${tally(rec.events)}`);
	t.ok(fresh && fresh.length === 1 && replacedMs <= 2500,
	    `a new worker replaced the killed one within 2.5 s (${replacedMs} ms)`);
	const failed = rec.events.filter((e) => !e.ok);
	t.ok(failed.length <= THREADS,
	    `the requests that failed are bounded (${failed.length}, at most one per thread of the killed process: ${THREADS})`);
	const unclean = failed.filter((e) => !e.clean);
	t.ok(unclean.length === 0,
	    'each failed request got a clean error (502 JSON service_unavailable, or a download visibly cut short)',
	    unclean.map((e) => JSON.stringify(e)).join('\n'));
	t.diag(`failures: ${failed.map((e) => `${e.op} ${e.status}${e.code ? ' ' + e.code : ''}${e.err ? ' ' + e.err : ''}`).join('; ') || 'none'}`);
	const h = await call(plain, { path: '/api/v1/health' });
	t.is(h.status, 200, 'health answers 200 afterwards');
	await verifyRecorded(rec, 'worker killed');
	rec.agent.destroy();
});

// ---- clients that go away --------------------------------------------------------------------

const BIG = 16 * 1024 * 1024;

async function transferStatus(id, dir) {
	const rows = query(stack, `SELECT status, bytes FROM throughput_transfers
	    WHERE test_id = ${id} AND direction = '${dir}' AND seq = 0`);
	return rows.length ? { status: rows[0][0], bytes: Number(rows[0][1]) } : null;
}

async function freedQuickly(label) {
	// More concurrent requests than one process has threads: all must answer promptly.
	const n = THREADS * 2 + 8;
	const t0 = performance.now();
	const rs = await Promise.all(Array.from({ length: n }, () => call(plain, { path: '/api/v1/health', timeoutMs: 5000 })));
	const ms = performance.now() - t0;
	t.ok(rs.every((r) => r.status === 200) && ms < 3000,
	    `${label}: ${n} concurrent health requests all answer 200 at once (${Math.round(ms)} ms)`,
	    tally(rs.map((r) => ({ ok: r.status === 200, status: r.status, err: r.err }))));
}

await t.test('a client that goes away mid-download frees its worker at once', async () => {
	const c = await call(plain, { method: 'POST', path: '/api/v1/throughput-tests', token,
	    json: { direction: 'download', packets: 1, packet_size: BIG } });
	if (!t.is(c.status, 201, 'a 16 MiB download test is created'))
		return;
	const id = c.json.id;
	let got = 0;
	const tGone = await new Promise((resolve, reject) => {
		const req = https.request({ host: URL0.hostname, port: URL0.port, agent: false, ca: CA,
		    path: `/api/v1/throughput-tests/${id}/download/0`, headers: { Authorization: `Bearer ${token}` } });
		req.on('response', (res) => {
			res.on('data', (d) => {
				got += d.length;
				if (got >= 1024 * 1024 && !res.isPaused()) {
					res.pause();
					// Let the buffers on the way fill, so the worker is still writing.
					setTimeout(() => {
						req.destroy();
						resolve(Date.now());
					}, 200);
				}
			});
			res.on('error', () => {});
		});
		req.on('error', () => {});
		req.end();
		setTimeout(() => reject(new Error(`no 1 MiB within 10 s (${got} bytes)`)), 10000).unref();
	});
	t.diag(`received ${got} bytes, then closed the connection`);
	let st = null;
	await poll(async () => {
		st = await transferStatus(id, 'download');
		return st && st.status !== 'started';
	}, 2000);
	const ms = Date.now() - tGone;
	t.ok(st && st.status === 'failed' && st.bytes < BIG && ms <= 2000,
	    `the packet is recorded failed within 2 s of the client leaving (${ms} ms, ${JSON.stringify(st)})`);
	await freedQuickly('after the aborted download');
});

await t.test('a client that goes away mid-upload frees its worker at once', async () => {
	const c = await call(plain, { method: 'POST', path: '/api/v1/throughput-tests', token,
	    json: { direction: 'upload', packets: 1, packet_size: BIG } });
	if (!t.is(c.status, 201, 'a 16 MiB upload test is created'))
		return;
	const id = c.json.id;
	const half = crypto.randomBytes(BIG / 2);
	const tGone = await new Promise((resolve, reject) => {
		const req = https.request({ host: URL0.hostname, port: URL0.port, agent: false, ca: CA,
		    method: 'PUT', path: `/api/v1/throughput-tests/${id}/upload/0`,
		    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream',
		        'Content-Length': String(BIG) } });
		req.on('error', () => {});
		req.on('response', (res) => {
			res.resume();
		});
		req.write(half, () => {
			setTimeout(() => {
				req.destroy();
				resolve(Date.now());
			}, 300);
		});
		setTimeout(() => reject(new Error('could not send 8 MiB within 10 s')), 10000).unref();
	});
	let st = null;
	await poll(async () => {
		st = await transferStatus(id, 'upload');
		return st && st.status !== 'started';
	}, 2000);
	const ms = Date.now() - tGone;
	t.ok(st && st.status === 'failed' && st.bytes < BIG && ms <= 2000,
	    `the half-sent packet is recorded failed within 2 s of the client leaving (${ms} ms, ${JSON.stringify(st)})`);
	await freedQuickly('after the aborted upload');
});

// ---- SIGTERM with downloads in flight --------------------------------------------------------

await t.test('SIGTERM to the pool: in-flight packets complete, then the workers exit', async () => {
	const sup = supervisorPid();
	const kids = liveKids(sup);
	const N = 4, SIZE = 8 * 1024 * 1024;
	const c = await call(plain, { method: 'POST', path: '/api/v1/throughput-tests', token,
	    json: { direction: 'download', packets: N, packet_size: SIZE } });
	if (!t.is(c.status, 201, `a test of ${N} x 8 MiB downloads is created`))
		return;
	const id = c.json.id;
	// Each download reads its first bytes, then pauses: the worker stays mid-packet.
	const started = [];
	const results = Array.from({ length: N }, (_, seq) => new Promise((resolve) => {
		let bytes = 0;
		let res0 = null;
		const req = https.request({ host: URL0.hostname, port: URL0.port, agent: false, ca: CA,
		    path: `/api/v1/throughput-tests/${id}/download/${seq}`,
		    headers: { Authorization: `Bearer ${token}` } });
		let first = true;
		const fin = (err) => resolve({ seq, status: res0?.statusCode ?? 0, bytes,
		    cl: res0 ? Number(res0.headers['content-length']) : null,
		    complete: !!res0?.complete && !err, err: err?.message });
		const timer = setTimeout(() => {
			req.destroy();
			fin(new Error('no complete answer within 20 s'));
		}, 20000);
		req.on('response', (res) => {
			res0 = res;
			res.on('data', (d) => {
				bytes += d.length;
				if (first) {
					first = false;
					res.pause();
					started.push(res);
				}
			});
			res.on('end', () => {
				clearTimeout(timer);
				fin();
			});
			res.on('error', (e) => {
				clearTimeout(timer);
				fin(e);
			});
		});
		req.on('error', (e) => {
			clearTimeout(timer);
			fin(e);
		});
		req.end();
	}));
	await poll(() => started.length === N, 5000, 20);
	await sleep(300);
	const inFlight = query(stack, `SELECT COUNT(*) FROM throughput_transfers WHERE test_id = ${id}
	    AND status = 'started'`)[0][0];
	t.diag(`${started.length} downloads started; ${inFlight} packets still being written when SIGTERM is sent`);
	poolStopped = true;
	stoppingPid = sup;
	const tTerm = Date.now();
	process.kill(sup, 'SIGTERM');
	await sleep(500);
	for (const res of started)
		res.resume();
	const rs = await Promise.all(results);
	t.diag(rs.map((r) => `seq ${r.seq}: ${r.status}, ${r.bytes}/${r.cl} bytes${r.err ? ', ' + r.err : ''}`).join('; '));
	t.ok(rs.every((r) => r.status === 200 && r.complete && r.bytes === SIZE && r.cl === SIZE),
	    `all ${N} in-flight 8 MiB downloads complete with 200 and exactly Content-Length bytes`);
	const gone = await poll(() => !procState(sup) || /[ZX]/.test(procState(sup) ?? '') ?
	    kids.every((k) => !procState(k) || /[ZX]/.test(procState(k))) : false, 10000, 50);
	t.ok(gone, `then the supervisor and its workers exit (${Date.now() - tTerm} ms after SIGTERM)`);
	const down = await call(plain, { path: '/api/v1/health', timeoutMs: 5000 });
	t.diag(`with the pool gone, health: ${describe(down)}`);
	t.ok(down.status === 502 && down.json?.error?.code === 'service_unavailable',
	    'with the pool gone, nginx answers 502 JSON service_unavailable');
	const rows = query(stack, `SELECT status, COUNT(*) FROM throughput_transfers WHERE test_id = ${id}
	    GROUP BY status`).map((r) => `${r[0]}: ${r[1]}`).join(', ');
	t.is(rows, `ok: ${N}`, 'the packets are recorded ok');
	await ctl(stack.PINGOO_POOL_CTL, 'start');
	poolStopped = false;
	const h = await poll(async () => (await call(plain, { path: '/api/v1/health' })).status === 200, 5000);
	t.ok(h, 'the pool started again with $PINGOO_POOL_CTL start answers health 200');
	t.diag(`new pool ${supervisorPid()}, workers ${liveKids(supervisorPid()).join(' ')}`);
});

plain.destroy();
await t.done();
