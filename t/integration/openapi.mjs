// openapi.mjs - docs/openapi.json is the whole contract: the server serves it, every route of
// app/route.c's table is in it, and (through lib/http.mjs, for every test) every response
// matches it.
import fs from 'node:fs';
import path from 'node:path';
import * as t from './lib/tap.mjs';
import { loadStack, stackEnvPath, repoDir } from './lib/stack.mjs';
import { api, request } from './lib/http.mjs';
import { contractDocument, contractProblem } from './lib/openapi.mjs';

const stack = loadStack();
if (!stack)
	t.skipAll(`no stack: ${stackEnvPath()} does not exist`);
const A = api(stack);
const doc = contractDocument();
const METHODS = { METHOD_GET: 'get', METHOD_POST: 'post', METHOD_PUT: 'put', METHOD_DELETE: 'delete' };

// The route table's rows: [ROUTE_X] = { METHOD_X, "/pattern", ...
function routeTable() {
	const src = fs.readFileSync(path.join(repoDir, 'app', 'route.c'), 'utf8');
	const at = src.search(/\broutes\[[A-Z_]*\]\s*=\s*\{/);
	const table = at < 0 ? '' : src.slice(at, src.indexOf('\n};', at));
	return [...table.matchAll(/\{\s*(METHOD_[A-Z]+),\s*"([^"]+)"/g)].map((m) => ({ method: METHODS[m[1]], pattern: m[2] }));
}

await t.test('the document is OpenAPI 3.1 and names its operations', async () => {
	t.like(doc.openapi, /^3\.1\./, 'openapi is 3.1.x');
	const ids = [];
	for (const [p, item] of Object.entries(doc.paths))
		for (const [m, op] of Object.entries(item)) {
			ids.push(op.operationId);
			t.ok(op.responses && Object.keys(op.responses).some((s) => /^2/.test(s)),
			    `${m.toUpperCase()} ${p} documents a success`);
		}
	t.is(new Set(ids).size, ids.length, 'operationIds are unique');
});

await t.test('every route of app/route.c is in the document', async () => {
	const routes = routeTable();
	t.ok(routes.length >= 16, `the route table was read (${routes.length} routes)`);
	for (const r of routes)
		t.ok(doc.paths[r.pattern] && doc.paths[r.pattern][r.method],
		    `${r.method.toUpperCase()} ${r.pattern} is documented`);
});

await t.test('GET /api/v1/openapi.json serves the document', async () => {
	const r = await request(stack, { path: '/api/v1/openapi.json' });
	t.is(r.status, 200, 'it answers 200');
	t.like(r.headers['content-type'] ?? '', /^application\/json/, 'as JSON');
	t.ok(r.json && JSON.stringify(r.json) === JSON.stringify(doc), 'the very document of the repository');
	const p = await request(stack, { method: 'POST', path: '/api/v1/openapi.json' });
	t.is(p.status, 405, 'another method answers 405');
	t.is(p.json?.error?.code, 'method_not_allowed', 'in the API\'s JSON');
});

await t.test('the check refuses what the document does not say', async () => {
	const json = (status, body) => ({ status, headers: { 'content-type': 'application/json' }, json: body, text: JSON.stringify(body) });
	t.ok(contractProblem('GET', '/api/v1/me', json(200, { id: 1, username: 'a' })),
	    'a body missing a required field is refused');
	t.ok(contractProblem('GET', '/api/v1/me', json(200, { id: 1, username: 'a', created_at: 1, extra: 1 })),
	    'a field the document does not have is refused');
	t.ok(contractProblem('GET', '/api/v1/ping-tests/1', json(409, { error: { code: 'invalid_state', message: 'x' } })),
	    'a status the operation does not list is refused');
	t.ok(contractProblem('GET', '/api/v1/me', json(401, { error: { code: 'made_up', message: 'x' } })),
	    'an error code the document does not have is refused');
	t.is(contractProblem('GET', '/api/v1/me', json(200, { id: 1, username: 'a', created_at: 1 })), null,
	    'a body as documented passes');
});

await t.test('a few live answers match it', async () => {
	const token = await A.login();
	for (const p of ['/api/v1/me', '/api/v1/health', '/api/v1/ping-tests?limit=2', '/api/v1/throughput-tests?limit=2', '/api/v1/nope']) {
		const r = await A.get(p, token);
		t.is(contractProblem('GET', p, r), null, `GET ${p.split('?')[0]} (${r.status}) matches`);
	}
});

await t.done();
