/**
 * A fetch's input, checked once before any layer runs: the URL parsed and shown to the presets,
 * the options validated and resolved, one absolute deadline, the cache and single-flight keys.
 */
import type { Cache } from './cache/cache.js';
import { defaultCacheKey } from './cache/key.js';
import { checkConvertOptions } from './convert/index.js';
import type { EnvironmentProvider } from './environment.js';
import { DetourError, DetourUsageError } from './errors.js';
import { checkHeaders } from './headers.js';
import { CREDENTIAL_HEADERS } from './kit/credential-headers.js';
import type { CacheKeys, Call, CallOptions } from './layers/layer.js';
import { lowerCaseKeys, type ResolvedPipelineOptions } from './options.js';
import { prepareUrl } from './preset.js';
import { stripCredentials } from './redact.js';
import type { FetchOptions } from './types/index.js';
import { parseTargetUrl } from './url.js';

/**
 * A call before its sink is chosen (a file target is opened only once the input passed its checks).
 * `sink` is there, undefined: giving it a value then replaces a key instead of adding one (V8 adds
 * a key to a spread copy through a slow path, ~1 µs a key on Node 20).
 */
export type PreparedCall = Omit<Call<unknown>, 'sink'> & { readonly sink: undefined };

/** Check a fetch's input and resolve it against the pipeline's options; throws usage errors for bad input. */
export function prepareCall(
  input: string | URL,
  options: FetchOptions,
  signal: AbortSignal,
  defaults: ResolvedPipelineOptions,
  cache: Cache | undefined,
): PreparedCall {
  const parsed = parseTargetUrl(input);
  const { url, cacheKey, checkCached, expectedBytes } = prepareUrl(defaults.presets, parsed);
  const merged =
    expectedBytes !== undefined && options.expectedBytes === undefined
      ? { ...options, expectedBytes }
      : options;
  const checked = checkOptions(merged, signal, defaults);
  const target = url === parsed ? parsed : parseTargetUrl(url);
  return {
    input: parsed,
    url: target,
    options: checked,
    deadline: Date.now() + checked.timeoutMs,
    keys: keysFor(target, merged, cacheKey, cache, checkCached),
    // Set by the plan layer (see pipeline.ts), which runs again after a URL is refreshed.
    plan: [],
    exact: false,
    fingerprint: '',
    prior: [],
    sink: undefined,
  };
}

/** The same call for another URL (a refreshed or alternate link): same input, options and deadline. */
export function retargetCall<T>(call: Call<T>, next: string, defaults: ResolvedPipelineOptions): Call<T> {
  const { url, expectedBytes } = prepareUrl(defaults.presets, parseTargetUrl(next));
  const options =
    expectedBytes !== undefined && call.options.expectedBytes === undefined
      ? checkOptions({ ...call.options, expectedBytes }, call.options.signal, defaults)
      : call.options;
  return { ...call, url: parseTargetUrl(url), options };
}

/** Resolve and check the limits a fetch runs under (once per fetch). */
export function checkOptions(
  options: FetchOptions,
  signal: AbortSignal,
  defaults: ResolvedPipelineOptions,
): CallOptions {
  checkHeaders(options.headers, 'fetch headers');
  if (
    options.convert !== undefined ||
    options.sampleRate !== undefined ||
    options.maxDurationMs !== undefined
  )
    checkConvertOptions(options);
  const maxBytes = options.maxBytes ?? defaults.maxBytes;
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  positive('maxBytes', maxBytes);
  positive('timeoutMs', timeoutMs);
  const { expectedBytes } = options;
  if (expectedBytes !== undefined && !(Number.isSafeInteger(expectedBytes) && expectedBytes >= 0)) {
    throw new DetourUsageError(`expectedBytes must be a whole number of bytes, got ${expectedBytes}`);
  }
  if (expectedBytes !== undefined && expectedBytes > maxBytes) {
    throw new DetourError(`the expected ${expectedBytes} bytes exceed the limit of ${maxBytes} bytes`, {
      failureClass: 'too-large',
      code: 'DETOUR_TOO_LARGE',
    });
  }
  // The keys set here come first and are then given their values: a spread copy with keys added
  // after it costs ~1 µs a key on Node 20, a copy into a literal's keys does not.
  const checked: CallOptions = { signal, maxBytes, timeoutMs, ...options };
  checked.signal = signal;
  checked.maxBytes = maxBytes;
  checked.timeoutMs = timeoutMs;
  return checked;
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new DetourUsageError(`${name} must be a positive number`);
}

/**
 * Where a fetch looks in the cache and which download in flight it may share: the same URL (or
 * preset cache key) with the same body rules and headers. `noCache` and personal headers
 * (Authorization, Cookie) skip both. Every header the caller gives (names lower-cased, sorted) and
 * its header profile are part of the cache key: any of them may change the answer (`X-Api-Key`),
 * so a fetch without them never gets an answer fetched with them.
 */
function keysFor(
  url: URL,
  options: FetchOptions,
  cacheKey: string | undefined,
  cache: Cache | undefined,
  checkCached?: CacheKeys['checkCached'],
): CacheKeys | undefined {
  const { headers, strategies, headersProfile } = options;
  const perFetch = headers ? lowerCaseKeys(headers) : undefined;
  if (options.noCache || (perFetch && CREDENTIAL_HEADERS.some((name) => name in perFetch))) return undefined;
  const base = cacheKey ?? (cache ? cache.key(url) : defaultCacheKey(url));
  const key = perFetch || headersProfile ? `${base}\0${headerKey(perFetch, headersProfile)}` : base;
  const rules = `${options.expect ?? 'any'}\0${options.expectedBytes ?? ''}\0${options.maxBytes ?? ''}`;
  // The common fetch (no headers, profile or strategy list of its own) needs no JSON; a JSON key
  // starts with '[' and never holds a raw NUL, so the two forms cannot collide.
  const flight =
    perFetch || strategies || headersProfile
      ? JSON.stringify([key, rules, headersProfile ?? null, strategies ?? null, perFetch ?? {}])
      : `${key}\0${rules}`;
  return checkCached ? { cache: key, flight, checkCached } : { cache: key, flight };
}

/** The caller's headers and profile as a key suffix: JSON, sorted by name (one spelling per set). */
function headerKey(headers: Record<string, string> | undefined, profile: string | undefined): string {
  const entries = headers ? Object.entries(headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  return JSON.stringify({ profile: profile ?? null, headers: entries });
}

/**
 * The network environment as the circuit and route memory key it: an explicit proxy option, else
 * the environment provider's fingerprint (proxy/TUN/fake-IP state), else `none`.
 */
export function fingerprintOf(
  proxy: ResolvedPipelineOptions['proxy'],
  environment: EnvironmentProvider | undefined,
): string {
  if (typeof proxy === 'string') return `proxy=${stripCredentials(proxy)}`;
  if (proxy === false || proxy === null) return 'proxy=none';
  try {
    return environment?.fingerprint() ?? 'none';
  } catch {
    return 'unknown';
  }
}
