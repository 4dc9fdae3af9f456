// admin.mjs - pingoo-admin's refusals: a user is never created without a
// password, and the message says why.  With valgrind installed (and a build
// without sanitizers, which valgrind cannot run), the same call runs under
// memcheck, which sees a read of uninitialised memory that the output may
// not show.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { randomName } from './lib/users.mjs';
import { query } from './lib/db.mjs';

const { stack } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN', 'PINGOO_CONFIG',
    'PINGOO_DB_SOCKET', 'PINGOO_DB_USER', 'PINGOO_DB_NAME']);

// Runs pingoo-admin with stdin from the file `stdin` (or the bytes `input`).
function admin(args, { stdin = '/dev/null', input, wrap = [] } = {}) {
	// The admin's file, with the migration account: the workers' may only read users.
	const argv = [...wrap, stack.PINGOO_ADMIN, '-c', stack.PINGOO_ADMIN_CONFIG || stack.PINGOO_CONFIG, ...args];
	const fd = input === undefined ? fs.openSync(stdin, 'r') : 'pipe';
	try {
		return spawnSync(argv[0], argv.slice(1), {
			input, encoding: 'utf8', timeout: 60000, stdio: [fd, 'pipe', 'pipe'],
		});
	} finally {
		if (typeof fd === 'number')
			fs.closeSync(fd);
	}
}

function listed(name) {
	const r = admin(['user', 'list']);
	return r.status === 0 && r.stdout.split('\n').some((l) => l.split('\t')[1] === name);
}

function which(prog) {
	return (process.env.PATH ?? '').split(':').map((d) => `${d}/${prog}`)
	    .find((p) => { try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; } });
}

// The workers' database account reads users (a token's user check) and never changes them: a
// compromised worker cannot make itself a user or change a password.  pingoo-admin changes
// users as the migration account.
await t.test('the runtime account may read users but not change them', async () => {
	const refused = (sql) => {
		try {
			query(stack, sql);
			return 'taken';
		} catch (e) {
			return /denied/i.test(e.message) ? 'denied' : e.message;
		}
	};
	t.ok(Number(query(stack, 'SELECT COUNT(*) FROM users')[0]?.[0]) >= 0, 'it reads users');
	t.is(refused('UPDATE users SET password_hash = password_hash WHERE id = 0'), 'denied',
	    'an UPDATE of users is denied');
	// Each statement would change no row if taken: the right is checked before the rows.
	t.is(refused("INSERT INTO users (name, password_hash, created_at) SELECT 't_never', 'x', 0 FROM DUAL " +
	    'WHERE 1 = 0'), 'denied', 'an INSERT into users is denied');
	t.is(refused('DELETE FROM users WHERE id = 0'), 'denied', 'a DELETE from users is denied');
	t.is(refused('UPDATE ping_tests SET state = state WHERE id = 0'), 'taken',
	    'it still writes the tests\' rows');
	t.is(refused('DELETE FROM revoked_tokens WHERE expires_at < 0'), 'taken',
	    'and the revocations\' rows');
});

await t.test('user add with an empty standard input is refused', async () => {
	const name = randomName();
	const r = admin(['user', 'add', name]);
	t.is(r.status, 1, 'pingoo-admin user add NAME </dev/null exits with status 1');
	t.is(r.stderr, 'pingoo-admin: no password on standard input\n',
	    'it says that standard input held no password, and nothing else');
	t.ok(!listed(name), 'no user of that name was created');
});

await t.test('user add with a password too short is refused', async () => {
	const name = randomName();
	const r = admin(['user', 'add', name], { input: 'short\n' });
	t.is(r.status, 1, 'a five-byte password makes pingoo-admin exit with status 1');
	t.like(r.stderr, /^pingoo-admin: password must be \d+ to \d+ bytes\n$/, 'it states the rule for passwords');
	t.ok(!listed(name), 'no user was created with the short password');
});

const valgrind = which('valgrind');
// A sanitizer build carries the ASan runtime, which valgrind cannot run.
const sanitized = fs.readFileSync(stack.PINGOO_ADMIN).includes('__asan_init');
if (valgrind && !sanitized) {
	await t.test('memcheck finds no error in user add with an empty standard input', async () => {
		const r = admin(['user', 'add', randomName()],
		    { wrap: [valgrind, '--quiet', '--error-exitcode=99'] });
		t.is(r.status, 1, 'under valgrind it exits with status 1, not valgrind\'s 99');
		t.like(r.stderr, /^pingoo-admin: no password on standard input\n$/,
		    'valgrind reports nothing besides the message', r.stderr);
	});
} else {
	t.diag(valgrind ? 'no memcheck run: pingoo-admin is built with sanitizers' : 'no memcheck run: valgrind is not installed');
}
await t.done();
