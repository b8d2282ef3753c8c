import type { Readable } from 'node:stream';
import type { SecureVersion } from 'node:tls';
import type { ExpectKind } from '../magic.js';

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
