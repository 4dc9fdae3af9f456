// health-auth-errors.mjs - health, token issuance, every way a token or a credential is
// refused, JSON 404/405/413/415 errors, and MariaDB stopped and started again under a running
// pool, over HTTPS through nginx against the running local stack.  Without a stack (no
// var/stack.env) the whole file is skipped, unless PINGOO_REQUIRE_STACK=1.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as t from './lib/tap.mjs';
import { poll } from './lib/poll.mjs';
import { openStack } from './lib/open.mjs';
import { loadStack, stackEnvPath, missingKeys, poolPids, pidAlive, childPids } from './lib/stack.mjs';
import { api, expectError, describe, decodeJwt } from './lib/http.mjs';
import { sign, unsigned, serverKey } from './lib/jwt.mjs';
import { userFactory } from './lib/users.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_DEMO_USER',
    'PINGOO_DEMO_PASSWORD']);
const users = userFactory(stack);

const nowS = () => Math.floor(Date.now() / 1000);

// ok lines for "this is the JSON error <status> <code>"
function okError(res, status, code, sentence, opts) {
	const r = expectError(res, status, code, opts);
	return t.ok(r.pass, sentence, r.why);
}

// A refused bearer token: 401 unauthorized JSON with a WWW-Authenticate: Bearer challenge.
function okRefused(res, sentence) {
	const r = expectError(res, 401, 'unauthorized');
	const www = res.headers['www-authenticate'] ?? '';
	const problems = [];
	if (!r.pass)
		problems.push(r.why);
	if (!/^Bearer\b/i.test(www))
		problems.push(`WWW-Authenticate ${JSON.stringify(www)}, want Bearer ...`);
	return t.ok(problems.length === 0, sentence, problems.join('\n'));
}

const me = (token, opts) => A.get('/api/v1/me', token, opts);
const meWith = (authorization) => A.request({ method: 'GET', path: '/api/v1/me',
    headers: { Authorization: authorization } });

// ---- health -------------------------------------------------------------------------------

await t.test('health answers 200 with status ok, database up and a version', async () => {
	const res = await A.get('/api/v1/health');
	const j = res.json ?? {};
	t.ok(res.status === 200 && /^application\/json/i.test(res.headers['content-type'] ?? '') &&
	    j.status === 'ok' && j.database === 'up' && typeof j.version === 'string' &&
	    j.version.length > 0,
	    'health answers 200 JSON {"status":"ok","database":"up","version"}', describe(res));
});

// ---- token issuance -----------------------------------------------------------------------

let demoToken = null;
let demoClaims = null;

await t.test('the demo user gets a token', async () => {
	const res = await A.json('POST', '/api/v1/auth/token',
	    { username: stack.PINGOO_DEMO_USER, password: stack.PINGOO_DEMO_PASSWORD });
	const j = res.json ?? {};
	if (!t.ok(res.status === 200 && typeof j.access_token === 'string',
	    'the demo user gets 200 with an access_token', describe(res)))
		return;
	demoToken = j.access_token;
	t.like(res.headers['content-type'], /^application\/json/i, 'the token answer is JSON');
	t.is(j.token_type, 'Bearer', 'token_type is Bearer');
	t.ok(Number.isInteger(j.expires_in) && j.expires_in > 0, 'expires_in is a positive integer',
	    `expires_in: ${JSON.stringify(j.expires_in)}`);
	const parts = demoToken.split('.');
	t.ok(parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p)),
	    'the access token is three dot-separated base64url parts', demoToken.slice(0, 80));
	const { header, payload } = decodeJwt(demoToken);
	t.is(header?.alg, 'HS256', 'the token header says alg HS256');
	const claims = ['sub', 'iat', 'exp', 'iss', 'aud', 'jti'];
	t.ok(payload && claims.every((c) => c in payload),
	    'the token carries sub, iat, exp, iss, aud and jti', payload);
	if (payload && Number.isInteger(payload.exp) && Number.isInteger(payload.iat)) {
		t.ok(Math.abs(payload.iat - nowS()) <= 60, 'the token was issued now (iat)',
		    `iat ${payload.iat}, now ${nowS()}`);
		t.ok(Math.abs(payload.exp - payload.iat - j.expires_in) <= 2,
		    'exp - iat matches expires_in', `exp ${payload.exp}, iat ${payload.iat}, expires_in ${j.expires_in}`);
	}
	demoClaims = payload ?? null;
});

await t.test('a second token has a different jti', async () => {
	if (!demoToken)
		return t.skip('a second token has a different jti', 'no demo token');
	const other = await A.login();
	const a = decodeJwt(demoToken).payload, b = decodeJwt(other).payload;
	t.ok(a?.jti && b?.jti && a.jti !== b.jti, 'two tokens get two different jti', [a?.jti, b?.jti]);
});

await t.test('GET /api/v1/me with the token gives the demo user', async () => {
	if (!demoToken)
		return t.skip('GET /api/v1/me with the token gives the demo user', 'no demo token');
	const res = await me(demoToken);
	const j = res.json ?? {};
	t.ok(res.status === 200 && Number.isInteger(j.id) && j.id > 0 &&
	    j.username === stack.PINGOO_DEMO_USER,
	    'GET /api/v1/me with the token answers 200 with the id and username of the demo user',
	    describe(res));
	t.ok(Number.isInteger(j.created_at), 'me has an integer created_at', describe(res));
	if (demoClaims)
		t.is(String(demoClaims.sub), String(j.id), "the token's sub is the user's id");
});

// The user the rest of the file works as: the demo user, or a throwaway one when the demo
// user cannot log in (that failure is reported above; the rest still tests something).
const main = { username: stack.PINGOO_DEMO_USER, password: stack.PINGOO_DEMO_PASSWORD,
    token: demoToken, claims: demoClaims };
if (!demoToken && stack.PINGOO_ADMIN) {
	await t.test('a throwaway user stands in for the demo user', async () => {
		const u = users.create();
		main.username = u.username;
		main.password = u.password;
		main.token = await A.token(u.username, u.password);
		main.claims = decodeJwt(main.token).payload ?? null;
		t.diag(`working as ${u.username} instead of ${stack.PINGOO_DEMO_USER}`);
		const res = await me(main.token);
		t.ok(res.status === 200 && res.json?.username === u.username,
		    'the throwaway user gets a token that GET /me answers as that user', describe(res));
	});
}

// ---- refused credentials ------------------------------------------------------------------

await t.test('wrong password and unknown user get the same 401', async () => {
	const wrongPw = await A.json('POST', '/api/v1/auth/token',
	    { username: main.username, password: main.password + 'x' });
	okError(wrongPw, 401, 'invalid_credentials', 'a wrong password is refused with 401 invalid_credentials');
	const unknown = await A.json('POST', '/api/v1/auth/token',
	    { username: 'nobody_' + crypto.randomBytes(5).toString('hex'), password: 'whatever-password' });
	okError(unknown, 401, 'invalid_credentials', 'an unknown user is refused with 401 invalid_credentials');
	t.ok(wrongPw.status === unknown.status && wrongPw.text === unknown.text,
	    'a wrong password and an unknown user get the same status and the same body',
	    `wrong password: ${describe(wrongPw)}\nunknown user: ${describe(unknown)}`);
});

await t.test('missing fields are refused with 400', async () => {
	let res = await A.json('POST', '/api/v1/auth/token', { password: 'something' });
	okError(res, 400, 'missing_field', 'a token request without username is refused with 400 missing_field',
	    { field: 'username' });
	res = await A.json('POST', '/api/v1/auth/token', { username: main.username });
	okError(res, 400, 'missing_field', 'a token request without password is refused with 400 missing_field',
	    { field: 'password' });
	res = await A.json('POST', '/api/v1/auth/token', {});
	okError(res, 400, 'missing_field', 'a token request with an empty object is refused with 400 missing_field');
	res = await A.json('POST', '/api/v1/auth/token', undefined, undefined,
	    { headers: { 'Content-Type': 'application/json' } });
	okError(res, 400, ['invalid_json', 'missing_field'], 'a token request with no body is refused with 400');
});

await t.test('bad bodies on the token route', async () => {
	let res = await A.json('POST', '/api/v1/auth/token', 'username=demo&password=x');
	okError(res, 400, 'invalid_json', 'a token request whose body is not JSON is refused with 400 invalid_json');
	res = await A.json('POST', '/api/v1/auth/token', '{"username":"a","password":"b"} trailing');
	okError(res, 400, 'invalid_json', 'a JSON body with trailing garbage is refused with 400 invalid_json');
	res = await A.json('POST', '/api/v1/auth/token', '["username","password"]');
	okError(res, 400, 'invalid_json', 'a JSON array body is refused with 400 invalid_json');
	res = await A.json('POST', '/api/v1/auth/token', { username: 1, password: 'x' });
	okError(res, 400, 'invalid_field', 'a username that is not a string is refused with 400 invalid_field',
	    { field: 'username' });
	res = await A.json('POST', '/api/v1/auth/token',
	    { username: main.username, password: main.password }, undefined,
	    { headers: { 'Content-Type': 'text/plain' } });
	okError(res, 415, 'unsupported_media_type',
	    'a JSON body sent as text/plain is refused with 415 unsupported_media_type');
	res = await A.request({ method: 'POST', path: '/api/v1/auth/token',
	    body: JSON.stringify({ username: main.username, password: main.password }) });
	okError(res, 415, 'unsupported_media_type',
	    'a JSON body without a Content-Type is refused with 415 unsupported_media_type');
	res = await A.json('POST', '/api/v1/auth/token',
	    { username: main.username, password: main.password }, undefined,
	    { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
	t.is(res.status, 200, 'Content-Type application/json; charset=utf-8 is accepted');
});

// ---- refused bearer tokens ----------------------------------------------------------------

await t.test('GET /me refuses requests without a good bearer token', async () => {
	okRefused(await me(), '/me without a token is refused with 401 unauthorized and WWW-Authenticate: Bearer');
	okRefused(await meWith('Bearer garbage'), '/me with "Bearer garbage" is refused with 401 unauthorized');
	okRefused(await meWith('Bearer '), '/me with an empty bearer token is refused with 401 unauthorized');
	const basic = Buffer.from(`${main.username}:${main.password}`).toString('base64');
	okRefused(await meWith(`Basic ${basic}`), '/me with Basic credentials is refused with 401 unauthorized');
	if (main.token) {
		okRefused(await meWith(main.token), '/me with a good token but no Bearer scheme is refused with 401');
		okRefused(await A.get(`/api/v1/me?access_token=${encodeURIComponent(main.token)}`),
		    '/me with the token in the query string only is refused with 401 unauthorized');
	}
});

await t.test('GET /me refuses forged tokens', async () => {
	if (!main.token || !main.claims)
		return t.skip('forged tokens are refused', 'no working token');
	const [h, p, s] = main.token.split('.');
	const header = decodeJwt(main.token).header;
	const payload = { ...main.claims };

	okRefused(await me(unsigned({ alg: 'none', typ: 'JWT' }, payload)),
	    'an alg none token is refused with 401 unauthorized');
	okRefused(await me(`${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.${s}`),
	    'an alg none header on a genuine payload and signature is refused with 401');

	const sub = payload.sub;
	const flipped = typeof sub === 'number' ? sub + 1 :
	    /^\d+$/.test(String(sub)) ? String(Number(sub) + 1) : String(sub) + 'x';
	const tamperedPayload = Buffer.from(JSON.stringify({ ...payload, sub: flipped })).toString('base64url');
	okRefused(await me(`${h}.${tamperedPayload}.${s}`),
	    'a token whose payload was changed (another sub) is refused with 401');
	const tamperedHeader = Buffer.from(JSON.stringify({ ...header, kid: 'x' })).toString('base64url');
	okRefused(await me(`${tamperedHeader}.${p}.${s}`),
	    'a token whose header was changed is refused with 401');
	const sig = Buffer.from(s, 'base64url');
	sig[0] ^= 1;
	okRefused(await me(`${h}.${p}.${sig.toString('base64url')}`),
	    'a token whose signature was changed is refused with 401');
	okRefused(await me(`${h}.${p}`), 'a token without its signature part is refused with 401');
	okRefused(await me(`${h}.${p}.${s}.${s}`), 'a token with four parts is refused with 401');

	const randomKey = crypto.randomBytes(32);
	okRefused(await me(sign({ alg: 'HS384', typ: 'JWT' }, payload, randomKey)),
	    'an HS384 token signed with a random key is refused with 401');
	okRefused(await me(sign({ alg: 'HS256', typ: 'JWT' }, payload, randomKey)),
	    'an HS256 token signed with a random key is refused with 401');
});

await t.test("a deleted user's token is refused", async () => {
	if (!stack.PINGOO_ADMIN)
		return t.skip("a deleted user's token is refused", 'stack.env has no PINGOO_ADMIN');
	const u = users.create();
	const token = await A.token(u.username, u.password);
	const before = await me(token);
	t.ok(before.status === 200 && before.json?.username === u.username,
	    'a user made with pingoo-admin gets a working token', describe(before));
	users.delete(u.username);
	okRefused(await me(token), "a deleted user's token is refused with 401 unauthorized");
	const again = await A.json('POST', '/api/v1/auth/token', u);
	okError(again, 401, 'invalid_credentials', 'a deleted user cannot get a new token');
});

// Tokens minted with the server's own key: only the claims under test are wrong.
await t.test('tokens minted with the server key', async () => {
	if (!main.token || !main.claims)
		return t.skip('tokens minted with the server key', 'no working token');
	const k = serverKey(stack, main.token);
	if (k.error)
		return t.fail('the server key can be read from its configuration', k.error);
	t.diag(`minting with the key from ${k.how}, iss ${k.issuer}, aud ${k.audience}`);
	const header = { alg: k.alg, typ: 'JWT' };
	const fresh = () => {
		const now = nowS();
		return { ...main.claims, iss: k.issuer, aud: k.audience, iat: now, exp: now + 300,
		    jti: crypto.randomBytes(12).toString('hex') };
	};
	const mint = (claims) => sign(header, claims, k.key);
	const without = (claims, name) => {
		const c = { ...claims };
		delete c[name];
		return c;
	};

	const good = await me(mint(fresh()));
	if (!t.ok(good.status === 200 && good.json?.username === main.username,
	    'a correctly minted token is accepted (the minting is right)', describe(good)))
		t.diag('the refusals below prove nothing until the minted token is accepted');

	const now = nowS();
	okRefused(await me(mint({ ...fresh(), iat: now - 3600, exp: now - 120 })),
	    'an expired token (exp 120 s ago) is refused with 401');
	okRefused(await me(mint({ ...fresh(), nbf: now + 600 })),
	    'a token not valid for 10 minutes (nbf) is refused with 401');
	okRefused(await me(mint({ ...fresh(), iat: now + 600, exp: now + 900 })),
	    'a token issued 10 minutes in the future (iat) is refused with 401');
	okRefused(await me(mint({ ...fresh(), iss: 'not-pingoo' })),
	    'a token with the wrong iss is refused with 401');
	okRefused(await me(mint({ ...fresh(), aud: 'not-pingoo-api' })),
	    'a token with the wrong aud is refused with 401');
	okRefused(await me(mint({ ...fresh(), aud: [k.audience] })),
	    'a token whose aud is an array is refused with 401');
	okRefused(await me(mint(without(fresh(), 'exp'))),
	    'a token without exp is refused with 401');
	okRefused(await me(mint(without(fresh(), 'sub'))),
	    'a token without sub is refused with 401');
	okRefused(await me(mint(without(fresh(), 'iss'))),
	    'a token without iss is refused with 401');
	okRefused(await me(mint(without(fresh(), 'aud'))),
	    'a token without aud is refused with 401');
	okRefused(await me(mint({ ...fresh(), sub: '999999999999' })),
	    'a token for a user id that does not exist is refused with 401');
	okRefused(await me(mint({ ...fresh(), exp: String(now + 300) })),
	    'a token whose exp is a string is refused with 401');
	if (k.alg === 'HS256') {
		okRefused(await me(sign({ alg: 'HS384', typ: 'JWT' }, fresh(), k.key)),
		    'an HS384 token signed with the server key is refused with 401 (the algorithm is pinned)');
		okRefused(await me(sign({ alg: 'HS512', typ: 'JWT' }, fresh(), k.key)),
		    'an HS512 token signed with the server key is refused with 401 (the algorithm is pinned)');
	}
});

// ---- routing errors -----------------------------------------------------------------------

await t.test('unknown routes and wrong methods', async () => {
	okError(await A.get('/api/v1/nope'), 404, 'not_found', 'an unknown route /api/v1/nope is 404 not_found JSON');
	if (main.token)
		okError(await A.get('/api/v1/nope', main.token), 404, 'not_found',
		    'an unknown route with a valid token is 404 not_found JSON');
	let res = await A.get('/api/v1/auth/token');
	okError(res, 405, 'method_not_allowed', 'GET /api/v1/auth/token is 405 method_not_allowed JSON');
	t.like(res.headers.allow, /\bPOST\b/, 'the 405 for GET /auth/token has an Allow header with POST');
	res = await A.request({ method: 'POST', path: '/api/v1/health' });
	okError(res, 405, 'method_not_allowed', 'POST /api/v1/health is 405 method_not_allowed JSON');
	t.like(res.headers.allow, /\bGET\b/, 'the 405 for POST /health has an Allow header with GET');
	res = await A.request({ method: 'DELETE', path: '/api/v1/me', token: main.token ?? undefined });
	okError(res, 405, 'method_not_allowed', 'DELETE /api/v1/me is 405 method_not_allowed JSON');
});

await t.test('an oversize body is refused with 413 JSON', async () => {
	const big = JSON.stringify({ username: main.username, password: 'x'.repeat(200 * 1024) });
	const res = await A.json('POST', '/api/v1/auth/token', big);
	okError(res, 413, 'body_too_large', 'a 200 KB JSON body on /auth/token is refused with 413 body_too_large JSON');
});

// ---- the database stopped and started under a running pool --------------------------------

let dbStopped = false;
function dbCtl(action) {
	return execFileSync(stack.PINGOO_DB_CTL, [action], { encoding: 'utf8', timeout: 120000,
	    stdio: ['ignore', 'pipe', 'pipe'] });
}
// Whatever happens to this script, MariaDB does not stay down.
function restartDbOnExit() {
	if (!dbStopped)
		return;
	try {
		dbCtl('start');
		dbStopped = false;
	} catch (e) {
		process.stdout.write(`# could not restart MariaDB: ${e.message}\n`);
	}
}
process.on('exit', restartDbOnExit);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		restartDbOnExit();
		process.exit(1);
	});
}

// A health check for poll(): { pass, res }, or { pass: false, error } when it throws.
function health(want) {
	return async () => {
		try {
			const res = await A.get('/api/v1/health', undefined, { timeoutMs: 10000 });
			return { pass: want(res), res };
		} catch (e) {
			return { pass: false, error: e };
		}
	};
}

await t.test('MariaDB stopped and started again', async () => {
	if (!stack.PINGOO_DB_CTL)
		return t.skip('MariaDB stopped and started again', 'stack.env has no PINGOO_DB_CTL');
	if (!main.token)
		return t.skip('MariaDB stopped and started again', 'no working token');
	const pidsBefore = poolPids(stack);
	const workersOf = (pids) => (pids ?? []).flatMap(childPids).join(' ');
	const workersBefore = workersOf(pidsBefore);
	if (pidsBefore)
		t.diag(`pool pids before: ${pidsBefore.join(' ')}; workers: ${workersBefore || 'none'}`);
	try {
		dbStopped = true;
		dbCtl('stop');
		const t0 = Date.now();
		const down = await poll(health((res) => res.status === 503), 10000, 250,
		    (v) => v.pass);
		const res = down.res;
		t.ok(down.pass && /^application\/json/i.test(res.headers['content-type'] ?? '') &&
		    res.json?.database === 'down' && res.json?.status === 'unavailable',
		    'with MariaDB stopped, health answers 503 JSON with database "down" within 10 s',
		    down.error ? down.error.message : describe(res));
		t.diag(`health said 503 after ${Date.now() - t0} ms`);

		let m;
		try {
			m = await me(main.token, { timeoutMs: 12000 });
		} catch (e) {
			m = null;
			t.fail('with MariaDB stopped, /me answers within 10 s', e.message);
		}
		if (m) {
			t.ok(m.ms <= 10000, 'with MariaDB stopped, /me answers within 10 s', `took ${Math.round(m.ms)} ms`);
			okError(m, 503, 'database_unavailable',
			    'with MariaDB stopped, an authenticated /me is 503 database_unavailable JSON');
		}
		let tok;
		try {
			tok = await A.json('POST', '/api/v1/auth/token',
			    { username: main.username, password: main.password },
			    undefined, { timeoutMs: 12000 });
			okError(tok, 503, 'database_unavailable',
			    'with MariaDB stopped, a token request is 503 database_unavailable JSON');
		} catch (e) {
			t.fail('with MariaDB stopped, a token request answers within 10 s', e.message);
		}
	} finally {
		dbCtl('start');
		dbStopped = false;
	}
	const t1 = Date.now();
	const up = await poll(health((res) => res.status === 200 && res.json?.database === 'up'),
	    15000, 250, (v) => v.pass);
	t.ok(up.pass, 'with MariaDB started again, health answers 200 database up within 15 s',
	    up.error ? up.error.message : describe(up.res));
	t.diag(`health said 200 ${Date.now() - t1} ms after MariaDB was started`);
	const pidsAfter = poolPids(stack);
	if (pidsBefore) {
		t.ok(pidsAfter && pidsAfter.join(' ') === pidsBefore.join(' ') && pidsBefore.every(pidAlive),
		    'the pool was not restarted (same pids, all alive)',
		    `before ${pidsBefore.join(' ')}, after ${pidsAfter?.join(' ')}`);
		if (workersBefore)
			t.is(workersOf(pidsAfter), workersBefore,
			    'no worker process died while MariaDB was away (same worker pids)');
	} else {
		t.skip('the pool was not restarted', 'stack.env has no readable PINGOO_POOL_PIDFILE');
	}
	const again = await me(main.token);
	t.ok(again.status === 200 && again.json?.username === main.username,
	    'after MariaDB is back, /me works again with the same token', describe(again));
});

await t.test('throwaway users are cleaned up', async () => {
	const errors = users.cleanup();
	t.ok(errors.length === 0, 'throwaway users are deleted', errors.join('\n'));
});

await t.done();
