// stale-packets.mjs - a packet left `started` by a worker that died mid-transfer
// is recorded failed by the next worker's sweep (tp_stale_after), and a
// packet still moving is left alone, however long it has been moving (its
// worker stamps server_progress_at as it moves bytes); a client's report of a
// download that no worker recorded settles it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import * as t from './lib/tap.mjs';
import { openStack } from './lib/open.mjs';
import { describe } from './lib/http.mjs';
import { query, scalar } from './lib/db.mjs';
import { userFactory } from './lib/users.mjs';
import { poll } from './lib/poll.mjs';

const { stack, A } = await openStack(['PINGOO_URL', 'PINGOO_CA_FILE', 'PINGOO_ADMIN',
    'PINGOO_DB_SOCKET', 'PINGOO_POOL_CTL']);
const users = userFactory(stack);

// A throwaway user's token and a new test of theirs; the test's id.
async function newTest(what, body) {
	const u = users.create();
	const token = await A.token(u.username, u.password);
	const c = await A.json('POST', '/api/v1/throughput-tests', body, token);
	t.is(c.status, 201, `${what} is created`, describe(c));
	return { token, id: c.json?.id };
}

await t.test('a packet whose worker died is recorded failed after tp_stale_after', async () => {
	const { token, id } = await newTest('a 5-packet download test',
	    { direction: 'download', packets: 5, packet_size: 1000 });
	const now = Date.now() * 1000;
	// As a worker killed mid-packet leaves them: claimed, never finished.  Packet 2 is a
	// long packet still moving: started two hours ago, its worker moved bytes just now.
	// Packet 4's client reported it whole while its worker might still have been sending
	// (so the report could not settle it), and then the worker died.
	query(stack, `INSERT INTO throughput_transfers (test_id, direction, seq, status, bytes,
	    server_started_at, server_progress_at, client_sent_at, client_first_byte_at,
	    client_received_at) VALUES
	    (${id}, 'download', 0, 'started', 0, ${now - 2 * 3600e6}, NULL, NULL, NULL, NULL),
	    (${id}, 'download', 1, 'started', 0, ${now}, NULL, NULL, NULL, NULL),
	    (${id}, 'download', 2, 'started', 0, ${now - 2 * 3600e6}, ${now}, NULL, NULL, NULL),
	    (${id}, 'download', 4, 'started', 0, ${now - 2 * 3600e6}, NULL,
	        ${now - 2 * 3600e6}, ${now - 2 * 3600e6 + 10}, ${now - 2 * 3600e6 + 50})`);
	execFileSync(stack.PINGOO_POOL_CTL, ['restart'], { stdio: 'ignore', timeout: 60000 });
	const status = await poll(() => scalar(stack,
	    `SELECT status FROM throughput_transfers WHERE test_id = ${id} AND seq = 0`), 10000, 200,
	    (v) => v === 'failed');
	t.is(status, 'failed', 'the packet started two hours ago is recorded failed by the restarted pool');
	t.is(scalar(stack, `SELECT server_finished_at FROM throughput_transfers WHERE test_id = ${id} AND seq = 0`), null,
	    'it gets no end stamp: the server never saw its end');
	t.is(scalar(stack, `SELECT status FROM throughput_transfers WHERE test_id = ${id} AND seq = 1`), 'started',
	    'a packet started just now is left alone');
	t.is(scalar(stack, `SELECT status FROM throughput_transfers WHERE test_id = ${id} AND seq = 2`), 'started',
	    'a packet started two hours ago whose worker moved bytes just now is left alone');
	t.is(query(stack, `SELECT status, bytes, server_finished_at IS NULL FROM throughput_transfers
	    WHERE test_id = ${id} AND seq = 4`).map((x) => x.join(' ')), ['ok 1000 1'],
	    'a stale download its client had reported whole is settled ok by the sweep, with no server end');
	const g = await A.get(`/api/v1/throughput-tests/${id}`, token);
	t.is(g.json?.summary?.download?.failed, 1, 'the test read counts the stale packet as failed', describe(g));
	t.is(g.json?.state, 'incomplete', 'the test stays incomplete, as with any failed packet');
	const d = await A.get(`/api/v1/throughput-tests/${id}/download/3`, token);
	t.is(d.status, 200, 'its other packets can still move');

	// The workers of packets 1 and 2 die too (their stamps moved back two hours, as the
	// sweep would find them).  The client had every byte of packets 0, 1 and 2: its report
	// settles them, as their workers are gone, and the last one completes the test.
	query(stack, `UPDATE throughput_transfers SET server_started_at = ${now - 2 * 3600e6},
	    server_progress_at = NULL WHERE test_id = ${id} AND seq IN (1, 2)`);
	const us = Date.now() * 1000;
	const r = await A.json('POST', `/api/v1/throughput-tests/${id}/reports`, { packets: [0, 1, 2, 3].map((seq) =>
	    ({ direction: 'download', seq, client_sent_at: us + seq * 10, client_first_byte_at: us + seq * 10 + 1,
	        client_received_at: us + seq * 10 + 5 })) }, token);
	t.is(r.status, 200, 'the client reports the four downloads', describe(r));
	const rows = query(stack, `SELECT seq, status, bytes, server_finished_at IS NULL FROM throughput_transfers
	    WHERE test_id = ${id} ORDER BY seq`).map((x) => x.join(' '));
	t.is(rows, ['0 ok 1000 1', '1 ok 1000 1', '2 ok 1000 1', '3 ok 1000 0', '4 ok 1000 1'],
	    'the swept and the stale started packets are settled ok with packet_size bytes and no server end; the recorded one keeps its end');
	const g2 = await A.get(`/api/v1/throughput-tests/${id}`, token);
	t.is(g2.json?.state, 'complete', 'the report that settled the last packets completed the test', describe(g2));
	t.is(g2.json?.summary?.download?.received, 5, 'the read counts all five received');
	t.ok(g2.json?.transfers?.length === 5 &&
	    g2.json.transfers.every((x) => x.status === 'ok' && x.bytes === 1000 && x.client_received_at !== null),
	    'every transfer reads ok, with its bytes and the client\'s stamps', describe(g2));
	users.cleanup();
});

await t.test('a report settles only a download whose worker is gone without recording it', async () => {
	const { token, id } = await newTest('a test of 3 packets each way',
	    { direction: 'both', packets: 3, packet_size: 1000 });
	const now = Date.now() * 1000, old = now - 2 * 3600e6;
	// download 0: its worker saw the connection fail (an end stamp); download 1: started
	// just now, its worker may still be sending (an early or lying client reports it);
	// download 2: started two hours ago and not moved since, its worker gone, not swept yet;
	// upload 0 and 1: claimed and never finished, or failed unseen.
	query(stack, `INSERT INTO throughput_transfers (test_id, direction, seq, status, bytes,
	    server_started_at, server_finished_at) VALUES
	    (${id}, 'download', 0, 'failed', 300, ${now}, ${now + 100}),
	    (${id}, 'download', 1, 'started', 0, ${now}, NULL),
	    (${id}, 'download', 2, 'started', 0, ${old}, NULL),
	    (${id}, 'upload', 0, 'started', 0, ${now}, NULL),
	    (${id}, 'upload', 1, 'failed', 0, ${now}, NULL)`);
	const r = await A.json('POST', `/api/v1/throughput-tests/${id}/reports`, { packets: [
	    { direction: 'download', seq: 0, client_sent_at: now, client_first_byte_at: now + 100, client_received_at: now + 500 },
	    { direction: 'download', seq: 1, client_sent_at: now, client_first_byte_at: now + 100, client_received_at: now + 500 },
	    { direction: 'download', seq: 2, client_sent_at: old, client_first_byte_at: old + 100, client_received_at: old + 500 },
	    { direction: 'upload', seq: 0, client_sent_at: now, client_received_at: now + 500 },
	    { direction: 'upload', seq: 1, client_sent_at: now, client_received_at: now + 500 }] }, token);
	t.is(r.status, 200, 'the reports are taken', describe(r));
	const rows = query(stack, `SELECT direction, seq, status, bytes FROM throughput_transfers
	    WHERE test_id = ${id} ORDER BY direction, seq`).map((x) => x.join(' '));
	t.is(rows, ['download 0 failed 300', 'download 1 started 0', 'download 2 ok 1000', 'upload 0 started 0',
	    'upload 1 failed 0'],
	    'a download the server saw fail stays failed, one the server may still be sending stays started, ' +
	    'one whose worker is gone is settled ok, and an upload (the server is its receiver) is never settled by a report');
	users.cleanup();
});
// A real packet read slowly: while it moves, its worker stamps server_progress_at (every 10 s of
// moving bytes), which is what keeps the sweep off a packet longer than tp_stale_after.
await t.test('a worker moving a long download stamps its progress', async () => {
	const SIZE = 64 * 1024 * 1024, RATE = 2 * 1024 * 1024;	// bytes per second read
	const { token, id } = await newTest('a one-packet download test of 64 MiB',
	    { direction: 'download', packets: 1, packet_size: SIZE });
	const url = new URL(stack.PINGOO_URL);
	const ca = fs.readFileSync(stack.PINGOO_CA_FILE);
	let bytes = 0, res0 = null, req = null;
	const t0 = Date.now();
	const started = new Promise((resolve) => {
		req = https.request({ host: url.hostname, port: url.port, agent: false, ca,
		    path: `/api/v1/throughput-tests/${id}/download/0`, headers: { Authorization: `Bearer ${token}` } });
		req.on('response', (res) => {
			res0 = res;
			res.on('data', (d) => {
				bytes += d.length;
				// Read no faster than RATE: the worker's writes go on, slowly.
				if (bytes > ((Date.now() - t0) / 1000 + 1) * RATE)
					res.pause();
			});
			resolve(true);
		});
		req.on('error', () => resolve(false));
		req.end();
	});
	t.ok(await started, 'the download starts', `after ${bytes} bytes`);
	const pacer = setInterval(() => {
		if (res0 && res0.isPaused() && bytes <= ((Date.now() - t0) / 1000 + 1) * RATE)
			res0.resume();
	}, 50);
	try {
		const row = await poll(() => query(stack, `SELECT status, server_started_at, server_progress_at
		    FROM throughput_transfers WHERE test_id = ${id} AND direction = 'download' AND seq = 0`)[0],
		    16000, 500, (v) => v !== undefined && v[2] !== null);
		t.ok(row?.[0] === 'started' && row[2] !== null && Number(row[2]) >= Number(row[1]) + 9e6,
		    'while its bytes move, the packet is started with server_progress_at about 10 s past its start',
		    `row ${JSON.stringify(row)}, ${bytes} bytes read in ${Date.now() - t0} ms`);
	} finally {
		clearInterval(pacer);
		req.destroy();
	}
	users.cleanup();
});

await t.done();
