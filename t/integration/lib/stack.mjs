// stack.mjs - finds the running local stack through the stack.env that deploy/local/up writes.
//
// Where: $PINGOO_STACK_ENV, else $PINGOO_SRCDIR/var/stack.env, else var/stack.env of the
// checkout this file lives in.  loadStack() returns null when there is no such file, so a
// test can skipAll() instead of failing on a machine where the stack is not up.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoDir = path.resolve(here, '..', '..', '..');

export function stackEnvPath() {
	if (process.env.PINGOO_STACK_ENV)
		return process.env.PINGOO_STACK_ENV;
	const candidates = [];
	if (process.env.PINGOO_SRCDIR)
		candidates.push(path.join(process.env.PINGOO_SRCDIR, 'var', 'stack.env'));
	candidates.push(path.join(repoDir, 'var', 'stack.env'));
	return candidates.find((f) => fs.existsSync(f)) ?? candidates[candidates.length - 1];
}

// Reads a value in shell syntax starting at text[i]: unquoted words, '...', "..." and
// $VAR / ${VAR} expansion (from the keys read so far, then the environment), concatenated
// until unquoted whitespace, `;`, `#` or the end of the line.  Returns [value, next index].
function shellWord(text, i, vars) {
	let value = '';
	const lookup = (name) => vars[name] ?? process.env[name] ?? '';
	const expand = () => {
		// text[i] is '$'
		if (text[i + 1] === '{') {
			const end = text.indexOf('}', i + 2);
			if (end < 0)
				throw new Error('unterminated ${');
			const name = text.slice(i + 2, end);
			i = end + 1;
			return lookup(name);
		}
		const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
		if (!m) {
			i++;
			return '$';
		}
		i += 1 + m[0].length;
		return lookup(m[0]);
	};
	while (i < text.length) {
		const c = text[i];
		if (c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '#' || c === '\r')
			break;
		if (c === "'") {
			const end = text.indexOf("'", i + 1);
			if (end < 0)
				throw new Error('unterminated single quote');
			value += text.slice(i + 1, end);
			i = end + 1;
		} else if (c === '"') {
			i++;
			while (i < text.length && text[i] !== '"') {
				if (text[i] === '\\' && '$`"\\\n'.includes(text[i + 1] ?? '')) {
					if (text[i + 1] !== '\n')
						value += text[i + 1];
					i += 2;
				} else if (text[i] === '$') {
					value += expand();
				} else {
					value += text[i++];
				}
			}
			if (text[i] !== '"')
				throw new Error('unterminated double quote');
			i++;
		} else if (c === '\\') {
			if (text[i + 1] !== '\n')
				value += text[i + 1] ?? '';
			i += 2;
		} else if (c === '$') {
			value += expand();
		} else {
			value += c;
			i++;
		}
	}
	return [value, i];
}

// Parses KEY=value lines (optionally `export KEY=value`), with comments and blank lines.
export function parseShellEnv(text) {
	const vars = {};
	let i = 0;
	while (i < text.length) {
		// skip blanks, separators and comments between assignments
		const c = text[i];
		if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';') {
			i++;
			continue;
		}
		if (c === '#') {
			const nl = text.indexOf('\n', i);
			i = nl < 0 ? text.length : nl + 1;
			continue;
		}
		let rest = text.slice(i);
		const exp = /^export[ \t]+/.exec(rest);
		if (exp) {
			i += exp[0].length;
			rest = text.slice(i);
		}
		const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(rest);
		if (!m) {
			// not an assignment: ignore the line rather than guess what it means
			const nl = text.indexOf('\n', i);
			i = nl < 0 ? text.length : nl + 1;
			continue;
		}
		i += m[0].length;
		const [value, next] = shellWord(text, i, vars);
		vars[m[1]] = value;
		i = next;
	}
	return vars;
}

// The stack as an object of its stack.env keys, plus `envFile`; null when there is none.
export function loadStack() {
	const file = stackEnvPath();
	let text;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (e) {
		if (e.code === 'ENOENT')
			return null;
		throw e;
	}
	const vars = parseShellEnv(text);
	const stack = { ...vars, envFile: file };
	if (!stack.PINGOO_URL)
		throw new Error(`${file} has no PINGOO_URL`);
	stack.PINGOO_URL = stack.PINGOO_URL.replace(/\/+$/, '');
	if (stack.PINGOO_HTTP_URL)
		stack.PINGOO_HTTP_URL = stack.PINGOO_HTTP_URL.replace(/\/+$/, '');
	return stack;
}

// The keys a test needs, or a reason to skip when one is missing.
export function missingKeys(stack, keys) {
	return keys.filter((k) => !stack[k]);
}

// Reads the worker's configuration file: `key = value` lines, `#` comments.
export function readConfig(stack) {
	const file = stack.PINGOO_CONFIG;
	if (!file)
		return null;
	const text = fs.readFileSync(file, 'utf8');
	const cfg = {};
	for (const raw of text.split('\n')) {
		const line = raw.replace(/\r$/, '').trim();
		if (!line || line.startsWith('#') || line.startsWith(';'))
			continue;
		const eq = line.indexOf('=');
		if (eq < 0)
			continue;
		const key = line.slice(0, eq).trim();
		let value = line.slice(eq + 1).trim();
		const q = /^"(.*)"$|^'(.*)'$/.exec(value);
		if (q)
			value = q[1] ?? q[2];
		cfg[key] = value;
	}
	cfg.__file = file;
	cfg.__dir = path.dirname(path.resolve(file));
	return cfg;
}

// The pids the pool wrote, to prove later that nothing restarted it; null when unknown.
export function poolPids(stack) {
	const file = stack.PINGOO_POOL_PIDFILE;
	if (!file)
		return null;
	try {
		return fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
	} catch {
		return null;
	}
}

export function pidAlive(pid) {
	// A zombie answers kill(0) but is dead: where nothing reaps orphans
	// (no init in a container), /proc's state letter is the truth.
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
		return state !== 'Z' && state !== 'X';
	} catch (e) {
		return false;
	}
}

// The direct children of pid (the pool's worker processes under its supervisor), sorted.
export function childPids(pid) {
	const kids = [];
	let entries = [];
	try {
		entries = fs.readdirSync('/proc');
	} catch {
		return kids;
	}
	for (const e of entries) {
		if (!/^\d+$/.test(e))
			continue;
		try {
			const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
			// the command may hold spaces and parentheses: the ppid follows the last ')'
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(fields[1]) === pid)
				kids.push(Number(e));
		} catch {
			// gone meanwhile
		}
	}
	return kids.sort((a, b) => a - b);
}
