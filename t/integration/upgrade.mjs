// upgrade.mjs - the previous release's workers against this tree's schema, as during an
// upgrade between `pingoo-admin migrate` and the restart (docs/deployment.md): its pingoo-fcgi,
// built from its commit (deploy/local/previous-release), runs on a socket of its own against
// the stack's database, migrated by deploy/local/up with every migration of this tree, and
// with the stack's configuration and key.  Straight over FastCGI it goes through the echo
// path, the packet path and the read paths with a token the stack issued; what it wrote must
// read the same through the stack's own pool (nginx), and what that pool wrote the same
// through it.  Every statement of its SQL tables must still prepare, its logged requests
// answer below 500 and its database error count stay where it was.  A failure here means a
// migration since that release contracted the schema: it must only expand it.

import crypto from 'node:crypto';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { describe } from './lib/http.mjs';
import { query, scalar, count } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';
import { poll } from './lib/poll.mjs';
import { fcgi, describeFcgi, nowUs } from './lib/fcgi.mjs';
import { previousRelease, buildPrevious, prepareEverything, startPool } from './lib/previous.mjs';
import { repoDir } from './lib/stack.mjs';
import fs from 'node:fs';
import path from 'node:path';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_CONFIG', 'PINGOO_DB_SOCKET', 'PINGOO_DB_USER', 'PINGOO_DB_NAME']);

// ---- the previous release and the database it meets -----------------------------------------

let prev;
try {
	prev = previousRelease();
} catch (e) {
	t.bailOut(`the previous release cannot be found: ${e.message}`);
}
t.diag(`previous release ${prev.tag} (${prev.sha}), built from its ${prev.via}`);

await t.test('the stack\'s database has every migration of this tree', async () => {
	const mine = fs.readdirSync(path.join(repoDir, 'schema')).filter((f) => /^\d{3}_.*\.sql$/.test(f)).sort();
	const applied = query(stack, 'SELECT name FROM schema_migrations ORDER BY version').map((r) => r[0]);
	const missing = mine.filter((f) => !applied.includes(f));
	t.ok(missing.length === 0, `schema_migrations lists each of the ${mine.length} files of schema/ ` +
	    '(deploy/local/up migrated it)', `not applied: ${missing.join(' ')}`);
	// A stack shared with a newer checkout may be further on; the old pool meets that schema.
	const extra = applied.filter((f) => !mine.includes(f));
	if (extra.length)
		t.diag(`the database also ran ${extra.join(' ')}, which this tree does not have`);
	const summary = Number(scalar(stack, 'SELECT COUNT(*) FROM information_schema.columns WHERE ' +
	    "table_schema = DATABASE() AND table_name = 'ping_tests' AND column_name = 'summary'"));
	t.diag(`ping_tests.summary is ${summary ? 'there' : 'gone (this database ran 009 when it still dropped it)'}`);
});

let built;
await t.test('the previous release\'s pool builds from its commit', async () => {
	built = await buildPrevious(prev);
	t.ok(true, `pingoo-fcgi of ${prev.tag} ${built.cached ? 'is reused from an earlier build' : 'is built'} ` +
	    `(${built.seconds.toFixed(1)} s)`);
});
if (!built)
	t.bailOut('without the previous release\'s pool nothing else can run');

await t.test('every SQL statement of the previous release prepares against this schema', async () => {
	const r = prepareEverything(built.prepareAll, stack);
	// The previous release's pingoo-admin changed users (and recorded migrations) as the
	// runtime account it was given; this release's runtime account may only read those
	// tables (pingoo-admin writes them as the migration account), so those statements are
	// refused their table by design, and nothing else.
	const byDesign = r.failed.filter((f) => f.errno === 1142 && /^\s*(INSERT INTO|UPDATE|DELETE FROM) (users|schema_migrations)\b/.test(f.sql));
	const others = r.failed.filter((f) => !byDesign.includes(f));
	t.ok(others.length === 0 && r.ok > 0, `all ${r.ok + r.failed.length} statements prepare, but the ` +
	    `${byDesign.length} that change users or schema_migrations, which the runtime account may not`,
	    others.map((f) => `${f.table}[${f.index}]: ${f.errno} ${f.message}\n    ${f.sql}`).join('\n'));
});

let pool;
const t0 = Date.now();
try {
	pool = await startPool(built.fcgi, stack);
} catch (e) {
	t.fail('the previous release\'s pool starts with the stack\'s configuration on its own socket', e.message);
	await t.done();
}
t.pass(`the previous release's pool starts with the stack's configuration on its own socket ` +
    `(${Date.now() - t0} ms)`);
if (pool.leftovers.length)
	t.diag(`killed the pool an earlier, killed run left behind: ${pool.leftovers.join(' ')}`);

// ---- helpers ---------------------------------------------------------------------------------

// A request to the old pool, straight on its socket.
const old = (method, uri, opts = {}) => fcgi(pool.socket, { method, uri, timeoutMs: 60000, ...opts });
const cur = A;

const isInt = (v) => Number.isSafeInteger(v);

// Where the old pool's answer differs from the current pool's: every field the old one gives
// must be in the current one's with the same value (the current release may add fields).
function differences(mine, theirs, at = '') {
	if (mine === null || typeof mine !== 'object')
		return Object.is(mine, theirs) ? [] : [`${at || '.'}: ${JSON.stringify(mine)} (old) vs ${JSON.stringify(theirs)} (current)`];
	if (Array.isArray(mine)) {
		if (!Array.isArray(theirs) || theirs.length !== mine.length)
			return [`${at}: ${mine.length} items (old) vs ${Array.isArray(theirs) ? theirs.length : JSON.stringify(theirs)} (current)`];
		return mine.flatMap((v, i) => differences(v, theirs[i], `${at}[${i}]`));
	}
	if (theirs === null || typeof theirs !== 'object' || Array.isArray(theirs))
		return [`${at}: an object (old) vs ${JSON.stringify(theirs)} (current)`];
	return Object.keys(mine).flatMap((k) => (k in theirs
	    ? differences(mine[k], theirs[k], `${at}.${k}`)
	    : [`${at}.${k}: missing from the current pool's answer`]));
}

function metric(text, name) {
	const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\d+)`, 'm').exec(text ?? '');
	return m ? Number(m[1]) : null;
}

async function oldDbErrors() {
	try {
		const r = await old('GET', '/metrics');
		return r.status === 200 ? metric(r.text, 'pingoo_db_errors_total') : null;
	} catch {
		return null;
	}
}

const dbErrorsAtStart = await oldDbErrors();

// ---- a user and a token the stack issued ------------------------------------------------------

const users = userFactory(stack);
// A run ended by a signal or a crash leaves no user behind either (cleanup is synchronous).
process.on('exit', () => users.cleanup());
let me, token;
try {
	me = users.create();
	token = await cur.token(me.username, me.password);
} catch (e) {
	await pool.stop();
	users.cleanup();
	t.bailOut(`cannot make a throwaway user: ${e.message}`);
}
const uid = (await cur.get('/api/v1/me', token)).json?.id;

// The ids of what each pool wrote, for the reads the other way round.
const byOld = { ping: [], tp: [] };
const byCur = { ping: [], tp: [] };

try {
	await t.test('the old pool takes a token the current pool issued', async () => {
		const r = await old('GET', '/api/v1/me', { token });
		t.ok(r.status === 200 && r.json?.id === uid && r.json?.username === me.username,
		    'GET /api/v1/me answers 200 with the user', describeFcgi(r));
		const h = await old('GET', '/api/v1/health');
		t.ok(h.status === 200 && h.json?.database === 'up', 'its health route says the database is up',
		    describeFcgi(h));
		t.diag(`the old pool calls itself ${h.json?.version}`);
	});

	await t.test('a token the old pool issues is taken by the current pool', async () => {
		const r = await old('POST', '/api/v1/auth/token', { json: { username: me.username, password: me.password } });
		t.ok(r.status === 200 && typeof r.json?.access_token === 'string', 'the old pool issues a token',
		    describeFcgi(r));
		if (r.status !== 200)
			return;
		const claims = JSON.parse(Buffer.from(r.json.access_token.split('.')[1] ?? '', 'base64url').toString() || '{}');
		t.ok(typeof claims.jti === 'string' && claims.jti.length > 0 && isInt(claims.iat),
		    'it carries jti and iat, which the current release requires', JSON.stringify(claims));
		const m = await cur.get('/api/v1/me', r.json.access_token);
		t.ok(m.status === 200 && m.json?.id === uid, 'the current pool answers /me with it', describe(m));
	});

	// ---- the echo path on the old pool --------------------------------------------------------

	await t.test('the old pool runs a ping test: create, echo, receipts, close, read', async () => {
		const c = await old('POST', '/api/v1/ping-tests', { token,
		    json: { count: 5, interval_ms: 0, client: { platform: 'upgrade', network_type: 'ethernet' } } });
		t.ok(c.status === 201 && isInt(c.json?.id) && c.json.state === 'incomplete', 'create answers 201',
		    describeFcgi(c));
		if (c.status !== 201)
			return;
		const id = c.json.id;
		byOld.ping.push(id);
		const echoes = [];
		for (let seq = 0; seq < 5; seq++) {
			const sent = nowUs();
			const e = await old('POST', `/api/v1/ping-tests/${id}/echo`, { token, json: { seq, client_sent_at: sent } });
			echoes.push({ seq, sent, got: nowUs(), r: e });
		}
		const bad = echoes.filter((e) => !(e.r.status === 200 && e.r.json?.seq === e.seq &&
		    isInt(e.r.json.server_received_at) && e.r.json.server_received_at <= e.r.json.server_sent_at &&
		    typeof e.r.json.sig === 'string'));
		t.ok(bad.length === 0, 'each of 5 echoes answers 200 with the server\'s stamps and their sig',
		    bad.map((e) => describeFcgi(e.r)).join('\n'));
		// The echo writes its sample after the answer.
		const rows = await poll(() => count(stack, 'ping_samples', `test_id = ${id}`), 5000, 50, (n) => n === 5);
		t.is(rows, 5, 'its writer puts the 5 samples in MariaDB');
		const rc = await old('POST', `/api/v1/ping-tests/${id}/receipts`, { token,
		    json: { receipts: echoes.slice(0, 4).map((e) => ({ seq: e.seq, client_received_at: e.got })) } });
		t.ok(rc.status === 200 && rc.json?.received === 4 && rc.json?.state === 'incomplete',
		    '4 receipts answer 200', describeFcgi(rc));
		const cl = await old('POST', `/api/v1/ping-tests/${id}/close`, { token });
		const s = cl.json?.summary ?? {};
		t.ok(cl.status === 200 && cl.json?.state === 'complete' && s.sent === 5 && s.echoed === 5 &&
		    s.received === 4 && s.lost === 1 && isInt(s.rtt_median_us), 'close answers 200: complete, 4 of 5 received',
		    describeFcgi(cl));
		const g = await old('GET', `/api/v1/ping-tests/${id}`, { token });
		const samples = g.json?.samples ?? [];
		t.ok(g.status === 200 && samples.length === 5 &&
		    samples.every((x, k) => x.seq === k && x.client_sent_at === echoes[k].sent &&
		    x.server_received_at === echoes[k].r.json?.server_received_at &&
		    x.client_received_at === (k < 4 ? echoes[k].got : null)) &&
		    JSON.stringify(g.json?.summary) === JSON.stringify(cl.json?.summary),
		    'the read has the 5 samples with the stamps sent and received, and the summary close gave',
		    describeFcgi(g));
		t.is(count(stack, 'ping_summaries', `test_id = ${id}`), 1, 'its summary has its row in ping_summaries');
	});

	await t.test('the old pool completes a ping test by its receipts', async () => {
		const c = await old('POST', '/api/v1/ping-tests', { token, json: { count: 2 } });
		if (!t.ok(c.status === 201, 'create answers 201', describeFcgi(c)))
			return;
		const id = c.json.id;
		byOld.ping.push(id);
		const rec = [];
		for (let seq = 0; seq < 2; seq++) {
			const sent = nowUs();
			const e = await old('POST', `/api/v1/ping-tests/${id}/echo`, { token, json: { seq, client_sent_at: sent } });
			if (e.status !== 200)
				return t.fail(`echo ${seq} answers 200`, describeFcgi(e));
			rec.push({ seq, client_received_at: nowUs() });
		}
		await poll(() => count(stack, 'ping_samples', `test_id = ${id}`), 5000, 50, (n) => n === 2);
		const rc = await old('POST', `/api/v1/ping-tests/${id}/receipts`, { token, json: { receipts: rec } });
		t.ok(rc.status === 200 && rc.json?.state === 'complete', 'the last receipt completes it', describeFcgi(rc));
		t.is(count(stack, 'ping_summaries', `test_id = ${id}`), 1, 'with its summary\'s row');
	});

	// ---- the packet path on the old pool ------------------------------------------------------

	const N = 3, S = 100000;	// S spans two FastCGI records
	await t.test(`the old pool runs a throughput test of ${N} x ${S} bytes both ways, with probes`, async () => {
		const c = await old('POST', '/api/v1/throughput-tests', { token,
		    json: { direction: 'both', packets: N, packet_size: S, client: { platform: 'upgrade' } } });
		t.ok(c.status === 201 && isInt(c.json?.id) && c.json.packets === N && c.json.packet_size === S,
		    'create answers 201', describeFcgi(c));
		if (c.status !== 201)
			return;
		const id = c.json.id;
		byOld.tp.push(id);
		const base = `/api/v1/throughput-tests/${id}`;
		const probes = [];
		for (let seq = 0; seq < 2; seq++) {
			const sent = nowUs();
			const p = await old('POST', `${base}/probes`, { token, json: { seq, phase: 'idle', client_sent_at: sent } });
			probes.push({ seq, sent, got: nowUs(), r: p });
		}
		t.ok(probes.every((p) => p.r.status === 200 && p.r.json?.seq === p.seq && isInt(p.r.json?.server_sent_at)),
		    'two idle probes answer 200', probes.map((p) => describeFcgi(p.r)).join('\n'));
		const reports = [];
		const dl = [];
		for (let seq = 0; seq < N; seq++) {
			const d = await old('GET', `${base}/download/${seq}`, { token });
			dl.push(d);
			if (d.status === 200)
				reports.push({ direction: 'download', seq, client_sent_at: d.sentAt,
				    client_first_byte_at: d.firstByteAt, client_received_at: d.endAt });
		}
		t.ok(dl.every((d) => d.status === 200 && d.body.length === S &&
		    /^application\/octet-stream/.test(d.headers['content-type'] ?? '') &&
		    /^\d+$/.test(d.headers['x-pingoo-server-started-at'] ?? '')),
		    `${N} downloads answer 200 with ${S} bytes each`, dl.map((d) => `status ${d.status}, ${d.body.length} bytes, ${d.text.slice(0, 200)}`).join('\n'));
		const ul = [];
		for (let seq = 0; seq < N; seq++) {
			const u = await old('PUT', `${base}/upload/${seq}`, { token, body: crypto.randomBytes(S),
			    contentType: 'application/octet-stream' });
			ul.push(u);
			if (u.status === 200)
				reports.push({ direction: 'upload', seq, client_sent_at: u.sentAt, client_received_at: u.endAt });
		}
		t.ok(ul.every((u, seq) => u.status === 200 && u.json?.direction === 'upload' && u.json?.seq === seq &&
		    u.json?.bytes === S), `${N} uploads answer 200 with their bytes`, ul.map(describeFcgi).join('\n'));
		const pr = await old('POST', `${base}/probe-receipts`, { token,
		    json: { receipts: probes.map((p) => ({ seq: p.seq, phase: 'idle', client_sent_at: p.sent, client_received_at: p.got })) } });
		t.ok(pr.status === 200 && pr.json?.accepted?.length === 2, 'the probes\' receipts answer 200', describeFcgi(pr));
		const rp = await old('POST', `${base}/reports`, { token, json: { packets: reports } });
		t.ok(rp.status === 200 && rp.json?.accepted === 2 * N, `the report of the ${2 * N} packets answers 200`,
		    describeFcgi(rp));
		const g = await old('GET', base, { token });
		const j = g.json ?? {};
		const d = j.summary?.download ?? {}, u = j.summary?.upload ?? {};
		t.ok(g.status === 200 && j.state === 'complete' && j.transfers?.length === 2 * N &&
		    j.transfers.every((x) => x.status === 'ok' && x.bytes === S) && j.probes?.length === 2 &&
		    d.received === N && d.reported === N && d.report_missing === false && d.bits_per_second > 0 &&
		    u.received === N && u.bits_per_second > 0 && j.summary?.latency?.idle?.samples === 2,
		    'the read: complete, every packet ok, both directions\' rates, the idle probes', describeFcgi(g));
		t.is(count(stack, 'throughput_transfers', `test_id = ${id} AND status = 'ok'`), 2 * N,
		    'MariaDB has its packets ok');
	});

	await t.test('the old pool aborts a throughput test', async () => {
		const c = await old('POST', '/api/v1/throughput-tests', { token,
		    json: { direction: 'download', packets: 2, packet_size: 1000 } });
		if (!t.ok(c.status === 201, 'create answers 201', describeFcgi(c)))
			return;
		byOld.tp.push(c.json.id);
		const d = await old('GET', `/api/v1/throughput-tests/${c.json.id}/download/0`, { token });
		t.ok(d.status === 200 && d.body.length === 1000, 'one download answers 200', describeFcgi(d));
		const a = await old('POST', `/api/v1/throughput-tests/${c.json.id}/abort`, { token });
		t.ok(a.status === 200 && a.json?.state === 'aborted', 'abort answers 200: aborted', describeFcgi(a));
	});

	// ---- the current pool writes, for the old one to read ---------------------------------------

	await t.test('the current pool runs a ping test and a throughput test through nginx', async () => {
		const c = await cur.json('POST', '/api/v1/ping-tests', { count: 3, client: { platform: 'upgrade' } }, token);
		if (!t.ok(c.status === 201, 'ping create answers 201', describe(c)))
			return;
		const id = c.json.id;
		byCur.ping.push(id);
		const rec = [];
		for (let seq = 0; seq < 3; seq++) {
			const sent = nowUs();
			const e = await cur.json('POST', `/api/v1/ping-tests/${id}/echo`, { seq, client_sent_at: sent }, token);
			if (e.status !== 200)
				return t.fail(`echo ${seq} answers 200`, describe(e));
			if (seq < 2)
				rec.push({ seq, client_received_at: nowUs() });
		}
		await poll(() => count(stack, 'ping_samples', `test_id = ${id}`), 5000, 50, (n) => n === 3);
		const rc = await cur.json('POST', `/api/v1/ping-tests/${id}/receipts`, { receipts: rec }, token);
		const cl = await cur.request({ method: 'POST', path: `/api/v1/ping-tests/${id}/close`, token });
		t.ok(rc.status === 200 && cl.status === 200 && cl.json?.state === 'complete',
		    '3 echoes, 2 receipts and close answer 200', `${describe(rc)}\n${describe(cl)}`);

		const tp = await cur.json('POST', '/api/v1/throughput-tests',
		    { direction: 'both', packets: 2, packet_size: 70000 }, token);
		if (!t.ok(tp.status === 201, 'throughput create answers 201', describe(tp)))
			return;
		const tid = tp.json.id;
		byCur.tp.push(tid);
		const reports = [];
		for (let seq = 0; seq < 2; seq++) {
			const sent = nowUs();
			const d = await cur.request({ method: 'GET', path: `/api/v1/throughput-tests/${tid}/download/${seq}`, token });
			const got = nowUs();
			if (d.status !== 200)
				return t.fail(`download ${seq} answers 200`, describe(d));
			reports.push({ direction: 'download', seq, client_sent_at: sent, client_first_byte_at: sent + 1,
			    client_received_at: got });
		}
		for (let seq = 0; seq < 2; seq++) {
			const sent = nowUs();
			const u = await cur.request({ method: 'PUT', path: `/api/v1/throughput-tests/${tid}/upload/${seq}`, token,
			    body: crypto.randomBytes(70000), headers: { 'Content-Type': 'application/octet-stream' } });
			if (u.status !== 200)
				return t.fail(`upload ${seq} answers 200`, describe(u));
			reports.push({ direction: 'upload', seq, client_sent_at: sent, client_received_at: nowUs() });
		}
		const rp = await cur.json('POST', `/api/v1/throughput-tests/${tid}/reports`, { packets: reports }, token);
		t.ok(rp.status === 200, 'its 4 packets and their report answer 200', describe(rp));
	});

	// ---- each pool reads what the other wrote ------------------------------------------------

	// Reads one test through both pools: both 200, and every field the old pool gives the same.
	async function sameThroughBoth(kind, id) {
		const uri = `/api/v1/${kind === 'ping' ? 'ping-tests' : 'throughput-tests'}/${id}`;
		const o = await old('GET', uri, { token });
		const c = await cur.get(uri, token);
		if (o.status !== 200 || c.status !== 200)
			return [`old: ${describeFcgi(o)}`, `current: ${describe(c)}`];
		return differences(o.json, c.json);
	}

	await t.test('what the old pool wrote reads the same through the current pool', async () => {
		// Nothing to read would compare nothing: the cases above that make them say why.
		t.ok(byOld.ping.length > 0 && byOld.tp.length > 0, 'the old pool made ping and throughput tests to read',
		    `ping ${byOld.ping.join(' ') || 'none'}, throughput ${byOld.tp.join(' ') || 'none'}`);
		for (const kind of ['ping', 'tp'])
			for (const id of byOld[kind]) {
				const diff = await sameThroughBoth(kind, id);
				t.ok(diff.length === 0, `${kind === 'ping' ? 'ping' : 'throughput'} test ${id}: the current pool's read ` +
				    'has every field of the old pool\'s, with the same values', diff.join('\n'));
			}
	});

	await t.test('what the current pool wrote reads the same through the old pool', async () => {
		t.ok(byCur.ping.length > 0 && byCur.tp.length > 0, 'the current pool made ping and throughput tests to read',
		    `ping ${byCur.ping.join(' ') || 'none'}, throughput ${byCur.tp.join(' ') || 'none'}`);
		for (const kind of ['ping', 'tp'])
			for (const id of byCur[kind]) {
				const diff = await sameThroughBoth(kind, id);
				t.ok(diff.length === 0, `${kind === 'ping' ? 'ping' : 'throughput'} test ${id}: the old pool's read ` +
				    'answers 200 and every field it gives is the current pool\'s', diff.join('\n'));
			}
	});

	// ---- the read paths on the old pool ---------------------------------------------------------

	const all = { ping: [...byOld.ping, ...byCur.ping], tp: [...byOld.tp, ...byCur.tp] };
	await t.test('the old pool lists the tests of both pools, and so does the current pool', async () => {
		for (const [kind, route] of [['ping', 'ping-tests'], ['tp', 'throughput-tests']]) {
			const o = await old('GET', `/api/v1/${route}?limit=50`, { token });
			const c = await cur.get(`/api/v1/${route}?limit=50`, token);
			const want = [...all[kind]].sort((a, b) => b - a);
			t.is(o.status === 200 ? o.json?.tests?.map((x) => x.id) : describeFcgi(o), want,
			    `the old pool lists the ${route}, newest first`);
			t.is(c.status === 200 ? c.json?.tests?.map((x) => x.id) : describe(c), want,
			    `the current pool lists the same ${route}`);
			if (o.status === 200 && c.status === 200) {
				const diff = differences(o.json.tests, c.json.tests);
				t.ok(diff.length === 0, `each listed test has the same fields in both lists (${route})`, diff.join('\n'));
			}
		}
	});

	await t.test('the old pool exports every test of the user, as NDJSON and as CSV, and its aggregates', async () => {
		const tests = all.ping.length + all.tp.length;
		const nd = await old('GET', '/api/v1/export/tests.ndjson', { token });
		const lines = nd.text.split('\n').filter(Boolean);
		let recs = [];
		try {
			recs = lines.map((l) => JSON.parse(l));
		} catch (e) {
			t.fail('every NDJSON line is JSON', e.message);
		}
		const end = recs[recs.length - 1] ?? {};
		t.ok(nd.status === 200 && end.type === 'end' && end.tests === tests && end.records === recs.length - 1,
		    `NDJSON: 200, ending with its end record of ${tests} tests`, `status ${nd.status}, last ${JSON.stringify(end)}`);
		const want = { ping_test: all.ping.length, throughput_test: all.tp.length,
		    ping_sample: count(stack, 'ping_samples', `test_id IN (${all.ping.join(',')})`),
		    transfer: count(stack, 'throughput_transfers', `test_id IN (${all.tp.join(',')})`),
		    probe: count(stack, 'throughput_probes', `test_id IN (${all.tp.join(',')})`) };
		const got = {};
		for (const r of recs)
			if (r.type in want)
				got[r.type] = (got[r.type] ?? 0) + 1;
		for (const k of Object.keys(want))
			got[k] ??= 0;
		t.is(got, want, 'NDJSON: a record for each test, sample, transfer and probe MariaDB has');
		const cur2 = await cur.get('/api/v1/export/tests.ndjson', token);
		const curEnd = cur2.text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).pop();
		t.ok(cur2.status === 200 && curEnd?.tests === tests, 'the current pool\'s export counts the same tests',
		    describe(cur2));

		const csv = await old('GET', '/api/v1/export/tests.csv', { token });
		const rows = csv.text.split('\r\n').filter(Boolean);
		const head = (rows[0] ?? '').split(',');
		const last = (rows[rows.length - 1] ?? '').split(',');
		t.ok(csv.status === 200 && /^text\/csv/.test(csv.headers['content-type'] ?? '') &&
		    last[head.indexOf('record')] === 'end' && Number(last[head.indexOf('tests')]) === tests &&
		    rows.length === recs.length + 1, `CSV: 200, a header row, a row for each NDJSON record, the end row`,
		    `status ${csv.status}, ${rows.length} rows, last ${rows[rows.length - 1]}`);

		const ag = await old('GET', '/api/v1/export/aggregates?group=platform', { token });
		const groups = ag.json?.groups ?? [];
		const sum = (f) => groups.reduce((n, g) => n + (g[f]?.tests ?? 0), 0);
		t.ok(ag.status === 200 && sum('ping') === all.ping.length && sum('throughput') === all.tp.length,
		    'aggregates: 200, its groups count every test', describeFcgi(ag));
	});

	// ---- a test the old release has no form for ----------------------------------------------

	// Not an upgrade on one host (nothing makes a time-bounded test before the restart), but
	// one host after another: an old host may be asked for a test a new one made.
	await t.test('the old pool reads and lists a time-bounded test the current pool made', async () => {
		const c = await cur.json('POST', '/api/v1/throughput-tests', { direction: 'download', duration_ms: 1000 }, token);
		if (!t.ok(c.status === 201, 'the current pool creates one', describe(c)))
			return;
		const id = c.json.id;
		all.tp.push(id);
		const d = await cur.request({ method: 'GET', path: `/api/v1/throughput-tests/${id}/download/0?bytes=65536`, token });
		const cl = await cur.request({ method: 'POST', path: `/api/v1/throughput-tests/${id}/close`, token });
		t.ok(d.status === 200 && cl.status === 200, 'one packet and close answer 200', `${describe(d)}\n${describe(cl)}`);
		const g = await old('GET', `/api/v1/throughput-tests/${id}`, { token });
		t.ok(g.status === 200 && g.json?.id === id && g.json?.transfers?.length === 1,
		    'the old pool reads it: 200 with its one transfer', describeFcgi(g));
		t.diag(`the old pool's read of it: ${g.text.slice(0, 600)}`);
		const l = await old('GET', '/api/v1/throughput-tests?limit=50', { token });
		t.ok(l.status === 200 && l.json?.tests?.some((x) => x.id === id), 'and lists it', describeFcgi(l));
	});

	// ---- deletes through the old pool ---------------------------------------------------------

	await t.test('the old pool deletes a test, then every test of the user', async () => {
		const one = byCur.ping[0];
		const d = await old('DELETE', `/api/v1/ping-tests/${one}`, { token });
		t.is(d.status, 204, 'DELETE of a ping test the current pool made answers 204');
		const g = await cur.get(`/api/v1/ping-tests/${one}`, token);
		t.is(g.status, 404, 'the current pool reads it 404 afterwards');
		const all2 = await old('DELETE', '/api/v1/tests', { token });
		const left = all.ping.length - 1 + all.tp.length;
		const del = all2.json?.deleted ?? {};
		t.ok(all2.status === 200 && (del.ping ?? 0) + (del.throughput ?? 0) === left,
		    `DELETE /api/v1/tests answers 200, ${left} deleted`, describeFcgi(all2));
		t.is(count(stack, 'ping_tests', `user_id = ${uid}`) + count(stack, 'throughput_tests', `user_id = ${uid}`), 0,
		    'MariaDB has no test of the user left');
	});

	// ---- what the old pool said about itself -------------------------------------------------

	await t.test('the old pool met no database error and answered nothing with 5xx', async () => {
		const now = await oldDbErrors();
		t.ok(dbErrorsAtStart !== null && now === dbErrorsAtStart,
		    'its pingoo_db_errors_total did not move', `at start ${dbErrorsAtStart}, now ${now}`);
	});
} finally {
	const stopped = await pool.stop();
	await t.test('the old pool stops on SIGTERM, cleanly', async () => {
		t.ok(stopped.code === 0 && !stopped.killed, `it exits 0 within 10 s of SIGTERM (${stopped.ms} ms)`,
		    JSON.stringify(stopped));
		const lines = pool.logText().split('\n').filter(Boolean);
		const requests = lines.filter((l) => /\bpingoo\[\d+\] [A-Z]+ \S+ \d{3} /.test(l));
		const failed = requests.filter((l) => / 5\d\d /.test(l));
		// Its sweep may find packets another test left started: that is its work, done.
		const other = lines.filter((l) => !requests.includes(l) &&
		    !/pingoo: supervisor \d+ (serving|stopped)/.test(l) &&
		    !/pingoo: \d+ packets left started by a dead worker recorded failed/.test(l));
		t.ok(requests.length > 0 && failed.length === 0, `none of its ${requests.length} logged requests answered 5xx`,
		    failed.join('\n'));
		t.ok(other.length === 0, 'its log holds nothing but requests, the supervisor\'s start and stop and ' +
		    'its sweep\'s count: no write refused or dropped', other.slice(0, 20).join('\n'));
	});
	const errors = users.cleanup();
	if (errors.length)
		t.diag(`cleanup: ${errors.join('; ')}`);
	if (t.failedCount() === 0)
		pool.cleanup();
	else
		t.diag(`the old pool's log: ${pool.log}`);
}
await t.done();
