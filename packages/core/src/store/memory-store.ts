import type { Clock, KeyValueStore } from './store-types.js';

export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used goes first (default 10 000). */
  maxEntries?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: Clock;
}

/**
 * An in-process KeyValueStore: a Map in least-recently-used order, expiry checked on read (no
 * timers). The default store of the route memory.
 */
export class MemoryStore implements KeyValueStore {
  readonly shared = false;
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #now: Clock;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#entries.delete(key);
    const expiresAt = ttlMs > 0 ? this.#now() + ttlMs : Number.POSITIVE_INFINITY;
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}
