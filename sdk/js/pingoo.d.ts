// Type declarations for pingoo-sdk (src/pingoo.js).  The wire format is docs/api.md.

export declare const VERSION: string;

/** Microseconds since the Unix epoch, from performance.timeOrigin + performance.now(). */
export declare function nowUs(): number;
/** µs of the `app` entry of a Server-Timing header (else the first with a dur), or null. */
export declare function parseServerTiming(header: string | null | undefined): number | null;
/** A buffer of `size` random bytes (crypto.getRandomValues, 64 KiB at a time). */
export declare function randomBytes(size: number): Uint8Array;

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

export interface DirectionSummary {
  packets: number; received: number; failed: number; bytes: number;
  elapsed_us: number | null; bits_per_second: number | null;
  packet_bps_min: number | null; packet_bps_median: number | null;
  packet_bps_p90: number | null; packet_bps_max: number | null;
}

export interface TransferRecord {
  direction: Direction; seq: number; bytes: number; status: string;
  server_started_at: number | null; server_finished_at: number | null;
  client_sent_at: number | null; client_received_at: number | null;
  duration_us: number | null; bits_per_second: number | null;
}

export interface ThroughputTest {
  id: number; kind: 'throughput'; state: TestState;
  direction: Direction | 'both'; packets: number; packet_size: number;
  client: ClientInfo | null; created_at: number; finished_at: number | null;
  summary: { download: DirectionSummary | null; upload: DirectionSummary | null };
  transfers?: TransferRecord[];
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

/** What onProgress receives after each packet. */
export interface ThroughputProgress {
  direction: Direction; seq: number; bytes: number; durationUs: number;
  bitsPerSecond: number | null; clientSentAt: number; clientReceivedAt: number;
  /** The server's stamps for an upload (its JSON answer), the start stamp of a download. */
  server: Record<string, unknown> | null;
  /** Packets moved so far, over all directions, and the number to move. */
  done: number; total: number;
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

export interface ThroughputOptions {
  direction?: Direction | 'both';
  packets?: number;
  packetSize?: number;
  /** Parallel exchanges. Default 1. */
  streams?: number;
  client?: ClientInfo;
  /** Aborting calls the abort route and rejects with an AbortError. */
  signal?: AbortSignal;
  onProgress?: (p: ThroughputProgress) => void;
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
}

export default Pingoo;
