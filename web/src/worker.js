// worker.js - runs one Pingoo test off the page's main thread (a module worker).
//
// in:  {type: 'run', kind: 'ping'|'throughput', baseUrl, token, params}
//      {type: 'abort'}
// out: {type: 'start', test} {type: 'sample', sample} {type: 'progress', progress}
//      {type: 'probe', probe}
//      {type: 'done', test} {type: 'error', error: {name, status, code, message, field, test}}

import { Pingoo } from './pingoo.js';

let ctl = null;

function plainError(e) {
	return {
		name: e && e.name ? e.name : 'Error',
		status: e && e.status !== undefined ? e.status : null,
		code: e && e.code ? e.code : null,
		message: e && e.message ? e.message : String(e),
		field: e && e.field ? e.field : null,
		test: e && e.test ? e.test : null,
	};
}

self.onmessage = async (ev) => {
	const m = ev.data || {};
	if (m.type === 'abort') {
		if (ctl)
			ctl.abort();
		return;
	}
	if (m.type !== 'run')
		return;
	ctl = new AbortController();
	const pg = new Pingoo({ baseUrl: m.baseUrl, token: m.token });
	const common = {
		...m.params,
		signal: ctl.signal,
		onStart: (test) => self.postMessage({ type: 'start', test }),
	};
	try {
		let test;
		if (m.kind === 'ping') {
			test = await pg.ping({ ...common, onSample: (s) => {
				const { error, ...sample } = s;
				if (error)
					sample.error = plainError(error);
				self.postMessage({ type: 'sample', sample });
			} });
		} else {
			test = await pg.throughput({ ...common,
			    onProgress: (progress) => self.postMessage({ type: 'progress', progress }),
			    onProbe: (p) => {
				const { error, ...probe } = p;
				self.postMessage({ type: 'probe', probe });
			    } });
		}
		self.postMessage({ type: 'done', test });
	} catch (e) {
		self.postMessage({ type: 'error', error: plainError(e) });
	} finally {
		ctl = null;
	}
};
