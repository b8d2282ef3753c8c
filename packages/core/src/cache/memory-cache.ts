import type { Clock } from '../store/store-types.js';
import type { CacheEntry, CacheStore } from './types.js';

export interface MemoryCacheOptions {
  /** Total body bytes kept (default 32 MiB). */
  maxBytes?: number;
  /** Most entries kept (default 256). */
  maxEntries?: number;
  /** Largest single body kept (default a quarter of `maxBytes`), so one big file does not flush the rest. */
  maxEntryBytes?: number;
  now?: Clock;
}

const DONE = Promise.resolve();

export const MEMORY_CACHE_DEFAULTS = { maxBytes: 32 * 1024 * 1024, maxEntries: 256 } as const;

/**
 * In-process LRU bounded by bytes and by entries; expiry checked on read (no timers). Bodies are
 * copied in and out, so a caller mutating its Buffer never corrupts the cache.
 */
export class MemoryCacheStore implements CacheStore {
  readonly name = 'memory';
  readonly shared = false;
  /** In process: the cache key as it is (no hash per fetch). */
  readonly rawKeys = true;
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly maxEntryBytes: number;
  readonly #entries = new Map<string, CacheEntry>();
  readonly #now: Clock;
  #bytes = 0;

  constructor(options: MemoryCacheOptions = {}) {
    this.maxBytes = Math.max(0, options.maxBytes ?? MEMORY_CACHE_DEFAULTS.maxBytes);
    this.maxEntries = Math.max(0, options.maxEntries ?? MEMORY_CACHE_DEFAULTS.maxEntries);
    this.maxEntryBytes = Math.min(this.maxBytes, options.maxEntryBytes ?? Math.floor(this.maxBytes / 4));
    this.#now = options.now ?? Date.now;
  }

  /** Body bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  // Plain functions returning settled promises, not `async` ones: every fetch through the cache
  // calls both, and an async frame is one more promise and microtask each.
  get(key: string): Promise<CacheEntry | undefined> {
    return Promise.resolve(this.#get(key));
  }

  set(key: string, entry: CacheEntry): Promise<void> {
    this.#set(key, entry);
    return DONE;
  }

  #get(key: string): CacheEntry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#remove(key);
    if (entry.meta.expiresAt <= this.#now()) return undefined;
    this.#entries.set(key, entry);
    this.#bytes += entry.body.length;
    return { meta: { ...entry.meta }, body: Buffer.from(entry.body) };
  }

  #set(key: string, entry: CacheEntry): void {
    this.#remove(key);
    if (entry.body.length > this.maxEntryBytes || this.maxEntries === 0) return;
    this.#entries.set(key, { meta: { ...entry.meta }, body: Buffer.from(entry.body) });
    this.#bytes += entry.body.length;
    while (this.#bytes > this.maxBytes || this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#remove(oldest.value);
    }
  }

  async delete(key: string): Promise<void> {
    this.#remove(key);
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.body.length;
  }
}
