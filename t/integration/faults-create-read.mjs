// faults-create-read.mjs - a create whose test is committed answers 201, whatever the database
// does next, against the running local stack.  The tables a read of a new test would reach
// besides the test's own row (ping_samples, throughput_transfers) are renamed away for a
// moment, so a read after the INSERT's commit fails: a create that read its test back answered
// 503 for a test it had made, and a client that retries a 503 made a second one.  Each create
// made during the fault must answer 201 with the test as created, and the database must hold
// exactly the tests answered 201.  Whatever happens the tables get their names back.
//
// Needs root (MariaDB's root account authenticates by the socket's peer).  Without a stack the
// file is skipped.

import { execFileSync } from 'node:child_process';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { describe } from './lib/http.mjs';
import { query, literal } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';
import { stackGuard } from './lib/load.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_DB_SOCKET',
    'PINGOO_DB_NAME']);
if (process.getuid() !== 0)
	t.skipAll('needs root: MariaDB\'s root account authenticates by the socket');
const guard = stackGuard();
const users = userFactory(stack);
const db = stack.PINGOO_DB_NAME;

function asRoot(sql) {
	return execFileSync('mariadb', ['--no-defaults', `--socket=${stack.PINGOO_DB_SOCKET}`, '--user=root',
	    '-N', '-B', '-e', sql], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
}

// The renamed tables, each back under its name by one RENAME (atomic for both).
const AWAY = [['ping_samples', 'pingoo_away_ping_samples'],
    ['throughput_transfers', 'pingoo_away_throughput_transfers']];
const rename = (pairs) => asRoot('RENAME TABLE ' +
    pairs.map(([a, b]) => `\`${db}\`.\`${a}\` TO \`${db}\`.\`${b}\``).join(', '));
const away = () => rename(AWAY);
const back = () => rename(AWAY.map(([a, b]) => [b, a]));

guard.undo('tables renamed back', () => {
	const left = asRoot(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ` +
	    `'${db}' AND table_name LIKE 'pingoo\\_away\\_%'`).trim();
	if (left !== '0')
		back();
});
guard.install(() => {
	try {
		users.cleanup();
	} catch {
		// not made yet, or already gone
	}
});

const user = users.create();
const token = await A.token(user.username, user.password);
const uid = (await A.get('/api/v1/me', token)).json?.id;
if (!Number.isInteger(uid))
	t.bailOut('GET /me does not give the throwaway user its id');

const CREATES = [
	['ping', '/api/v1/ping-tests', { count: 5, interval_ms: 10, client: { os: 'linux' } }],
	['throughput', '/api/v1/throughput-tests', { direction: 'both', packets: 2, packet_size: 1024 }],
	['throughput', '/api/v1/throughput-tests', { direction: 'download', duration_ms: 1000 }],
];

await t.test('with the samples\' and transfers\' tables away, a committed create answers 201', async () => {
	const answers = [];
	away();
	try {
		for (const [kind, path, body] of CREATES)
			answers.push([kind, body, await A.json('POST', path, body, token)]);
	} finally {
		back();
	}
	for (const [kind, body, res] of answers) {
		const j = res.json ?? {};
		t.ok(res.status === 201 && Number.isSafeInteger(j.id) && j.kind === kind &&
		    j.state === 'incomplete', `a ${kind} create ${JSON.stringify(body)} answers 201 with the test`,
		    describe(res));
	}
	const made = answers.filter(([, , r]) => r.status === 201).map(([, , r]) => r.json.id);
	const held = [
		...query(stack, `SELECT id FROM ping_tests WHERE user_id = ${literal(uid)}`),
		...query(stack, `SELECT id FROM throughput_tests WHERE user_id = ${literal(uid)}`),
	].map((r) => Number(r[0])).sort((a, b) => a - b);
	t.is(held, made.sort((a, b) => a - b), 'the database holds exactly the tests answered 201');
	// Once the tables are back, each test reads as its create answered it.
	for (const [kind, , res] of answers) {
		if (res.status !== 201)
			continue;
		const path = kind === 'ping' ? '/api/v1/ping-tests' : '/api/v1/throughput-tests';
		const g = await A.get(`${path}/${res.json.id}`, token);
		t.is(res.json, g.json, `the ${kind} test ${res.json.id} reads as its create answered it`);
	}
});

await t.test('the tables have their names back and the throwaway user is gone', async () => {
	t.is(asRoot(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '${db}' ` +
	    "AND table_name IN ('ping_samples', 'throughput_transfers')").trim(), '2',
	    'ping_samples and throughput_transfers are there');
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'every user made here is gone', errors.join('\n'));
});

await t.done();
