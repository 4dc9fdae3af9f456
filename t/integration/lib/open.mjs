// open.mjs - the stack a test file runs against, or a skip of the whole
// file (a failure under PINGOO_REQUIRE_STACK=1, see tap.mjs).
import * as t from './tap.mjs';
import { loadStack, missingKeys, stackEnvPath } from './stack.mjs';
import { api } from './http.mjs';

// keys: the stack.env entries the file needs.  Returns {stack, A} once the
// stack answers its health route.
export async function openStack(keys = ['PINGOO_URL', 'PINGOO_CA_FILE']) {
	const stack = loadStack();
	if (!stack)
		t.skipAll(`no stack: ${stackEnvPath()} does not exist (run deploy/local/up)`);
	const missing = missingKeys(stack, keys);
	if (missing.length)
		t.skipAll(`${stack.envFile} lacks ${missing.join(', ')}`);
	const A = api(stack);
	try {
		await A.get('/api/v1/health', undefined, { timeoutMs: 5000 });
	} catch (e) {
		t.skipAll(`the stack of ${stack.envFile} does not answer at ${stack.PINGOO_URL}: ${e.message}`);
	}
	return { stack, A };
}
