import type { FailureClass } from '../types/index.js';

/** What a cache keeps beside the body: enough to answer exactly as the original fetch did. */
export interface CacheMeta {
  v: 1;
  /** Redacted URL the entry was fetched from (logs, inspection). */
  url: string;
  /** Redacted final URL after redirects, when it differed from the URL. */
  finalUrl?: string;
  /** The strategy that fetched it originally. */
  strategy: string;
  status: number;
  contentType: string | null;
  bytes: number;
  /** Hex SHA-256 of the body; every tier outside the process checks it on read. */
  sha256: string;
  insecure: boolean;
  downgraded: boolean;
  storedAt: number;
  expiresAt: number;
  /** `Cache-Control: private`: never written to a shared store. */
  private?: boolean;
  /**
   * SHA-256 of the cache key the entry was stored under. Tiers outside the process are checked on
   * read: an entry under another key (a store that mixed keys up, or an entry written there by
   * something else) is a miss.
   */
  key?: string;
  /** The origin said `Vary`: the values of those request headers (lower-case names) this entry was fetched with. */
  vary?: Record<string, string | null>;
  /**
   * Not an answer but a pointer: the origin varies on these request headers (lower-case), and each
   * variant is stored under the key plus their values (see Cache.get).
   */
  varyOn?: string[];
}

export interface CacheEntry {
  meta: CacheMeta;
  body: Buffer;
}

/** A failure remembered for a short while (`negativeTtlMs`), so a dead URL is not hammered. */
export interface NegativeEntry {
  v: 1;
  failureClass: FailureClass;
  code: string;
  message: string;
  status?: number;
  storedAt: number;
  expiresAt: number;
}

/**
 * One tier of the cache: memory, disk or a shared store. Keys arrive hashed (SHA-256 of the cache
 * key), so that URL secrets never land on disk or in a shared store, unless the tier says `rawKeys`.
 */
export interface CacheStore {
  /** `memory`, `disk`, `shared` or a custom name: shown as the `route` of the cache attempt record. */
  readonly name: string;
  /** Seen by other processes or machines: `private` responses never go there. */
  readonly shared: boolean;
  /**
   * This tier keeps nothing outside the process (the in-process memory tier): it takes the cache
   * key as it is, and a fetch through it hashes nothing. A decorator that does not say it gets hashed keys.
   */
  readonly rawKeys?: boolean;
  /** Largest body this tier keeps (undefined: no limit of its own). */
  readonly maxEntryBytes?: number;
  /** A verified entry, or undefined. A corrupt or expired entry is removed and reads as a miss. */
  get(key: string): Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): Promise<void>;
  delete(key: string): Promise<void>;
  close?(): Promise<void>;
}

export function isCacheStore(value: unknown): value is CacheStore {
  const store = value as CacheStore;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof store.name === 'string' &&
    typeof store.shared === 'boolean' &&
    typeof store.get === 'function' &&
    typeof store.set === 'function' &&
    typeof store.delete === 'function'
  );
}
