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

const { stack } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN', 'PINGOO_CONFIG']);

// Runs pingoo-admin with stdin from the file `stdin` (or the bytes `input`).
function admin(args, { stdin = '/dev/null', input, wrap = [] } = {}) {
	const argv = [...wrap, stack.PINGOO_ADMIN, '-c', stack.PINGOO_CONFIG, ...args];
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
