// tap.mjs - a small TAP producer for the integration tests (no dependencies).
//
// Two styles, freely mixed:
//   ok(cond, 'sentence', diag?)   is(got, want, 'sentence')   like(str, re, 'sentence')
//   test('sentence', async () => { ... })   // the assertions made inside print their own
//                                            // lines; a throw, or no assertion at all, is a
//                                            // failing line of its own
// test() calls run one after another in call order, even when not awaited.
// done() waits for them, prints the plan and exits (1 when anything failed).
// The plan goes at the end, which TAP allows, so the count never has to be kept by hand.

import { isDeepStrictEqual, inspect } from 'node:util';

import { setContractReporter } from './openapi.mjs';

let count = 0;
let failed = 0;
let finished = false;
let queue = Promise.resolve();
// Assertions made by the test() that is running, so it knows whether to print its own line.
let current = null;

function out(line) {
	process.stdout.write(line + '\n');
}

function show(v) {
	if (typeof v === 'string')
		return JSON.stringify(v.length > 300 ? v.slice(0, 300) + '...' : v);
	if (Buffer.isBuffer(v))
		return show(v.toString('utf8'));
	return inspect(v, { depth: 4, breakLength: Infinity, maxStringLength: 300 });
}

// Prints each line of a diagnostic as a `# ` comment.
export function diag(...parts) {
	const text = parts.map((p) => (typeof p === 'string' ? p : show(p))).join(' ');
	for (const line of text.split('\n'))
		out('# ' + line);
}

function sentence(s) {
	// A `#` would start a TAP directive, a newline would end the line.
	return String(s).replace(/[\r\n]+/g, ' ').replace(/#/g, '\\#');
}

export function ok(cond, name, why) {
	count++;
	if (current)
		current.asserted++;
	const pass = !!cond;
	out(`${pass ? '' : 'not '}ok ${count} - ${sentence(name)}`);
	if (!pass) {
		failed++;
		if (current)
			current.failed++;
		if (why !== undefined && why !== null && why !== '')
			diag(why);
	}
	return pass;
}

export function is(got, want, name) {
	const pass = isDeepStrictEqual(got, want);
	return ok(pass, name, pass ? undefined : `got:  ${show(got)}\nwant: ${show(want)}`);
}

export function isnt(got, unwanted, name) {
	const pass = !isDeepStrictEqual(got, unwanted);
	return ok(pass, name, pass ? undefined : `got the unwanted ${show(got)}`);
}

export function like(got, re, name) {
	const pass = typeof got === 'string' && re.test(got);
	return ok(pass, name, pass ? undefined : `got:  ${show(got)}\nwant: ${re}`);
}

export function pass(name) {
	return ok(true, name);
}

export function fail(name, why) {
	return ok(false, name, why);
}

// A case that cannot run here: counted, never a failure.
export function skip(name, reason) {
	count++;
	if (current)
		current.asserted++;
	out(`ok ${count} - ${sentence(name)} # SKIP ${sentence(reason)}`);
}

// Runs fn after every test() queued before it.  Resolves to true when the test passed.
export function test(name, fn) {
	const run = async () => {
		const me = { asserted: 0, failed: 0 };
		current = me;
		let error = null;
		try {
			await fn();
		} catch (e) {
			error = e;
		} finally {
			current = null;
		}
		if (error) {
			const msg = error && error.message ? error.message : String(error);
			ok(false, name, `threw: ${msg}` +
			    (process.env.PINGOO_TAP_STACK && error.stack ? '\n' + error.stack : ''));
			return false;
		}
		// A test that checked nothing proves nothing: a body that returned early, or
		// only printed diagnostics, must not pass as if it had.
		if (me.asserted === 0)
			return ok(false, `${name}: made no assertion`,
			    'a test() must make an assertion (ok, is, like, fail) or skip() with the reason');
		return me.failed === 0;
	};
	const p = queue.then(run);
	queue = p.then(() => undefined, () => undefined);
	return p;
}

function exitNow(code) {
	finished = true;
	process.exitCode = code;
	// stdout is a pipe or a file under the TAP driver: writes are synchronous there,
	// so exiting now loses nothing and leaves no stray socket keeping node alive.
	process.exit(code);
}

// Waits for the queued tests, prints the plan and exits.
export async function done() {
	await queue;
	out(`1..${count}`);
	if (failed)
		diag(`${failed} of ${count} failed`);
	exitNow(failed ? 1 : 0);
}

// Nothing to test here (no stack): a skip, unless the caller insists on a stack.
export function skipAll(reason) {
	if (process.env.PINGOO_REQUIRE_STACK === '1') {
		out(`not ok 1 - stack required: ${sentence(reason)}`);
		out('1..1');
		exitNow(1);
	}
	out(`1..0 # SKIP ${sentence(reason)}`);
	exitNow(0);
}

// Stops the run (TAP "Bail out!") when going on makes no sense.
export function bailOut(reason) {
	out(`Bail out! ${sentence(reason)}`);
	exitNow(1);
}

export function failedCount() {
	return failed;
}

// A response docs/openapi.json does not describe is a failing case where it happened.
setContractReporter((why) => fail('the response matches docs/openapi.json', why));

// A crash outside any test must still give the driver a failing, well-formed stream.
function crash(e) {
	if (finished)
		return;
	ok(false, 'the test script did not crash', e && e.stack ? e.stack : String(e));
	out(`1..${count}`);
	exitNow(1);
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
process.on('exit', (code) => {
	// A script that forgot done() (or never reached it) is a failure, not a silent pass.
	if (!finished) {
		out(`not ok ${count + 1} - the test script ran to done()`);
		out(`1..${count + 1}`);
		process.exitCode = 1;
	}
});

// The error a promise rejects with, or null when it resolves.
export async function rejects(p) {
	try {
		await p;
	} catch (e) {
		return e;
	}
	return null;
}
