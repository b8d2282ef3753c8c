import type { Logger } from 'pino';
import { sha256Hex } from '../digest.js';
import { blamesNotTheOrigin, DetourError, DetourUsageError } from '../errors.js';
import { headerString } from '../kit/credential-headers.js';
import { sniffFormat } from '../magic.js';
import { redactUrl } from '../redact.js';
import { StoreBackoffError, toKeyValueStore } from '../store/keyv-store.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Clock, KeyValueStore, KeyvLike } from '../store/store-types.js';
import type { AttemptRecord, FetchResultInfo, HeaderValue } from '../types/index.js';
import { DiskCacheStore } from './disk-cache.js';
import { type CachePolicy, cachePolicy, type FreshnessMode } from './freshness.js';
import { type CacheKeyFn, defaultCacheKey, hashKey } from './key.js';
import { type MemoryCacheOptions, MemoryCacheStore } from './memory-cache.js';
import { KeyValueCacheStore } from './shared-cache.js';
import {
  type CacheEntry,
  type CacheMeta,
  type CacheStore,
  isCacheStore,
  type NegativeEntry,
} from './types.js';

export interface CacheOptions {
  /** The in-process LRU tier (default on: 32 MiB, 256 entries); `false` turns it off. */
  memory?: false | MemoryCacheOptions;
  /** A cacache directory: the disk tier, which survives restarts (default off). */
  dir?: string;
  /**
   * Most bytes the disk tier's directory holds (default 1 GiB; 0: no bound). Eviction by last use,
   * in the background after a write (a fetch never waits for it).
   */
  maxSize?: number;
  /** A shared tier (Redis through Keyv, ...) seen by every instance using it (default off). */
  store?: KeyValueStore | KeyvLike;
  /** Turns a URL into the cache key (default: the URL without fragment). A preset's `cacheKey` hook wins for its hosts. */
  cacheKey?: CacheKeyFn;
  /** How long an entry is kept at most (default 24 h). */
  ttlMs?: number;
  /** How long a failure is remembered and answered without network (default 0 = never). */
  negativeTtlMs?: number;
  /** `http` (default): max-age/Expires/no-cache shorten or forbid storing; `ttl`: only no-store counts. */
  freshness?: FreshnessMode;
  /** Largest body stored in any tier (default 50 MiB; the memory tier has its own, smaller bound). */
  maxEntryBytes?: number;
  now?: Clock;
  /**
   * The tiers themselves, in lookup order, instead of those `memory`, `dir` and `store` describe:
   * what the `CACHE_STORES` token holds, so a plugin can replace or decorate the storage.
   */
  tiers?: readonly CacheStore[];
}

/**
 * The cache's tiers in lookup order: `tiers` when given (checked), else those `memory`, `dir` and
 * `store` describe: memory → disk → shared. What `CACHE_STORES` holds by default.
 */
export function cacheTiers(options: CacheOptions = {}): CacheStore[] {
  if (options.tiers !== undefined) return checkTiers(options.tiers);
  const now = options.now ?? Date.now;
  const tiers: CacheStore[] = [];
  if (options.memory !== false) tiers.push(new MemoryCacheStore({ now, ...options.memory }));
  if (options.dir) {
    const bound = options.maxSize === undefined ? {} : { maxSize: options.maxSize };
    tiers.push(new DiskCacheStore(options.dir, { now, ...bound }));
  }
  if (options.store) tiers.push(new KeyValueCacheStore(toKeyValueStore(options.store), { now }));
  return tiers;
}

/** Tiers handed in (a plugin's): each must be a CacheStore, refused at once otherwise. */
function checkTiers(tiers: readonly CacheStore[]): CacheStore[] {
  if (!Array.isArray(tiers)) {
    throw new DetourUsageError('cache tiers must be an array of cache stores', 'DETOUR_BAD_OPTION');
  }
  for (const [index, tier] of tiers.entries()) {
    if (!isCacheStore(tier)) {
      throw new DetourUsageError(
        `cache tier ${index} is not a cache store (name, shared, get, set, delete)`,
        'DETOUR_BAD_OPTION',
      );
    }
  }
  return [...tiers];
}

export const CACHE_DEFAULTS = {
  ttlMs: 24 * 60 * 60_000,
  negativeTtlMs: 0,
  maxEntryBytes: 50 * 1024 * 1024,
} as const;

/** A verified entry and the tier it came from. */
export interface CacheHit {
  entry: CacheEntry;
  tier: string;
}

/** What a successful fetch hands the cache. */
export interface CacheCandidate {
  url: URL;
  finalUrl: string;
  strategy: string;
  status: number;
  contentType: string | null;
  bytes: number;
  sha256: string;
  insecure: boolean;
  downgraded: boolean;
  degraded: boolean;
  headers: Readonly<Record<string, HeaderValue>>;
}

/** The candidate a delivered body makes: the result's facts, the body's size and digest. */
export function candidateOf(
  url: URL,
  info: Omit<FetchResultInfo, 'bytes' | 'sha256'>,
  headers: Readonly<Record<string, HeaderValue>>,
  bytes: number,
  sha256: string,
): CacheCandidate {
  const { finalUrl, strategy, status, contentType, insecure, downgraded, degraded } = info;
  return {
    url,
    finalUrl,
    strategy,
    status,
    contentType,
    bytes,
    sha256,
    insecure,
    downgraded,
    degraded,
    headers,
  };
}

/** A failure answered from the negative cache: no request was made this time. */
export class CachedFailureError extends DetourError {
  readonly fromCache = true;
  /** When the failure was first seen (ms since the epoch). */
  readonly storedAt: number;

  constructor(entry: NegativeEntry, now: number) {
    const age = Math.max(0, Math.round((now - entry.storedAt) / 1000));
    super(`${entry.message} (remembered by the negative cache ${age} s ago; no request was made)`, {
      failureClass: entry.failureClass,
      code: entry.code,
      status: entry.status,
      attempts: [
        {
          strategy: 'cache',
          route: 'negative',
          outcome: 'failed',
          failureClass: entry.failureClass,
          code: entry.code,
          ms: 0,
          message: 'a recent failure, remembered by the negative cache',
          ...(entry.status !== undefined ? { status: entry.status } : {}),
        },
      ],
    });
    this.storedAt = entry.storedAt;
  }
}

/** Failures never remembered: the caller's own abort, policy refusals, and answers already from memory. */
const NOT_NEGATIVE_CODES = new Set(['DETOUR_CIRCUIT_OPEN', 'ABORT_ERR', 'DETOUR_CLOSED']);

/**
 * The cache in front of the pipeline: memory → disk → shared, first hit wins and is copied into
 * the tiers above it. Store errors never fail a fetch: they are logged and read as a miss.
 * Never stored: degraded (placeholder) bodies, non-200 answers, `no-store` responses, failures
 * (except in the opt-in negative cache, which answers with a CachedFailureError).
 */
export class Cache {
  readonly tiers: readonly CacheStore[];
  /** Largest body stored at all. */
  readonly maxEntryBytes: number;
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly freshness: FreshnessMode;
  readonly #cacheKey: CacheKeyFn;
  readonly #negative: MemoryStore | undefined;
  readonly #now: Clock;
  readonly #logger: Logger | undefined;
  /** Keys hashed lately (bounded: cleared when full). */
  readonly #recentKeys = new Map<string, string>();
  /**
   * Some tier reads entries back from outside the process and checks the key they record
   * (`meta.key`, see #read). Without one (the default: memory only) a store hashes nothing: the
   * SHA-256 of the key was the store path's largest cost after the body copy, and no tier read it.
   */
  readonly #bindsKeys: boolean;

  constructor(options: CacheOptions = {}, logger?: Logger) {
    this.#now = options.now ?? Date.now;
    this.#logger = logger;
    this.ttlMs = Math.max(1, options.ttlMs ?? CACHE_DEFAULTS.ttlMs);
    this.negativeTtlMs = Math.max(0, options.negativeTtlMs ?? CACHE_DEFAULTS.negativeTtlMs);
    this.freshness = options.freshness ?? 'http';
    this.#cacheKey = options.cacheKey ?? defaultCacheKey;
    const tiers = cacheTiers(options);
    this.tiers = tiers;
    this.#bindsKeys = tiers.some((tier) => tier.rawKeys !== true);
    // The largest body any tier would keep, capped by the option: a bigger download is never
    // read back into memory just to be refused.
    const tierLimit = Math.max(0, ...tiers.map((tier) => tier.maxEntryBytes ?? Number.POSITIVE_INFINITY));
    this.maxEntryBytes = Math.min(tierLimit, options.maxEntryBytes ?? CACHE_DEFAULTS.maxEntryBytes);
    this.#negative =
      this.negativeTtlMs > 0 ? new MemoryStore({ maxEntries: 10_000, now: this.#now }) : undefined;
  }

  /** The cache key of a URL (also the single-flight key). */
  key(url: URL): string {
    return this.#cacheKey(url);
  }

  /**
   * The first verified hit, copied into the tiers above the one that had it. `sent` gives the
   * request headers this fetch would send: an entry the origin said `Vary` for is served only to a
   * request with the same values of those headers.
   */
  async get(key: string, sent?: () => Readonly<Record<string, string>>): Promise<CacheHit | undefined> {
    for (let index = 0; index < this.tiers.length; index++) {
      const tier = this.tiers[index]!;
      const found = await this.#read(tier, key);
      if (!found) continue;
      let entry = found;
      let variant: string | undefined;
      if (found.meta.varyOn) {
        const headers = sent?.() ?? {};
        variant = variantKey(key, found.meta.varyOn, headers);
        const stored = await this.#read(tier, variant);
        if (!stored || !varyMatches(stored.meta, headers)) continue;
        entry = stored;
      }
      for (const upper of this.tiers.slice(0, index)) {
        if (variant !== undefined) await this.#put(upper, this.#keyFor(upper, key), found);
        await this.#put(upper, this.#keyFor(upper, variant ?? key), entry);
      }
      return { entry, tier: tier.name };
    }
    return undefined;
  }

  /** One tier's entry for `key`, bound to it: an entry stored under another key is a miss; errors are misses. */
  async #read(tier: CacheStore, key: string): Promise<CacheEntry | undefined> {
    const stored = this.#keyFor(tier, key);
    let entry: CacheEntry | undefined;
    try {
      entry = await tier.get(stored);
    } catch (error) {
      this.#warn(error, tier, 'read');
      return undefined;
    }
    if (!entry) return undefined;
    if (tier.rawKeys !== true && entry.meta.key !== stored) {
      this.#logger?.warn({ tier: tier.name }, 'cache entry bound to another key; treated as a miss');
      return undefined;
    }
    return entry;
  }

  /** Why this fetch would not be stored, or undefined when it would (checked before reading a body back). */
  refuses(candidate: Omit<CacheCandidate, 'url' | 'finalUrl' | 'sha256'>): string | undefined {
    return this.#judge(candidate, this.#now()).refused;
  }

  /** Whether (and for how long) a candidate may be stored: one reading of its headers. */
  #judge(
    candidate: Omit<CacheCandidate, 'url' | 'finalUrl' | 'sha256'>,
    now: number,
  ): { refused?: string; policy?: CachePolicy } {
    if (this.tiers.length === 0) return { refused: 'no cache tier' };
    if (candidate.bytes > this.maxEntryBytes) {
      return { refused: `${candidate.bytes} bytes: larger than any tier keeps (${this.maxEntryBytes})` };
    }
    if (candidate.degraded) return { refused: 'degraded (placeholder) bodies are never cached' };
    if (candidate.downgraded) return { refused: 'fetched over plain http (downgraded): never cached' };
    if (candidate.status !== 200) return { refused: `status ${candidate.status}` };
    const policy = cachePolicy(candidate.headers, { ttlMs: this.ttlMs, mode: this.freshness, now });
    if (!policy.store) return { refused: policy.reason ?? 'not cacheable' };
    if (varyNames(candidate.headers) === '*')
      return { refused: 'Vary: * (the answer may differ for every request)' };
    if (policy.private && this.tiers.every((tier) => tier.shared)) {
      return { refused: 'private, and only shared tiers' };
    }
    return { policy };
  }

  /**
   * Store a successful fetch if the rules allow it; says why not otherwise. `sent`: the request
   * headers it was fetched with, for the origin's `Vary` (stored per value of those headers).
   */
  async set(
    key: string,
    candidate: CacheCandidate,
    body: Buffer,
    sent: Readonly<Record<string, string>> = {},
  ): Promise<{ stored: boolean; reason?: string }> {
    const now = this.#now();
    const { refused, policy } = this.#judge(candidate, now);
    if (refused !== undefined || !policy) return { stored: false, reason: refused };
    if (body.length !== candidate.bytes) return { stored: false, reason: 'body length does not match' };
    if (candidate.url.protocol === 'https:' && !candidate.finalUrl.startsWith('https:')) {
      return { stored: false, reason: 'an https request answered over plain http is never stored' };
    }
    const meta = this.#meta(candidate, now, policy);
    const names = varyNames(candidate.headers);
    const entries: Array<[string, CacheEntry]> = [];
    if (Array.isArray(names) && names.length > 0) {
      const variant = variantKey(key, names, sent);
      meta.key = this.#hashed(variant);
      meta.vary = Object.fromEntries(names.map((name) => [name, sent[name] ?? null]));
      entries.push([key, varyPointer(meta, names, this.#hashed(key))], [variant, { meta, body }]);
    } else {
      if (this.#bindsKeys) meta.key = this.#hashed(key);
      entries.push([key, { meta, body }]);
    }
    let stored = false;
    for (const tier of this.tiers) {
      if (policy.private && tier.shared) continue;
      let all = true;
      for (const [k, entry] of entries) all = (await this.#put(tier, this.#keyFor(tier, k), entry)) && all;
      stored ||= all;
    }
    return stored ? { stored } : { stored, reason: 'store failed' };
  }

  #meta(candidate: CacheCandidate, now: number, policy: CachePolicy): CacheMeta {
    const url = redactUrl(candidate.url);
    const finalUrl = candidate.finalUrl === candidate.url.href ? url : redactUrl(candidate.finalUrl);
    const meta: CacheMeta = {
      v: 1,
      url,
      strategy: candidate.strategy,
      status: candidate.status,
      contentType: candidate.contentType,
      bytes: candidate.bytes,
      sha256: candidate.sha256,
      insecure: candidate.insecure,
      downgraded: candidate.downgraded,
      storedAt: now,
      expiresAt: now + policy.ttlMs,
    };
    if (finalUrl !== url) meta.finalUrl = finalUrl;
    if (policy.private) meta.private = true;
    return meta;
  }

  async delete(key: string): Promise<void> {
    for (const tier of this.tiers)
      await tier.delete(this.#keyFor(tier, key)).catch((error: unknown) => this.#warn(error, tier, 'delete'));
    await this.#negative?.delete(hashKey(key));
  }

  /** A remembered failure for this key, as the error to throw. */
  async getNegative(key: string): Promise<CachedFailureError | undefined> {
    if (!this.#negative) return undefined;
    const raw = await this.#negative.get(hashKey(key));
    if (raw === undefined) return undefined;
    return new CachedFailureError(JSON.parse(raw) as NegativeEntry, this.#now());
  }

  /** Remember a failure for `negativeTtlMs`, unless it says nothing about the URL (aborted, circuit open, ...). */
  async setNegative(key: string, error: DetourError): Promise<boolean> {
    if (!this.#negative) return false;
    if (error instanceof CachedFailureError || NOT_NEGATIVE_CODES.has(error.code)) return false;
    // An expired link says nothing about the file: a fresh link must be tried, not answered from memory.
    if (blamesNotTheOrigin(error.failureClass)) return false;
    const now = this.#now();
    const entry: NegativeEntry = {
      v: 1,
      failureClass: error.failureClass,
      code: error.code,
      message: error.message,
      ...(error.status !== undefined ? { status: error.status } : {}),
      storedAt: now,
      expiresAt: now + this.negativeTtlMs,
    };
    await this.#negative.set(hashKey(key), JSON.stringify(entry), this.negativeTtlMs);
    return true;
  }

  async close(): Promise<void> {
    for (const tier of this.tiers) await tier.close?.();
  }

  /** What `tier` is given for `key`: the key itself in process (`rawKeys`), else its hash. */
  #keyFor(tier: CacheStore, key: string): string {
    return tier.rawKeys === true ? key : this.#hashed(key);
  }

  /** The stores' key for `key`: a fetch hashes its key once for its lookup and its store. */
  #hashed(key: string): string {
    let hashed = this.#recentKeys.get(key);
    if (hashed === undefined) {
      if (this.#recentKeys.size >= RECENT_KEYS) this.#recentKeys.clear();
      hashed = hashKey(key);
      this.#recentKeys.set(key, hashed);
    }
    return hashed;
  }

  async #put(tier: CacheStore, hashed: string, entry: CacheEntry): Promise<boolean> {
    try {
      await tier.set(hashed, entry);
      return true;
    } catch (error) {
      this.#warn(error, tier, 'write');
      return false;
    }
  }

  #warn(error: unknown, tier: CacheStore, op: string): void {
    if (error instanceof StoreBackoffError) return; // said once, when the store failed
    this.#logger?.warn(
      { tier: tier.name, err: (error as Error)?.message },
      `cache ${op} failed; treated as a miss`,
    );
  }
}

/**
 * The request headers the origin's `Vary` names (lower-case), `'*'` for `Vary: *`. Accept-Encoding
 * is left out: the body is stored decoded, the same whatever encoding carried it.
 */
function varyNames(headers: Readonly<Record<string, HeaderValue>>): string[] | '*' {
  const raw = headers.vary;
  const value = Array.isArray(raw) ? raw.join(',') : headerString(raw);
  if (value === undefined) return [];
  const names = new Set<string>();
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*') return '*';
    if (name !== '' && name !== 'accept-encoding') names.add(name);
  }
  return [...names].sort();
}

/** Where the variant of `key` for these values of the varied headers is stored. */
function variantKey(key: string, names: readonly string[], sent: Readonly<Record<string, string>>): string {
  return `${key}\0vary:${JSON.stringify(names.map((name) => [name, sent[name] ?? null]))}`;
}

/** Whether a variant was fetched with this request's values of the varied headers. */
function varyMatches(meta: CacheMeta, sent: Readonly<Record<string, string>>): boolean {
  if (!meta.vary) return false;
  return Object.entries(meta.vary).every(([name, value]) => (sent[name] ?? null) === value);
}

/** The entry under the plain key of a varied answer: which headers to read, never served itself. */
function varyPointer(meta: CacheMeta, names: string[], hashedKey: string): CacheEntry {
  const body = Buffer.from(`vary: ${names.join(', ')}\n${hashedKey}\n`);
  const { vary: _, finalUrl: __, ...rest } = meta;
  return {
    meta: { ...rest, key: hashedKey, varyOn: names, bytes: body.length, sha256: sha256Hex(body) },
    body,
  };
}

/** How many recent keys keep their hash (a lookup and the store after it are a fetch apart). */
const RECENT_KEYS = 1024;

/**
 * The result a cache hit answers with: the original strategy and flags, `fromCache: true`, and
 * one attempt record `{ strategy: 'cache', route: <tier>, outcome: 'ok' }`, so that the story is
 * honest: no network attempt was made, and it says where the bytes came from.
 */
export function resultFromCache(hit: CacheHit, url: URL, ms: number): FetchResultInfo & { body: Buffer } {
  const { meta, body } = hit.entry;
  const attempt: AttemptRecord = {
    strategy: 'cache',
    route: hit.tier,
    outcome: 'ok',
    ms,
    status: meta.status,
  };
  return {
    ok: true,
    url: url.toString(),
    finalUrl: meta.finalUrl ?? url.toString(),
    strategy: meta.strategy,
    degraded: false,
    fromCache: true,
    bytes: meta.bytes,
    contentType: meta.contentType,
    sha256: meta.sha256,
    attempts: [attempt],
    plan: [],
    insecure: meta.insecure,
    downgraded: meta.downgraded,
    status: meta.status,
    format: sniffFormat(body),
    body,
  };
}
