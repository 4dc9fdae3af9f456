// Type declarations for pingoo-sdk (src/pingoo.js).  The wire format is docs/api.md.

export declare const VERSION: string;

/** Microseconds since the Unix epoch, from performance.timeOrigin + performance.now(). */
export declare function nowUs(): number;
/** µs of the `app` entry of a Server-Timing header (else the first with a dur), or null. */
export declare function parseServerTiming(header: string | null | undefined): number | null;
/** A buffer of `size` random bytes (crypto.getRandomValues, 64 KiB at a time). */
export declare function randomBytes(size: number): Uint8Array;

/** The rules of a time-bounded throughput test (docs/sdk.md, "Time-bounded tests"). */
export declare const TIMED: Readonly<{
  /** Per direction, from its first packet's start. 10000. */
  durationMs: number;
  /** Streams at most. 16. */
  maxStreams: number;
  /** The ramp measures the receiver's rate over ticks this long (ms). 250. */
  tickMs: number;
  /** A tick 10 % or more above the rate before the last doubling doubles the streams again. 1.1. */
  rampGrowth: number;
  /** The ramp ends after a fifth of durationMs, at most this (ms). 2000. */
  graceMaxMs: number;
  /** A packet is sized to last this long (ms) at its stream's last rate. 250. */
  packetMs: number;
  /** A stream's first packet and the smallest (bytes). 65536. */
  minPacketSize: number;
  /** The largest packet (bytes). 33554432. */
  maxPacketSize: number;
  /** A packet is at most this many times its stream's previous one. 8. */
  maxPacketGrowth: number;
  /** Packets (seqs) per direction at most: the server's tp_max_packets by default. 10000. */
  maxPackets: number;
  /** onProgress's runningBitsPerSecond is over this span (ms). 1000. */
  runningMs: number;
}>;

/** The next packet of a stream whose last packet had `size` bytes and arrived at `rate` bit/s
 *  (null when unknown): TIMED.packetMs of that rate, at most 8x `size`, within 64 KiB..32 MiB. */
export declare function nextPacketSize(size: number, rate: number | null): number;

/** The bytes one direction's receiver got over time (µs on this client's clock), each piece
 *  spread evenly over its own interval; what the ramp and runningBitsPerSecond read. */
export declare class Meter {
  /** An upload in flight from t0: nothing from t0 on is known until end(). */
  begin(t0: number): number;
  end(id: number): void;
  add(a: number, b: number, bytes: number): void;
  /** The moment up to which the figures are whole. */
  horizon(now: number): number;
  bytesIn(x: number, y: number): number;
  rateOver(x: number, y: number): number | null;
  /** bit/s over the last spanUs of what is known at `now`. */
  rate(spanUs: number, now: number): number | null;
}

/** An error the server reported (its JSON error object), or a failure to reach it. */
export declare class PingooError extends Error {
  name: 'PingooError';
  /** HTTP status; 0 when the server was not reached. */
  status: number;
  /** The server's machine code (`unauthorized`, `invalid_field`, ...), or
   *  `network_error`, `invalid_response`, `service_unavailable`, `http_<status>`. */
  code: string;
  /** The field at fault, when the server named one (`receipts[3].client_received_at`). */
  field?: string;
  details?: unknown;
}

/** Free-form description of the client: string values, keys [a-z0-9_]{1,32}, at most 16. */
export type ClientInfo = Record<string, string>;

export type TestState = 'incomplete' | 'complete' | 'aborted';
export type Direction = 'download' | 'upload';

export interface User { id: number; username: string; created_at: number; }

export interface PingSummary {
  sent: number; received: number; lost: number; loss_pct: number | null;
  rtt_min_us: number | null; rtt_mean_us: number | null; rtt_median_us: number | null;
  rtt_p90_us: number | null; rtt_p99_us: number | null; rtt_max_us: number | null;
  rtt_stddev_us: number | null; jitter_us: number | null;
  server_median_us: number | null; network_rtt_median_us: number | null;
  offset_us: number | null; offset_uncertainty_us: number | null;
  [key: string]: number | null;
}

export interface PingSampleRecord {
  seq: number; client_sent_at: number | null; server_received_at: number | null;
  server_sent_at: number | null; client_received_at: number | null;
  rtt_us: number | null; server_us: number | null; network_rtt_us: number | null;
  offset_us: number | null;
}

export interface PingTest {
  id: number; kind: 'ping'; state: TestState; count: number; interval_ms: number;
  client: ClientInfo | null; created_at: number; closed_at: number | null;
  summary: PingSummary;
  /** Present on a single test read, absent in history lists. */
  samples?: PingSampleRecord[];
}

/** One direction of a throughput test.  Every rate is the receiver's: an upload's measured
 *  by the server, a download's by the client from its reports (first byte to last byte). */
export interface DirectionSummary {
  packets: number; received: number; failed: number; bytes: number;
  /** Received packets the client reported. */
  reported: number;
  /** true when a received download has no report yet: the receiver's figures then cover the
   *  reported ones only, and are null when none is. Always false for an upload. */
  report_missing: boolean;
  elapsed_us: number | null; bits_per_second: number | null;
  packet_bps_min: number | null; packet_bps_median: number | null;
  packet_bps_p90: number | null; packet_bps_max: number | null;
  /** Measured at the sender (the server for a download, the client for an upload): how fast
   *  the bytes left, not how fast they arrived. */
  sender_elapsed_us: number | null; sender_bits_per_second: number | null;
  /** A time-bounded test's headline window (null for an N x S test): it opens grace_us (a
   *  fifth of duration_ms, at most 2 s) after the direction's first byte and closes at the
   *  first packet end after the last packet start, on the receiver's clock; bits_per_second
   *  is window_bytes over its length.  A test cut shorter than twice its grace counts its
   *  whole span.  `packets` is then the number of transfers moved. */
  grace_us: number | null; window_start_at: number | null; window_end_at: number | null;
  window_bytes: number | null;
  /** The direction's clock on the server: its first packet's claim, and duration_ms later
   *  (null for an N x S test, or a direction not started). */
  started_at: number | null; time_up_at: number | null;
}

export interface TransferRecord {
  direction: Direction; seq: number; bytes: number; status: string;
  server_started_at: number | null; server_finished_at: number | null;
  client_sent_at: number | null;
  /** A download's first byte (its response headers) at the client; null for an upload. */
  client_first_byte_at: number | null;
  client_received_at: number | null;
  /** The receiver's: the server's for an upload, client_received_at - client_first_byte_at
   *  for a download (null until reported). */
  duration_us: number | null; bits_per_second: number | null;
  /** The sender's: the server's stamps for a download, the client's for an upload. */
  sender_duration_us: number | null; sender_bits_per_second: number | null;
}

/** When a latency probe was sent: before the first packet, or while packets moved. */
export type ProbePhase = 'idle' | 'download' | 'upload' | 'bidirectional';

/** One phase's round trips under load (µs); rise_median_us only for loaded phases, null
 *  without an idle baseline. */
export interface PhaseLatency {
  samples: number; lost: number;
  rtt_median_us: number | null; rtt_p90_us: number | null; rtt_p99_us: number | null;
  rise_median_us?: number | null;
}

export type BufferbloatGrade = 'A+' | 'A' | 'B' | 'C' | 'D' | 'F';

/** A latency probe as stored: server stamps null when it never reached the server, the
 *  client's receipt null when no answer came (or has not been reported yet). */
export interface ProbeRecord {
  seq: number; phase: ProbePhase;
  client_sent_at: number; server_received_at: number | null; server_sent_at: number | null;
  client_received_at: number | null; rtt_us: number | null; server_us: number | null;
}

export interface ThroughputTest {
  id: number; kind: 'throughput'; state: TestState;
  direction: Direction | 'both'; simultaneous: boolean;
  /** An N x S test's count and size; null (packet_size: when not given) for a time-bounded one. */
  packets: number | null; packet_size: number | null;
  /** A time-bounded test's time per direction; null for an N x S test. */
  duration_ms: number | null;
  client: ClientInfo | null; created_at: number; finished_at: number | null;
  summary: {
    download: DirectionSummary | null; upload: DirectionSummary | null;
    /** One entry per phase the test has probes of. */
    latency: Partial<Record<ProbePhase, PhaseLatency>>;
    /** From the largest rise: A+ under 5 ms, A under 30, B under 60, C under 200, D under
     *  400, else F; null without an idle and a loaded phase. */
    bufferbloat_grade: BufferbloatGrade | null;
    /** 60000 ms over the trimmed mean (worst 5% dropped) of the loaded probes' RTT. */
    responsiveness_rpm: number | null;
  };
  transfers?: TransferRecord[];
  probes?: ProbeRecord[];
}

export interface History<T> { tests: T[]; next_cursor: string | null; }

/** What onSample receives after each echo (times in µs; local, before the server's view). */
export interface PingSample {
  seq: number;
  /** true when the exchange failed on the network: the sample will count as lost. */
  lost: boolean;
  clientSentAt: number;
  clientReceivedAt?: number;
  serverReceivedAt?: number | null;
  serverSentAt?: number | null;
  rttUs?: number;
  serverUs?: number | null;
  /** The server's own processing time from its Server-Timing header, when exposed. */
  serverTimingUs?: number | null;
  networkRttUs?: number | null;
  offsetUs?: number | null;
  done?: number;
  total?: number;
  error?: PingooError;
}

/** What onProgress receives after each packet.  The duration and rate are the receiver's:
 *  a download's by this client from its first byte to its last, an upload's by the server
 *  (from its 200 answer; null when the server gave none). */
export interface ThroughputProgress {
  direction: Direction; seq: number; bytes: number;
  /** Where durationUs and bitsPerSecond were measured. */
  measuredBy: 'client' | 'server';
  durationUs: number | null; bitsPerSecond: number | null;
  clientSentAt: number;
  /** When fetch() resolved with the download's response headers; null for an upload. */
  clientFirstByteAt: number | null;
  clientReceivedAt: number;
  /** The server's stamps for an upload (its JSON answer), the start stamp of a download. */
  server: Record<string, unknown> | null;
  /** Packets moved so far, over all directions, and the number to move (null for a
   *  time-bounded test). */
  done: number; total: number | null;
  /** Time-bounded tests only: the stream (0-based) that moved the packet, the direction's
   *  streams now, ms since the direction's first packet started (the client's clock), the
   *  test's duration_ms, and the receiver's rate over the last second of what is known (an
   *  upload's bytes are known when the server answers, so it lags by a packet). */
  stream?: number; streams?: number; elapsedMs?: number; durationMs?: number;
  runningBitsPerSecond?: number | null;
}

/** What onProbe receives after each latency probe (times in µs, this client's view). */
export interface ThroughputProbe {
  seq: number; phase: ProbePhase;
  /** true when no answer came: the probe is reported lost. */
  lost: boolean;
  clientSentAt: number;
  clientReceivedAt?: number;
  serverReceivedAt?: number;
  serverSentAt?: number;
  rttUs?: number;
  serverUs?: number;
  error?: PingooError;
}

export interface PingooOptions {
  /** The server's origin, e.g. https://pingoo.example; '' for the page's own origin. */
  baseUrl: string;
  token?: string | null;
  /** A fetch to use instead of globalThis.fetch (a custom TLS agent in Node, say). */
  fetch?: typeof fetch;
  /** Receipts per request (ping); 10 by default. */
  receiptBatch?: number;
  /** Client reports per request (throughput); 10 by default. */
  reportBatch?: number;
  expiresAt?: number | null;
  /** A fetch for latency probes on a connection of their own.  In Node the SDK makes one
   *  (a one-socket keep-alive agent); in a browser probes share the page's connection. */
  probeFetch?: typeof fetch;
}

export interface LoginOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  receiptBatch?: number;
  reportBatch?: number;
}

export interface PingOptions {
  /** Echoes to send, 1..the server's ping_max_count. Default 10. */
  count?: number;
  /** Milliseconds from one send to the next. Default 100. */
  intervalMs?: number;
  client?: ClientInfo;
  /** Aborting closes the test on the server and rejects with an AbortError. */
  signal?: AbortSignal;
  onSample?: (sample: PingSample) => void;
  /** Called with the created test before the first echo. */
  onStart?: (test: PingTest) => void;
  receiptBatch?: number;
}

/** Without packets, packetSize and streams the test is time-bounded (durationMs, maxStreams);
 *  with any of them it is N x S (defaults 10 x 1 MiB x 1 stream).  Mixing the two forms, or a
 *  durationMs outside 1000..60000, throws a TypeError. */
export interface ThroughputOptions {
  direction?: Direction | 'both';
  /** Time-bounded: ms per direction from its first packet's start, 1000..60000. Default 10000. */
  durationMs?: number;
  /** Time-bounded: the ramp doubles the streams up to this, 1..64. Default 16. */
  maxStreams?: number;
  /** N x S: packets per direction (default 10). */
  packets?: number;
  /** N x S: bytes per packet (default 1 MiB). */
  packetSize?: number;
  /** N x S: parallel exchanges (default 1). */
  streams?: number;
  /** With direction 'both': download and upload at once (probes in phase bidirectional). */
  simultaneous?: boolean;
  /** Latency probes beside the packets; true by default. */
  probes?: boolean;
  /** Probes before the first packet (phase idle). Default 10. */
  idleProbes?: number;
  /** Milliseconds from one loaded probe to the next. Default 100. */
  probeIntervalMs?: number;
  client?: ClientInfo;
  /** Aborting calls the abort route and rejects with an AbortError. */
  signal?: AbortSignal;
  onProgress?: (p: ThroughputProgress) => void;
  onProbe?: (p: ThroughputProbe) => void;
  onStart?: (test: ThroughputTest) => void;
  reportBatch?: number;
}

/** The AbortError a cancelled run rejects with carries the test as the server left it. */
export interface PingooAbortError extends DOMException {
  name: 'AbortError';
  test?: PingTest | ThroughputTest;
  testId?: number;
}

export declare class Pingoo {
  constructor(opts: PingooOptions);
  static login(baseUrl: string, username: string, password: string,
    opts?: LoginOptions): Promise<Pingoo>;
  baseUrl: string;
  token: string | null;
  /** ms since the epoch when the token expires, when known. */
  expiresAt: number | null;
  receiptBatch: number;
  reportBatch: number;
  /** Revokes this token on the server (POST /auth/logout), then forgets it
   * (token and expiresAt become null); a token refused already (401) is
   * forgotten too. */
  logout(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Revokes every token of the user (POST /auth/logout-all), this one
   * included, then forgets it. */
  logoutAll(opts?: { signal?: AbortSignal }): Promise<void>;
  me(opts?: { signal?: AbortSignal }): Promise<User>;
  health(opts?: { signal?: AbortSignal }): Promise<{ status: string; database: string; version: string }>;
  static pickServer(urls: string[], opts?: { probes?: number; timeoutMs?: number; fetch?: typeof fetch; signal?: AbortSignal }): Promise<{
    url: string; rttUs: number;
    results: { url: string; rttUs: number | null; samples: number; error?: string }[];
  }>;
  ping(opts?: PingOptions): Promise<PingTest>;
  throughput(opts?: ThroughputOptions): Promise<ThroughputTest>;
  history(opts: { kind: 'ping'; limit?: number; cursor?: string | null; signal?: AbortSignal }): Promise<History<PingTest>>;
  history(opts: { kind: 'throughput'; limit?: number; cursor?: string | null; signal?: AbortSignal }): Promise<History<ThroughputTest>>;
  history(opts?: { kind?: 'ping' | 'throughput'; limit?: number; cursor?: string | null; signal?: AbortSignal }): Promise<History<PingTest | ThroughputTest>>;
  test(kind: 'ping', id: number, opts?: { signal?: AbortSignal }): Promise<PingTest>;
  test(kind: 'throughput', id: number, opts?: { signal?: AbortSignal }): Promise<ThroughputTest>;
  /** Deletes one of the user's tests; a 404 PingooError for another user's or a gone one. */
  deleteTest(kind: 'ping' | 'throughput', id: number, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Deletes every test of the user; resolves to how many of each kind went. */
  deleteAllTests(opts?: { signal?: AbortSignal; pollMs?: number }): Promise<{ ping: number; throughput: number }>;
  /** Every record of the user's tests as it streams in (NDJSON, constant memory), `end` excluded;
   *  rejects with code 'export_truncated' when the stream lacks its end record. */
  exportRecords(opts?: ExportQuery): AsyncGenerator<ExportRecord, void, undefined>;
  /** The whole export as text (CSV by default), e.g. for a file to save. */
  exportText(opts?: ExportQuery & { format?: 'csv' | 'ndjson' }): Promise<string>;
  /** The user's tests in groups (docs/api.md "Aggregates"). */
  aggregates(opts?: ExportQuery & { group?: AggregateGroup }): Promise<Aggregates>;
}

/** Which tests an export or aggregate covers: created in [from, to) (µs), of one kind. */
export interface ExportQuery {
  from?: number; to?: number; kind?: 'ping' | 'throughput'; signal?: AbortSignal;
}

/** One NDJSON export record: its `type` and the columns of docs/api.md "Export" it has. */
export type ExportRecord =
  | ({ type: 'ping_test'; test_id: number; state: TestState; created_at: number; finished_at: number | null;
       count: number; interval_ms: number | null; client: ClientInfo | null })
  | ({ type: 'throughput_test'; test_id: number; state: TestState; created_at: number; finished_at: number | null;
       test_direction: Direction | 'both'; packets: number | null; packet_size: number | null; client: ClientInfo | null })
  | ({ type: 'ping_sample'; test_id: number } & PingSampleRecord)
  | ({ type: 'transfer'; test_id: number } & TransferRecord)
  | ({ type: 'probe'; test_id: number } & ProbeRecord)
  | { type: string; test_id?: number; [key: string]: unknown };

export type AggregateGroup = 'network_type' | 'platform' | 'carrier' | 'day';

export interface AggregateRate {
  tests: number; bits_per_second_median: number | null; bits_per_second_p90: number | null;
}

export interface AggregateGroupFigures {
  /** The client's value, or the UTC day YYYY-MM-DD; null for tests that did not say. */
  key: string | null;
  ping: { tests: number; planned: number; received: number; loss_pct: number | null;
    rtt_median_us: number | null; rtt_p90_us: number | null } | null;
  throughput: { tests: number; download: AggregateRate; upload: AggregateRate } | null;
  /** Null until throughput tests carry latency probes. */
  loaded_latency: { rise_median_us: number | null; bufferbloat_grade: BufferbloatGrade | null };
}

export interface Aggregates {
  group: AggregateGroup; from: number; to: number; kinds: Array<'ping' | 'throughput'>;
  groups: AggregateGroupFigures[];
}

export default Pingoo;
