// cors.mjs - cross-origin use of the API: preflight and actual requests
// from an origin listed in cors_origins get CORS headers; others do not.
import * as t from './lib/tap.mjs';
import { loadStack, readConfig, stackEnvPath } from './lib/stack.mjs';
import { api, request, expectError } from './lib/http.mjs';

const stack = loadStack();
if (!stack)
	t.skipAll(`no stack: ${stackEnvPath()} does not exist`);
const cfg = readConfig(stack) || {};
const allowed = (cfg.cors_origins || '').split(/[\s,]+/).filter(o => o && o !== '*')[0];
const stranger = 'https://evil.example.invalid';
const A = api(stack);

await t.test('the stack allows one cross origin', async () => {
	t.ok(!!allowed, `cors_origins in ${cfg.__file} names an origin (got "${cfg.cors_origins || ''}")`);
});

if (allowed) {
	const token = await A.login();

	await t.test('preflight from an allowed origin', async () => {
		const r = await request(stack, { method: 'OPTIONS', path: '/api/v1/ping-tests',
			headers: { Origin: allowed, 'Access-Control-Request-Method': 'POST',
				'Access-Control-Request-Headers': 'authorization, content-type' } });
		t.is(r.status, 204, 'a preflight from an allowed origin answers 204');
		t.is(r.headers['access-control-allow-origin'], allowed, 'it names the origin in Access-Control-Allow-Origin');
		t.like(r.headers['access-control-allow-methods'] || '', /POST/, 'it allows the route\'s methods');
		t.like((r.headers['access-control-allow-headers'] || '').toLowerCase(), /authorization/,
			'it allows the Authorization header');
		t.like((r.headers['access-control-allow-headers'] || '').toLowerCase(), /content-type/,
			'it allows the Content-Type header');
	});

	await t.test('preflight from another origin', async () => {
		const r = await request(stack, { method: 'OPTIONS', path: '/api/v1/ping-tests',
			headers: { Origin: stranger, 'Access-Control-Request-Method': 'POST' } });
		t.is(r.headers['access-control-allow-origin'], undefined, 'an unlisted origin gets no Access-Control-Allow-Origin');
		const e = expectError(r, 403, 'origin_not_allowed');
		t.ok(e.pass, 'an unlisted origin\'s preflight is refused with a JSON 403', e.why);
	});

	await t.test('actual cross-origin requests', async () => {
		const r = await request(stack, { method: 'GET', path: '/api/v1/me', token,
			headers: { Origin: allowed } });
		t.is(r.status, 200, 'an authenticated GET from an allowed origin works');
		t.is(r.headers['access-control-allow-origin'], allowed, 'its answer carries Access-Control-Allow-Origin');
		t.like(r.headers['access-control-expose-headers'] || '', /Server-Timing/i,
			'Server-Timing is exposed to the page');
		t.like(r.headers.vary || '', /Origin/i, 'the answer varies by Origin');
		const e = await request(stack, { method: 'GET', path: '/api/v1/me', headers: { Origin: allowed } });
		t.is(e.headers['access-control-allow-origin'], allowed,
			'an error answer (401) also carries the CORS header, so the page can read it');
		const s = await request(stack, { method: 'GET', path: '/api/v1/me', token, headers: { Origin: stranger } });
		t.is(s.headers['access-control-allow-origin'], undefined, 'an unlisted origin gets no CORS header');
	});

	await t.test('the echo is timed across origins', async () => {
		const c = await A.json('POST', '/api/v1/ping-tests', { count: 1 }, token);
		t.is(c.status, 201, 'a ping test is created');
		const r = await request(stack, { method: 'POST', path: `/api/v1/ping-tests/${c.json.id}/echo`, token,
			headers: { Origin: allowed, 'Content-Type': 'application/json' },
			body: JSON.stringify({ seq: 0, client_sent_at: Date.now() * 1000 }) });
		t.is(r.status, 200, 'a cross-origin echo answers 200');
		t.is(r.headers['timing-allow-origin'], allowed, 'Timing-Allow-Origin names the origin');
		t.like(r.headers['server-timing'] || '', /^app;dur=\d+\.\d{3}$/, 'Server-Timing carries the server time');
	});
}
await t.done();
