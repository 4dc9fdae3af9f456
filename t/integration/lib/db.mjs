// db.mjs - reads the stack's MariaDB for assertions, through the `mariadb` client.
//
// The password travels in MYSQL_PWD (never argv, where `ps` would show it).  Batch mode
// (-N -B) gives tab-separated rows with \t, \n, \\ and \0 escaped and NULL as the bare word
// NULL; query() undoes that and gives NULL as null.

import { execFileSync } from 'node:child_process';

function client() {
	return process.env.PINGOO_MARIADB_CLIENT || 'mariadb';
}

function unescapeField(f) {
	if (f === 'NULL')
		return null;
	return f.replace(/\\(.)/g, (_, c) => ({ t: '\t', n: '\n', '0': '\0', '\\': '\\' }[c] ?? c));
}

// The output lines of the mariadb client in batch mode, with `extra` arguments.
function run(stack, sql, extra, timeoutMs) {
	const args = [
		`--socket=${stack.PINGOO_DB_SOCKET}`,
		'-u', stack.PINGOO_DB_USER,
		'--connect-timeout=5',
		'-B', ...extra,
		stack.PINGOO_DB_NAME,
		'-e', sql,
	];
	const env = { ...process.env, MYSQL_PWD: stack.PINGOO_DB_PASSWORD ?? '' };
	let out;
	try {
		out = execFileSync(client(), args, { env, timeout: timeoutMs, encoding: 'utf8',
		    stdio: ['ignore', 'pipe', 'pipe'] });
	} catch (e) {
		const stderr = e.stderr ? String(e.stderr).trim() : '';
		throw new Error(`mariadb: ${stderr || e.message} (SQL: ${sql.slice(0, 200)})`);
	}
	return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t').map(unescapeField));
}

// Runs one or more SQL statements; returns the rows of the last result as arrays of strings.
export function query(stack, sql, { timeoutMs = 15000 } = {}) {
	return run(stack, sql, ['-N'], timeoutMs);
}

// The rows of one SELECT as objects: column name -> string, or null for SQL NULL.
export function records(stack, sql, { timeoutMs = 15000 } = {}) {
	const [cols, ...rows] = run(stack, sql, ['--column-names'], timeoutMs);
	return rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
}

// One value (first column of the first row), or undefined when there is no row.
export function scalar(stack, sql) {
	const rows = query(stack, sql);
	return rows.length ? rows[0][0] : undefined;
}

export function ident(name) {
	if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
		throw new Error(`not a plain SQL identifier: ${name}`);
	return '`' + name + '`';
}

// A quoted SQL string literal (for values the tests made up themselves).
export function literal(v) {
	if (v === null || v === undefined)
		return 'NULL';
	if (typeof v === 'number' || typeof v === 'bigint')
		return String(v);
	return "'" + String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0') + "'";
}

// Number of rows in `table`, optionally WHERE `where` (an SQL expression the test wrote).
export function count(stack, table, where) {
	const sql = `SELECT COUNT(*) FROM ${ident(table)}` + (where ? ` WHERE ${where}` : '');
	return Number(scalar(stack, sql));
}

// Row counts of several tables at once, to compare before and after a refused request.
export function counts(stack, tables) {
	const sql = tables.map((t) => `SELECT ${literal(t)}, COUNT(*) FROM ${ident(t)}`).join(' UNION ALL ');
	const result = {};
	for (const [t, n] of query(stack, sql))
		result[t] = Number(n);
	return result;
}
