// input.mjs - bad input for every route and field, over HTTPS through nginx against the
// running local stack.  Every refusal must be the JSON error of docs/api.md
// (application/json, error.code and error.message strings, error.field when one field is at
// fault) and must change nothing: each group compares the database before and after (row
// counts, and a checksum of the rows, of users and of this file's user's ping_tests,
// ping_samples, throughput_tests and throughput_transfers).  The tables are scoped to a
// throwaway user so that tests of other files running at the same time do not disturb the
// comparison; `users` is counted whole.

import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { poll } from './lib/poll.mjs';
import { openStack } from './lib/open.mjs';
import { loadStack, stackEnvPath, missingKeys } from './lib/stack.mjs';
import { api, expectError, describe, rawRequest } from './lib/http.mjs';
import { query } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_DB_USER', 'PINGOO_DB_NAME']);
const users = userFactory(stack);

const nowUs = () => Date.now() * 1000;
const INT32_MAX = 2147483647;
const STAMP_MAX = 2 ** 53;
const I64_MAX_M1 = '9223372036854775806';

// ---- helpers --------------------------------------------------------------------------------

// One request; a network failure comes back as a pseudo-response (status 0) so that a case
// fails with a reason rather than aborting its group.
async function send({ method = 'POST', path, body, ctype = 'application/json', token, headers = {} }) {
	const h = { ...headers };
	if (ctype !== null && body !== undefined)
		h['Content-Type'] = ctype;
	try {
		return await A.request({ method, path, body, token, headers: h });
	} catch (e) {
		return { status: 0, headers: {}, text: `no answer: ${e.message}`, json: undefined };
	}
}

// want: {status: n | [n...], code: s | [s...], field?: s}
function okErr(res, want, sentence) {
	const statuses = [].concat(want.status);
	const status = statuses.includes(res.status) ? res.status : statuses[0];
	const r = expectError(res, status, want.code, want.field !== undefined ? { field: want.field } : {});
	return t.ok(r.pass, sentence, r.why);
}

const E = (status, code, field) => ({ status, code, field });
const INVALID_JSON = E(400, 'invalid_json');
const RANGE_CODES = ['out_of_range', 'limit_exceeded'];

// The database as this file's user sees it, plus the number of users.
let uid = 0;
function snapshot() {
	// users: the number of users but the throwaway ones (t_...) that test files make and
	// delete, so that another file running meanwhile does not show up here (no route creates
	// users), and this file's own user row.
	const sql = `
SELECT 'users', COUNT(*), COALESCE(SUM(IF(id = ${uid}, CRC32(CONCAT_WS('|', id, name, password_hash, created_at)), 0)), 0)
  FROM users WHERE name NOT LIKE 't\\_%' OR id = ${uid}
UNION ALL SELECT 'ping_tests', COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', t.id, t.state, t.count,
  IFNULL(t.interval_ms, '-'), IFNULL(t.client, '-'), IFNULL(t.closed_at, '-'), IFNULL(m.summary, '-')))), 0)
  FROM ping_tests t LEFT JOIN ping_summaries m ON m.test_id = t.id WHERE t.user_id = ${uid}
UNION ALL SELECT 'ping_samples', COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', s.test_id, s.seq,
  s.client_sent_at, s.server_received_at, s.server_sent_at, IFNULL(s.client_received_at, '-')))), 0)
  FROM ping_samples s JOIN ping_tests p ON p.id = s.test_id WHERE p.user_id = ${uid}
UNION ALL SELECT 'throughput_tests', COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, state,
  direction, packets, packet_size, IFNULL(client, '-'), IFNULL(finished_at, '-')))), 0)
  FROM throughput_tests WHERE user_id = ${uid}
UNION ALL SELECT 'throughput_transfers', COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', x.test_id,
  x.direction, x.seq, x.status, x.bytes, x.server_started_at, IFNULL(x.server_finished_at, '-'),
  IFNULL(x.client_sent_at, '-'), IFNULL(x.client_received_at, '-')))), 0)
  FROM throughput_transfers x JOIN throughput_tests p ON p.id = x.test_id WHERE p.user_id = ${uid}`;
	const out = {};
	for (const [table, n, sum] of query(stack, sql))
		out[table] = `${n} rows, checksum ${sum}`;
	return out;
}

// A group of refusals that must leave the database as it was.
function group(name, fn) {
	return t.test(name, async () => {
		const before = snapshot();
		try {
			await fn();
		} finally {
			// the echo writes its row after answering: give a wrongly accepted one time to land
			await sleep(250);
			t.is(snapshot(), before, `${name}: the database is unchanged afterwards ` +
			    '(users, ping_tests, ping_samples, throughput_tests, throughput_transfers)');
		}
	});
}

// ---- setup: a throwaway user with one ping test and one throughput test ------------------

const user = users.create();
const token = await A.token(user.username, user.password);
uid = (await A.get('/api/v1/me', token)).json?.id;
if (!Number.isInteger(uid))
	t.bailOut('GET /me does not give the throwaway user its id');

const ping = { id: 0, t0: 0 };
const tp = { id: 0, live: false, t: 0 };

await t.test('setup: a ping test with two samples echoed', async () => {
	const res = await send({ path: '/api/v1/ping-tests', body: JSON.stringify({ count: 4 }), token });
	if (!t.ok(res.status === 201 && Number.isInteger(res.json?.id), 'a ping test of 4 samples is created', describe(res)))
		return;
	ping.id = res.json.id;
	ping.t0 = nowUs();
	for (const seq of [0, 1]) {
		const e = await send({ path: `/api/v1/ping-tests/${ping.id}/echo`,
		    body: JSON.stringify({ seq, client_sent_at: ping.t0 }), token });
		t.is(e.status, 200, `sample ${seq} is echoed`);
	}
	const stored = await poll(() => Number(query(stack,
	    `SELECT COUNT(*) FROM ping_samples WHERE test_id = ${ping.id}`)[0][0]) === 2);
	t.ok(stored, 'both echoed samples are in the database');
});

await t.test('setup: a throughput test with one packet downloaded', async () => {
	const res = await send({ path: '/api/v1/throughput-tests',
	    body: JSON.stringify({ direction: 'both', packets: 2, packet_size: 1024 }), token });
	if (!t.ok(res.status === 201 && Number.isInteger(res.json?.id),
	    'a throughput test (both directions, 2 packets of 1 KiB) is created', describe(res)))
		return;
	tp.id = res.json.id;
	tp.t = nowUs();
	const d = await send({ method: 'GET', path: `/api/v1/throughput-tests/${tp.id}/download/0`, token });
	t.ok(d.status === 200 && d.body.length === 1024, 'download packet 0 gives 1024 bytes', describe(d));
	const stored = await poll(() => query(stack, `SELECT status FROM throughput_transfers
	    WHERE test_id = ${tp.id} AND direction = 'download' AND seq = 0`)[0]?.[0] === 'ok');
	tp.live = t.ok(stored, 'the downloaded packet is recorded ok');
});

// ---- the routes that take a JSON body, with their fields ---------------------------------

// A field: {name, type: 'int'|'str'|'enum'|'client', required, min, max, limitCode, maxLen}.
// at: where an item field sits, for the field path of the error ("receipts[0].").
// make(fieldName, rawValueText): the body text with that field set to the raw JSON text
// (undefined: the field left out), everything else valid.
function objText(base, name, raw) {
	const parts = [];
	let done = false;
	for (const [k, v] of Object.entries(base)) {
		if (k === name) {
			done = true;
			if (raw !== undefined)
				parts.push(`${JSON.stringify(k)}:${raw}`);
		} else {
			parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
		}
	}
	if (!done && raw !== undefined)
		parts.push(`${JSON.stringify(name)}:${raw}`);
	return `{${parts.join(',')}}`;
}

const receiptOk = () => ({ seq: 0, client_received_at: ping.t0 + 5000 });
const reportOk = () => ({ direction: 'download', seq: 0, client_sent_at: tp.t, client_first_byte_at: tp.t + 100,
    client_received_at: tp.t + 900 });

const routes = [
	{
		name: 'POST /api/v1/auth/token',
		path: () => '/api/v1/auth/token',
		auth: false,
		valid: () => ({ username: user.username, password: user.password }),
		make(name, raw) { return objText(this.valid(), name, raw); },
		// where a string of raw bytes goes: inside the username
		withBytes: (bytes) => Buffer.concat([Buffer.from('{"username":"a'), bytes,
		    Buffer.from(`","password":${JSON.stringify(user.password)}}`)]),
		fields: [
			{ name: 'username', type: 'str', required: true, maxLen: 64, extra: [
				// no such user can exist (names are ASCII): the same answer as any unknown user
				['"é"', 'non-ASCII (é)', { ...E([401, 400], ['invalid_credentials', 'invalid_field']), noField: true }],
				['"demo\\ud800"', 'holding a lone surrogate escape (\\ud800)',
				    { ...E([400, 401], ['invalid_json', 'invalid_credentials']), noField: true }],
			] },
			{ name: 'password', type: 'str', required: true, maxLen: 1024 },
		],
	},
	{
		name: 'POST /api/v1/ping-tests',
		path: () => '/api/v1/ping-tests',
		valid: () => ({ count: 3, interval_ms: 10, client: { os: 'linux' } }),
		make(name, raw) { return objText(this.valid(), name, raw); },
		withBytes: (bytes) => Buffer.concat([Buffer.from('{"count":3,"client":{"os":"a'), bytes,
		    Buffer.from('"}}')]),
		nestedDup: '{"count":3,"client":{"os":"a","os":"b"}}',
		fields: [
			{ name: 'count', type: 'int', required: true, min: 1, max: 10000, limitCode: 'limit_exceeded' },
			{ name: 'interval_ms', type: 'int', required: false, min: 0, max: 60000 },
			{ name: 'client', type: 'client' },
		],
	},
	{
		name: 'POST /api/v1/ping-tests/{id}/echo',
		path: () => `/api/v1/ping-tests/${ping.id}/echo`,
		valid: () => ({ seq: 3, client_sent_at: nowUs() }),
		make(name, raw) { return objText(this.valid(), name, raw); },
		withBytes: (bytes) => Buffer.concat([Buffer.from('{"seq":3,"client_sent_at":1,"x'), bytes,
		    Buffer.from('":1}')]),
		fields: [
			{ name: 'seq', type: 'int', required: true, min: 0, max: 3 },
			{ name: 'client_sent_at', type: 'int', required: true, min: 1, max: STAMP_MAX },
		],
	},
	{
		name: 'POST /api/v1/ping-tests/{id}/receipts',
		path: () => `/api/v1/ping-tests/${ping.id}/receipts`,
		valid: () => ({ receipts: [receiptOk()] }),
		make(name, raw) { return objText(this.valid(), name, raw); },
		item: { array: 'receipts', valid: receiptOk },
		withBytes: (bytes) => Buffer.concat([Buffer.from('{"receipts":[{"seq":0,"client_received_at":1,"sig":"a'),
		    bytes, Buffer.from('"}]}')]),
		nestedDup: () => `{"receipts":[{"seq":0,"seq":1,"client_received_at":${ping.t0 + 5000}}]}`,
		arrayField: { name: 'receipts', max: 1000 },
		fields: [
			{ name: 'seq', type: 'int', required: true, min: 0, max: 1, item: true },
			{ name: 'client_received_at', type: 'int', required: true, min: 1, max: STAMP_MAX, item: true },
			{ name: 'client_sent_at', type: 'int', required: false, min: 1, max: STAMP_MAX, item: true },
			{ name: 'server_received_at', type: 'int', required: false, min: 1, max: STAMP_MAX, item: true },
			{ name: 'server_sent_at', type: 'int', required: false, min: 1, max: STAMP_MAX, item: true },
			{ name: 'sig', type: 'str', required: false, maxLen: 64, item: true },
		],
	},
	{
		name: 'POST /api/v1/throughput-tests',
		path: () => '/api/v1/throughput-tests',
		tp: true,
		valid: () => ({ direction: 'both', packets: 2, packet_size: 1024, client: { os: 'linux' } }),
		make(name, raw) { return objText(this.valid(), name, raw); },
		withBytes: (bytes) => Buffer.concat([Buffer.from('{"direction":"both","packets":2,"packet_size":1024,"client":{"os":"a'),
		    bytes, Buffer.from('"}}')]),
		nestedDup: '{"direction":"both","packets":2,"packet_size":1024,"client":{"os":"a","os":"b"}}',
		fields: [
			{ name: 'direction', type: 'enum', required: true, maxLen: 16 },
			// Left out with no duration_ms either, the test has no size: 422.
			{ name: 'packets', type: 'int', required: true, min: 1, max: 10000, limitCode: 'limit_exceeded',
			    leftOut: E(422, 'missing_size') },
			{ name: 'packet_size', type: 'int', required: true, min: 1, max: 64 * 1024 * 1024, limitCode: 'limit_exceeded' },
			{ name: 'client', type: 'client' },
		],
	},
	{
		name: 'POST /api/v1/throughput-tests/{id}/reports',
		path: () => `/api/v1/throughput-tests/${tp.id}/reports`,
		tp: true,
		valid: () => ({ packets: [reportOk()] }),
		make(name, raw) { return objText(this.valid(), name, raw); },
		item: { array: 'packets', valid: reportOk },
		withBytes: (bytes) => Buffer.concat([Buffer.from('{"packets":[{"direction":"down'), bytes,
		    Buffer.from('load","seq":0,"client_sent_at":1,"client_received_at":2}]}')]),
		nestedDup: () => `{"packets":[{"direction":"download","direction":"upload","seq":0,"client_sent_at":${tp.t},"client_received_at":${tp.t + 900}}]}`,
		arrayField: { name: 'packets', max: 1000 },
		fields: [
			{ name: 'direction', type: 'enum', required: true, maxLen: 16, item: true },
			{ name: 'seq', type: 'int', required: true, min: 0, max: 0, item: true },
			{ name: 'client_sent_at', type: 'int', required: true, min: 0, max: I64_MAX_M1, item: true },
			{ name: 'client_first_byte_at', type: 'int', required: true, min: 0, max: I64_MAX_M1, item: true },
			{ name: 'client_received_at', type: 'int', required: true, min: 0, max: I64_MAX_M1, item: true },
		],
	},
];

// The body text with an item field of the array set to raw (the item is the only one).
function itemBody(route, name, raw) {
	const it = objText(route.item.valid(), name, raw);
	return `{${JSON.stringify(route.item.array)}:[${it}]}`;
}

function bodyWithField(route, f, raw) {
	return f.item ? itemBody(route, f.name, raw) : route.make(f.name, raw);
}

function fieldPath(route, f) {
	return f.item ? `${route.item.array}[0].${f.name}` : f.name;
}

// Integer literals and what they must get, given the field's range.
function intCases(f) {
	const cases = [
		['"1"', 'a string', E(400, 'invalid_field')],
		['true', 'a boolean', E(400, 'invalid_field')],
		['[1]', 'an array', E(400, 'invalid_field')],
		['{"n":1}', 'an object', E(400, 'invalid_field')],
		['1.0', 'the float 1.0', E(400, 'invalid_field')],
		['1.5', 'the float 1.5', E(400, 'invalid_field')],
		['1e30', 'the float 1e30', E(400, 'invalid_field')],
		['1e2', 'the exponent form 1e2', E(400, 'invalid_field')],
		['-1', 'negative', E(422, RANGE_CODES)],
		['99999999999999999999', 'the 20-digit 99999999999999999999 (past 2^64)', E(422, RANGE_CODES)],
		['-9223372036854775809', '-9223372036854775809 (below INT64_MIN)', E(422, RANGE_CODES)],
		['9223372036854775807', 'INT64_MAX', E(422, RANGE_CODES)],
		['18446744073709551615', 'UINT64_MAX', E(422, RANGE_CODES)],
	];
	if (f.min > 0)
		cases.push(['0', 'zero', E(422, RANGE_CODES)]);
	if (typeof f.max === 'number' && f.max < INT32_MAX) {
		// just past the field's own limit: the route names it (semantic codes for seqs)
		const codes = f.limitCode ? [f.limitCode, 'out_of_range'] : ['out_of_range', 'limit_exceeded',
		    'not_echoed', 'not_transferred'];
		cases.push([String(f.max + 1), `one past its maximum (${f.max + 1})`, E(422, codes)]);
		cases.push(['4294967296', '2^32 (past 32 bits)', E(422, RANGE_CODES)]);
	}
	if (f.required)
		cases.push(['null', 'null', E(400, 'missing_field')],
		    [undefined, 'left out', f.leftOut ?? E(400, 'missing_field')]);
	return cases;
}

function strCases(f) {
	const cases = [
		['1', 'a number', E(400, 'invalid_field')],
		['true', 'a boolean', E(400, 'invalid_field')],
		['["a"]', 'an array', E(400, 'invalid_field')],
		['{"a":"b"}', 'an object', E(400, 'invalid_field')],
		[JSON.stringify('x'.repeat(f.maxLen + 1)), `${f.maxLen + 1} bytes (past its ${f.maxLen})`,
		    E([400, 422], ['limit_exceeded', 'invalid_field'])],
		[JSON.stringify('é'.repeat(Math.floor(f.maxLen / 2) + 1)),
		    `${Math.floor(f.maxLen / 2) + 1} two-byte characters (past ${f.maxLen} bytes)`,
		    E([400, 422], ['limit_exceeded', 'invalid_field'])],
		['"a\\u0000b"', 'a string with an escaped NUL (\\u0000)', INVALID_JSON],
		...(f.extra ?? []),
	];
	if (f.type === 'enum')
		cases.push(['"sideways"', 'an unknown value', E(400, 'invalid_field')],
		    ['""', 'the empty string', E(400, 'invalid_field')],
		    ['"DOWNLOAD"', 'an upper-case value', E(400, 'invalid_field')],
		    ['"download "', 'a value with a trailing space', E(400, 'invalid_field')]);
	if (f.required)
		cases.push(['null', 'null', E(400, 'missing_field')], [undefined, 'left out', E(400, 'missing_field')]);
	return cases;
}

function clientCases() {
	const keys17 = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
	const fat = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v'.repeat(120)]));
	return [
		['"linux"', 'a string', E(400, 'invalid_field', 'client')],
		['1', 'a number', E(400, 'invalid_field', 'client')],
		['["os"]', 'an array', E(400, 'invalid_field', 'client')],
		['{"os":1}', 'an object with a number value', E(400, 'invalid_field', 'client.os')],
		['{"os":true}', 'an object with a boolean value', E(400, 'invalid_field', 'client.os')],
		['{"os":null}', 'an object with a null value', E(400, 'invalid_field', 'client.os')],
		['{"os":{"name":"linux"}}', 'an object with a nested object', E(400, 'invalid_field', 'client.os')],
		['{"os":["linux"]}', 'an object with an array value', E(400, 'invalid_field', 'client.os')],
		['{"OS":"linux"}', 'an upper-case key', E(400, 'invalid_field', 'client')],
		['{"":"linux"}', 'an empty key', E(400, 'invalid_field', 'client')],
		['{"os-name":"linux"}', 'a key with a dash', E(400, 'invalid_field', 'client')],
		[JSON.stringify({ ['k'.repeat(33)]: 'v' }), 'a 33-byte key', E(400, 'invalid_field', 'client')],
		[JSON.stringify({ os: 'v'.repeat(129) }), 'a 129-byte value', E(422, 'limit_exceeded', 'client.os')],
		[JSON.stringify({ os: 'é'.repeat(65) }), 'a value of 65 two-byte characters (130 bytes)',
		    E(422, 'limit_exceeded', 'client.os')],
		[JSON.stringify(keys17), '17 keys', E(422, 'limit_exceeded', 'client')],
		[JSON.stringify(fat), 'more than 1024 bytes serialized', E(422, 'limit_exceeded', 'client')],
		['{"os":"a\\u0000b"}', 'a value with an escaped NUL', INVALID_JSON],
		['{"os":"\\udc00x"}', 'a value with a lone surrogate escape (\\udc00)', INVALID_JSON],
	];
}

// Body-level corruptions, the same for every route.
function bodyCases(route) {
	const v = JSON.stringify(route.valid());
	const first = Object.keys(route.valid())[0];
	const deep = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
	const cases = [
		['hello', 'a body that is not JSON', INVALID_JSON],
		[v.slice(0, -1), 'JSON cut short by one byte', INVALID_JSON],
		[`{${first}:1}`, 'an unquoted key', INVALID_JSON],
		[`{'${first}':1}`, 'a single-quoted key', INVALID_JSON],
		[v.replace(/}$/, ',}'), 'a trailing comma', INVALID_JSON],
		[`/*c*/${v}`, 'a comment', INVALID_JSON],
		[`[${v}]`, 'an array at the top level', INVALID_JSON],
		['"text"', 'a string at the top level', INVALID_JSON],
		['42', 'a number at the top level', INVALID_JSON],
		['null', 'null at the top level', INVALID_JSON],
		['', 'an empty body', INVALID_JSON],
		['   ', 'a body of spaces', INVALID_JSON],
		[`${v} x`, 'trailing garbage after the object', INVALID_JSON],
		[`${v}{}`, 'a second object after the first', INVALID_JSON],
		[`${v},`, 'a trailing comma after the object', INVALID_JSON],
		[deep(100), 'objects nested 100 levels deep', INVALID_JSON],
		[route.make(first, '['.repeat(100) + ']'.repeat(100)), 'arrays nested 100 levels deep in a field', INVALID_JSON],
		[`{${JSON.stringify(first)}:${JSON.stringify(route.valid()[first])},${v.slice(1)}`,
		    `a duplicate top-level key (${first})`, INVALID_JSON],
		[route.make(first, 'NaN'), 'NaN as a value', INVALID_JSON],
		[route.make(first, 'Infinity'), 'Infinity as a value', INVALID_JSON],
		[`\ufeff${v}`, 'a byte order mark before the object', INVALID_JSON],
		[Buffer.from(`${v}\0`), 'a raw NUL byte after the object', INVALID_JSON],
		[route.withBytes(Buffer.from([0])), 'a raw NUL byte inside a string', INVALID_JSON],
		[route.withBytes(Buffer.from([1])), 'a raw control byte (0x01) inside a string', INVALID_JSON],
		[route.withBytes(Buffer.from([0xff])), 'the invalid UTF-8 byte 0xff', INVALID_JSON],
		[route.withBytes(Buffer.from([0xc0, 0xaf])), 'an overlong UTF-8 sequence (C0 AF)', INVALID_JSON],
		[route.withBytes(Buffer.from([0xed, 0xa0, 0x80])), 'a UTF-8 encoded surrogate (ED A0 80)', INVALID_JSON],
		[route.withBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 'a UTF-8 sequence past U+10FFFF', INVALID_JSON],
		[route.withBytes(Buffer.from([0xe2, 0x82])), 'a truncated UTF-8 sequence', INVALID_JSON],
		[route.withBytes(Buffer.from([0x80])), 'a lone UTF-8 continuation byte', INVALID_JSON],
		[`{"x\\u0000":1,${v.slice(1)}`, 'a key with an escaped NUL', INVALID_JSON],
		[route.make('extra', '1'), 'an unknown field "extra"', E(400, 'unknown_field', 'extra')],
		[route.make(first.toUpperCase(), JSON.stringify(route.valid()[first])),
		    `an unknown field "${first.toUpperCase()}" (keys are case-sensitive)`,
		    E(400, 'unknown_field', first.toUpperCase())],
		[route.make('__proto__', '{}'), 'an unknown field "__proto__"', E(400, 'unknown_field', '__proto__')],
	];
	if (route.nestedDup) {
		const d = typeof route.nestedDup === 'function' ? route.nestedDup() : route.nestedDup;
		cases.push([d, 'a duplicate key in a nested object', INVALID_JSON]);
	}
	return cases;
}

function desc(body) {
	return Buffer.isBuffer(body) ? `${body.length} bytes` : body.length > 60 ? `${body.slice(0, 60)}...` : body;
}

for (const route of routes) {
	const tok = route.auth === false ? undefined : token;
	await group(`${route.name}: malformed bodies`, async () => {
		if (route.tp && !tp.live)
			return t.fail(`${route.name}: the throughput routes are live`, 'no throughput test could be set up');
		for (const [body, what, want] of bodyCases(route)) {
			const res = await send({ path: route.path(), body, token: tok });
			okErr(res, want, `${route.name}: ${what} is refused with ${[].concat(want.status).join('/')} ${want.code}` +
			    (want.field ? ` naming ${want.field}` : ''));
		}
	});

	await group(`${route.name}: bad values in every field`, async () => {
		if (route.tp && !tp.live)
			return t.fail(`${route.name}: the throughput routes are live`, 'no throughput test could be set up');
		for (const f of route.fields) {
			const cases = f.type === 'int' ? intCases(f) : f.type === 'client' ? clientCases() : strCases(f);
			for (const [raw, what, want0] of cases) {
				const field = f.type === 'client' ? want0.field : fieldPath(route, f);
				const want = want0.code === 'invalid_json' || want0.noField ? want0 : { ...want0, field };
				const res = await send({ path: route.path(), body: bodyWithField(route, f, raw), token: tok });
				okErr(res, want, `${route.name}: ${fieldPath(route, f)} ${what} is refused with ` +
				    `${[].concat(want.status).join('/')} ${[].concat(want.code).join('/')}` +
				    (want.field ? ` naming ${want.field}` : ''));
			}
		}
		if (route.item) {
			const arr = route.item.array;
			const arrCases = [
				['{}', 'an object', E(400, 'invalid_field', arr)],
				['"x"', 'a string', E(400, 'invalid_field', arr)],
				['1', 'a number', E(400, 'invalid_field', arr)],
				['null', 'null', E(400, 'missing_field', arr)],
				[undefined, 'left out', E(400, 'missing_field', arr)],
				['[]', 'empty', E(422, RANGE_CODES, arr)],
				[`[${Array(1001).fill('{}').join(',')}]`, 'of 1001 items (past 1000)',
				    E(422, 'limit_exceeded', arr)],
				['[1]', 'holding a number', E(400, 'invalid_field', `${arr}[0]`)],
				['["x"]', 'holding a string', E(400, 'invalid_field', `${arr}[0]`)],
				['[[]]', 'holding an array', E(400, 'invalid_field', `${arr}[0]`)],
				['[null]', 'holding null', E(400, 'invalid_field', `${arr}[0]`)],
				[`[${JSON.stringify({ ...route.item.valid(), bogus: 1 })}]`, 'holding an item with an unknown field',
				    E(400, 'unknown_field', `${arr}[0].bogus`)],
			];
			for (const [raw, what, want] of arrCases) {
				const res = await send({ path: route.path(), body: route.make(arr, raw), token: tok });
				okErr(res, want, `${route.name}: ${arr} ${what} is refused with ${want.status} ` +
				    `${[].concat(want.code).join('/')} naming ${want.field}`);
			}
		}
	});

	await group(`${route.name}: content type, size, truncation`, async () => {
		if (route.tp && !tp.live)
			return t.fail(`${route.name}: the throughput routes are live`, 'no throughput test could be set up');
		const v = JSON.stringify(route.valid());
		for (const [ctype, what] of [[null, 'no Content-Type'], ['text/plain', 'Content-Type text/plain'],
		    ['application/x-www-form-urlencoded', 'a form Content-Type'], ['application/jsonx', 'Content-Type application/jsonx'],
		    ['application/json-patch+json', 'Content-Type application/json-patch+json'],
		    ['multipart/form-data; boundary=x', 'a multipart Content-Type']]) {
			const res = await send({ path: route.path(), body: v, ctype, token: tok });
			okErr(res, E(415, 'unsupported_media_type'), `${route.name}: a valid JSON body with ${what} is refused with 415`);
		}
		const big = route.make(Object.keys(route.valid())[0], JSON.stringify('x'.repeat(70 * 1024)));
		let res = await send({ path: route.path(), body: big, token: tok });
		okErr(res, E(413, 'body_too_large'), `${route.name}: a 70 KiB body with Content-Length is refused with 413 body_too_large`);
		res = await send({ path: route.path(), body: big, token: tok, headers: { 'Transfer-Encoding': 'chunked' } });
		okErr(res, E(413, 'body_too_large'), `${route.name}: a 70 KiB chunked body without Content-Length is refused with 413 body_too_large`);
		// Content-Length promises more than is sent, then the client half-closes.
		const host = new URL(stack.PINGOO_URL).host;
		const raw = `POST ${route.path()} HTTP/1.1\r\nHost: ${host}\r\n` +
		    (tok ? `Authorization: Bearer ${tok}\r\n` : '') +
		    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(v) + 40}\r\n` +
		    `Connection: close\r\n\r\n${v}`;
		let r2;
		try {
			r2 = await rawRequest(stack, raw, { endAfterWrite: true, timeoutMs: 8000 });
		} catch (e) {
			r2 = { status: 0, noAnswer: e.message };
		}
		t.ok(r2.status === 0 || (r2.status >= 400 && r2.status < 500),
		    `${route.name}: a body shorter than its Content-Length, then a half-close, is refused (no answer, or a 4xx)`,
		    r2.status ? describe(r2) : r2.noAnswer);
		if (r2.status)
			t.like(r2.headers['content-type'] ?? '', /^application\/json/i,
			    `${route.name}: the refusal of a truncated body is JSON`);
	});
}

// ---- semantic refusals: all or nothing ------------------------------------------------------

await group('receipts and reports are all or nothing', async () => {
	let res = await send({ path: `/api/v1/ping-tests/${ping.id}/receipts`, token,
	    body: JSON.stringify({ receipts: [receiptOk(), { seq: 1, client_received_at: 'soon' }] }) });
	okErr(res, E(400, 'invalid_field', 'receipts[1].client_received_at'),
	    'a good receipt followed by a malformed one is refused whole, naming receipts[1].client_received_at');
	res = await send({ path: `/api/v1/ping-tests/${ping.id}/receipts`, token,
	    body: JSON.stringify({ receipts: [receiptOk(), { seq: 3, client_received_at: ping.t0 + 10 }] }) });
	okErr(res, E(422, 'not_echoed', 'receipts[1].seq'),
	    'a good receipt followed by one for a sample never echoed is refused whole with 422 not_echoed');
	res = await send({ path: `/api/v1/ping-tests/${ping.id}/receipts`, token,
	    body: JSON.stringify({ receipts: [receiptOk(), { seq: 1, client_received_at: ping.t0 - 1000000 }] }) });
	okErr(res, E(422, 'out_of_range'), 'a receipt stamped before its sample was sent is refused whole with 422 out_of_range');
	res = await send({ path: `/api/v1/ping-tests/${ping.id}/receipts`, token,
	    body: JSON.stringify({ receipts: [receiptOk(), receiptOk()] }) });
	okErr(res, E([409, 422, 400], ['duplicate_seq', 'invalid_field', 'out_of_range']),
	    'two receipts for the same seq in one batch are refused whole');
	res = await send({ path: `/api/v1/ping-tests/${ping.id}/receipts`, token,
	    body: JSON.stringify({ receipts: [{ ...receiptOk(), sig: 'abc' }] }) });
	okErr(res, E(400, 'missing_field', 'receipts[0].sig'), 'a receipt with a sig but without the stamps is refused with 400 missing_field');
	res = await send({ path: `/api/v1/ping-tests/${ping.id}/receipts`, token,
	    body: JSON.stringify({ receipts: [{ ...receiptOk(), client_sent_at: ping.t0, server_received_at: ping.t0 + 10,
		server_sent_at: ping.t0 + 20, sig: 'A'.repeat(43) }] }) });
	okErr(res, E(422, 'invalid_sig', 'receipts[0].sig'), 'a receipt whose stamps do not match the server signature is refused with 422 invalid_sig');
	if (!tp.live)
		return t.fail('reports are all or nothing', 'no throughput test could be set up');
	res = await send({ path: `/api/v1/throughput-tests/${tp.id}/reports`, token,
	    body: JSON.stringify({ packets: [reportOk(), { ...reportOk(), seq: 1 }] }) });
	okErr(res, E(422, ['not_transferred', 'out_of_range', 'not_found']),
	    'a good report followed by one for a packet never moved is refused whole with 422');
	res = await send({ path: `/api/v1/throughput-tests/${tp.id}/reports`, token,
	    body: JSON.stringify({ packets: [reportOk(), { ...reportOk(), direction: 'upload', client_first_byte_at: undefined }] }) });
	okErr(res, E(422, ['not_transferred', 'out_of_range', 'not_found']),
	    'a good report followed by one for an upload never made is refused whole with 422');
	res = await send({ path: `/api/v1/throughput-tests/${tp.id}/reports`, token,
	    body: JSON.stringify({ packets: [{ ...reportOk(), client_received_at: tp.t - 5 }] }) });
	okErr(res, E(422, 'out_of_range', 'packets[0].client_received_at'),
	    'a report received before it was sent is refused with 422 out_of_range');
	res = await send({ path: `/api/v1/throughput-tests/${tp.id}/reports`, token,
	    body: JSON.stringify({ packets: [{ ...reportOk(), direction: 'both' }] }) });
	okErr(res, E(400, 'invalid_field', 'packets[0].direction'), 'a report with direction "both" is refused with 400 invalid_field');
});

await group('throughput create limits', async () => {
	if (!tp.live)
		return t.fail('throughput create limits', 'no throughput test could be set up');
	const c = (body) => send({ path: '/api/v1/throughput-tests', body: JSON.stringify(body), token });
	okErr(await c({ direction: 'both', packets: 10000, packet_size: 64 * 1024 * 1024 }), E(422, 'limit_exceeded'),
	    '10000 packets of 64 MiB (past tp_max_total_bytes) is refused with 422 limit_exceeded');
	okErr(await c({ direction: 'download', packets: 10001, packet_size: 1 }), E(422, 'limit_exceeded', 'packets'),
	    '10001 packets is refused with 422 limit_exceeded naming packets');
	okErr(await c({ direction: 'upload', packets: 1, packet_size: 64 * 1024 * 1024 + 1 }), E(422, 'limit_exceeded', 'packet_size'),
	    'a packet_size of 64 MiB + 1 is refused with 422 limit_exceeded naming packet_size');
	okErr(await c({ direction: 'upload', packets: 1, packet_size: 0 }), E(422, RANGE_CODES, 'packet_size'),
	    'a packet_size of 0 is refused with 422 naming packet_size');
});

// ---- query strings ---------------------------------------------------------------------------

await group('list routes: bad limit and cursor', async () => {
	for (const base of ['/api/v1/ping-tests', '/api/v1/throughput-tests']) {
		for (const [q, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=-1', 'limit'],
		    ['limit=abc', 'limit'], ['limit=1.5', 'limit'], ['limit=', 'limit'], ['limit=01', 'limit'],
		    ['limit=99999999999999999999', 'limit'], ['limit=%31', 'limit'],
		    ['cursor=0', 'cursor'], ['cursor=abc', 'cursor'], ['cursor=-1', 'cursor'], ['cursor=', 'cursor'],
		    ['cursor=9007199254740992', 'cursor'], ['cursor=99999999999999999999', 'cursor'], ['cursor=01', 'cursor'],
		    ['limit=5&limit=6', 'limit'], ['cursor=7&cursor=8', 'cursor']]) {
			const res = await send({ method: 'GET', path: `${base}?${q}`, token });
			okErr(res, E(400, 'invalid_query', field), `GET ${base}?${q} is refused with 400 invalid_query naming ${field}`);
		}
	}
});

// The worker keeps 1023 bytes of a query string.  One longer is refused whole with 414, never
// cut: cut at 1023 bytes, "p=x...x&limit=101" would read as "limit=1" and answer 200.
await group('a query string longer than the server keeps is refused with 414, not cut', async () => {
	const pad = 'x'.repeat(1013);
	for (const base of ['/api/v1/ping-tests', '/api/v1/throughput-tests']) {
		const fits = await send({ method: 'GET', path: `${base}?p=${pad}&limit=1`, token });
		t.ok(fits.status === 200, `GET ${base} with a 1023-byte query is served`, describe(fits));
		const over = await send({ method: 'GET', path: `${base}?p=${pad}&limit=101`, token });
		okErr(over, E(414, 'uri_too_long'),
		    `GET ${base} with a 1025-byte query is refused with 414 uri_too_long, not cut to limit=1`);
	}
	const post = await send({ path: `/api/v1/ping-tests?p=${pad}&limit=101`, token,
	    body: JSON.stringify({ count: 2 }) });
	okErr(post, E(414, 'uri_too_long'), 'a POST with a 1025-byte query is refused with 414 and creates nothing');
});

// ---- methods ---------------------------------------------------------------------------------

await group('wrong methods get 405 with Allow', async () => {
	const id = ping.id || 1, tid = tp.id || 1;
	const table = [
		['/api/v1/health', ['GET'], ['POST', 'PUT', 'DELETE', 'PATCH']],
		['/api/v1/auth/token', ['POST'], ['GET', 'PUT', 'DELETE', 'PATCH']],
		['/api/v1/me', ['GET'], ['POST', 'PUT', 'DELETE']],
		['/api/v1/ping-tests', ['GET', 'POST'], ['PUT', 'DELETE', 'PATCH', 'FOO']],
		[`/api/v1/ping-tests/${id}`, ['GET', 'DELETE'], ['POST', 'PUT', 'PATCH']],
		[`/api/v1/ping-tests/${id}/echo`, ['POST'], ['GET', 'PUT', 'DELETE']],
		[`/api/v1/ping-tests/${id}/receipts`, ['POST'], ['GET', 'PUT', 'DELETE']],
		[`/api/v1/ping-tests/${id}/close`, ['POST'], ['GET', 'PUT', 'DELETE']],
		['/api/v1/throughput-tests', ['GET', 'POST'], ['PUT', 'DELETE', 'PATCH']],
		['/api/v1/tests', ['DELETE'], ['GET', 'POST', 'PUT', 'PATCH']],
		['/api/v1/export/tests.csv', ['GET'], ['POST', 'PUT', 'DELETE']],
		['/api/v1/export/aggregates', ['GET'], ['POST', 'DELETE']],
		[`/api/v1/throughput-tests/${tid}`, ['GET', 'DELETE'], ['POST', 'PUT']],
		[`/api/v1/throughput-tests/${tid}/download/0`, ['GET'], ['POST', 'PUT', 'DELETE']],
		[`/api/v1/throughput-tests/${tid}/upload/1`, ['PUT'], ['GET', 'POST', 'DELETE']],
		[`/api/v1/throughput-tests/${tid}/reports`, ['POST'], ['GET', 'PUT', 'DELETE']],
		[`/api/v1/throughput-tests/${tid}/abort`, ['POST'], ['GET', 'PUT', 'DELETE']],
	];
	for (const [path, allowed, wrong] of table) {
		for (const method of wrong) {
			const res = await send({ method, path, token, body: method === 'GET' ? undefined : '{}' });
			const r = expectError(res, 405, 'method_not_allowed');
			const allow = (res.headers.allow ?? '').split(/\s*,\s*/).filter(Boolean).sort();
			t.ok(r.pass && JSON.stringify(allow) === JSON.stringify([...allowed].sort()),
			    `${method} ${path.replace(/\/\d+/g, '/{n}')} is 405 method_not_allowed with Allow: ${allowed.join(', ')}`,
			    r.pass ? `Allow: ${res.headers.allow}` : r.why);
		}
	}
});

// ---- path tricks -----------------------------------------------------------------------------

const NOT_FOUND = E(404, 'not_found');
const BAD_PATH = E([400], ['invalid_path']);

await group('path tricks never reach a handler', async () => {
	const id = ping.id, tid = tp.id || 1;
	const create = JSON.stringify({ count: 2 });
	const echo = () => JSON.stringify({ seq: 3, client_sent_at: nowUs() });
	// [method, path, body, want, what]
	const table = [
		['POST', '/api/v1//ping-tests', create, NOT_FOUND, 'a double slash'],
		['POST', '//api/v1/ping-tests', create, NOT_FOUND, 'a leading double slash'],
		['POST', '/api/v1/ping-tests/', create, NOT_FOUND, 'a trailing slash'],
		['POST', '/api/v1/ping-tests//', create, NOT_FOUND, 'two trailing slashes'],
		['POST', '/api/v1%2Fping-tests', create, NOT_FOUND, 'an encoded slash (%2F)'],
		['POST', '/api/v1%2fping-tests', create, NOT_FOUND, 'an encoded slash (%2f)'],
		['POST', '/api/v1/%70ing-tests', create, NOT_FOUND, 'an encoded letter (%70)'],
		['POST', '/api/v1/./ping-tests', create, NOT_FOUND, 'a dot segment /./'],
		['POST', '/api/v1/%2e/ping-tests', create, NOT_FOUND, 'an encoded dot segment /%2e/'],
		['POST', '/api/v1/x/../ping-tests', create, NOT_FOUND, 'a dot-dot segment /x/../'],
		['POST', '/api/v1/x/%2e%2e/ping-tests', create, NOT_FOUND, 'an encoded dot-dot segment'],
		['POST', '/api/v1/ping-tests/.', create, BAD_PATH, 'a trailing dot segment'],
		['POST', '/api/v1/PING-TESTS', create, NOT_FOUND, 'upper case'],
		['POST', '/api/v1/ping-tests;x=1', create, NOT_FOUND, 'a path parameter (;x=1)'],
		['POST', '/api/v1/ping-tests\\', create, NOT_FOUND, 'a trailing backslash'],
		['POST', '/api/v1/ping-tests%00', create, E([400, 404], ['invalid_request', 'not_found']), 'an encoded NUL (%00)'],
		['POST', '/api/v2/ping-tests', create, NOT_FOUND, 'another API version'],
		['POST', `/api/v1/ping-tests/${id}//echo`, echo(), NOT_FOUND, 'a double slash before echo'],
		['POST', `/api/v1/ping-tests//${id}/echo`, echo(), NOT_FOUND, 'a double slash before the id'],
		['POST', `/api/v1/ping-tests/${id}/echo/`, echo(), NOT_FOUND, 'a trailing slash after echo'],
		['POST', `/api/v1/ping-tests/${id}%2Fecho`, echo(), BAD_PATH, 'an encoded slash before echo'],
		['POST', `/api/v1/ping-tests/${id}/./echo`, echo(), NOT_FOUND, 'a dot segment before echo'],
		['POST', `/api/v1/ping-tests/${id}/../${id}/echo`, echo(), NOT_FOUND, 'a dot-dot segment around the id'],
		['POST', `/api/v1/ping-tests/${id}/x/../echo`, echo(), NOT_FOUND, 'a dot-dot segment before echo'],
		['GET', `/api/v1/throughput-tests/${tid}/download//0`, undefined, NOT_FOUND, 'a double slash before the seq'],
		['GET', `/api/v1/throughput-tests/${tid}/download/0/`, undefined, NOT_FOUND, 'a trailing slash after the seq'],
		['GET', `/api/v1/throughput-tests/${tid}/download/%30`, undefined, BAD_PATH, 'an encoded seq (%30)'],
		['GET', `/api/v1/throughput-tests/${tid}/download/1/../0`, undefined, NOT_FOUND, 'a dot-dot segment after the seq'],
		['GET', '/api/v1/' + 'a'.repeat(8 * 1024), undefined, E([414, 404], ['uri_too_long', 'not_found']), 'an 8 KiB path'],
		['GET', '/api/v1/ping-tests/' + '1'.repeat(8 * 1024), undefined, E([414, 404, 400], ['uri_too_long', 'not_found', 'invalid_path']),
		    'an 8 KiB id'],
		['GET', '/api/v1/' + 'a/'.repeat(3000), undefined, E([414, 404], ['uri_too_long', 'not_found']), '3000 segments'],
		['GET', '/../api/v1/health', undefined, E(400, 'invalid_request'), 'a dot-dot segment above the root'],
	];
	for (const [method, path, body, want, what] of table) {
		const res = await send({ method, path, body, token });
		okErr(res, want, `${method} with ${what} (${path.length > 60 ? path.slice(0, 50) + '...' : path}) is refused with ` +
		    `${[].concat(want.status).join('/')} JSON`);
	}
	// Leaving /api/ by dot segments lands on the static page's location, whose 404 is nginx's.
	const out = await send({ method: 'GET', path: '/api/v1/../../nope.json', token });
	t.ok(out.status === 404, 'a dot-dot path that leaves /api/ is a 404 (the static location)', describe(out));
	if (!/^application\/json/i.test(out.headers['content-type'] ?? ''))
		t.diag(`note: that 404 comes from nginx's static location as ${out.headers['content-type']}, not JSON`);
});

await group('ids and seqs that are not numbers in range', async () => {
	const id = ping.id, tid = tp.id || 1;
	const badIds = [
		['abc', 'letters'], ['0', 'zero'], ['01', 'a leading zero'], [`0${id}`, 'the real id with a leading zero'],
		['-1', 'negative'], ['+1', 'a plus sign'], ['1.0', 'a decimal point'], ['1e3', 'an exponent'],
		['0x10', 'hexadecimal'], ['%31', 'an encoded digit'], [`${id}%20`, 'a trailing encoded space'],
		['9007199254740992', '2^53'], ['99999999999999999999', '20 digits (past 2^64)'],
		['18446744073709551617', '2^64 + 1'], ['1'.repeat(300), '300 digits'],
	];
	const missingId = '9007199254740991';
	const routesWithId = [
		['GET', (x) => `/api/v1/ping-tests/${x}`, undefined],
		['POST', (x) => `/api/v1/ping-tests/${x}/echo`, () => JSON.stringify({ seq: 3, client_sent_at: nowUs() })],
		['POST', (x) => `/api/v1/ping-tests/${x}/receipts`, () => JSON.stringify({ receipts: [receiptOk()] })],
		['POST', (x) => `/api/v1/ping-tests/${x}/close`, undefined],
		['GET', (x) => `/api/v1/throughput-tests/${x}`, undefined],
		['GET', (x) => `/api/v1/throughput-tests/${x}/download/1`, undefined],
		['PUT', (x) => `/api/v1/throughput-tests/${x}/upload/1`, () => Buffer.alloc(1024, 1)],
		['POST', (x) => `/api/v1/throughput-tests/${x}/reports`, () => JSON.stringify({ packets: [reportOk()] })],
		['POST', (x) => `/api/v1/throughput-tests/${x}/abort`, undefined],
	];
	for (const [method, mk, body] of routesWithId) {
		const pattern = mk('{id}');
		for (const [x, what] of badIds) {
			const res = await send({ method, path: mk(x), body: body?.(), token,
			    ctype: method === 'PUT' ? 'application/octet-stream' : 'application/json' });
			okErr(res, BAD_PATH, `${method} ${pattern} with an id that is ${what} is refused with 400 invalid_path`);
		}
		const res = await send({ method, path: mk(missingId), body: body?.(), token,
		    ctype: method === 'PUT' ? 'application/octet-stream' : 'application/json' });
		okErr(res, NOT_FOUND, `${method} ${pattern} with the largest id (2^53 - 1), which does not exist, is 404 not_found`);
	}
	const badSeqs = [
		['abc', 'letters', BAD_PATH], ['-1', 'negative', BAD_PATH], ['01', 'a leading zero', BAD_PATH],
		['1.0', 'a decimal point', BAD_PATH], ['%31', 'an encoded digit', BAD_PATH],
		['2147483648', '2^31 (past the seq limit)', BAD_PATH], ['4294967296', '2^32', BAD_PATH],
		['99999999999999999999', '20 digits', BAD_PATH],
		['2', 'the test\'s packet count', E(422, 'out_of_range')],
		['2147483647', '2^31 - 1', E(422, 'out_of_range')],
	];
	for (const [method, dir, body] of [['GET', 'download', undefined], ['PUT', 'upload', () => Buffer.alloc(1024, 1)]]) {
		for (const [seq, what, want] of badSeqs) {
			const res = await send({ method, path: `/api/v1/throughput-tests/${tid}/${dir}/${seq}`, body: body?.(),
			    token, ctype: 'application/octet-stream' });
			okErr(res, want, `${method} ${dir}/{seq} with a seq that is ${what} is refused with ` +
			    `${[].concat(want.status).join('/')} ${[].concat(want.code).join('/')}`);
		}
	}
});

await t.test('the stack is still healthy', async () => {
	const h = await A.get('/api/v1/health');
	t.is(h.status, 200, 'health still answers 200 after all of the above');
	const g = await A.get(`/api/v1/ping-tests/${ping.id}`, token);
	t.ok(g.status === 200 && g.json?.samples?.length === 2 && g.json.samples.every((s) => s.client_received_at === null),
	    'the ping test still has exactly its two echoed samples and no receipt', describe(g));
	if (tp.live) {
		const g2 = await A.get(`/api/v1/throughput-tests/${tp.id}`, token);
		t.ok(g2.status === 200 && g2.json?.state === 'incomplete' && g2.json?.transfers?.length === 1 &&
		    g2.json.transfers[0].client_sent_at === null,
		    'the throughput test still has its one transfer, unreported, and is incomplete', describe(g2));
	}
});

await t.test('the throwaway user is deleted', async () => {
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'the throwaway user is deleted', errors.join('\n'));
});

await t.done();
