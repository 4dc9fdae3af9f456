// openapi.mjs - every response the tests receive is checked against docs/openapi.json, so the
// document and the server cannot drift apart.
//
// checkResponse(method, path, res) finds the operation of (method, path) in the document and
// checks the status is one it lists and the body matches its schema (ajv, JSON Schema
// 2020-12, the dialect of OpenAPI 3.1).  A path under /api/ that names no documented path must
// get one of the errors nginx or the router answers for such a path; a documented path with a
// method it does not list, the 405 or the CORS preflight.  Paths of the web page are not the
// API's and are not checked.  A problem goes to the reporter: tap.mjs makes it a failing case.

import fs from 'node:fs';

const DOC_URL = new URL('../../../docs/openapi.json', import.meta.url);
// What nginx or the router answers on any path before an operation is chosen.
const ANY_PATH = [400, 401, 404, 413, 414, 502, 503, 504];
const ON_KNOWN_PATH = [400, 401, 405, 413, 414, 502, 503, 504];

let reporter = (why) => process.stderr.write(`openapi: ${why}\n`);
let checked = 0;
let Ajv = null;
let addFormats = null;
let loadError = null;
try {
	Ajv = (await import('ajv/dist/2020.js')).default;
	addFormats = (await import('ajv-formats')).default;
} catch (e) {
	loadError = e;
}

// Sets who hears of a response the document does not describe.
export function setContractReporter(fn) {
	reporter = fn;
}

export function contractChecked() {
	return checked;
}

let contract = null;
function load() {
	if (contract)
		return contract;
	const doc = JSON.parse(fs.readFileSync(DOC_URL, 'utf8'));
	const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
	addFormats(ajv);
	ajv.addFormat('binary', true);
	ajv.addSchema(doc, 'openapi');
	const paths = Object.keys(doc.paths).map((p) => ({
		path: p,
		re: new RegExp('^' + p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z_]+\}/g, '[^/]+') + '$'),
	}));
	contract = { doc, ajv, paths, compiled: new Map() };
	return contract;
}

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

// The response object of an operation and its JSON pointer, following one $ref.
function responseOf(doc, pathKey, method, status) {
	const op = doc.paths[pathKey][method];
	let ptr = `#/paths/${esc(pathKey)}/${method}/responses/${status}`;
	let r = op.responses[status];
	if (r && r.$ref) {
		ptr = r.$ref;
		r = r.$ref.slice(2).split('/').reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
	}
	return r ? { r, ptr } : null;
}

function validateAt(c, ptr, value) {
	let v = c.compiled.get(ptr);
	if (!v) {
		v = c.ajv.compile({ $ref: 'openapi' + ptr });
		c.compiled.set(ptr, v);
	}
	if (v(value))
		return null;
	return c.ajv.errorsText(v.errors, { dataVar: 'body' });
}

function errorBody(c, res) {
	if (res.json === undefined)
		return `no JSON error body: ${res.text.slice(0, 200)}`;
	return validateAt(c, '#/components/schemas/Error', res.json);
}

// Returns what is wrong with res as an answer to (method, path), or null.
export function contractProblem(method, rawPath, res) {
	const c = load();
	const path = rawPath.split('?')[0];
	const m = method.toLowerCase();
	const hit = c.paths.find((p) => p.re.test(path));
	if (!hit) {
		if (!ANY_PATH.includes(res.status))
			return `status ${res.status} on a path the document does not have`;
		return method === 'HEAD' ? null : errorBody(c, res);
	}
	const item = c.doc.paths[hit.path];
	if (!item[m]) {
		if (method === 'OPTIONS' && (res.status === 204 || res.status === 403))
			return res.status === 204 ? null : errorBody(c, res);
		if (!ON_KNOWN_PATH.includes(res.status))
			return `status ${res.status}: ${hit.path} has no ${method} and this is not a 405`;
		return method === 'HEAD' ? null : errorBody(c, res);
	}
	const found = responseOf(c.doc, hit.path, m, res.status) ?? responseOf(c.doc, hit.path, m, 'default');
	if (!found)
		return `status ${res.status} is not a documented answer of ${method} ${hit.path}`;
	const content = found.r.content;
	if (!content || method === 'HEAD')
		return null;
	const ctype = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
	if (!content[ctype] && !content['*/*'])
		return `content-type ${JSON.stringify(ctype)}, the document says ${Object.keys(content).join(' or ')}`;
	if (ctype !== 'application/json')
		return null;
	if (res.json === undefined)
		return `the body is not JSON: ${res.text.slice(0, 200)}`;
	return validateAt(c, `${found.ptr}/content/application~1json/schema`, res.json);
}

// Checks one response (a complete one: a body cut short proves nothing).
export function checkResponse(method, path, res) {
	// nginx resolves dot segments first: /api/../x is the page's /x.
	let norm;
	try {
		norm = new URL(path.split('?')[0], 'http://h').pathname;
	} catch {
		return;
	}
	if (!norm.startsWith('/api/') && norm !== '/metrics')
		return;
	if (!res || res.complete === false || res.error || res.err)
		return;
	if (loadError) {
		if (process.env.PINGOO_REQUIRE_STACK === '1') {
			reporter(`cannot load ajv (npm ci in t/integration): ${loadError.message}`);
			loadError = null;
		}
		return;
	}
	if (!Ajv)
		return;
	checked++;
	const why = contractProblem(method, path, res);
	if (why)
		reporter(`${method} ${path.split('?')[0]} -> ${res.status}: ${why}\nbody: ${res.text.slice(0, 300)}`);
}

// The document itself, parsed (for the tests of its coverage).
export function contractDocument() {
	return load().doc;
}
