// poll.mjs - waiting for something the stack does in its own time (a write after the
// answer, a restart, a database coming back) without a fixed sleep.

import { setTimeout as sleep } from 'node:timers/promises';

// Calls fn (it may be async) every everyMs until done(its value) is true or untilMs have
// passed; returns the last value.  By default a truthy value is done.  A throw from fn is
// not caught: it ends the wait.
export async function poll(fn, untilMs = 5000, everyMs = 50, done = Boolean) {
	const end = Date.now() + untilMs;
	for (;;) {
		const v = await fn();
		if (done(v) || Date.now() >= end)
			return v;
		await sleep(everyMs);
	}
}
