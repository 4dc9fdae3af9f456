// tcpref.mjs - plain TCP across a shaped link, the reference of t/accuracy/lib.mjs: no TLS,
// no HTTP, no stack, so what it reads is what the link (and the kernel) carry.
//
//   node tcpref.mjs recv ADDR BYTES        listens on ADDR (a port of the kernel's choice),
//                                          prints "listening PORT", takes one connection and
//                                          prints {"bytes","us"}: what arrived, from the end of
//                                          the first read to the end of the last (the first
//                                          read's bytes are left out of the count: they
//                                          arrived before the clock could start)
//   node tcpref.mjs send ADDR PORT BYTES   connects and writes BYTES bytes
//
// Exits 1 on any error, 2 on bad arguments.

import net from 'node:net';

const [mode, addr, a, b] = process.argv.slice(2);

function fail(e) {
	process.stderr.write(`tcpref: ${e && e.message ? e.message : e}\n`);
	process.exit(1);
}

if (mode === 'recv' && addr && Number(a) > 0) {
	const want = Number(a);
	const server = net.createServer((sock) => {
		let got = 0;
		let first = null;
		let firstBytes = 0;
		let last = null;
		sock.on('data', (c) => {
			const now = process.hrtime.bigint();
			if (first === null) {
				first = now;
				firstBytes = c.length;
			}
			got += c.length;
			last = now;
		});
		sock.on('error', fail);
		sock.on('end', () => {
			const us = last !== null && first !== null ? Number(last - first) / 1000 : 0;
			process.stdout.write(JSON.stringify({ bytes: got, counted: got - firstBytes, us }) + '\n');
			server.close();
		});
	});
	server.on('error', fail);
	server.listen(0, addr, () => process.stdout.write(`listening ${server.address().port}\n`));
	setTimeout(() => fail('no connection in 60 s'), 60000).unref();
} else if (mode === 'send' && addr && Number(a) > 0 && Number(b) > 0) {
	let todo = Number(b);
	const chunk = Buffer.alloc(1 << 20, 0x5a);
	const sock = net.connect(Number(a), addr, () => {
		const write = () => {
			while (todo > 0) {
				const n = Math.min(todo, chunk.length);
				todo -= n;
				if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
					sock.once('drain', write);
					return;
				}
			}
			sock.end();
		};
		write();
	});
	sock.on('error', fail);
} else {
	process.stderr.write('usage: tcpref.mjs recv ADDR BYTES | send ADDR PORT BYTES\n');
	process.exit(2);
}
