// open.mjs - the stack a test file runs against, or a skip of the whole
// file (a failure under PINGOO_REQUIRE_STACK=1, see tap.mjs).
import * as t from './tap.mjs';
import { loadStack, missingKeys, stackEnvPath } from './stack.mjs';
import { api, describe } from './http.mjs';

// keys: the stack.env entries the file needs.  Returns the stack, or skips.
export function requireStack(keys = ['PINGOO_URL', 'PINGOO_CA_FILE']) {
	const stack = loadStack();
	if (!stack)
		t.skipAll(`no stack: ${stackEnvPath()} does not exist (run deploy/local/up)`);
	const missing = missingKeys(stack, keys);
	if (missing.length)
		t.skipAll(`${stack.envFile} lacks ${missing.join(', ')}`);
	return stack;
}

// The API client of a stack that answers its health route with 200, or a skip.
export async function healthyApi(stack) {
	const A = api(stack);
	try {
		const h = await A.get('/api/v1/health', undefined, { timeoutMs: 5000 });
		if (h.status !== 200)
			t.skipAll(`the stack is not healthy: ${describe(h)}`);
	} catch (e) {
		t.skipAll(`the stack of ${stack.envFile} does not answer at ${stack.PINGOO_URL}: ${e.message}`);
	}
	return A;
}

// Both: returns {stack, A} once the stack answers its health route with 200.
export async function openStack(keys) {
	const stack = requireStack(keys);
	return { stack, A: await healthyApi(stack) };
}
