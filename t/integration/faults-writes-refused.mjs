// faults-writes-refused.mjs - MariaDB up but refusing writes under a mixed load, against the
// running local stack:
//   - the whole server read-only (SET GLOBAL read_only = 1);
//   - the samples' table gone read-only (a trigger refuses every write to it).
// The load's receipts carry the client's stamps only, never the server's signed ones, so no
// receipt can bring back a sample the server failed to keep: every echo answered 200 must be
// in MySQL by the server's own writes.  While writes are refused the echo answers 503
// database_unavailable rather than acknowledge what it cannot keep, and writes resume once the
// database takes them again.  Whatever happens the database is left writable.
//
// Needs root (MariaDB's root account authenticates by the socket's peer).  Without a stack the
// file is skipped.

import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { query } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';
import { loadKit, stackGuard, tally, poll } from './lib/load.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_DB_SOCKET',
    'PINGOO_DB_NAME']);
if (process.getuid() !== 0)
	t.skipAll('needs root: MariaDB\'s root account authenticates by the socket');
const L = loadKit(stack);
const { call, startLoad, verifyRecorded, CA } = L;
const guard = stackGuard();
const users = userFactory(stack);

// SQL as MariaDB's root, over the stack's socket.
function asRoot(sql) {
	return execFileSync('mariadb', ['--no-defaults', `--socket=${stack.PINGOO_DB_SOCKET}`, '--user=root',
	    '-N', '-B', '-e', sql], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
}

const db = stack.PINGOO_DB_NAME;
const FAULTS = [
	{
		name: 'the server read-only (SET GLOBAL read_only = 1)',
		on: () => asRoot('SET GLOBAL read_only = 1'),
		off: () => asRoot('SET GLOBAL read_only = 0'),
	},
	{
		// A trigger that refuses every write: MariaDB answers 1644, INSERT IGNORE or not.
		name: 'the samples\' table read-only (a trigger refuses its writes)',
		on() {
			for (const op of ['INSERT', 'UPDATE'])
				asRoot(`CREATE TRIGGER \`${db}\`.pingoo_ro_${op.toLowerCase()} BEFORE ${op} ON ` +
				    `\`${db}\`.ping_samples FOR EACH ROW SIGNAL SQLSTATE 'HY000' ` +
				    "SET MESSAGE_TEXT = 'ping_samples is read-only'");
		},
		off() {
			for (const op of ['insert', 'update'])
				asRoot(`DROP TRIGGER IF EXISTS \`${db}\`.pingoo_ro_${op}`);
		},
	},
];

guard.undo('writable', () => {
	for (const f of FAULTS) {
		try {
			if (f.active)
				f.off();
		} catch (e) {
			process.stdout.write(`# could not undo "${f.name}": ${e.message}\n`);
		}
	}
});
guard.install(() => {
	try {
		users.cleanup();
	} catch {
		// not made yet, or already gone
	}
});

// A ping test with room for every echo of a run.
async function longTest() {
	const c = await call(plain, { method: 'POST', path: '/api/v1/ping-tests', token,
	    json: { count: 10000, interval_ms: 0 } });
	if (c.status !== 201)
		throw new Error(`could not create the echo stream's test: ${c.status}`);
	return c.json.id;
}

// Echoes on test id one after another, 5 ms apart, until stop: each answer with its seq.
function echoStream(id) {
	const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: CA });
	const s = { id, events: [], stop: false };
	s.done = (async () => {
		for (let seq = 0; !s.stop && seq < 10000; seq++) {
			const r = await call(agent, { method: 'POST', path: `/api/v1/ping-tests/${id}/echo`, token,
			    json: { seq, client_sent_at: Date.now() * 1000 } });
			s.events.push({ at: Date.now(), seq, status: r.status, code: r.json?.error?.code });
			await sleep(5);
		}
		agent.destroy();
	})();
	return s;
}

const user = users.create();
const token = await A.token(user.username, user.password);
const plain = new https.Agent({ keepAlive: false, ca: CA });

for (const f of FAULTS) {
	await t.test(`${f.name} under a mixed load: nothing acknowledged is lost`, async () => {
		const rec = startLoad(token, 4, { sig: false });
		const stream = echoStream(await longTest());
		await sleep(1500);
		const tOn = Date.now();
		f.active = true;
		f.on();
		await sleep(3000);
		f.off();
		f.active = false;
		const tOff = Date.now();
		let resumeMs = null;
		await poll(async () => {
			const c = await call(plain, { method: 'POST', path: '/api/v1/ping-tests', token,
			    json: { count: 1 } });
			if (c.status !== 201)
				return false;
			const e = await call(plain, { method: 'POST', path: `/api/v1/ping-tests/${c.json.id}/echo`,
			    token, json: { seq: 0, client_sent_at: Date.now() * 1000 } });
			if (e.status === 200)
				resumeMs = Date.now() - tOff;
			return e.status === 200;
		}, 10000);
		await sleep(1000);
		await rec.finish();
		stream.stop = true;
		await stream.done;
		t.diag(`outcomes: ${tally(rec.events)}`);
		// The first echoes of the window may be taken before the first refused write: those
		// are kept like any other.  From the first refusal on, the echo answers 503.
		const window = stream.events.filter((e) => e.at > tOn && e.at < tOff);
		const firstRefused = window.findIndex((e) => e.status === 503);
		const after = firstRefused < 0 ? [] : window.slice(firstRefused);
		t.ok(firstRefused >= 0 && after.filter((e) => e.status === 200).length <= 2 &&
		    after.every((e) => e.status === 200 || (e.status === 503 && e.code === 'database_unavailable')),
		    'once a write was refused the echo answered 503 database_unavailable until writes were taken',
		    `echoes in the window: ${window.map((e) => e.status).join(' ')}`);
		const acked = stream.events.filter((e) => e.status === 200).map((e) => e.seq);
		const have = new Set(query(stack, `SELECT seq FROM ping_samples WHERE test_id = ${stream.id}`)
		    .map((r) => Number(r[0])));
		t.ok(acked.length > 0 && acked.every((s) => have.has(s)),
		    `every one of the ${acked.length} echoes answered 200 on one test is in ping_samples, ` +
		    'with no receipt sent', `missing: ${acked.filter((s) => !have.has(s)).join(' ')}`);
		const unclean = rec.events.filter((e) => !e.clean);
		t.ok(unclean.length === 0, 'every request got its 2xx or a clean JSON error',
		    unclean.slice(0, 10).map((e) => JSON.stringify(e)).join('\n'));
		t.ok(resumeMs !== null, `an echo is answered 200 again once writes are taken (${resumeMs} ms)`);
		await verifyRecorded(rec, f.name);
		rec.agent.destroy();
	});
}

await t.test('the database is writable again and the throwaway user is gone', async () => {
	t.is(asRoot('SELECT @@global.read_only').trim(), '0', 'read_only is off');
	t.is(asRoot(`SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = '${db}' ` +
	    "AND trigger_name LIKE 'pingoo_ro_%'").trim(), '0', 'no refusing trigger is left');
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'every user made here is gone', errors.join('\n'));
});

await t.done();
