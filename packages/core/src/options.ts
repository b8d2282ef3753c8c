import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import type { CircuitOptions } from './adaptive/circuit.js';
import type { RouteMemoryOptions } from './adaptive/route-memory.js';
import type { CacheOptions } from './cache/cache.js';
import type { EnvironmentProvider } from './environment.js';
import { DetourUsageError } from './errors.js';
import { checkHeaders, type HeaderProfile, resolveProfile } from './headers.js';
import type { Layer } from './layers/layer.js';
import type { ConcurrencyOptions } from './limiter.js';
import type { Preset } from './preset.js';
import { registerSecrets } from './redact.js';
import type { KeyValueStore, KeyvLike } from './store/store-types.js';
import type { PhaseTimeouts, RefreshUrl, Strategy, TlsOptions } from './types/index.js';

/** Something that registers strategies (or other services) into the pipeline's container. */
export type Plugin = (container: DependencyContainer) => void;

export interface PipelineOptions {
  /** Allow targets in private, loopback and link-local ranges (default false). */
  allowPrivateNetwork?: boolean;
  /**
   * `string`: send every request through this proxy (`http://`, `https://`, `socks4://`,
   * `socks5://`, `socks5h://`…); `false`/`null`: never use a proxy; omitted: the environment
   * provider decides (direct without one).
   */
  proxy?: string | false | null;
  /** Strategy names in the order to try them. Default: the environment's plan, else registration order. */
  strategies?: string[];
  /** Extra strategies (instances) or plugins (`register` functions of strategy packages). */
  use?: Array<Strategy | Plugin>;
  /**
   * Your layers around core's, outermost first (see `Layer`): e.g. metrics, a host policy. They
   * see every fetch (cache hits and shared downloads included) and may answer, change the call,
   * or look at the outcome. Plugins can add more under the `LAYER` token.
   */
  layers?: Layer[];
  /** A pino logger; Detour logs through a child of it. Default: silent (a library prints nothing uninvited). */
  logger?: Logger;
  /**
   * Without `logger`: the level of Detour's own pino logger, JSON lines on stderr (`warn`, `info`,
   * `debug`, …). Default `silent`: nothing is printed unless `logger` or `logLevel` is given.
   */
  logLevel?: string;
  /** Total deadline for one fetch, every attempt included (default 60 s). */
  timeoutMs?: number;
  /** Deadline for one attempt (default 30 s, never past the total). */
  attemptTimeoutMs?: number;
  /** Largest body accepted (default 50 MiB). */
  maxBytes?: number;
  /** Most redirects per attempt (default 5). */
  maxRedirects?: number;
  /** Retries inside one attempt for 408/429/5xx/resets (default 2). */
  maxRetries?: number;
  /** Longest Retry-After honoured in ms (default 5 s). */
  maxRetryAfterMs?: number;
  /** Range requests that may finish one body cut short before its Content-Length (default 3; 0: off). */
  maxResumes?: number;
  /**
   * Site knowledge as hooks (see `Preset`): URL rewrites, response classification, cache keys,
   * expected sizes, Referer policy, each only for the hosts the preset names. E.g. `@detour/qq`.
   */
  presets?: Preset[];
  /** Called once when a fetch fails with `url-expired`; returns a fresh URL or undefined (per-fetch option wins). */
  refreshUrl?: RefreshUrl;
  /** Headers sent with every request (over the profile's). */
  headers?: Record<string, string>;
  /** Header profile: `detour` (default), `chrome`, `firefox`, or a name from `headerProfiles`. */
  headersProfile?: string;
  /** Extra named header profiles. */
  headerProfiles?: Record<string, HeaderProfile>;
  /** Extra trusted CAs (PEM), on top of the system's and `NODE_EXTRA_CA_CERTS`. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Network environment (see `@detour/detect`). */
  environment?: EnvironmentProvider;
  /**
   * Per-phase timeouts in ms: `lookup`, `connect`, `secureConnect`, `response`, `socket`, and
   * `proxy` (connecting to a proxy and getting its CONNECT/SOCKS answer, default 3 s).
   */
  timeouts?: Partial<PhaseTimeouts>;
  /**
   * Through proxies that resolve names themselves (HTTP CONNECT, `socks5h://`, `socks4a://`),
   * resolve the name here, check it with the private-address guard and send the checked IP
   * instead of the name (default false: the name goes to the proxy, which Clash-style rules
   * need). Turn it on for services that fetch untrusted URLs. `socks5://` and `socks4://` always
   * resolve here.
   */
  pinResolvedAddress?: boolean;
  /** Sockets per origin per route (default 64). */
  maxSockets?: number;
  /** Process environment used for `NODE_EXTRA_CA_CERTS` (default `process.env`). */
  env?: Record<string, string | undefined>;
  /**
   * The cache in front of the pipeline. Default: in memory only (LRU, 32 MiB, 256 entries, 24 h).
   * `{ dir }` adds a disk tier that survives restarts, `{ store }` a shared one (Keyv/Redis),
   * `{ cacheKey }` normalises URLs for every host (`dropQueryParams`); presets key their own hosts. `false`: no cache.
   */
  cache?: false | CacheOptions;
  /**
   * Route memory: per origin and environment fingerprint, the strategy that worked goes first next
   * time. Default: in process, `ttlMs` 1 h, `reprobeAfterMs` 10 min. `{ store }` shares it. `false`: off.
   */
  routeMemory?: false | RouteMemoryOptions;
  /** Fetches running at once: `global` (default 64) and `perHost` (default 8); the rest queue. */
  concurrency?: ConcurrencyOptions;
  /**
   * Per-host circuit breaker: after `threshold` (default 5) fetches in a row where every strategy
   * failed, the host is refused without network for `cooldownMs` (default 30 s). `false`: off.
   */
  circuit?: false | CircuitOptions;
  /**
   * Where route memory and circuit state live unless their own `store` says otherwise, so they
   * survive the process: a `FileStateStore` over a state directory (what `detour fetch` and
   * `createDetour({ state: dir })` use), or any KeyValueStore / Keyv instance. Failure counts of
   * the circuit are kept there too (`persistCounts`). Not closed by the pipeline (its caller's);
   * `close()` saves it (`flush()`). Default: in process only.
   */
  state?: KeyValueStore | KeyvLike;
}

export interface ResolvedPipelineOptions {
  allowPrivateNetwork: boolean;
  proxy: string | false | null | undefined;
  strategies: string[] | undefined;
  timeoutMs: number;
  attemptTimeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  maxRetries: number;
  maxRetryAfterMs: number;
  maxResumes: number;
  presets: Preset[];
  refreshUrl: RefreshUrl | undefined;
  headers: Record<string, string>;
  headersProfile: string;
  headerProfiles: Record<string, HeaderProfile>;
  tls: TlsOptions;
  timeouts: Partial<PhaseTimeouts>;
  maxSockets: number;
  pinResolvedAddress: boolean;
}

export const DEFAULTS = {
  timeoutMs: 60_000,
  attemptTimeoutMs: 30_000,
  maxBytes: 50 * 1024 * 1024,
  maxRedirects: 5,
  maxRetries: 2,
  maxRetryAfterMs: 5_000,
  maxResumes: 3,
  maxSockets: 64,
} as const;

export const DEFAULT_USER_AGENT = 'detour/0.1';

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new DetourUsageError(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`,
    );
  }
  return value;
}

/** Trusted roots when the caller adds CAs: Node replaces its defaults when `ca` is given, so rebuild them. */
function trust(options: PipelineOptions): Pick<TlsOptions, 'ca' | 'extraCaPem'> {
  const env = options.env ?? process.env;
  const extra: string[] = [];
  const envFile = env.NODE_EXTRA_CA_CERTS;
  if (envFile) {
    try {
      extra.push(readFileSync(envFile, 'utf8'));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we (nothing added).
    }
  }
  const given = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  if (given.length === 0) return extra.length ? { extraCaPem: extra.join('\n') } : {};
  const pems = [...extra, ...given.map((c) => c.toString())];
  return { ca: [...rootCertificates, ...pems], extraCaPem: pems.join('\n') };
}

export function resolveOptions(options: PipelineOptions): ResolvedPipelineOptions {
  checkHeaders(options.headers, 'headers');
  for (const [name, profile] of Object.entries(options.headerProfiles ?? {})) {
    checkHeaders(profile?.headers, `headerProfiles.${name}`);
  }
  return {
    allowPrivateNetwork: options.allowPrivateNetwork ?? false,
    proxy: options.proxy,
    strategies: options.strategies,
    timeoutMs: positive('timeoutMs', options.timeoutMs, DEFAULTS.timeoutMs),
    attemptTimeoutMs: positive('attemptTimeoutMs', options.attemptTimeoutMs, DEFAULTS.attemptTimeoutMs),
    maxBytes: positive('maxBytes', options.maxBytes, DEFAULTS.maxBytes),
    maxRedirects: positive('maxRedirects', options.maxRedirects, DEFAULTS.maxRedirects, true),
    maxRetries: positive('maxRetries', options.maxRetries, DEFAULTS.maxRetries, true),
    maxRetryAfterMs: positive('maxRetryAfterMs', options.maxRetryAfterMs, DEFAULTS.maxRetryAfterMs, true),
    maxResumes: positive('maxResumes', options.maxResumes, DEFAULTS.maxResumes, true),
    presets: checkedPresets(options.presets),
    refreshUrl: options.refreshUrl,
    headers: lowerCaseKeys(options.headers ?? {}),
    headersProfile: checkedProfile(options),
    headerProfiles: options.headerProfiles ?? {},
    tls: { rejectUnauthorized: true, ...trust(options) },
    timeouts: checkedTimeouts(options.timeouts),
    pinResolvedAddress: options.pinResolvedAddress ?? false,
    maxSockets: positive('maxSockets', options.maxSockets, DEFAULTS.maxSockets),
  };
}

function checkedTimeouts(timeouts: Partial<PhaseTimeouts> | undefined): Partial<PhaseTimeouts> {
  for (const [name, value] of Object.entries(timeouts ?? {})) {
    if (value !== undefined) positive(`timeouts.${name}`, value, 0);
  }
  return timeouts ?? {};
}

export function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function checkedProfile(options: PipelineOptions): string {
  const name = options.headersProfile ?? 'detour';
  resolveProfile(name, options.headerProfiles);
  return name;
}

function checkedPresets(presets: Preset[] | undefined): Preset[] {
  const list = presets ?? [];
  const names = new Set<string>();
  for (const preset of list) {
    if (!preset || typeof preset.handles !== 'function' || typeof preset.name !== 'string') {
      throw new DetourUsageError('a preset needs a name and a handles(url) function', 'DETOUR_BAD_PRESET');
    }
    if (names.has(preset.name))
      throw new DetourUsageError(`two presets are named ${preset.name}`, 'DETOUR_BAD_PRESET');
    names.add(preset.name);
    if (preset.secretQueryParams || preset.secretPathSegments)
      registerSecrets({ queryParams: preset.secretQueryParams, pathSegments: preset.secretPathSegments });
  }
  return list;
}
