// tap-rules.mjs - the rules the pass and failure counts rest on, checked without a stack: a
// test() that made no assertion fails (lib/tap.mjs), and a skipped case counts as a failure
// both in deploy/local/test (count_results, over tap-driver.sh's results) and in
// deploy/cluster/test (deploy/cluster/count-tap.awk).  A test that checks nothing, or a case
// that never ran, must not let a run go green.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as t from './lib/tap.mjs';

const SRC = process.env.PINGOO_SRCDIR ??
    path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pingoo-tap-rules-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

// A script of four test()s: one asserts, one skips, one returns before its assertion, one
// only prints a diagnostic.
const child = path.join(tmp, 'child.mjs');
fs.writeFileSync(child, `import * as t from ${JSON.stringify(pathToFileURL(
    path.join(SRC, 't', 'integration', 'lib', 'tap.mjs')).href)};
await t.test('asserts', async () => { t.ok(true, 'an assertion'); });
await t.test('skips', async () => { t.skip('a case', 'a reason'); });
const early = true;
await t.test('returns early', async () => { if (early) return; t.ok(true, 'never'); });
await t.test('only tells', async () => { t.diag('a diagnostic'); });
await t.done();
`);
const run = spawnSync(process.execPath, [child], { encoding: 'utf8' });
const lines = run.stdout.split('\n');

await t.test('a test() that made no assertion is a failing case', async () => {
	t.is(lines.filter((l) => /^(not )?ok /.test(l)), [
		'ok 1 - an assertion',
		'ok 2 - a case # SKIP a reason',
		'not ok 3 - returns early: made no assertion',
		'not ok 4 - only tells: made no assertion',
	], 'an assertion and a skip count; a body that returned early or only told something fails',
	    run.stdout + run.stderr);
	t.is(run.status, 1, 'the script exits 1', run.stderr);
});

// The child's stream through tap-driver.sh, as make check runs it: the .trs results that
// deploy/local/test counts.
const driver = path.join(SRC, 'build-aux', 'tap-driver.sh');
const trs = path.join(tmp, 'child.trs');
await t.test('deploy/local/test counts a skip as a failure', async () => {
	if (!fs.existsSync(driver))
		return t.skip('deploy/local/test counts a skip as a failure',
		    'no build-aux/tap-driver.sh (run autogen.sh)');
	spawnSync('sh', [driver, '--test-name', 'child', '--log-file', path.join(tmp, 'child.log'),
	    '--trs-file', trs, '--', process.execPath, child],
	    { encoding: 'utf8', env: { ...process.env, AM_TAP_AWK: 'awk' } });
	// A file that skipped as a whole (a plan of 1..0): only its global result.
	fs.writeFileSync(path.join(tmp, 'empty.trs'), ':global-test-result: SKIP\n');
	const script = fs.readFileSync(path.join(SRC, 'deploy', 'local', 'test'), 'utf8');
	const fn = /^count_results\(\) \{\n[\s\S]*?\n\}\n/m.exec(script)?.[0];
	if (!t.ok(fn, 'deploy/local/test has its count_results()'))
		return;
	const out = execFileSync('bash', ['-c', `BUILD=${JSON.stringify(tmp)}\n${fn}\ncount_results`],
	    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	t.is(out.trim(), '1 5', 'the assertion passes; the skip, the two tests without assertion, ' +
	    "the script's exit status 1 (tap-driver.sh's ERROR) and the file that skipped as a " +
	    'whole fail');
});

await t.test('deploy/cluster/test counts a skip as a failure', async () => {
	const tap = path.join(tmp, 'cluster.tap');
	fs.writeFileSync(tap, [
		'ok 1 - ran',
		'ok 2 - never ran # SKIP no cluster',
		'ok 3 - lower case # skip no cluster',
		'ok 4 - a sentence with \\# SKIP in it',
		'not ok 5 - known # TODO not yet',
		'ok 6 - fixed # TODO not yet',
		'not ok 7 - broken',
		'1..7',
	].join('\n') + '\n');
	const count = (file) => execFileSync('awk', ['-f', path.join(SRC, 'deploy', 'cluster',
	    'count-tap.awk'), file], { encoding: 'utf8' }).trim().split('\n');
	const out = count(tap);
	t.is(out.at(-1), '3 4', 'passed: the case that ran, the escaped "#", the expected failure; ' +
	    'failed: both skips, the unexpected pass, the failure', out);
	t.is(out.filter((l) => l.startsWith('counted as a failure: ')).length, 3,
	    'each skip and the unexpected pass are named', out);
	const empty = path.join(tmp, 'empty.tap');
	fs.writeFileSync(empty, '1..0 # SKIP no cluster\n');
	t.is(count(empty).at(-1), '0 1', 'a plan of no case is a failure');
});

await t.done();
