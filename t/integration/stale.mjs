// stale.mjs - a packet left `started` by a worker that died mid-transfer
// is recorded failed by the next worker's sweep (tp_stale_after), and a
// packet still moving is left alone.
import { execFileSync } from 'node:child_process';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { describe } from './lib/http.mjs';
import { query, scalar } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';
import { poll } from './lib/poll.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_POOL_CTL']);
const users = userFactory(stack);

await t.test('a packet whose worker died is recorded failed after tp_stale_after', async () => {
	const u = users.create();
	const token = await A.token(u.username, u.password);
	const c = await A.json('POST', '/api/v1/throughput-tests',
	    { direction: 'download', packets: 3, packet_size: 1000 }, token);
	t.is(c.status, 201, 'a 3-packet download test is created', describe(c));
	const id = c.json.id;
	const now = Date.now() * 1000;
	// As a worker killed mid-packet leaves them: claimed, never finished.
	query(stack, `INSERT INTO throughput_transfers (test_id, direction, seq, status, bytes,
	    server_started_at) VALUES (${id}, 'download', 0, 'started', 0, ${now - 2 * 3600e6}),
	    (${id}, 'download', 1, 'started', 0, ${now})`);
	execFileSync(stack.PINGOO_POOL_CTL, ['restart'], { stdio: 'ignore', timeout: 60000 });
	const status = await poll(() => scalar(stack,
	    `SELECT status FROM throughput_transfers WHERE test_id = ${id} AND seq = 0`), 10000, 200,
	    (v) => v === 'failed');
	t.is(status, 'failed', 'the packet started two hours ago is recorded failed by the restarted pool');
	t.ok(scalar(stack, `SELECT server_finished_at FROM throughput_transfers WHERE test_id = ${id} AND seq = 0`) !== null,
	    'it gets an end stamp');
	t.is(scalar(stack, `SELECT status FROM throughput_transfers WHERE test_id = ${id} AND seq = 1`), 'started',
	    'a packet started just now is left alone');
	const g = await A.get(`/api/v1/throughput-tests/${id}`, token);
	t.is(g.json?.summary?.download?.failed, 1, 'the test read counts the stale packet as failed', describe(g));
	t.is(g.json?.state, 'incomplete', 'the test stays incomplete, as with any failed packet');
	const d = await A.get(`/api/v1/throughput-tests/${id}/download/2`, token);
	t.is(d.status, 200, 'its other packets can still move');
	users.cleanup();
});
await t.done();
