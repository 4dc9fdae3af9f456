// revocation.mjs - a revoked token is refused on every route within a second: logout
// revokes the token it is sent with, logout-all every token of the user, and a password
// changed or an account deleted through pingoo-admin does what logout-all does.  Checked on
// the three kinds of route: the echo of a ping test (answered without MySQL, from memory
// shared by the host's workers), a throughput test's packet (no user lookup either) and a
// route that looks the user up (GET /me).  Another token of the same user, and another
// user's, keep working where they should; a new login works after; the logout routes
// refuse missing and bad tokens with 401.  Every response is checked against
// docs/openapi.json by lib/http.mjs.

import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { expectError, describe } from './lib/http.mjs';
import { randomPassword, userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN']);
const users = userFactory(stack);

// How long a revocation may take to reach a route (docs/api.md, Authentication).
const WITHIN_MS = 1000;
const nowUs = () => Date.now() * 1000;

async function newPing(token) {
	const r = await A.json('POST', '/api/v1/ping-tests', { count: 1000, interval_ms: 0 }, token);
	if (r.status !== 201)
		throw new Error(`a ping test: ${describe(r)}`);
	return { id: r.json.id, seq: 0 };
}

async function newDownload(token) {
	const r = await A.json('POST', '/api/v1/throughput-tests',
	    { direction: 'download', packets: 1000, packet_size: 1000 }, token);
	if (r.status !== 201)
		throw new Error(`a throughput test: ${describe(r)}`);
	return { id: r.json.id, seq: 0 };
}

// The three kinds of route, each a request that answers 2xx while the token is good.  Each
// call takes the next sequence number, so a repeat is never a duplicate.
function routes(token, ping, tp) {
	return {
		echo: () => A.json('POST', `/api/v1/ping-tests/${ping.id}/echo`,
		    { seq: ping.seq++, client_sent_at: nowUs() }, token),
		packet: () => A.get(`/api/v1/throughput-tests/${tp.id}/download/${tp.seq++}`, token),
		me: () => A.get('/api/v1/me', token),
	};
}

// A user with `n` tokens, a ping test and a download test of the first one's.
async function session(n = 2) {
	const u = users.create();
	const tokens = [];
	for (let i = 0; i < n; i++)
		tokens.push(await A.token(u.username, u.password));
	return { u, tokens, ping: await newPing(tokens[0]), tp: await newDownload(tokens[0]) };
}

// Every route answers 2xx with token (the test's premise).
async function allGood(what, r) {
	for (const [name, call] of Object.entries(r)) {
		const res = await call();
		t.ok(res.status >= 200 && res.status < 300, `${what}: the ${name} route takes the token`, describe(res));
	}
}

// Each route of r refuses with 401 within WITHIN_MS of `since` (performance.now()): the
// milliseconds of each, or a failure naming what it answered.
async function allRefused(what, r, since) {
	for (const [name, call] of Object.entries(r)) {
		let res;
		do
			res = await call();
		while (res.status !== 401 && performance.now() - since < WITHIN_MS);
		const ms = Math.round(performance.now() - since);
		const e = expectError(res, 401, 'unauthorized');
		t.ok(e.pass && ms <= WITHIN_MS, `${what}: the ${name} route refuses the token with 401 within ` +
		    `${WITHIN_MS} ms (${ms} ms)`, e.why || describe(res));
	}
}

await t.test('logout refuses that token on the echo, a packet and /me; another token of the user works', async () => {
	const s = await session(2);
	const other = session(1);
	const a = routes(s.tokens[0], s.ping, s.tp);
	// The second token runs tests of its own: the first one's are its user's too, but each
	// route's answer must not depend on which test the other token touched.
	const b = routes(s.tokens[1], await newPing(s.tokens[1]), await newDownload(s.tokens[1]));
	await allGood('before the logout, token 1', a);
	await allGood('before the logout, token 2', b);
	const since = performance.now();
	const out = await A.request({ method: 'POST', path: '/api/v1/auth/logout', token: s.tokens[0] });
	t.is(out.status, 204, 'POST /auth/logout answers 204');
	t.is(out.text, '', 'with no body');
	await allRefused('after its logout, token 1', a, since);
	await allGood('after the logout of token 1, token 2 of the same user', b);
	const o = await other;
	await allGood('another user', routes(o.tokens[0], o.ping, o.tp));
	const again = await A.request({ method: 'POST', path: '/api/v1/auth/logout', token: s.tokens[0] });
	t.ok(expectError(again, 401, 'unauthorized').pass, 'a second logout with the revoked token is 401',
	    describe(again));
});

await t.test('logout-all refuses every token of the user, the echo included; a new login works', async () => {
	const s = await session(3);
	const o = await session(1);
	const r = s.tokens.map((tok) => routes(tok, s.ping, s.tp));
	for (const [i, x] of r.entries())
		await allGood(`before logout-all, token ${i + 1}`, x);
	const since = performance.now();
	const out = await A.request({ method: 'POST', path: '/api/v1/auth/logout-all', token: s.tokens[1] });
	t.is(out.status, 204, 'POST /auth/logout-all answers 204');
	for (const [i, x] of r.entries())
		await allRefused(`after logout-all, token ${i + 1}`, x, since);
	await allGood('after logout-all, another user\'s token', routes(o.tokens[0], o.ping, o.tp));
	// A login in the same second as the logout-all waits for the next second: its iat must
	// come after the revocation's.
	const t0 = performance.now();
	const fresh = await A.token(s.u.username, s.u.password);
	t.ok(performance.now() - t0 < 3000, `a new login is answered (${Math.round(performance.now() - t0)} ms)`);
	await allGood('a token issued after logout-all', routes(fresh, await newPing(fresh), await newDownload(fresh)));
});

await t.test('a password changed with pingoo-admin refuses every token of the user; the new password logs in', async () => {
	const s = await session(2);
	const r = s.tokens.map((tok) => routes(tok, s.ping, s.tp));
	for (const [i, x] of r.entries())
		await allGood(`before the password change, token ${i + 1}`, x);
	const pw = randomPassword();
	users.passwd(s.u.username, pw);
	const since = performance.now();
	for (const [i, x] of r.entries())
		await allRefused(`after pingoo-admin user passwd, token ${i + 1}`, x, since);
	const old = await A.json('POST', '/api/v1/auth/token', { username: s.u.username, password: s.u.password });
	t.ok(expectError(old, 401, 'invalid_credentials').pass, 'the old password is refused', describe(old));
	const fresh = await A.token(s.u.username, pw);
	await allGood('a token of the new password', routes(fresh, await newPing(fresh), await newDownload(fresh)));
});

await t.test('a user deleted with pingoo-admin: their token is refused on the echo and a packet', async () => {
	const s = await session(1);
	const r = routes(s.tokens[0], s.ping, s.tp);
	await allGood('before the deletion', r);
	users.delete(s.u.username);
	await allRefused('after pingoo-admin user del', r, performance.now());
});

await t.test('the logout routes refuse a missing or bad token with 401', async () => {
	const s = await session(1);
	const [h, p] = s.tokens[0].split('.');
	const cases = [
		['no Authorization header', {}],
		['an empty bearer token', { Authorization: 'Bearer ' }],
		['the Basic scheme', { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
		['garbage', { Authorization: 'Bearer not-a-token' }],
		['a forged signature', { Authorization: `Bearer ${h}.${p}.${'A'.repeat(43)}` }],
	];
	for (const path of ['/api/v1/auth/logout', '/api/v1/auth/logout-all']) {
		for (const [what, headers] of cases) {
			const res = await A.request({ method: 'POST', path, headers });
			const e = expectError(res, 401, 'unauthorized');
			t.ok(e.pass, `POST ${path} with ${what} is 401 unauthorized`, e.why);
		}
	}
	await allGood('after those refusals, the user\'s token', routes(s.tokens[0], s.ping, s.tp));
});

users.cleanup();
await t.done();
