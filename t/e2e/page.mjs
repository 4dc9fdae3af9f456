// page.mjs - end-to-end test of the web page in Debian's Chromium (headless, driven by
// playwright-core from t/e2e/node_modules) against the local stack: sign in as the demo user,
// click Start (a timed test of both directions with latency probes, 2 s a direction) and
// check that every big number shown is the stored test's, run a ping test and fixed-size
// throughput tests from the folded part, check that the numbers the page shows equal the
// stored results (read back through the API) and that every rate shown as throughput is the
// receiver's (a download's is the client's, and one never reported says so rather than show
// the sender's), and save screenshots under t/e2e/output/ (or
// $PINGOO_BUILDDIR/t/e2e/output/).  TAP on stdout.
//
// Run: node t/e2e/page.mjs          (after `npm ci` in t/e2e and deploy/local/up)
// Skips when var/stack.env is absent, fails instead when PINGOO_REQUIRE_STACK=1.
// PINGOO_E2E_MOCK=1 runs against t/sdk/mock-server.mjs serving web/dist instead (no stack).
// PINGOO_UPDATE_SCREENSHOT=1 also copies the Start screenshot to docs/screenshot.png.
// PINGOO_E2E_LOCAL_WEB=1 (against the stack) serves the page's files from this checkout's
// web/dist, with the server's own headers, instead of the stack's: for a page built in a
// work tree other than the one the stack runs from.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ok, is, like, test, done, diag, skipAll, bailOut } from '../integration/lib/tap.mjs';
import { loadStack, repoDir } from '../integration/lib/stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.PINGOO_CHROMIUM || '/usr/bin/chromium';
const outDir = process.env.PINGOO_BUILDDIR
	? path.join(process.env.PINGOO_BUILDDIR, 't', 'e2e', 'output')
	: path.join(here, 'output');

// ---- where to test -------------------------------------------------------------------------

let base;
let user;
let password;
let mock = null;
if (process.env.PINGOO_E2E_MOCK === '1') {
	const { createMock } = await import('../sdk/mock-server.mjs');
	mock = createMock({ users: { demo: 'demo-password' }, webDir: path.join(repoDir, 'web', 'dist') });
	base = await mock.listen();
	user = 'demo';
	password = 'demo-password';
} else {
	const stack = loadStack();
	if (!stack)
		skipAll('no var/stack.env: the local stack is not up (deploy/local/up)');
	const missing = ['PINGOO_URL', 'PINGOO_DEMO_USER', 'PINGOO_DEMO_PASSWORD']
	    .filter((k) => !stack[k]);
	if (missing.length)
		bailOut(`stack.env lacks ${missing.join(', ')}`);
	base = stack.PINGOO_URL;
	user = stack.PINGOO_DEMO_USER;
	password = stack.PINGOO_DEMO_PASSWORD;
	const why = await answers(`${base}/api/v1/health`, stack.PINGOO_CA_FILE);
	if (why)
		skipAll(`the stack of ${stack.envFile} does not answer at ${base}: ${why}`);
}

// null when url answers at all (any status), else why not.
function answers(url, caFile) {
	return new Promise((resolve) => {
		const mod = url.startsWith('https:') ? https : http;
		const opts = { timeout: 5000 };
		if (caFile && url.startsWith('https:'))
			opts.ca = fs.readFileSync(caFile);
		const req = mod.get(url, opts, (res) => {
			res.resume();
			resolve(null);
		});
		req.on('timeout', () => req.destroy(new Error('timed out')));
		req.on('error', (e) => resolve(e.message));
	});
}

let chromium;
try {
	const require = createRequire(path.join(here, 'package.json'));
	({ chromium } = require('playwright-core'));
} catch {
	skipAll('playwright-core is not installed: run `npm ci` in t/e2e');
}
if (!fs.existsSync(CHROMIUM))
	skipAll(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);

fs.mkdirSync(outDir, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pingoo-e2e-'));
diag(`page at ${base}, Chromium ${CHROMIUM}, output in ${outDir}`);

// ---- helpers -------------------------------------------------------------------------------

// The rows of a result table: {key: {dir|'': {text, value}}}.
async function readTable(page, sel) {
	return page.$$eval(`${sel} tr[data-key]`, (rows) => {
		const out = {};
		for (const r of rows) {
			const cells = {};
			for (const td of r.querySelectorAll('td'))
				cells[td.dataset.dir || ''] = { text: td.textContent.trim(), value: td.dataset.value };
			out[r.dataset.key] = cells;
		}
		return out;
	});
}

// What the page shows, turned back into the API's number (µs, bps, count), or null for '—'.
function parseShown(key, text) {
	if (text === '—')
		return null;
	let m;
	if ((m = /^(-?[0-9]+\.[0-9]{3}) ms$/.exec(text)))
		return { n: Math.round(parseFloat(m[1]) * 1000), exact: true };
	if ((m = /^(-?[0-9]+\.[0-9]{3}) Mbit\/s$/.exec(text)))
		return { n: parseFloat(m[1]) * 1e6, exact: false, tol: 500 };
	if ((m = /^(-?[0-9.]+)%$/.exec(text)))
		return { n: parseFloat(m[1]), exact: true };
	if ((m = /^(-?[0-9]+) B$/.exec(text)))
		return { n: Number(m[1]), exact: true };
	if ((m = TIME_OF_DAY.exec(text)))
		return { n: ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1e6 + Number(m[4]),
		    exact: true, mod: 86400e6 };
	if (/^-?[0-9]+(\.[0-9]+)?$/.test(text))
		return { n: Number(text), exact: true };
	return { s: text };
}

const REPORT_MISSING = 'report missing';

function sameAsShown(key, text, stored) {
	if (key === 'report_missing')
		return text === (stored ? 'missing' : 'all in');
	if (text === REPORT_MISSING)
		return stored === null;
	const p = parseShown(key, text);
	if (p === null)
		return stored === null || stored === undefined;
	if (p.s !== undefined)
		return p.s === String(stored);
	if (typeof stored !== 'number')
		return false;
	if (p.mod)
		return stored % p.mod === p.n;
	return p.exact ? p.n === stored : Math.abs(p.n - stored) <= p.tol;
}

function compareSummary(shown, summary, dir, what) {
	const bad = [];
	let n = 0;
	for (const [key, value] of Object.entries(summary)) {
		const cell = shown[key] && shown[key][dir];
		if (!cell) {
			bad.push(`${key}: not shown`);
			continue;
		}
		n++;
		if (!sameAsShown(key, cell.text, value))
			bad.push(`${key}: page shows ${JSON.stringify(cell.text)}, stored ${value}`);
		const raw = value === null ? '' : String(value);
		if (cell.value !== raw)
			bad.push(`${key}: data-value ${cell.value} != stored ${raw}`);
	}
	return ok(bad.length === 0 && n > 0, `${what}: the ${n} summary values on the page equal the stored ones`,
	    bad.join('\n'));
}

// A moment shown as the time of day in UTC to the µs (web/src/app.js timeOfDay).
const TIME_OF_DAY = /^([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{6}) UTC$/;

// The page's files from this checkout's web/dist, each with the headers the server gives
// it (its CSP and all); the API goes to the server.
async function serveLocalWeb(c) {
	const dist = path.join(repoDir, 'web', 'dist');
	const origin = new URL(base).origin;
	const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript',
		'.css': 'text/css', '.svg': 'image/svg+xml' };
	await c.route((u) => u.origin === origin && !u.pathname.startsWith('/api/'), async (route) => {
		const u = new URL(route.request().url());
		const rel = u.pathname === '/' ? 'index.html' : decodeURIComponent(u.pathname.slice(1));
		const file = path.join(dist, path.normalize(rel));
		if (!file.startsWith(dist + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile())
			return route.continue();
		const res = await route.fetch();
		const headers = { ...res.headers() };
		delete headers['content-length'];
		delete headers['content-encoding'];
		delete headers.etag;
		delete headers['last-modified'];
		headers['content-type'] = types[path.extname(file)] ?? 'application/octet-stream';
		await route.fulfill({ status: 200, headers, body: fs.readFileSync(file) });
	});
	diag(`the page's files come from ${dist}`);
}

// ---- the run -------------------------------------------------------------------------------

const problems = [];
let ctx;
let page;
let api;
let token;

await test('Chromium starts headless with a fresh profile', async () => {
	ctx = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		ignoreHTTPSErrors: true,
		viewport: { width: 1280, height: 900 },
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
		    '--disable-background-networking', '--disable-component-update', '--disable-sync',
		    '--disable-quic'],
		timeout: 60000,
	});
	if (process.env.PINGOO_E2E_LOCAL_WEB === '1' && !mock)
		await serveLocalWeb(ctx);
	page = ctx.pages()[0] ?? await ctx.newPage();
	page.setDefaultTimeout(60000);
	page.on('console', (msg) => {
		if (msg.type() === 'error')
			problems.push(`console: ${msg.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	api = ctx.request;
	ok(!page.isClosed(), 'headless Chromium has a page to drive');
});

await test('the page loads from the server, with no inline code for the CSP to refuse', async () => {
	const res = await page.goto(base + '/', { waitUntil: 'load' });
	is(res && res.status(), 200, 'GET / answers 200');
	await page.waitForSelector('#signin:not([hidden])');
	ok(await page.isVisible('#signin-form'), 'the sign-in form is shown');
	const csp = res.headers()['content-security-policy'];
	if (csp)
		diag(`CSP: ${csp}`);
});

await test('sign in as the demo user', async () => {
	await page.fill('#username', user);
	await page.fill('#password', password);
	await page.click('#signin-button');
	await page.waitForSelector('#app:not([hidden])');
	is(await page.textContent('#who-name'), user, 'the page names the signed-in user');
	const r = await api.post(`${base}/api/v1/auth/token`, { data: { username: user, password } });
	is(r.status(), 200, 'the test gets its own token for reading back');
	token = (await r.json()).access_token;
});

async function stored(kind, id) {
	const r = await api.get(`${base}/api/v1/${kind}-tests/${id}`,
	    { headers: { Authorization: `Bearer ${token}` } });
	if (r.status() !== 200)
		throw new Error(`GET ${kind} test ${id}: ${r.status()} ${await r.text()}`);
	return r.json();
}

let pingId = null;
let tpId = null;
let speedId = null;

// Opens a <details> fold of the page.
async function unfold(id) {
	await page.$eval(`#${id}`, (d) => {
		d.open = true;
	});
}

// The big numbers as the page formats them (web/src/app.js tileText): Mbit/s with 2 decimals,
// ms with 1 (a rise with its sign), the grade and the RPM as they are.
function tileText(key, v) {
	if (v === null || v === undefined)
		return '—';
	if (key === 'download' || key === 'upload')
		return (v / 1e6).toFixed(2);
	if (key === 'idle')
		return (v / 1000).toFixed(1);
	if (key.startsWith('rise_'))
		return `${v > 0 ? '+' : ''}${(v / 1000).toFixed(1)}`;
	return String(v);
}

const speedShot = path.join(outDir, 'speed.png');

await test('Start: idle latency, download and upload with loaded latency; every big number is the stored test\'s', async () => {
	ok(!(await page.isVisible('#tp-form')) && !(await page.isVisible('#ping-form')) &&
	    !(await page.isVisible('#set-duration')),
	'the N x S form, ping and the settings are folded away');
	ok(await page.isVisible('#start'), 'the Start button is shown');
	await page.click('#settings > summary');
	await page.fill('#set-duration', '2');
	if (mock)	// the mock speaks HTTP/1.1: Chromium opens 6 connections to it at most
		await page.fill('#set-streams', '4');
	await page.click('#settings > summary');
	const bar = [];
	const watch = setInterval(() => {
		page.$eval('#progress-bar', (b) => b.style.width).then((w) => bar.push(w), () => undefined);
	}, 300);
	try {
		speedId = await runAndWait('#start', 'speed', 120000);
	} finally {
		clearInterval(watch);
	}
	ok(speedId > 0, `speed test #${speedId} finished`);
	const widths = bar.map((w) => parseFloat(w)).filter((w) => w > 0 && w < 100);
	ok(widths.length >= 2 && widths.every((w, i) => i === 0 || w >= widths[i - 1]),
	    'the progress bar moved forward while it ran', bar);
	const t = await stored('throughput', speedId);
	is([t.state, t.direction, t.duration_ms, t.packets], ['complete', 'both', 2000, null],
	    'the stored test is a complete timed test of both directions, 2 s each');
	is(Object.keys(t.summary.latency), ['idle', 'download', 'upload'],
	    'with idle, download and upload latency probes');
	const tiles = await page.$$eval('#tiles .tile', (ts) => Object.fromEntries(ts.map((x) =>
	    [x.dataset.key, { text: x.querySelector('.big').textContent.trim(),
		value: x.querySelector('.big').dataset.value }])));
	is(await page.getAttribute('#tiles', 'data-test-id'), String(speedId), 'the big numbers are that test\'s');
	const lat = t.summary.latency;
	const want = {
		download: t.summary.download.bits_per_second, upload: t.summary.upload.bits_per_second,
		idle: lat.idle.rtt_median_us, rise_download: lat.download.rise_median_us,
		rise_upload: lat.upload.rise_median_us, grade: t.summary.bufferbloat_grade,
		rpm: t.summary.responsiveness_rpm,
	};
	ok(want.download > 0 && want.upload > 0 && want.idle > 0 && want.grade && want.rpm > 0,
	    'the stored test has every figure', want);
	const bad = [];
	for (const [k, v] of Object.entries(want)) {
		const shown = tiles[k];
		if (!shown || shown.text !== tileText(k, v) || shown.value !== String(v))
			bad.push(`${k}: shown ${JSON.stringify(shown)}, stored ${v}`);
	}
	ok(bad.length === 0, 'download and upload Mbit/s, idle latency, the two rises, the grade and the RPM shown are the stored ones',
	    bad.join('\n'));
	ok(['download', 'upload'].every((d) => t.summary[d].window_bytes > 0 &&
	    t.summary[d].bits_per_second === Math.round(t.summary[d].window_bytes * 8e6 /
		(t.summary[d].window_end_at - t.summary[d].window_start_at))),
	'the rates shown are the stored window rates, at the receiver');
	const points = await page.$$eval('#live-chart canvas', (cs) => cs.map((c) => c.width * c.height));
	ok(points.length > 0 && points[0] > 0, 'the live graph is drawn');
	const shown = await readTable(page, '#tp-result');
	is(Number(shown.id[''].value), t.id, 'the folded details table is about that test too');
	compareSummary(shown, t.summary.download, 'download', 'timed download');
	compareSummary(shown, t.summary.upload, 'upload', 'timed upload');
	await page.evaluate(() => window.scrollTo(0, 0));
	await page.locator('#speed').screenshot({ path: speedShot });
	ok(fs.statSync(speedShot).size > 10000, `saved ${speedShot}`);
	const docShot = path.join(repoDir, 'docs', 'screenshot.png');
	if (process.env.PINGOO_UPDATE_SCREENSHOT === '1' || !fs.existsSync(docShot)) {
		try {
			fs.copyFileSync(speedShot, docShot);
			diag(`copied to ${docShot}`);
		} catch (e) {
			diag(`not copied to docs/: ${e.message}`);
		}
	}
});

// Clicks a run button and waits for the page to say the run ended; the test's id.
async function runAndWait(button, flag, timeout) {
	await page.click(button);
	await page.waitForSelector(`body[data-${flag}-done], body[data-${flag}-failed]`,
	    { state: 'attached', timeout });
	if (await page.getAttribute('body', `data-${flag}-failed`) !== null)
		throw new Error(`the page says: ${await page.textContent('#status')}`);
	return Number(await page.getAttribute('body', `data-${flag}-done`));
}

await test('run a ping test: live chart, and the table shows the stored summary', async () => {
	await unfold('more');
	await page.fill('#ping-count', '20');
	await page.fill('#ping-interval', '25');
	pingId = await runAndWait('#ping-run', 'ping', 120000);
	ok(pingId > 0, `ping test #${pingId} finished`);
	is(await page.getAttribute('body', 'data-runner'), 'worker', 'it ran in a module worker');
	const shown = await readTable(page, '#ping-result');
	const t = await stored('ping', pingId);
	is(Number(shown.id[''].value), t.id, 'the table is about that test');
	is(shown.state[''].text, t.state, 'state shown is the stored state');
	is(t.state, 'complete', 'the stored test is complete');
	is(t.summary.received, 20, 'the server received all 20 samples');
	compareSummary(shown, t.summary, '', 'ping');
	const points = await page.$$eval('#rtt-chart canvas', (cs) => cs.map((c) => c.width * c.height));
	ok(points.length > 0 && points[0] > 0, 'the RTT chart is drawn');
});

await test('run a download test: live chart, and the table shows the stored summary', async () => {
	await page.selectOption('#tp-direction', 'download');
	await page.fill('#tp-packets', '12');
	await page.fill('#tp-size', '256');
	await page.fill('#tp-streams', '2');
	tpId = await runAndWait('#tp-run', 'tp', 180000);
	ok(tpId > 0, `throughput test #${tpId} finished`);
	const shown = await readTable(page, '#tp-result');
	const t = await stored('throughput', tpId);
	is(Number(shown.id[''].value), t.id, 'the table is about that test');
	is(t.state, 'complete', 'the stored test is complete');
	is([t.direction, t.packets, t.packet_size], ['download', 12, 262144], 'created as asked');
	is(t.summary.download.received, 12, 'the server counts 12 packets received');
	is(t.summary.upload, null, 'no upload summary for a download test');
	compareSummary(shown, t.summary.download, 'download', 'download');
	ok(t.transfers.every((x) => x.client_sent_at <= x.client_first_byte_at &&
	    x.client_first_byte_at <= x.client_received_at),
	    'the page reported every packet with its first byte between the request and the last byte');
	const d = t.summary.download;
	const first = Math.min(...t.transfers.map((x) => x.client_first_byte_at));
	const last = Math.max(...t.transfers.map((x) => x.client_received_at));
	is([d.report_missing, d.elapsed_us], [false, last - first],
	    'the stored download time runs from the first first byte to the last byte, at the client');
	is(shown.bits_per_second.download.value, String(d.bits_per_second),
	    'the Throughput shown is the receiver\'s (the client\'s) rate');
	const rates = t.transfers.map((x) => x.bits_per_second).sort((a, b) => a - b);
	is([shown.packet_bps_min.download.value, shown.packet_bps_max.download.value],
	    [String(rates[0]), String(rates.at(-1))],
	    'the per-packet figures shown are the transfers\' receiver rates');
	const points = await page.$$eval('#tp-chart canvas', (cs) => cs.map((c) => c.width * c.height));
	ok(points.length > 0 && points[0] > 0, 'the throughput chart is drawn');
});

let latId = null;

await test('a test in both directions shows its idle, download and upload probes, the grade and the RPM as stored', async () => {
	await page.selectOption('#tp-direction', 'both');
	await page.fill('#tp-packets', '6');
	await page.fill('#tp-size', '1024');
	await page.fill('#tp-streams', '2');
	ok(await page.isChecked('#tp-probes'), 'latency probes are on by default');
	latId = await runAndWait('#tp-run', 'tp', 180000);
	const t = await stored('throughput', latId);
	const lat = t.summary.latency;
	is(Object.keys(lat), ['idle', 'download', 'upload'], 'the stored test has probes of the three phases');
	ok(lat.idle.samples >= 10, 'at least 10 idle probes were answered');
	await page.waitForSelector(`#lat-result table[data-test-id="${latId}"]`);
	const shown = await readTable(page, '#lat-result');
	const bad = [];
	for (const ph of ['idle', 'download', 'upload'])
		for (const k of ['samples', 'lost', 'rtt_median_us', 'rtt_p90_us', 'rtt_p99_us', 'rise_median_us']) {
			const want = lat[ph][k];
			if (want === undefined)
				continue;
			const got = shown[k]?.[ph];
			if (!got || got.value !== (want === null ? '' : String(want)) ||
			    !sameAsShown(k, got.text, want))
				bad.push(`${ph}.${k}: shown ${JSON.stringify(got)}, stored ${want}`);
		}
	ok(bad.length === 0, 'each phase\'s figures shown are the stored ones', bad.join('\n'));
	is([shown.bufferbloat_grade[''].text, shown.responsiveness_rpm[''].text],
	    [t.summary.bufferbloat_grade ?? '—', t.summary.responsiveness_rpm === null ? '—'
		: `${t.summary.responsiveness_rpm} RPM`], 'the grade and the RPM shown are the stored ones');
	const legend = await page.textContent('#lat-chart');
	ok(['Idle', 'Download', 'Upload'].every((x) => legend.includes(x)),
	    'the latency chart has a series for each phase', legend);
	const points = await page.$$eval('#lat-chart canvas', (cs) => cs.map((c) => c.width * c.height));
	ok(points.length > 0 && points[0] > 0, 'the latency chart is drawn');
	await page.click('#hist-tp');
	const item = page.locator(`#history-list button[data-id="${latId}"]`);
	await item.waitFor();
	is(await item.getAttribute('data-grade'), t.summary.bufferbloat_grade,
	    'the past tests list carries the stored grade');
	ok((await item.textContent()).includes(`grade ${t.summary.bufferbloat_grade}`),
	    'and shows it');
	await page.click('#hist-ping');
});

await test('the past tests list shows both runs', async () => {
	if (!pingId || !tpId)
		throw new Error('a run failed above');
	await page.waitForSelector(`#history-list button[data-id="${pingId}"]`);
	ok(true, `ping test #${pingId} is listed`);
	await page.click('#hist-tp');
	await page.waitForSelector(`#history-list button[data-id="${tpId}"]`);
	ok(true, `throughput test #${tpId} is listed`);
});

await test('screenshots: desktop, and a phone-sized screen without sideways scrolling', async () => {
	await page.evaluate(() => window.scrollTo(0, 0));
	const shot = path.join(outDir, 'page.png');
	await page.screenshot({ path: shot, fullPage: true });
	ok(fs.statSync(shot).size > 10000, `saved ${shot}`);
	await page.setViewportSize({ width: 390, height: 844 });
	await page.waitForTimeout(300);
	const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
	ok(widths[0] <= widths[1], 'no horizontal overflow at 390 px', `scrollWidth ${widths[0]} > ${widths[1]}`);
	await page.screenshot({ path: path.join(outDir, 'phone.png'), fullPage: true });
});

await test('a download the client never reported shows "report missing", not the sender\'s figures', async () => {
	const auth = { Authorization: `Bearer ${token}` };
	const c = await api.post(`${base}/api/v1/throughput-tests`, { headers: auth,
	    data: { direction: 'download', packets: 2, packet_size: 65536 } });
	is(c.status(), 201, 'a 2-packet download test is created through the API');
	const id = (await c.json()).id;
	for (const seq of [0, 1]) {
		const r = await api.get(`${base}/api/v1/throughput-tests/${id}/download/${seq}`, { headers: auth });
		is([r.status(), (await r.body()).length], [200, 65536], `packet ${seq} is fetched and never reported`);
	}
	const t = await stored('throughput', id);
	const d = t.summary.download;
	is([t.state, d.received, d.reported, d.report_missing, d.bits_per_second],
	    ['complete', 2, 0, true, null], 'the read says the report is missing, with no receiver rate');
	await page.click('#hist-tp');
	await page.click('#hist-refresh');
	const item = page.locator(`#history-list button[data-id="${id}"]`);
	await item.waitFor();
	ok((await item.textContent()).includes(`download ${REPORT_MISSING}`),
	    'the past tests list says the report is missing');
	await item.click();
	await page.waitForSelector(`#tp-result table[data-test-id="${id}"]`);
	const shown = await readTable(page, '#tp-result');
	const receiver = ['elapsed_us', 'bits_per_second', 'packet_bps_min', 'packet_bps_median',
		'packet_bps_p90', 'packet_bps_max'];
	is(receiver.map((k) => shown[k].download.text), receiver.map(() => REPORT_MISSING),
	    'Throughput, Elapsed and every Per packet figure read "report missing"');
	is(shown.report_missing.download.text, 'missing', 'the client reports row says missing');
	const sender = [d.sender_bits_per_second, d.sender_elapsed_us].map(String);
	ok(d.sender_bits_per_second !== null &&
	    receiver.every((k) => !sender.includes(shown[k].download.value)),
	    'no receiver row holds the sender\'s figures, which the server has');
	compareSummary(shown, d, 'download', 'unreported download');
});

await test('your data: the aggregates table and the CSV download', async () => {
	if (!pingId)
		throw new Error('the ping run failed above');
	const auth = { Authorization: `Bearer ${token}` };
	const a = await (await api.get(`${base}/api/v1/export/aggregates?group=network_type`, { headers: auth })).json();
	await page.selectOption('#agg-group', 'network_type');
	const want = JSON.stringify(a.groups.map((x) => x.key ?? ''));
	const read = () => page.$$eval('#agg-body tr', (trs) => trs.map((tr) => ({ key: tr.dataset.key,
	    cells: [...tr.children].map((td) => td.textContent) })));
	let rows = await read();
	for (let i = 0; i < 100 && JSON.stringify(rows.map((r) => r.key)) !== want; i++) {
		await page.waitForTimeout(100);
		rows = await read();
	}
	is(rows.map((r) => r.key), a.groups.map((g) => g.key ?? ''), 'a row per group, as the API groups them');
	const g = a.groups[0];
	is(rows[0].cells[2], g.ping && g.ping.rtt_median_us !== null ? `${(g.ping.rtt_median_us / 1000).toFixed(3)} ms` : '—',
	    'the RTT median shown is the aggregate\'s');
	const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
	is(download.suggestedFilename(), 'pingoo-tests.csv', 'the button saves pingoo-tests.csv');
	const file = path.join(outDir, 'pingoo-tests.csv');
	await download.saveAs(file);
	const text = fs.readFileSync(file, 'utf8');
	like(text, /^record,test_id,state,/, 'it starts with the CSV header');
	ok(text.includes(`\r\nping_test,${pingId},`), `it holds ping test #${pingId}`);
	like(text, /\r\nend,(,)*\d+,\d+\r\n$/, 'and ends with the end row');
});

await test('no console errors, page errors or CSP violations', () => {
	is(problems, [], 'the console stayed clean');
});

await test('close Chromium', async () => {
	if (ctx)
		await ctx.close();
	if (mock)
		await mock.close();
	fs.rmSync(profile, { recursive: true, force: true });
	ok(!page || page.isClosed(), 'Chromium has closed its page');
	ok(!fs.existsSync(profile), 'its throwaway profile is removed');
});

await done();
