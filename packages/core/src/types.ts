import type { Readable } from 'node:stream';
import type { SecureVersion } from 'node:tls';
import type { Logger } from 'pino';
import type { ConversionInfo, ConvertTarget } from './convert/types.js';
import type { ExpectKind, MediaFormat } from './magic.js';

/** Every way a fetch can fail, as seen by the orchestrator. */
export type FailureClass =
  | 'tls-handshake'
  | 'tls-protocol'
  | 'tls-certificate'
  | 'dns'
  | 'connect-refused'
  | 'connect-reset'
  | 'timeout'
  | 'proxy'
  | 'http-status'
  | 'content-invalid'
  | 'too-large'
  | 'blocked'
  | 'aborted'
  | 'unavailable'
  | 'url-expired'
  | 'local-io'
  | 'unknown';

export const FAILURE_CLASSES: readonly FailureClass[] = [
  'tls-handshake',
  'tls-protocol',
  'tls-certificate',
  'dns',
  'connect-refused',
  'connect-reset',
  'timeout',
  'proxy',
  'http-status',
  'content-invalid',
  'too-large',
  'blocked',
  'aborted',
  'unavailable',
  'url-expired',
  'local-io',
  'unknown',
];

/** How a connection reaches the origin. `url` never leaves the process unredacted (see redact.ts). */
export type Route =
  | { readonly kind: 'direct' }
  | { readonly kind: 'http-proxy'; readonly url: string }
  | { readonly kind: 'socks'; readonly url: string };

export const DIRECT: Route = Object.freeze({ kind: 'direct' });

/** TLS settings for one attempt. Strict unless a strategy relaxes them. */
export interface TlsOptions {
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  ciphers?: string;
  /** Bit mask of `crypto.constants.SSL_OP_*`. */
  secureOptions?: number;
  /** Certificate verification. Only `false` for hosts the caller listed in `insecureHosts`. */
  rejectUnauthorized: boolean;
  /** The full set of trusted roots (Node's roots + `NODE_EXTRA_CA_CERTS` + caller's `ca`). */
  ca?: Array<string | Buffer>;
  /** PEM text of CAs added on top of the system's, for tools (curl) that need a file. */
  extraCaPem?: string;
}

/**
 * What the body must be, judged by its first bytes: `image`, `audio`, `video`, `media` (any of
 * the three) or `any` (no check). See `sniffFormat` in magic.ts for the formats of each kind.
 */
export type { ExpectKind };

/** Per-phase timeouts in ms (got's names). The attempt deadline bounds them all. */
export interface PhaseTimeouts {
  lookup: number;
  connect: number;
  secureConnect: number;
  /** Until the response headers arrive. */
  response: number;
  /** Longest silence on the socket while the body streams. */
  socket: number;
  /**
   * Connecting to a proxy and getting its tunnel answer (HTTP CONNECT, SOCKS handshake): a proxy
   * that accepts and never answers fails with `proxy` / `DETOUR_PROXY_TIMEOUT` after this long.
   */
  proxy: number;
}

/** One HTTP exchange for the transport: no redirect is followed (see `followWithRetries`). */
export interface TransportRequest {
  url: URL;
  headers: Readonly<Record<string, string>>;
  route: Route;
  tls: Readonly<TlsOptions>;
  allowPrivateNetwork: boolean;
  timeouts?: Partial<PhaseTimeouts> | undefined;
  /** Decode gzip/deflate/br bodies (default true). */
  decompress?: boolean;
  /**
   * Through a proxy that resolves names (HTTP CONNECT, `socks5h://`), resolve the name here,
   * check it, and send the checked address instead (default false: the proxy gets the name).
   */
  pinResolvedAddress?: boolean | undefined;
}

/**
 * The pipeline's HTTP client as strategies and the pipeline see it (the `TRANSPORT` token). Core's
 * implementation is `Transport` (got over pooled agents); a plugin may replace or decorate it.
 */
export interface HttpTransport {
  /** One request; resolves when the response head arrives, the body streams. Never follows a redirect. */
  request(req: TransportRequest, signal: AbortSignal): Promise<AttemptResponse>;
  /** Sockets held open (idle keep-alive included). */
  openSockets(): number;
  /** Free every socket. */
  close(): void;
}

export interface Limits {
  /** Largest body accepted, enforced while streaming. */
  maxBytes: number;
  /** Most redirects followed by one attempt. */
  maxRedirects: number;
  /** Retries inside one attempt for 408/429/5xx and resets. */
  maxRetries: number;
  /** Longest `Retry-After` honoured, in ms; a longer one ends the attempt. */
  maxRetryAfterMs: number;
  /** Range requests made to finish a body cut short before its Content-Length (default 3). */
  maxResumes?: number;
}

/** What the orchestrator hands a strategy. A strategy may derive a new request from it but never mutates it. */
export interface AttemptRequest {
  /** The URL the caller asked for. */
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** The route the environment chose for this URL (direct, or the proxy in the way). */
  readonly route: Route;
  readonly tls: Readonly<TlsOptions>;
  readonly limits: Readonly<Limits>;
  readonly expect: ExpectKind;
  /** Deadline for this attempt, in ms since the epoch. */
  readonly deadline: number;
  readonly allowPrivateNetwork: boolean;
  /** The failures seen so far in this fetch, oldest first. */
  readonly failures: readonly AttemptRecord[];
  readonly logger: Logger;
  /** The pipeline's pooled HTTP client; strategies that speak HTTP in-process use it. */
  readonly transport: HttpTransport;
  readonly timeouts?: Partial<PhaseTimeouts> | undefined;
  /**
   * Through a proxy that resolves names, send the checked address instead of the name
   * (`PipelineOptions.pinResolvedAddress`).
   */
  readonly pinResolvedAddress?: boolean | undefined;
  /**
   * Where a client that is not `transport` reports each exchange it made (curl does, per hop).
   * The pipeline sets `downgraded`, `insecure` and `degraded` from these reports and from what
   * `transport` saw, whatever the response says: a body no exchange was reported for is not known
   * to be the origin's, and is marked `degraded`. Set by the orchestrator on every attempt.
   */
  readonly reportHop?: ((hop: HopReport) => void) | undefined;
}

/** One exchange a client made for an attempt (a redirect or a retried status counts too). */
export interface HopReport {
  /** Where it went: an `http:` URL is plaintext. */
  readonly url: URL;
  /** The server's certificate was accepted without being checked. */
  readonly insecure: boolean;
}

export type HeaderValue = string | string[] | undefined;

/** A response whose body has not been read yet. */
export interface AttemptResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly body: Readable;
  /** URL after redirects. */
  readonly finalUrl: string;
  /** The route that was really used. */
  readonly route: Route;
  /** Body was decoded (gzip/br/deflate), so Content-Length does not count its bytes. */
  readonly decoded?: boolean;
  /** Certificate checks were off for this host (caller's `insecureHosts`). */
  readonly insecure?: boolean;
  /** Fetched over http:// although https:// was asked for. */
  readonly downgraded?: boolean;
  /** Not the real file (placeholder). */
  readonly degraded?: boolean;
  /** Why a degraded response stands in for the real file (the failures that led there). */
  readonly degradedReason?: string;
  /** Retries made inside the strategy before this response. */
  readonly retries?: number;
}

/**
 * Which failures a strategy can rescue:
 * - `'first'`: a first-line strategy; it runs only while nothing has failed yet.
 * - a set: it runs first, or after a failure of one of these classes.
 * - `'any'`: it runs after any failure that is not terminal.
 */
export type Rescues = 'first' | ReadonlySet<FailureClass> | 'any';

/**
 * Where a strategy belongs in a plan, strictest first. Detection orders strategies by stage (and
 * the environment), never by name:
 * - `strict`: the request as asked, strict TLS, through the route the environment chose;
 * - `route`: the same strict request by another route (around the proxy in the way);
 * - `relaxed`: the same route with something relaxed (legacy TLS);
 * - `fallback`: another client or protocol (curl, plain HTTP, a mirror);
 * - `last-resort`: not the real file (a placeholder): runs last, marked `degraded`.
 */
export type Stage = 'strict' | 'route' | 'relaxed' | 'fallback' | 'last-resort';

export const STAGES: readonly Stage[] = ['strict', 'route', 'relaxed', 'fallback', 'last-resort'];

/** What a strategy says about itself: enough for a planner to order it without knowing its name. */
export interface StrategyInfo {
  readonly name: string;
  /** Default `fallback` (a custom strategy without one goes after the built-in relaxations). */
  readonly stage?: Stage;
  /** One human sentence: what it does differently (shown by `detour detect` and in plans). */
  readonly reason?: string;
  /** It may send the request in plaintext (planners apply the caller's downgrade host list to it). */
  readonly plaintext?: boolean;
}

export interface Strategy extends StrategyInfo {
  readonly name: string;
  readonly rescues: Rescues;
  /**
   * Whether the strategy can do anything for this request at all (e.g. http-downgrade only for
   * opted-in hosts, direct-bypass only when a proxy is in the way). Returns `true`, or the reason
   * it does not apply; the attempt is then recorded as `skipped` with that reason.
   */
  applies?(req: AttemptRequest): true | string;
  /**
   * The route this strategy's attempt takes when it is not `req.route` (direct-bypass goes direct
   * whatever the environment says). Attempt records show it, also when the attempt fails before a
   * response names its route, so a failed bypass is never listed as having used the proxy.
   */
  attemptRoute?(req: AttemptRequest): Route;
  attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse>;
  /** Free sockets, children, timers. */
  close?(): Promise<void> | void;
}

export type AttemptOutcome = 'ok' | 'failed' | 'skipped';

/** One line of the story a result tells. Field names are a public contract (CLI `--json`). */
export interface AttemptRecord {
  strategy: string;
  /** `direct`, or the proxy URL without credentials. */
  route: string;
  outcome: AttemptOutcome;
  failureClass?: FailureClass;
  code?: string;
  ms: number;
  /** Why it failed or was skipped, for humans. */
  message?: string;
  /** HTTP status, when one was received. */
  status?: number;
  retries?: number;
  /** Range requests that finished a body cut short (see resume.ts). */
  resumes?: number;
  /** Full downloads restarted because a range request was answered with the whole file. */
  restarts?: number;
  insecure?: boolean;
  downgraded?: boolean;
  /** The origin's own error number and text, when a preset read them from the response (QQ's `retcode`). */
  retcode?: number;
  retmsg?: string;
}

export interface FetchOptions {
  expect?: ExpectKind;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Total deadline for the whole fetch, all strategies included. */
  timeoutMs?: number;
  maxBytes?: number;
  /** Strategy names, in order, overriding the pipeline's plan for this fetch. */
  strategies?: string[];
  /** Header profile for this fetch (see PipelineOptions.headersProfile). */
  headersProfile?: string;
  /** Skip the cache for this fetch (neither read nor written). */
  noCache?: boolean;
  /**
   * The size the body must have, when the caller knows it (QQ's `file_size`). A body of another
   * size fails with `content-invalid` / `DETOUR_SIZE_MISMATCH`: checked against Content-Length
   * before the body is read, and against the bytes received.
   */
  expectedBytes?: number;
  /**
   * Called once when the fetch fails with `url-expired` (a signed URL whose signature expired):
   * returns a fresh URL to fetch instead, or undefined to give up. Overrides the pipeline's.
   */
  refreshUrl?: RefreshUrl;
  /**
   * Told how the download goes: `received` bytes of `total` (the announced length, or the
   * expected size; null when unknown). Called at most every `progressIntervalMs` while the body
   * flows, and once at its end; a new attempt starts again from 0. Errors it throws are ignored.
   */
  onProgress?: (progress: DownloadProgress) => void;
  /** Least time between two `onProgress` calls (default 100 ms). */
  progressIntervalMs?: number;
  /**
   * Convert the body before it is delivered: `wav` turns a SILK voice clip into WAV (PCM s16le,
   * mono). A body already in that format is delivered as it is; any other fails with
   * `content-invalid` / `DETOUR_CONVERT_UNSUPPORTED`. See docs/convert.md.
   */
  convert?: ConvertTarget;
  /** The WAV's sample rate with `convert` (default 24000; 8000, 12000, 16000, 24000, 32000, 44100 or 48000). */
  sampleRate?: number;
  /** Longest clip `convert` accepts, in ms (default 600000: 10 minutes); longer is `too-large`. */
  maxDurationMs?: number;
}

/** What `onProgress` is told. */
export interface DownloadProgress {
  received: number;
  total: number | null;
}

/** Gives a fresh URL for one that expired (e.g. a new `rkey`), or undefined when it cannot. */
export type RefreshUrl = (url: string, error: Error) => Promise<string | undefined>;

/** Public contract: these fields are what `detour fetch --json` prints. */
export interface FetchResultInfo {
  ok: true;
  url: string;
  finalUrl: string;
  strategy: string;
  degraded: boolean;
  /** With `degraded`: the failures that led to the stand-in. */
  degradedReason?: string;
  fromCache: boolean;
  bytes: number;
  contentType: string | null;
  sha256: string;
  attempts: AttemptRecord[];
  /**
   * The strategy names this fetch planned, in order ([] when the cache answered: nothing was
   * planned). Every one of them is in `attempts`: those after the winner as `skipped`
   * ("not needed: direct succeeded"). A failure carries it too (`DetourError.plan`), with every
   * planned strategy in its `attempts`.
   */
  plan: string[];
  insecure: boolean;
  downgraded: boolean;
  status: number;
  /** The format the body's first bytes show (`png`, `jpeg`, `silk`, `mp4`, …), or null when unknown. */
  format: MediaFormat | null;
  /**
   * Images only (absent for other formats): a GIF with more than one frame, a WebP with `ANIM`, a
   * PNG with `acTL` (APNG). Set by `fetch` and `toFile`; not by `stream`, whose result comes
   * before the body (a GIF's second frame can be anywhere in it).
   */
  animated?: boolean;
  /** With `convert`: what the conversion did (the body, `bytes`, `sha256` and `format` are the converted file's). */
  converted?: ConversionInfo;
}

export interface FetchResult extends FetchResultInfo {
  body: Buffer;
}

export interface FileResult extends FetchResultInfo {
  path: string;
}

export interface StreamResult extends Omit<FetchResultInfo, 'bytes' | 'sha256'> {
  /** Body stream; errors with a DetourError (too-large, content-invalid, ...) mid-way. */
  body: Readable;
  /** Content-Length when known. */
  expectedBytes: number | null;
  /** The body's SHA-256 (hex) when known before it streams (answered from the cache or a shared download). */
  sha256?: string;
}
