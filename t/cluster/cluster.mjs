// cluster.mjs - the two-host cluster of deploy/cluster/up: its hardening (root on every
// Galera node by socket only, the pools' sockets nginx's alone, the secrets root's alone and
// the pools running as their own account), ES256 tokens issued by host A and verified by
// host B (and refused when forged), a ping test and a throughput test spread over both
// hosts, each host on its nearest Galera node, and Galera nodes killed with SIGKILL under
// load and brought back, every acknowledged write then looked up on every node.  Run by
// deploy/cluster/test, which brings the cluster up and takes it down; PINGOO_STACK_ENV
// names var/cluster/stack.env.
//
// Every node in turn, node 1 (host A's, the token issuer's) first, then 2 and 3; with
// PINGOO_CLUSTER_SHORT=1 (.ci/run) node 2 (host B's), then node 1, with shorter load phases.

import crypto from 'node:crypto';
import fs from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from '../integration/lib/tap.mjs';
import { loadStack } from '../integration/lib/stack.mjs';
import { api, describe } from '../integration/lib/http.mjs';
import { loadKit, tally, poll } from '../integration/lib/load.mjs';
import { query } from '../integration/lib/db.mjs';
import { encodePart, sign, unsigned } from '../integration/lib/jwt.mjs';

const SHORT = process.env.PINGOO_CLUSTER_SHORT === '1';
const stack = loadStack();
if (!stack || !stack.PINGOO_HOST_B_URL)
	t.bailOut('no cluster: run deploy/cluster/up (PINGOO_STACK_ENV names its stack.env)');

const LB = api(stack);
const A = api({ ...stack, PINGOO_URL: stack.PINGOO_HOST_A_URL });
const B = api({ ...stack, PINGOO_URL: stack.PINGOO_HOST_B_URL });
const onNode = (n) => ({ ...stack, PINGOO_DB_SOCKET: stack[`PINGOO_DB_SOCKET_${n}`] });
// deploy/cluster/node ARGS, without blocking the event loop: a node's start takes seconds,
// and the load's requests (and their timeouts) must go on meanwhile.
const nodeCtlAsync = async (...args) => (await promisify(execFile)(stack.PINGOO_NODE_CTL,
    args.map(String), { encoding: 'utf8', timeout: 180000 })).stdout.trim();
// "SIZE STATE" of node n, or null while it does not answer.
const nodeState = async (n) => {
	try {
		return await nodeCtlAsync('status', n) || null;
	} catch {
		return null;
	}
};
const allState = async (nodes, want) => (await Promise.all(nodes.map(nodeState))).every((x) => x === want);
// Rows of sql run as root on node n (root sees every session and the server's status).
const rootQuery = (n, sql) => execFileSync('mariadb', [`--socket=${stack[`PINGOO_DB_SOCKET_${n}`]}`,
    '--user=root', '-N', '-B', '-e', sql], { encoding: 'utf8' }).split('\n').filter(Boolean);
// The mariadb client as root (no option file: nothing may bring a password along) with
// ARGS, run as the OS user `as` (root when absent) and, with ns, in that network
// namespace; {ok, out, err}.
const rootLogin = (args, { as, ns } = {}) => {
	const cmd = ['mariadb', '--no-defaults', '--user=root', '--connect-timeout=3', '-N', '-B',
	    ...args, '-e', 'SELECT CURRENT_USER()'];
	const argv = [...(ns ? ['ip', 'netns', 'exec', ns] : []),
	    ...(as ? ['setpriv', `--reuid=${as}`, `--regid=${as === 'nobody' ? 'nogroup' : as}`,
	        '--init-groups', '--'] : []), ...cmd];
	const env = { ...process.env };
	delete env.MYSQL_PWD;
	try {
		return { ok: true, out: execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', env,
		    timeout: 15000, stdio: ['ignore', 'pipe', 'pipe'] }).trim(), err: '' };
	} catch (e) {
		return { ok: false, out: '', err: String(e.stderr || e.message).trim() };
	}
};
// Runs ARGS as the OS user `as` (its own group and groups); {ok, out, err}.
const runAs = (as, args) => {
	try {
		return { ok: true, out: execFileSync('setpriv', [`--reuid=${as}`,
		    `--regid=${as === 'nobody' ? 'nogroup' : as}`, '--init-groups', '--', ...args],
		    { encoding: 'utf8', cwd: '/', timeout: 15000, stdio: ['ignore', 'pipe', 'pipe'] }), err: '' };
	} catch (e) {
		return { ok: false, out: String(e.stdout ?? ''), err: String(e.stderr || e.message).trim() };
	}
};
// Connects to the unix socket at path as the OS user `as`: 'OK' or the error's code.
const connectAs = (as, path) => {
	const js = 'const s=require("net").connect(process.argv[1]);' +
	    's.on("connect",()=>{console.log("OK");s.destroy()});' +
	    's.on("error",(e)=>{console.log(e.code);process.exit(0)})';
	const r = runAs(as, [process.execPath, '-e', js, path]);
	return r.ok ? r.out.trim() : `setpriv failed: ${r.err}`;
};
// Uid, Gid (real, effective, saved, filesystem) and Groups of a process.
const ids = (pid) => {
	const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const line = (k) => (new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(st)?.[1] ?? '').trim().split(/\s+/)
	    .filter(Boolean).map(Number);
	return { uid: line('Uid'), gid: line('Gid'), groups: line('Groups') };
};
const idOf = (flag, name) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
const POOL = stack.PINGOO_POOL_ACCOUNT;
const PEM = fs.readFileSync(stack.PINGOO_JWT_PUBLIC_KEY_FILE);
const nowS = () => Math.floor(Date.now() / 1000);
const claims = () => ({ sub: '1', iss: 'pingoo', aud: 'pingoo-api', iat: nowS(), exp: nowS() + 600 });

let token;
let jwk;

t.test('the three Galera nodes are Synced in one cluster of 3', async () => {
	for (const n of [1, 2, 3])
		t.is(await nodeState(n), '3 Synced', `node ${n}: cluster size 3, Synced`);
});

t.test('root on every Galera node logs in by its socket alone, never over TCP', async () => {
	for (const n of [1, 2, 3]) {
		// Root's accounts and the anonymous ones, each with its authentication plugin.
		const accounts = rootQuery(n, `SELECT CONCAT(QUOTE(User), '@', QUOTE(Host), ' ',
		    JSON_VALUE(Priv, '$.plugin')) FROM mysql.global_priv WHERE User IN ('root', '') ORDER BY 1`);
		t.is(accounts, ["'root'@'localhost' unix_socket"],
		    `node ${n}: root@localhost, by unix_socket, is root's only account; there is no anonymous one`);
		const [host, port] = stack[`PINGOO_NODE_TCP_${n}`].split(':');
		const tcp = rootLogin(['--protocol=tcp', `--host=${host}`, `--port=${port}`]);
		t.ok(!tcp.ok && /\b(1045|1130|1698)\b/.test(tcp.err),
		    `node ${n}: root without a password over TCP (${host}:${port}) is refused`, tcp.err || tcp.out);
		const other = rootLogin([`--socket=${stack[`PINGOO_DB_SOCKET_${n}`]}`], { as: 'nobody' });
		t.ok(!other.ok && /ERROR 1698/.test(other.err),
		    `node ${n}: root by the socket from another OS user (nobody) is refused (1698)`, other.err || other.out);
	}
	// A process on host A, next to its node, fares no better.
	const [h1, p1] = stack.PINGOO_NODE_TCP_1.split(':');
	const fromA = rootLogin(['--protocol=tcp', `--host=${h1}`, `--port=${p1}`], { ns: stack.PINGOO_HOST_A_NS });
	t.ok(!fromA.ok && /\b(1045|1130|1698)\b/.test(fromA.err),
	    'from host A\'s namespace, root without a password over TCP to node 1 is refused', fromA.err || fromA.out);
	const mine = rootLogin([`--socket=${stack.PINGOO_DB_SOCKET_1}`]);
	t.ok(mine.ok && mine.out === 'root@localhost', 'the OS user root still logs in by the socket', mine.err);
});

t.test('only nginx can reach the pools: a unix socket each, no TCP listener', async () => {
	const nginxGid = idOf('-g', stack.PINGOO_NGINX_GROUP);
	for (const h of ['A', 'B']) {
		const sock = stack[`PINGOO_HOST_${h}_SOCKET`];
		const st = fs.statSync(sock);
		t.ok(st.isSocket() && (st.mode & 0o777) === 0o660 && st.uid === 0 && st.gid === nginxGid,
		    `host ${h}: its socket is mode 0660, root's, group ${stack.PINGOO_NGINX_GROUP}`,
		    `mode 0${(st.mode & 0o777).toString(8)}, uid ${st.uid}, gid ${st.gid}`);
		t.is(connectAs('nobody', sock), 'EACCES', `host ${h}: another local user (nobody) cannot connect (EACCES)`);
		t.is(connectAs(POOL, sock), 'EACCES',
		    `host ${h}: nor can the pool's own account (${POOL}), so none of its processes can pose as nginx`);
		t.is(connectAs(stack.PINGOO_NGINX_GROUP, sock), 'OK', `host ${h}: nginx's account connects`);
		const ns = stack[`PINGOO_HOST_${h}_NS`];
		const listening = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn'], { encoding: 'utf8' }).trim();
		t.is(listening, '', `host ${h}: nothing listens on TCP in its namespace`);
	}
});

t.test('the secrets are root\'s alone; the pools read them before they become their account', async () => {
	const dir = stack.PINGOO_CLUSTER_SECRETS;
	const d = fs.statSync(dir);
	t.ok(d.uid === 0 && (d.mode & 0o777) === 0o700, `the secrets' folder is root's, mode 0700`,
	    `mode 0${(d.mode & 0o777).toString(8)}, uid ${d.uid}`);
	const names = fs.readdirSync(dir).sort();
	t.ok(names.includes('es256.key') && names.includes('migrate_db_password'),
	    'they include the ES256 private key and the migration password', names.join(' '));
	const files = [...names.map((f) => `${dir}/${f}`), ...stack.PINGOO_CLUSTER_CONFIGS.split(' ')];
	const loose = files.filter((f) => {
		const st = fs.statSync(f);
		return st.uid !== 0 || st.gid !== 0 || (st.mode & 0o777) !== 0o600;
	});
	t.ok(loose.length === 0, `every secret and every configuration (${files.length} files) is mode 0600, root:root`,
	    loose.map((f) => `${f}: 0${(fs.statSync(f).mode & 0o777).toString(8)}`).join('\n'));
	// The same check as the pool's account: it runs (its uid shows), and reads none of them.
	const who = runAs(POOL, ['id', '-u']);
	t.ok(who.ok && Number(who.out) === idOf('-u', POOL), `a command runs as ${POOL}`, who.err);
	const read = files.filter((f) => runAs(POOL, ['cat', f]).ok);
	t.ok(read.length === 0, `${POOL} cannot read any of them (cat fails on each, the private key and the ` +
	    'migration password included)', read.join(' '));
	const poolUid = idOf('-u', POOL), poolGid = idOf('-g', POOL);
	for (const h of ['A', 'B']) {
		const sup = Number(fs.readFileSync(stack[`PINGOO_HOST_${h}_PIDFILE`], 'utf8'));
		const kids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(sup)], { encoding: 'utf8' })
		    .split('\n').map(Number).filter(Boolean);
		const pids = [sup, ...kids];
		const bad = pids.filter((pid) => {
			const x = ids(pid);
			return !x.uid.every((u) => u === poolUid) || !x.gid.every((g) => g === poolGid) ||
			    x.groups.some((g) => g !== poolGid);
		});
		t.ok(kids.length > 0 && bad.length === 0,
		    `host ${h}: its supervisor and ${kids.length} workers run as ${POOL} (uid and gid, all four of ` +
		    'each), in no other group', bad.map((pid) => `${pid}: ${JSON.stringify(ids(pid))}`).join('\n'));
		// Non-dumpable: the account's other processes cannot read the pool's memory.
		const peek = runAs(POOL, ['head', '-c', '1', `/proc/${kids[0] ?? sup}/environ`]);
		t.ok(!peek.ok, `host ${h}: another process of ${POOL} cannot read a worker's /proc/PID/environ`, peek.out);
	}
	// Host A issues tokens below: it read its private key as root before the drop.
});

t.test('both hosts answer health through nginx and on their own', async () => {
	for (const [name, X] of [['nginx', LB], ['host A', A], ['host B', B]]) {
		const r = await X.get('/api/v1/health');
		t.ok(r.status === 200 && r.json?.database === 'up', `${name}: health 200, database up`, describe(r));
	}
});

t.test('the public key is published as a JWK set', async () => {
	const r = await LB.get('/.well-known/jwks.json');
	jwk = r.json?.keys?.[0];
	t.ok(r.status === 200 && r.json.keys.length === 1 && jwk.kty === 'EC' && jwk.crv === 'P-256' &&
	    jwk.alg === 'ES256' && jwk.use === 'sig' && /^[\w-]{43}$/.test(jwk.kid),
	    'jwks.json: one key, kty EC, crv P-256, alg ES256, use sig, a kid', describe(r));
	const want = crypto.createPublicKey(PEM).export({ format: 'jwk' });
	t.ok(jwk && jwk.x === want.x && jwk.y === want.y, 'its x and y are those of the public key file');
	const rb = await B.get('/.well-known/jwks.json');
	t.ok(rb.status === 200 && rb.text === r.text, 'host B publishes the same key set');
});

t.test('host A issues tokens that a verifier with only the JWK accepts', async () => {
	token = await LB.login();
	const [h, p, s] = token.split('.');
	const header = JSON.parse(Buffer.from(h, 'base64url'));
	t.ok(header.alg === 'ES256' && header.kid === jwk?.kid, 'the token says ES256 and names the JWK by kid',
	    JSON.stringify(header));
	const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
	t.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' },
	    Buffer.from(s, 'base64url')), 'its signature verifies with the JWK alone (Node\'s crypto, not libjwt)');
});

t.test('host B, with the public key only, accepts host A\'s token and issues none', async () => {
	const me = await B.get('/api/v1/me', token);
	t.ok(me.status === 200 && me.json.username === stack.PINGOO_DEMO_USER, 'host B: /me 200 with A\'s token',
	    describe(me));
	const r = await B.json('POST', '/api/v1/auth/token',
	    { username: stack.PINGOO_DEMO_USER, password: stack.PINGOO_DEMO_PASSWORD });
	t.ok(r.status === 503 && r.json?.error?.code === 'not_token_issuer',
	    'host B: POST /auth/token is 503 not_token_issuer (nginx sends the route to host A)', describe(r));
});

t.test('forged tokens are refused by both hosts', async () => {
	const pem = PEM.toString('latin1');
	const forged = [
		['an HS256 token signed with the public key\'s PEM as the HMAC secret (algorithm confusion)',
		    sign({ alg: 'HS256', typ: 'JWT' }, claims(), Buffer.from(pem, 'latin1'))],
		['... with the PEM\'s trailing newline dropped',
		    sign({ alg: 'HS256', typ: 'JWT' }, claims(), Buffer.from(pem.replace(/\n$/, ''), 'latin1'))],
		['an unsigned token (alg none)', unsigned({ alg: 'none', typ: 'JWT' }, claims())],
		['an ES256 token of another key pair', (() => {
			const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
			const input = `${encodePart({ alg: 'ES256', typ: 'JWT', kid: jwk?.kid })}.${encodePart(claims())}`;
			return `${input}.${crypto.sign('sha256', Buffer.from(input), { key: privateKey,
			    dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
		})()],
	];
	for (const [what, tok] of forged)
		for (const [name, X] of [['host A', A], ['host B', B]]) {
			const r = await X.get('/api/v1/me', tok);
			t.ok(r.status === 401, `${what}: ${name} answers 401`, describe(r));
		}
});

t.test('each host writes to its nearest node', async () => {
	// The addresses the runtime account is connected from (root sees every session).
	const peers = (n) => rootQuery(n, `SELECT DISTINCT SUBSTRING_INDEX(HOST, ':', 1) FROM
	    information_schema.PROCESSLIST WHERE USER = '${stack.PINGOO_DB_USER}' AND HOST <> 'localhost'`).sort();
	await LB.get('/api/v1/me', token);
	await A.get('/api/v1/me', token);
	await B.get('/api/v1/me', token);
	t.is(peers(1), [stack.PINGOO_HOST_A_IP], 'node 1 serves host A and only host A');
	t.is(peers(2), [stack.PINGOO_HOST_B_IP], 'node 2 serves host B and only host B');
	t.is(peers(3), [], 'node 3 serves no host');
});

t.test('a ping test created through host A is echoed through host B', async () => {
	const c = await A.json('POST', '/api/v1/ping-tests', { count: 4, interval_ms: 0 }, token);
	t.is(c.status, 201, 'created through host A');
	const id = c.json.id;
	const receipts = [];
	for (let seq = 0; seq < 4; seq++) {
		const t0 = Date.now() * 1000;
		const e = await B.json('POST', `/api/v1/ping-tests/${id}/echo`, { seq, client_sent_at: t0 }, token);
		if (e.status !== 200) {
			t.fail(`echo ${seq} through host B`, describe(e));
			return;
		}
		receipts.push({ seq, client_sent_at: t0, server_received_at: e.json.server_received_at,
		    server_sent_at: e.json.server_sent_at, sig: e.json.sig, client_received_at: Date.now() * 1000 + 1 });
	}
	t.pass('host B echoed all 4 samples of a test it did not create (loaded from MySQL)');
	const r = await A.json('POST', `/api/v1/ping-tests/${id}/receipts`, { receipts }, token);
	t.ok(r.status === 200, 'the receipts go through host A', describe(r));
	const g = await B.get(`/api/v1/ping-tests/${id}`, token);
	t.ok(g.status === 200 && g.json.state === 'complete' && g.json.samples.length === 4 &&
	    g.json.samples.every((s) => s.client_received_at),
	    'host B reads it complete with 4 samples, each with its receipt', describe(g));
});

t.test('a throughput test\'s packets spread over both hosts are all recorded', async () => {
	const size = 64 * 1024;
	const c = await B.json('POST', '/api/v1/throughput-tests', { direction: 'both', packets: 4, packet_size: size }, token);
	t.is(c.status, 201, 'created through host B');
	const id = c.json.id;
	const body = crypto.randomBytes(size);
	const reports = [];
	for (let seq = 0; seq < 4; seq++) {
		const X = seq % 2 ? B : A;
		let t0 = Date.now() * 1000;
		const u = await X.request({ method: 'PUT', path: `/api/v1/throughput-tests/${id}/upload/${seq}`, token,
		    body, headers: { 'Content-Type': 'application/octet-stream' } });
		t.ok(u.status === 200, `upload ${seq} through host ${seq % 2 ? 'B' : 'A'}`, describe(u));
		reports.push({ direction: 'upload', seq, client_sent_at: t0, client_received_at: Date.now() * 1000 });
		const Y = seq % 2 ? A : B;
		t0 = Date.now() * 1000;
		const d = await Y.request({ path: `/api/v1/throughput-tests/${id}/download/${seq}`, token });
		t.ok(d.status === 200 && d.body.length === size, `download ${seq} through host ${seq % 2 ? 'A' : 'B'}`,
		    describe(d));
		reports.push({ direction: 'download', seq, client_sent_at: t0, client_first_byte_at: t0 + 1,
		    client_received_at: Date.now() * 1000 });
	}
	const r = await LB.json('POST', `/api/v1/throughput-tests/${id}/reports`, { packets: reports }, token);
	t.ok(r.status === 200, 'the reports go through nginx', describe(r));
	const g = await poll(async () => {
		const x = await A.get(`/api/v1/throughput-tests/${id}`, token);
		return x.json?.state === 'complete' ? x : null;
	}, 5000) ?? await A.get(`/api/v1/throughput-tests/${id}`, token);
	t.ok(g.status === 200 && g.json.state === 'complete' && g.json.transfers.length === 8 &&
	    g.json.transfers.every((x) => x.status === 'ok' && x.bytes === size),
	    'the test is complete with its 8 packets recorded ok', describe(g));
	const rows = query(onNode(3), `SELECT COUNT(*) FROM throughput_transfers WHERE test_id = ${id} AND status = 'ok'`);
	t.is(Number(rows[0][0]), 8, 'node 3, which no host writes to, has all 8 packets');
});

t.test('transactions that lose certification are retried: the same test closed on both hosts at once', async () => {
	// Both closes lock and update the one ping_tests row, each on its own node: Galera lets the
	// first certified commit win and fails the other (1213, at COMMIT or, aborted by the
	// winner's replication, on its next statement); Pingoo retries it, and the retry finds the
	// test closed.
	const conflicts = () => [1, 2].reduce((sum, n) => sum + Number(rootQuery(n, `SELECT SUM(VARIABLE_VALUE)
	    FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN
	    ('WSREP_LOCAL_CERT_FAILURES', 'WSREP_LOCAL_BF_ABORTS')`)[0]), 0);
	const before = conflicts();
	const answers = [];
	// Batches of 20 pairs until Galera has made at least one of them conflict (a pair's two
	// commits may simply not overlap), at most 5.
	for (let i = 0; i < 100 && (i % 20 !== 0 || i === 0 || conflicts() === before); i++) {
		const c = await LB.json('POST', '/api/v1/ping-tests', { count: 2, interval_ms: 0 }, token);
		if (c.status !== 201) {
			t.fail('a ping test to close', describe(c));
			return;
		}
		answers.push(...await Promise.all([A, B].map((X) =>
		    X.json('POST', `/api/v1/ping-tests/${c.json.id}/close`, undefined, token))));
	}
	const bad = answers.filter((r) => r.status !== 200);
	t.ok(bad.length === 0, `all ${answers.length} closes answered 200`, bad.slice(0, 5).map(describe).join('\n'));
	const seen = conflicts() - before;
	t.diag(`certification failures and brute-force aborts on nodes 1 and 2 meanwhile: ${seen}`);
	t.ok(seen > 0, 'Galera did make some of them conflict (else this proves nothing)');
});

t.test('what wsrep_sync_wait costs a read', async () => {
	// The same primary-key reads on node 2, in one session, without and with the wait, in
	// 8 alternating series of each; the machine is shared, so the median and the best series
	// are both told.
	const N = 400;
	const reads = 'SELECT id FROM users WHERE id = 1;'.repeat(N);
	const per = { 0: [], 1: [] };
	for (let i = 0; i < 16; i++) {
		const w = i % 2;
		const started = performance.now();
		query(onNode(2), `SET SESSION wsrep_sync_wait = ${w};${reads}`);
		per[w].push((performance.now() - started) * 1000 / N);
	}
	const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
	const fmt = (w) => `median ${med(per[w]).toFixed(0)} µs, best ${Math.min(...per[w]).toFixed(0)} µs`;
	t.diag(`per read (the client included): wsrep_sync_wait=0 ${fmt(0)}; wsrep_sync_wait=1 ${fmt(1)}; ` +
	    `cost: median ${(med(per[1]) - med(per[0])).toFixed(0)} µs, best ` +
	    `${(Math.min(...per[1]) - Math.min(...per[0])).toFixed(0)} µs`);
	t.ok(per[0].length === 8 && per[1].length === 8, 'both series ran');
});

// Waits until node n has applied every write set the running nodes have committed, so a
// read on it sees what was acknowledged through the others (up to 15 s).
async function caughtUp(n) {
	const seqno = (k) => {
		try {
			return Number(rootQuery(k, `SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
			    WHERE VARIABLE_NAME = 'WSREP_LAST_COMMITTED'`)[0]);
		} catch {
			return -1;
		}
	};
	const target = Math.max(...[1, 2, 3].map(seqno));
	return poll(() => seqno(n) >= target, 15000, 100);
}

// Node n killed with SIGKILL under load through nginx, then started again; every write the
// load had acknowledged is then looked up on each of the three nodes.
async function killRound(n, phases) {
	const L = loadKit(stack);
	const rec = L.startLoad(token, 4);
	await sleep(phases.before);
	const killedAt = performance.now();
	await nodeCtlAsync('kill', n);
	const survivors = [1, 2, 3].filter((k) => k !== n);
	const seen = await poll(() => allState(survivors, '2 Synced'), 30000, 100);
	const evictMs = performance.now() - killedAt;
	t.ok(seen, `node ${n} killed: the survivors see a cluster of 2, Synced, after ${evictMs.toFixed(0)} ms`);
	if (n === 1) {
		// Host A, the only issuer, has no database: a login is refused cleanly, and the
		// tokens it issued before still open host B.
		const login = await LB.json('POST', '/api/v1/auth/token',
		    { username: stack.PINGOO_DEMO_USER, password: stack.PINGOO_DEMO_PASSWORD });
		t.ok(login.status === 503 && typeof login.json?.error?.code === 'string',
		    `node 1 down: a login through nginx gets a clean 503 (${login.json?.error?.code})`, describe(login));
		const me = await B.get('/api/v1/me', token);
		t.ok(me.status === 200, 'node 1 down: host B still accepts a token host A issued', describe(me));
	}
	await sleep(phases.during);
	const logFile = `${stack[`PINGOO_DB_SOCKET_${n}`].replace(/mysqld\.sock$/, '')}mysqld.log`;
	const logFrom = fs.statSync(logFile).size;
	const startAt = performance.now();
	let started = true;
	try {
		await nodeCtlAsync('start', n);
	} catch (e) {
		started = false;
		t.diag(String(e.stderr || e.message));
	}
	const rejoinMs = performance.now() - startAt;
	const back = started && await poll(() => allState([1, 2, 3], '3 Synced'), 30000, 100);
	t.ok(back, `node ${n} rejoined: every node sees 3, Synced, ${rejoinMs.toFixed(0)} ms after its start ` +
	    `(${(performance.now() - killedAt).toFixed(0)} ms after the kill)`);
	const tail = fs.readFileSync(logFile, 'utf8').slice(logFrom);
	const ist = /Receiving IST: (\d+) writesets/.exec(tail);
	t.diag(`node ${n} came back by ${ist ? `IST (${ist[1]} writesets missed while it was down)` :
	    'a full state transfer (SST)'}`);
	const restartedAt = Date.now();
	await sleep(phases.after);
	await rec.finish();
	t.diag(`node ${n}: ${rec.events.length} requests: ${tally(rec.events)}`);
	const unclean = rec.events.filter((e) => !e.clean);
	t.ok(unclean.length === 0, `node ${n}: every request got its 2xx or a clean JSON error`,
	    unclean.slice(0, 10).map((e) => `${e.op}: ${e.status} ${e.err ?? ''}`).join('\n'));
	t.ok(rec.events.some((e) => e.ok && e.start >= restartedAt),
	    `node ${n}: requests succeed again once it is back`);
	if (n === 1) {
		const login = await LB.json('POST', '/api/v1/auth/token',
		    { username: stack.PINGOO_DEMO_USER, password: stack.PINGOO_DEMO_PASSWORD });
		t.ok(login.status === 200 && typeof login.json?.access_token === 'string',
		    'node 1 back: a login through nginx gets its token again', describe(login));
	}
	// The first look-up sends back the receipts and reports the client owes (through nginx);
	// each node is read once it has applied everything the others committed.
	for (const k of [...survivors, n]) {
		if (!await caughtUp(k))
			t.diag(`node ${k} had not caught up with the others within 15 s`);
		await loadKit(onNode(k)).verifyRecorded(rec,
		    `node ${n} killed, read on ${k === n ? 'the rejoined' : 'survivor'} node ${k}`);
	}
	return { evictMs, rejoinMs };
}

// Each node killed under load and brought back, one after the other: in the short form
// host B's node, then the token issuer's; in the full form the issuer's first, then every
// other node.
const ROUNDS = SHORT ? [2, 1] : [1, 2, 3];
const PHASES = SHORT ? { before: 1500, during: 2000, after: 1500 } : { before: 3000, during: 6000, after: 3000 };
for (const n of ROUNDS)
	t.test(`Galera node ${n} killed under load and brought back`, () => killRound(n, PHASES));

t.done();
