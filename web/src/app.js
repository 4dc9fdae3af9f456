// app.js - the Pingoo page: sign in, run tests in a module worker with live charts, show the
// server's summaries and the user's past tests.  Same origin as the API; CSP-clean (no inline
// script or style: styles set from here go through element.style).

import { Pingoo, PingooError, VERSION } from './pingoo.js';

const $ = (id) => document.getElementById(id);
const STORE = 'pingoo.session';
const uPlot = globalThis.uPlot;

const app = {
	pg: null,
	user: null,
	run: null,		// {kind, abort()} while a test runs
	histKind: 'ping',
	histCursor: null,
	charts: {},
};

// ---- formatting ----------------------------------------------------------------------------

const PING_ROWS = [
	['sent', 'Sent'], ['echoed', 'Echoed'], ['received', 'Received'], ['lost', 'Lost'], ['loss_pct', 'Loss'],
	['rtt_min_us', 'RTT min'], ['rtt_median_us', 'RTT median'], ['rtt_mean_us', 'RTT mean'],
	['rtt_p90_us', 'RTT p90'], ['rtt_p99_us', 'RTT p99'], ['rtt_max_us', 'RTT max'],
	['rtt_stddev_us', 'RTT std. dev.'], ['jitter_us', 'Jitter'],
	['server_median_us', 'Server time (median)'], ['network_rtt_median_us', 'Network RTT (median)'],
	['offset_us', 'Clock offset'], ['offset_uncertainty_us', 'Offset uncertainty'],
];
// Every rate shown as throughput is the receiver's: an upload's measured by the server, a
// download's by the client from its reports (first byte to last).  The sender's figures come
// last, under their own name; a download nobody reported shows "report missing" in the
// receiver's rows, never a sender figure in their place.
const TP_ROWS = [
	['packets', 'Packets'], ['received', 'Received'], ['failed', 'Failed'], ['bytes', 'Bytes'],
	['reported', 'Reported by the client'], ['report_missing', 'Client reports'],
	['elapsed_us', 'Elapsed'], ['bits_per_second', 'Throughput'],
	['grace_us', 'Grace (left out)'], ['window_start_at', 'Window start'],
	['window_end_at', 'Window end'], ['window_bytes', 'Window bytes'],
	['started_at', 'Time started (server)'], ['time_up_at', 'Time up (server)'],
	['packet_bps_min', 'Per packet min'], ['packet_bps_median', 'Per packet median'],
	['packet_bps_p90', 'Per packet p90'], ['packet_bps_max', 'Per packet max'],
	['sender_elapsed_us', 'Sender: elapsed'], ['sender_bits_per_second', 'Sender: pace'],
];
// The receiver's figures: null with a report missing means none was reported.
const RECEIVER_KEYS = new Set(['elapsed_us', 'bits_per_second', 'packet_bps_min',
	'packet_bps_median', 'packet_bps_p90', 'packet_bps_max', 'window_start_at', 'window_end_at',
	'window_bytes']);
export const REPORT_MISSING = 'report missing';

// A moment (µs since the epoch) as the time of day in UTC to the µs: 11:27:21.123456 UTC.
export function timeOfDay(us) {
	const day = ((us % 86400e6) + 86400e6) % 86400e6;
	const two = (n) => String(n).padStart(2, '0');
	return `${two(Math.floor(day / 3600e6))}:${two(Math.floor(day / 60e6) % 60)}:` +
	    `${two(Math.floor(day / 1e6) % 60)}.${String(day % 1e6).padStart(6, '0')} UTC`;
}

// Shown exactly: µs as ms with 3 decimals; rates as Mbit/s with 3 decimals; moments as the
// time of day in UTC to the µs.
export function fmt(key, v) {
	if (v === null || v === undefined)
		return '—';
	if (key === 'report_missing')
		return v ? 'missing' : 'all in';
	if (typeof v !== 'number')
		return String(v);
	if (key.endsWith('_at'))
		return timeOfDay(v);
	if (key === 'duration_ms')
		return `${v} ms`;
	if (key.endsWith('_us'))
		return `${(v / 1000).toFixed(3)} ms`;
	if (key.endsWith('_bps') || key.startsWith('packet_bps') || key.endsWith('bits_per_second'))
		return `${(v / 1e6).toFixed(3)} Mbit/s`;
	if (key.endsWith('_pct'))
		return `${v}%`;
	if (key.endsWith('bytes') || key === 'packet_size')
		return `${v} B`;
	return String(v);
}

function when(us) {
	if (!us)
		return '—';
	const d = new Date(Math.floor(us / 1000));
	return d.toLocaleString();
}

function el(tag, attrs = {}, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null)
			continue;
		if (k === 'class')
			e.className = v;
		else if (k === 'text')
			e.textContent = v;
		else if (k.startsWith('data-'))
			e.setAttribute(k, String(v));
		else
			e[k] = v;
	}
	for (const k of kids)
		e.append(k);
	return e;
}

function row(key, label, cells) {
	return el('tr', { 'data-key': key }, el('th', { scope: 'row', text: label }), ...cells);
}

function cell(key, v, dir, text) {
	return el('td', { 'data-value': v === null || v === undefined ? '' : v, 'data-dir': dir,
	    text: text ?? fmt(key, v) });
}

// A cell of a direction's summary: a receiver figure a missing report leaves empty says so.
function tpCell(key, d, dir) {
	const v = d[key];
	const missing = RECEIVER_KEYS.has(key) && (v === null || v === undefined) && d.report_missing;
	const td = cell(key, v, dir, missing ? REPORT_MISSING : undefined);
	if (missing || (key === 'report_missing' && v))
		td.classList.add('missing');
	if (key.startsWith('sender_'))
		td.classList.add('sender');
	return td;
}

function renderPing(test) {
	const box = $('ping-result');
	const s = test.summary || {};
	const body = el('tbody', {},
	    row('id', 'Test', [cell('id', test.id)]),
	    row('state', 'State', [cell('state', test.state)]),
	    row('count', 'Count', [cell('count', test.count)]),
	    row('interval_ms', 'Interval', [el('td', { 'data-value': test.interval_ms,
		text: `${test.interval_ms} ms` })]),
	    row('created_at', 'Started', [el('td', { 'data-value': test.created_at,
		text: when(test.created_at) })]));
	const known = new Set(PING_ROWS.map(([k]) => k));
	for (const [k, label] of PING_ROWS)
		body.append(row(k, label, [cell(k, s[k])]));
	for (const k of Object.keys(s).filter((x) => !known.has(x)))
		body.append(row(k, k, [cell(k, s[k])]));
	box.replaceChildren(el('table', { class: 'summary', 'data-test-id': test.id }, body));
	box.dataset.testId = String(test.id);
}

function renderThroughput(test) {
	const box = $('tp-result');
	const sum = test.summary || {};
	const dirs = ['download', 'upload'].filter((d) => sum[d]);
	const head = el('thead', {}, el('tr', {}, el('th', { text: '' }),
	    ...dirs.map((d) => el('th', { scope: 'col', text: d === 'download' ? 'Download' : 'Upload' }))));
	const span = (key, v, text) => [el('td', { colSpan: Math.max(1, dirs.length),
	    'data-value': v, text: text ?? fmt(key, v) })];
	const body = el('tbody', {},
	    row('id', 'Test', span('id', test.id)),
	    row('state', 'State', span('state', test.state)),
	    row('direction', 'Direction', span('direction', test.direction)),
	    row('duration_ms', 'Duration per direction', span('duration_ms', test.duration_ms ?? null)),
	    row('packet_size', 'Packet size', span('packet_size', test.packet_size)),
	    row('created_at', 'Started', span('created_at', test.created_at, when(test.created_at))));
	for (const [k, label] of TP_ROWS) {
		const r = row(k, label, dirs.map((d) => tpCell(k, sum[d], d)));
		if (k.startsWith('sender_'))
			r.classList.add('sender');
		body.append(r);
	}
	box.replaceChildren(el('table', { class: 'summary', 'data-test-id': test.id }, head, body));
	box.dataset.testId = String(test.id);
}

// The latency under load of a throughput test: one row per phase it has probes of, then the
// grade and the responsiveness.
const PHASES = [['idle', 'Idle'], ['download', 'Download'], ['upload', 'Upload'],
	['bidirectional', 'Both at once']];
const PHASE_COLORS = { idle: '#64748b', download: '#2563eb', upload: '#db2777',
	bidirectional: '#d97706' };
const LAT_ROWS = [['samples', 'Probes answered'], ['lost', 'Lost'],
	['rtt_median_us', 'RTT median'], ['rtt_p90_us', 'RTT p90'], ['rtt_p99_us', 'RTT p99'],
	['rise_median_us', 'Rise over idle (median)']];

function renderLatency(test) {
	const box = $('lat-result');
	const sum = test.summary || {};
	const lat = sum.latency || {};
	const phases = PHASES.filter(([ph]) => lat[ph]);
	if (!phases.length) {
		box.replaceChildren(el('p', { class: 'muted', text: 'No latency probes in this test.' }));
		delete box.dataset.testId;
		return;
	}
	const head = el('thead', {}, el('tr', {}, el('th', { text: 'Latency' }),
	    ...phases.map(([, label]) => el('th', { scope: 'col', text: label }))));
	const body = el('tbody', {});
	for (const [k, label] of LAT_ROWS)
		body.append(row(k, label, phases.map(([ph]) => cell(k, lat[ph][k], ph))));
	const span = Math.max(1, phases.length);
	body.append(row('bufferbloat_grade', 'Bufferbloat grade', [el('td', { colSpan: span,
	    class: 'grade', 'data-value': sum.bufferbloat_grade ?? '',
	    text: sum.bufferbloat_grade ?? '—' })]));
	body.append(row('responsiveness_rpm', 'Responsiveness', [el('td', { colSpan: span,
	    'data-value': sum.responsiveness_rpm ?? '', text: sum.responsiveness_rpm === null ||
		sum.responsiveness_rpm === undefined ? '—' : `${sum.responsiveness_rpm} RPM` })]));
	box.replaceChildren(el('table', { class: 'summary', 'data-test-id': test.id }, head, body));
	box.dataset.testId = String(test.id);
}

// ---- charts --------------------------------------------------------------------------------

function chartSize(node) {
	const w = Math.max(240, Math.floor(node.clientWidth || 300));
	return { width: w, height: Math.round(Math.min(320, Math.max(180, w * 0.5))) };
}

function axisColor() {
	return { stroke: '#5b6573', grid: { stroke: '#e3e7ee', width: 1 },
	    ticks: { stroke: '#e3e7ee', width: 1 } };
}

function makeChart(name, opts, data) {
	const node = $(`${name}-chart`);
	if (app.charts[name])
		app.charts[name].chart.destroy();
	node.replaceChildren();
	node.classList.add('has-chart');
	if (!uPlot) {
		node.textContent = 'Charts unavailable.';
		return null;
	}
	const chart = new uPlot({ ...chartSize(node), ...opts }, data, node);
	app.charts[name] = { chart, node, data, pending: false };
	return app.charts[name];
}

function redraw(name) {
	const c = app.charts[name];
	if (!c || c.pending)
		return;
	c.pending = true;
	requestAnimationFrame(() => {
		c.pending = false;
		c.chart.setData(c.data);
	});
}

function rttChart() {
	return makeChart('rtt', {
		scales: { x: { time: false } },
		axes: [{ label: 'sample', ...axisColor() }, { label: 'ms', ...axisColor() }],
		series: [
			{ label: 'seq' },
			{ label: 'RTT', stroke: '#2563eb', width: 2, points: { show: true, size: 4 },
			    value: (u, v) => (v === null ? '—' : `${v.toFixed(3)} ms`) },
			{ label: 'network RTT', stroke: '#16a34a', width: 1, dash: [4, 4],
			    value: (u, v) => (v === null ? '—' : `${v.toFixed(3)} ms`) },
		],
	}, [[], [], []]);
}

function tpChart() {
	return makeChart('tp', {
		scales: { x: { time: false } },
		axes: [{ label: 's', ...axisColor() }, { label: 'Mbit/s', ...axisColor() }],
		series: [
			{ label: 't', value: (u, v) => (v === null ? '—' : `${v.toFixed(3)} s`) },
			{ label: 'download', stroke: '#2563eb', width: 2, points: { show: true, size: 5 },
			    spanGaps: true, value: (u, v) => (v === null ? '—' : `${v.toFixed(2)} Mbit/s`) },
			{ label: 'upload', stroke: '#db2777', width: 2, points: { show: true, size: 5 },
			    spanGaps: true, value: (u, v) => (v === null ? '—' : `${v.toFixed(2)} Mbit/s`) },
		],
	}, [[], [], []]);
}

// Each probe's RTT at the moment it was sent, one series (colour) a phase; a lost probe is a
// gap.
function latChart() {
	return makeChart('lat', {
		scales: { x: { time: false } },
		axes: [{ label: 's', ...axisColor() }, { label: 'ms', ...axisColor() }],
		series: [
			{ label: 't', value: (u, v) => (v === null ? '—' : `${v.toFixed(3)} s`) },
			...PHASES.map(([ph, label]) => ({ label, stroke: PHASE_COLORS[ph], width: 0,
			    points: { show: true, size: 5, fill: PHASE_COLORS[ph] },
			    value: (u, v) => (v === null ? '—' : `${v.toFixed(3)} ms`) })),
		],
	}, [[], ...PHASES.map(() => [])]);
}

// Adds one probe (the SDK's onProbe object or a stored probe) to the latency chart.
function latPoint(c, t0, phase, sentAt, rttUs) {
	c.data[0].push((sentAt - t0) / 1e6);
	PHASES.forEach(([ph], i) => c.data[i + 1].push(ph === phase && rttUs !== null &&
	    rttUs !== undefined ? rttUs / 1000 : null));
}

function chartFromProbes(test) {
	const c = latChart();
	if (!c || !test.probes)
		return;
	const ps = [...test.probes].sort((a, b) => a.client_sent_at - b.client_sent_at);
	const t0 = ps.length ? ps[0].client_sent_at : 0;
	for (const p of ps)
		latPoint(c, t0, p.phase, p.client_sent_at, p.rtt_us);
	redraw('lat');
}

function chartFromPing(test) {
	const c = rttChart();
	if (!c || !test.samples)
		return;
	for (const s of test.samples) {
		c.data[0].push(s.seq);
		c.data[1].push(s.rtt_us === null ? null : s.rtt_us / 1000);
		c.data[2].push(s.network_rtt_us === null ? null : s.network_rtt_us / 1000);
	}
	redraw('rtt');
}

// Each packet's receiver rate at the moment the client had it (the client's clock for both
// directions); a download without a report has no rate to draw.
function chartFromThroughput(test) {
	const c = tpChart();
	if (!c || !test.transfers)
		return;
	const xs = test.transfers.filter((x) => x.bits_per_second && x.client_received_at)
	    .sort((a, b) => a.client_received_at - b.client_received_at);
	const t0 = xs.length ? Math.min(...xs.map((x) => x.client_sent_at ?? x.client_received_at)) : 0;
	for (const x of xs) {
		c.data[0].push((x.client_received_at - t0) / 1e6);
		c.data[1].push(x.direction === 'download' ? x.bits_per_second / 1e6 : null);
		c.data[2].push(x.direction === 'upload' ? x.bits_per_second / 1e6 : null);
	}
	redraw('tp');
}

new ResizeObserver(() => {
	for (const c of Object.values(app.charts))
		c.chart.setSize(chartSize(c.node));
}).observe(document.body);

// ---- the speed test: big numbers and a live graph ------------------------------------------

// The big numbers of a throughput test, each the stored figure: the rates are
// summary.<direction>.bits_per_second (a timed test's window rate), the latencies
// summary.latency's medians (the rise of 'bidirectional' in both rise tiles when the
// directions ran at once).
export function tileFigures(test) {
	const sum = test.summary || {};
	const lat = sum.latency || {};
	const rise = (ph) => (lat[ph] ? lat[ph].rise_median_us ?? null
	    : lat.bidirectional ? lat.bidirectional.rise_median_us ?? null : null);
	return {
		download: sum.download ? sum.download.bits_per_second : null,
		upload: sum.upload ? sum.upload.bits_per_second : null,
		idle: lat.idle ? lat.idle.rtt_median_us : null,
		rise_download: sum.download ? rise('download') : null,
		rise_upload: sum.upload ? rise('upload') : null,
		grade: sum.bufferbloat_grade ?? null,
		rpm: sum.responsiveness_rpm ?? null,
	};
}

// As the tiles show them: Mbit/s with 2 decimals, ms with 1 (a rise with its sign).
export function tileText(key, v) {
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

function setTile(key, v, live) {
	const t = document.querySelector(`#tiles .tile[data-key="${key}"]`);
	const big = t.querySelector('.big');
	big.textContent = tileText(key, v);
	if (live)
		delete big.dataset.value;
	else
		big.dataset.value = v === null || v === undefined ? '' : String(v);
	t.classList.toggle('live', !!live);
	if (key === 'grade')
		t.dataset.grade = v ?? '';
}

function renderTiles(test) {
	const f = tileFigures(test);
	for (const [k, v] of Object.entries(f))
		setTile(k, v, false);
	const both = test.simultaneous;
	document.querySelector('#tiles [data-key="rise_download"] .label').textContent =
	    both ? 'Loaded latency, both at once' : 'Loaded latency, download';
	$('tiles').dataset.testId = String(test.id);
}

function clearTiles() {
	for (const k of ['download', 'upload', 'idle', 'rise_download', 'rise_upload', 'grade', 'rpm'])
		setTile(k, null, true);
	$('tiles').dataset.testId = '';
}

// Rate over time (Mbit/s, each direction at its receiver, over the last second) and each
// latency probe's round trip (ms), seconds from the first probe or packet.
function liveChart() {
	return makeChart('live', {
		scales: { x: { time: false }, mbps: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] },
		    ms: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.2)] } },
		axes: [{ label: 's', ...axisColor() }, { scale: 'mbps', label: 'Mbit/s', ...axisColor() },
		    { scale: 'ms', label: 'latency, ms', side: 1, ...axisColor(), grid: { show: false } }],
		series: [
			{ label: 't', value: (u, v) => (v === null ? '—' : `${v.toFixed(2)} s`) },
			{ label: 'Download', scale: 'mbps', stroke: PHASE_COLORS.download, width: 2,
			    spanGaps: true, value: (u, v) => (v === null ? '—' : `${v.toFixed(2)} Mbit/s`) },
			{ label: 'Upload', scale: 'mbps', stroke: PHASE_COLORS.upload, width: 2,
			    spanGaps: true, value: (u, v) => (v === null ? '—' : `${v.toFixed(2)} Mbit/s`) },
			{ label: 'Latency', scale: 'ms', stroke: '#475569', width: 0,
			    points: { show: true, size: 4, fill: '#475569' },
			    value: (u, v) => (v === null ? '—' : `${v.toFixed(1)} ms`) },
		],
	}, [[], [], [], []]);
}

function livePoint(c, x, dl, ul, ms) {
	c.data[0].push(x);
	c.data[1].push(dl);
	c.data[2].push(ul);
	c.data[3].push(ms);
}

// The stored test drawn as the live graph was: each direction's receiver rate over the last
// second, every 250 ms, with each packet's bytes spread over its receiver interval (a
// download's at the client, an upload's at the server), and each probe's round trip.
function liveFromStored(test) {
	const c = liveChart();
	if (!c || !test.transfers)
		return;
	const spans = { download: [], upload: [] };
	for (const x of test.transfers) {
		if (x.status !== 'ok')
			continue;
		const [a, b] = x.direction === 'download' ? [x.client_first_byte_at, x.client_received_at]
		    : [x.server_started_at, x.server_finished_at];
		if (a !== null && b !== null && b > a)
			spans[x.direction].push([a, b, x.bytes]);
	}
	const probes = (test.probes || []).filter((p) => p.rtt_us !== null);
	const all = [...spans.download, ...spans.upload].map((s) => s[0])
	    .concat(probes.map((p) => p.client_sent_at));
	if (!all.length)
		return;
	const t0 = Math.min(...all);
	const rows = [];
	for (const dir of ['download', 'upload']) {
		const sp = spans[dir];
		if (!sp.length)
			continue;
		const from = Math.min(...sp.map((s) => s[0]));
		const to = Math.max(...sp.map((s) => s[1]));
		for (let t = from + 250000; t <= to + 1; t += 250000) {
			const x = Math.max(from, t - 1e6);
			let bytes = 0;
			for (const [a, b, n] of sp)
				if (b > x && a < t)
					bytes += (n * (Math.min(b, t) - Math.max(a, x))) / (b - a);
			rows.push([(t - t0) / 1e6, dir, (bytes * 8) / (t - x)]);
		}
	}
	for (const p of probes)
		rows.push([(p.client_sent_at - t0) / 1e6, 'probe', p.rtt_us / 1000]);
	rows.sort((a, b) => a[0] - b[0]);
	for (const [x, what, v] of rows)
		livePoint(c, x, what === 'download' ? v : null, what === 'upload' ? v : null,
		    what === 'probe' ? v : null);
	redraw('live');
}

// ---- running a test in a worker (or here, when module workers are unavailable) -------------

function clientInfo() {
	const info = { platform: 'web', app_version: `pingoo-web/${VERSION}` };
	const conn = navigator.connection;
	if (conn && typeof conn.type === 'string' && conn.type !== 'unknown')
		info.network_type = conn.type.slice(0, 32);
	const uad = navigator.userAgentData;
	if (uad && typeof uad.platform === 'string' && uad.platform)
		info.os = uad.platform.slice(0, 64);
	return info;
}

function startRun(kind, params, on) {
	let worker = null;
	try {
		worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
	} catch {
		worker = null;
	}
	if (worker) {
		const done = new Promise((resolve, reject) => {
			worker.onmessage = (ev) => {
				const m = ev.data;
				if (m.type === 'start')
					on.start(m.test);
				else if (m.type === 'sample')
					on.sample(m.sample);
				else if (m.type === 'progress')
					on.progress(m.progress);
				else if (m.type === 'probe')
					on.probe(m.probe);
				else if (m.type === 'done')
					resolve(m.test);
				else if (m.type === 'error')
					reject(m.error);
			};
			worker.onerror = (ev) => reject({ name: 'Error', message: ev.message || 'worker failed' });
		}).finally(() => worker.terminate());
		worker.postMessage({ type: 'run', kind, baseUrl: app.pg.baseUrl, token: app.pg.token, params });
		return { done, abort: () => worker.postMessage({ type: 'abort' }), where: 'worker' };
	}
	const ctl = new AbortController();
	const opts = { ...params, signal: ctl.signal, onStart: on.start };
	const done = kind === 'ping' ? app.pg.ping({ ...opts, onSample: on.sample })
	    : app.pg.throughput({ ...opts, onProgress: on.progress, onProbe: on.probe });
	return { done, abort: () => ctl.abort(), where: 'page' };
}

function setStatus(text, kind = '') {
	const s = $('status');
	s.textContent = text;
	s.className = `status ${kind}`.trim();
}

function setProgress(frac) {
	$('progress-bar').style.width = `${Math.max(0, Math.min(1, frac)) * 100}%`;
}

function setRunning(kind) {
	const busy = kind !== null;
	$('start').disabled = busy;
	$('ping-run').disabled = busy;
	$('tp-run').disabled = busy;
	$('stop').disabled = kind !== 'speed';
	$('ping-stop').disabled = kind !== 'ping';
	$('tp-stop').disabled = kind !== 'throughput';
	document.body.classList.toggle('running', busy);
}

function intOf(id) {
	const v = Number($(id).value);
	return Number.isInteger(v) ? v : NaN;
}

function explain(e) {
	if (!e)
		return 'unknown error';
	if (e.name === 'AbortError')
		return 'stopped';
	const where = e.field ? ` (${e.field})` : '';
	return `${e.message || e.code}${where}${e.code ? ` [${e.code}]` : ''}`;
}

async function runTest(kind) {
	if (app.run)
		return;
	let params;
	if (kind === 'ping') {
		params = { count: intOf('ping-count'), intervalMs: intOf('ping-interval') };
		if (!(params.count >= 1) || !(params.intervalMs >= 0)) {
			setStatus('Count must be a whole number ≥ 1 and the interval ≥ 0.', 'error');
			return;
		}
	} else if (kind === 'speed') {
		const secs = intOf('set-duration');
		const maxStreams = intOf('set-streams');
		if (!(secs >= 1 && secs <= 60) || !(maxStreams >= 1 && maxStreams <= 64)) {
			$('settings').open = true;
			setStatus('The duration must be 1 to 60 s and the streams 1 to 64.', 'error');
			return;
		}
		params = { direction: 'both', durationMs: secs * 1000, maxStreams,
		    probes: $('set-probes').checked, simultaneous: $('set-simultaneous').checked };
	} else {
		params = { direction: $('tp-direction').value, packets: intOf('tp-packets'),
		    packetSize: intOf('tp-size') * 1024, streams: intOf('tp-streams'),
		    probes: $('tp-probes').checked,
		    simultaneous: $('tp-simultaneous').checked && $('tp-direction').value === 'both' };
		if (!(params.packets >= 1) || !(params.packetSize >= 1024) || !(params.streams >= 1)) {
			setStatus('Packets, size and streams must be whole numbers ≥ 1.', 'error');
			return;
		}
	}
	params.client = clientInfo();
	setRunning(kind);
	setProgress(0);
	const speed = kind === 'speed';
	const chart = kind === 'ping' ? rttChart() : speed ? liveChart() : tpChart();
	const lchart = kind === 'throughput' ? latChart() : null;
	if (speed)
		clearTiles();
	const label = kind === 'ping' ? 'Ping' : speed ? 'Speed' : 'Throughput';
	let testId = null;
	let t0 = null;
	let probeT0 = null;
	// The live graph's zero: the first probe or packet.
	let liveT0 = null;
	const liveX = (us) => {
		if (liveT0 === null)
			liveT0 = us;
		return (us - liveT0) / 1e6;
	};
	const on = {
		start: (test) => {
			testId = test.id;
			setStatus(`${label} test #${test.id} running…`);
		},
		sample: (s) => {
			if (chart) {
				chart.data[0].push(s.seq);
				chart.data[1].push(s.lost ? null : s.rttUs / 1000);
				chart.data[2].push(s.lost || s.networkRttUs === null ? null : s.networkRttUs / 1000);
				redraw('rtt');
			}
			setProgress((s.seq + 1) / params.count);
			setStatus(`Ping test #${testId}: ${s.seq + 1}/${params.count}` +
			    (s.lost ? ' — lost' : ` — ${(s.rttUs / 1000).toFixed(3)} ms`));
		},
		progress: (p) => {
			if (speed) {
				liveX(p.clientSentAt);		// the zero, when no probe came first
				const x = liveX(p.clientReceivedAt);
				const run = p.runningBitsPerSecond;
				if (chart && run !== null && run !== undefined) {
					livePoint(chart, x, p.direction === 'download' ? run / 1e6 : null,
					    p.direction === 'upload' ? run / 1e6 : null, null);
					redraw('live');
				}
				setTile(p.direction, run, true);
				// Download then upload, each durationMs (both at once: one span).
				const spans = params.simultaneous ? 1 : 2;
				const at = params.simultaneous || p.direction === 'download' ? 0 : 1;
				setProgress((at * p.durationMs + Math.min(p.elapsedMs, p.durationMs)) /
				    (spans * p.durationMs));
				setStatus(`Speed test #${testId}: ${p.direction} ` +
				    `${run ? `${(run / 1e6).toFixed(2)} Mbit/s` : '…'} · ${p.streams} ` +
				    `stream${p.streams === 1 ? '' : 's'} · ${(Math.min(p.elapsedMs, p.durationMs) / 1000)
					.toFixed(1)} of ${p.durationMs / 1000} s`);
				return;
			}
			if (t0 === null)
				t0 = p.clientSentAt;
			if (chart && p.bitsPerSecond) {
				chart.data[0].push((p.clientReceivedAt - t0) / 1e6);
				chart.data[1].push(p.direction === 'download' ? p.bitsPerSecond / 1e6 : null);
				chart.data[2].push(p.direction === 'upload' ? p.bitsPerSecond / 1e6 : null);
				redraw('tp');
			}
			setProgress(p.done / p.total);
			setStatus(`Throughput test #${testId}: ${p.done}/${p.total} packets — ` +
			    `${p.direction} ${p.bitsPerSecond ? `${(p.bitsPerSecond / 1e6).toFixed(2)} Mbit/s`
				: 'too short to time'}`);
		},
	};
	on.probe = (p) => {
		if (speed) {
			const x = liveX(p.clientSentAt);
			if (chart && !p.lost) {
				livePoint(chart, x, null, null, p.rttUs / 1000);
				redraw('live');
			}
			if (p.phase === 'idle' && !p.lost)
				setStatus(`Speed test #${testId}: idle round trip ${(p.rttUs / 1000).toFixed(1)} ms`);
			return;
		}
		if (probeT0 === null)
			probeT0 = p.clientSentAt;
		if (lchart) {
			latPoint(lchart, probeT0, p.phase, p.clientSentAt, p.lost ? null : p.rttUs);
			redraw('lat');
		}
		if (p.phase === 'idle' && !p.lost)
			setStatus(`Throughput test #${testId}: idle round trip ` +
			    `${(p.rttUs / 1000).toFixed(3)} ms`);
	};
	const flag = kind === 'ping' ? 'ping' : speed ? 'speed' : 'tp';
	delete document.body.dataset[`${flag}Done`];
	delete document.body.dataset[`${flag}Failed`];
	const run = startRun(kind === 'ping' ? 'ping' : 'throughput', params, on);
	document.body.dataset.runner = run.where;
	app.run = { kind, abort: run.abort };
	try {
		const test = await run.done;
		if (kind === 'ping')
			renderPing(test);
		else {
			renderThroughput(test);
			renderLatency(test);
			chartFromProbes(test);
		}
		if (speed) {
			renderTiles(test);
			liveFromStored(test);
			chartFromThroughput(test);
		}
		setProgress(1);
		setStatus(`${label} test #${test.id} ${test.state}.`, 'ok');
		document.body.dataset[`${flag}Done`] = String(test.id);
	} catch (e) {
		document.body.dataset[`${flag}Failed`] = (e && (e.code || e.name)) || 'error';
		if (e && e.name === 'AbortError') {
			setStatus(`Test${testId ? ` #${testId}` : ''} stopped.`);
			if (e.test) {
				if (kind === 'ping')
					renderPing(e.test);
				else {
					renderThroughput(e.test);
					renderLatency(e.test);
				}
				if (speed)
					renderTiles(e.test);
			}
		} else {
			setStatus(`The test failed: ${explain(e)}`, 'error');
			if (e && e.code === 'unauthorized')
				signOut('Your session has expired; sign in again.');
		}
	} finally {
		app.run = null;
		setRunning(null);
		if (app.pg) {
			loadHistory(true);
			loadAggregates();
		}
	}
}

// ---- history -------------------------------------------------------------------------------

function historyLine(t) {
	const s = t.summary || {};
	if (t.kind === 'ping' || app.histKind === 'ping') {
		return `#${t.id} · ${t.count} × ${t.interval_ms} ms · ${t.state}` +
		    (s.rtt_median_us !== null && s.rtt_median_us !== undefined
			? ` · median ${fmt('rtt_median_us', s.rtt_median_us)}` : '') +
		    (s.loss_pct !== null && s.loss_pct !== undefined ? ` · loss ${s.loss_pct}%` : '');
	}
	const parts = ['download', 'upload'].filter((d) => s[d] &&
	    (s[d].bits_per_second !== null || s[d].report_missing))
	    .map((d) => `${d} ${s[d].bits_per_second !== null ? fmt('bits_per_second', s[d].bits_per_second)
		: REPORT_MISSING}`);
	if (s.bufferbloat_grade)
		parts.push(`grade ${s.bufferbloat_grade}`);
	const shape = t.duration_ms ? `${t.duration_ms / 1000} s` : `${t.packets} × ${t.packet_size} B`;
	return `#${t.id} · ${t.direction}${t.simultaneous ? ' at once' : ''} · ` +
	    `${shape} · ${t.state}` + (parts.length ? ` · ${parts.join(' · ')}` : '');
}

async function loadHistory(reset) {
	if (!app.pg)
		return;
	const list = $('history-list');
	const kind = app.histKind;
	if (reset)
		app.histCursor = null;
	try {
		const h = await app.pg.history({ kind, limit: 10, cursor: app.histCursor });
		if (kind !== app.histKind)
			return;
		if (reset)
			list.replaceChildren();
		for (const t of h.tests) {
			const b = el('button', { type: 'button', class: 'history-item', text: historyLine(t),
			    'data-id': t.id, 'data-kind': kind,
			    'data-grade': t.summary?.bufferbloat_grade ?? undefined });
			const d = el('span', { class: 'when', text: when(t.created_at) });
			b.append(d);
			list.append(el('li', {}, b));
		}
		if (reset && !h.tests.length)
			list.append(el('li', { class: 'muted', text: 'No tests yet.' }));
		app.histCursor = h.next_cursor;
		$('history-more').hidden = !h.next_cursor;
	} catch (e) {
		list.replaceChildren(el('li', { class: 'error', text: `Cannot load history: ${explain(e)}` }));
		if (e && e.code === 'unauthorized')
			signOut('Your session has expired; sign in again.');
	}
}

async function showTest(kind, id) {
	try {
		const t = await app.pg.test(kind, id);
		if (kind === 'ping') {
			renderPing(t);
			chartFromPing(t);
		} else {
			renderThroughput(t);
			renderLatency(t);
			chartFromThroughput(t);
			chartFromProbes(t);
			renderTiles(t);
			liveFromStored(t);
		}
		setStatus(`Showing ${kind} test #${id} as stored.`);
	} catch (e) {
		setStatus(`Cannot load test #${id}: ${explain(e)}`, 'error');
	}
}

function selectTab(kind) {
	app.histKind = kind;
	$('hist-ping').setAttribute('aria-selected', String(kind === 'ping'));
	$('hist-tp').setAttribute('aria-selected', String(kind === 'throughput'));
	loadHistory(true);
}

// ---- the user's data: export and aggregates ------------------------------------------------

async function downloadCsv() {
	const status = $('export-status');
	status.textContent = 'Preparing the export…';
	try {
		const text = await app.pg.exportText({ format: 'csv' });
		const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
		const a = el('a', { href: url, download: 'pingoo-tests.csv' });
		document.body.append(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(url), 10000);
		const rows = text.split('\r\n').length - 3;
		status.textContent = `Exported ${rows} records.`;
		status.dataset.records = String(rows);
	} catch (e) {
		status.textContent = `Cannot export: ${explain(e)}`;
	}
}

function aggCell(v, key) {
	return el('td', { text: v === null || v === undefined ? '—' : key ? fmt(key, v) : String(v) });
}

async function loadAggregates() {
	if (!app.pg)
		return;
	const body = $('agg-body');
	try {
		const a = await app.pg.aggregates({ group: $('agg-group').value });
		body.replaceChildren();
		for (const g of a.groups) {
			const p = g.ping ?? {};
			const tp = g.throughput ?? {};
			body.append(el('tr', { 'data-key': g.key ?? '' },
			    el('td', { text: g.key ?? '(not given)' }), aggCell(p.tests),
			    aggCell(p.rtt_median_us, 'rtt_median_us'), aggCell(p.rtt_p90_us, 'rtt_p90_us'),
			    aggCell(p.loss_pct, 'loss_pct'),
			    aggCell(tp.download?.bits_per_second_median, 'bits_per_second'),
			    aggCell(tp.upload?.bits_per_second_median, 'bits_per_second')));
		}
		if (!a.groups.length)
			body.append(el('tr', {}, el('td', { class: 'muted', colSpan: 7, text: 'No tests yet.' })));
	} catch (e) {
		body.replaceChildren(el('tr', {}, el('td', { class: 'error', colSpan: 7,
		    text: `Cannot load the aggregates: ${explain(e)}` })));
	}
}

// ---- session -------------------------------------------------------------------------------

function showApp(user) {
	app.user = user;
	$('signin').hidden = true;
	$('app').hidden = false;
	$('who').hidden = false;
	$('who-name').textContent = user.username;
	document.body.dataset.user = user.username;
	selectTab(app.histKind);
	loadAggregates();
}

function signOut(message) {
	if (app.run)
		app.run.abort();
	app.pg = null;
	app.user = null;
	sessionStorage.removeItem(STORE);
	delete document.body.dataset.user;
	$('app').hidden = true;
	$('who').hidden = true;
	$('signin').hidden = false;
	const err = $('signin-error');
	err.hidden = !message;
	err.textContent = message || '';
	$('password').value = '';
	$('username').focus();
}

async function signIn(ev) {
	ev.preventDefault();
	const button = $('signin-button');
	const err = $('signin-error');
	err.hidden = true;
	button.disabled = true;
	try {
		const pg = await Pingoo.login(location.origin, $('username').value.trim(), $('password').value);
		const me = await pg.me();
		app.pg = pg;
		sessionStorage.setItem(STORE, JSON.stringify({ token: pg.token, expiresAt: pg.expiresAt }));
		$('password').value = '';
		showApp(me);
	} catch (e) {
		err.textContent = e && e.code === 'invalid_credentials' ? 'Wrong username or password.'
		    : e && e.code === 'rate_limited' ? 'Too many attempts; wait a moment.'
		    : `Cannot sign in: ${explain(e)}`;
		err.hidden = false;
	} finally {
		button.disabled = false;
	}
}

async function resume() {
	let saved = null;
	try {
		saved = JSON.parse(sessionStorage.getItem(STORE) || 'null');
	} catch {
		saved = null;
	}
	if (saved && saved.token && (!saved.expiresAt || saved.expiresAt > Date.now() + 5000)) {
		const pg = new Pingoo({ baseUrl: location.origin, token: saved.token,
		    expiresAt: saved.expiresAt });
		try {
			const me = await pg.me();
			app.pg = pg;
			showApp(me);
			return;
		} catch (e) {
			if (!(e instanceof PingooError) || e.status !== 401) {
				signOut(`Cannot reach the server: ${explain(e)}`);
				return;
			}
		}
	}
	signOut(null);
}

// ---- wiring --------------------------------------------------------------------------------

$('signin-form').addEventListener('submit', signIn);
// Sign-out revokes the token on the server first, so a copy of it (another tab, a
// leaked log) is refused too; the page signs out whatever the server answers.
$('signout').addEventListener('click', async () => {
	const pg = app.pg;
	if (pg) {
		try {
			await pg.logout({ signal: AbortSignal.timeout(5000) });
		} catch {
			// unreachable server: the token stays valid until it expires
		}
	}
	signOut(null);
});
$('ping-form').addEventListener('submit', (ev) => {
	ev.preventDefault();
	runTest('ping');
});
$('tp-form').addEventListener('submit', (ev) => {
	ev.preventDefault();
	runTest('throughput');
});
$('start').addEventListener('click', () => runTest('speed'));
$('stop').addEventListener('click', () => app.run && app.run.abort());
$('settings-form').addEventListener('submit', (ev) => ev.preventDefault());
$('ping-stop').addEventListener('click', () => app.run && app.run.abort());
$('tp-stop').addEventListener('click', () => app.run && app.run.abort());
$('hist-ping').addEventListener('click', () => selectTab('ping'));
$('hist-tp').addEventListener('click', () => selectTab('throughput'));
$('hist-refresh').addEventListener('click', () => loadHistory(true));
$('history-more').addEventListener('click', () => loadHistory(false));
$('export-csv').addEventListener('click', downloadCsv);
$('agg-group').addEventListener('change', loadAggregates);
$('history-list').addEventListener('click', (ev) => {
	const b = ev.target.closest('button.history-item');
	if (b)
		showTest(b.dataset.kind, b.dataset.id);
});
window.addEventListener('pagehide', () => app.run && app.run.abort());

resume();
