// summary.mjs - the summaries of docs/api.md, recomputed from the records, so a test can
// check what the server says field by field.  The one copy: ping.mjs checks the API's
// samples with it, t/sdk/sdk.mjs the rows MariaDB stores.  The server's own definitions are
// lib/measure/order.c (sort, nearest-rank percentile, median) and lib/measure/stats.c.

// x / 2 as C's pingoo_median and offset do: rounded half away from zero.
export const halfAway = (x) => (x >= 0 ? Math.floor((x + 1) / 2) : -Math.floor((-x + 1) / 2));

export const sortNum = (v) => [...v].sort((a, b) => a - b);

// Median of sorted integers; an even count gives the mean of the middle two rounded half
// away from zero.  null when there are none.
export function median(sorted) {
	const k = sorted.length;
	if (k === 0)
		return null;
	if (k % 2 === 1)
		return sorted[(k - 1) / 2];
	return halfAway(sorted[k / 2 - 1] + sorted[k / 2]);
}

// Nearest rank: the ceil(p/100 * n)-th smallest (integer arithmetic, no float surprise).
export function percentile(sorted, p) {
	const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p * sorted.length) / 100)));
	return sorted[rank - 1];
}

// The values the server derives from one sample (null until its receipt).
export function sampleDerived(s) {
	const has = s.client_received_at !== null;
	const t0 = s.client_sent_at, t1 = s.server_received_at, t2 = s.server_sent_at;
	const t3 = s.client_received_at;
	return {
		rtt_us: has ? t3 - t0 : null,
		server_us: t2 - t1,
		network_rtt_us: has ? (t3 - t0) - (t2 - t1) : null,
		offset_us: has ? halfAway((t1 - t0) + (t2 - t3)) : null,
	};
}

// The summary of a ping test of `count` samples from its samples ({seq, client_sent_at,
// server_received_at, server_sent_at, client_received_at}, numbers or null, any order).
export function pingSummary(samples, count, finished) {
	const rec = samples.filter((s) => s.client_received_at !== null).sort((a, b) => a.seq - b.seq);
	const sent = finished ? count : samples.length;
	const received = rec.length;
	const lost = sent - received;
	const out = {
		sent, echoed: samples.length, received, lost,
		loss_pct: sent > 0 ? Math.round(((100 * lost) / sent) * 1000) / 1000 : null,
		rtt_min_us: null, rtt_mean_us: null, rtt_median_us: null, rtt_p90_us: null,
		rtt_p99_us: null, rtt_max_us: null, rtt_stddev_us: null, jitter_us: null,
		server_median_us: null, network_rtt_median_us: null, offset_us: null,
		offset_uncertainty_us: null,
	};
	if (received === 0)
		return out;
	const d = rec.map(sampleDerived);
	const rtt = d.map((x) => x.rtt_us);
	let sum = 0, diff = 0;
	for (let i = 0; i < rtt.length; i++) {
		sum += rtt[i];
		if (i > 0)
			diff += Math.abs(rtt[i] - rtt[i - 1]);
	}
	const mean = sum / rtt.length;
	let v = 0;
	for (const x of rtt)
		v += (x - mean) * (x - mean);
	const sorted = sortNum(rtt);
	const net = sortNum(d.map((x) => x.network_rtt_us));
	Object.assign(out, {
		rtt_min_us: sorted[0],
		rtt_mean_us: Math.round(mean),
		rtt_median_us: median(sorted),
		rtt_p90_us: percentile(sorted, 90),
		rtt_p99_us: percentile(sorted, 99),
		rtt_max_us: sorted[sorted.length - 1],
		rtt_stddev_us: Math.round(Math.sqrt(v / rtt.length)),
		jitter_us: rtt.length >= 2 ? Math.round(diff / (rtt.length - 1)) : null,
		server_median_us: median(sortNum(d.map((x) => x.server_us))),
		network_rtt_median_us: median(net),
		// The offset of the sample with the smallest network RTT (the first in seq order
		// on a tie), and half that RTT rounded up: a bound on the offset's error.
		offset_us: d.reduce((b, x) => (x.network_rtt_us < b.network_rtt_us ? x : b)).offset_us,
		offset_uncertainty_us: net[0] >= 0 ? Math.ceil(net[0] / 2) : Math.trunc(net[0] / 2),
	});
	return out;
}

// The grade of a rise, as lib/measure/latency.c: A+ under 5 ms, A under 30, B under 60, C under
// 200, D under 400, else F.
export function gradeOfRise(riseUs) {
	const bounds = [[5000, 'A+'], [30000, 'A'], [60000, 'B'], [200000, 'C'], [400000, 'D']];
	for (const [below, g] of bounds)
		if (riseUs < below)
			return g;
	return 'F';
}

// The mean of sorted values with the largest floor(n / 20) left out, rounded; null for none.
export function trimmedMean(sorted) {
	if (sorted.length === 0)
		return null;
	const keep = sorted.slice(0, sorted.length - Math.floor(sorted.length / 20));
	return Math.round(keep.reduce((a, b) => a + b, 0) / keep.length);
}

// summary.latency, bufferbloat_grade and responsiveness_rpm of a throughput test from its
// probes ({seq, phase, client_sent_at, server_received_at, server_sent_at,
// client_received_at}): an unanswered probe is lost once the client said so (no server
// stamps) or the test has finished, and pending (not counted) before.
export function latencySummary(probes, finished) {
	const phases = ['idle', 'download', 'upload', 'bidirectional'];
	const latency = {};
	const loaded = [];
	let worst = null;
	for (const ph of phases) {
		const mine = probes.filter((p) => p.phase === ph &&
		    (p.client_received_at !== null || finished || p.server_received_at === null));
		if (mine.length === 0)
			continue;
		const rtt = sortNum(mine.filter((p) => p.client_received_at !== null)
		    .map((p) => p.client_received_at - p.client_sent_at));
		if (ph !== 'idle')
			loaded.push(...rtt);
		latency[ph] = {
			samples: rtt.length, lost: mine.length - rtt.length,
			rtt_median_us: median(rtt), rtt_p90_us: rtt.length ? percentile(rtt, 90) : null,
			rtt_p99_us: rtt.length ? percentile(rtt, 99) : null,
		};
	}
	for (const ph of phases.slice(1)) {
		if (!latency[ph])
			continue;
		const idle = latency.idle?.rtt_median_us ?? null;
		const rise = idle !== null && latency[ph].rtt_median_us !== null ?
		    latency[ph].rtt_median_us - idle : null;
		latency[ph].rise_median_us = rise;
		if (rise !== null && (worst === null || rise > worst))
			worst = rise;
	}
	const mean = trimmedMean(sortNum(loaded));
	return {
		latency,
		bufferbloat_grade: worst === null ? null : gradeOfRise(worst),
		responsiveness_rpm: mean === null || mean <= 0 ? null : Math.round(60e6 / mean),
	};
}
