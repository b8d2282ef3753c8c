import { isKeyValueStore, type KeyValueStore, type KeyvLike } from './store-types.js';

export interface KeyvStoreOptions {
  /** Prefix of every key (default `detour:`), so Detour's keys never collide with the app's. */
  prefix?: string;
  /** Whether other processes see the store (default true: Redis and friends). */
  shared?: boolean;
  /**
   * Longest wait for one store operation (default 500 ms; 0 = no bound). A Redis that is down or
   * reconnecting then costs one fetch this much at most: the operation fails, and the cache reads
   * it as a miss, the route memory as "nothing remembered", the circuit as "nothing shared".
   */
  timeoutMs?: number;
  /** Longest wait before the store has answered once (it connects on first use; default 2000 ms). */
  firstTimeoutMs?: number;
  /**
   * After a failed or late operation, how long every operation fails at once without asking the
   * store (default 1000 ms, doubled after each further failure up to `maxBackoffMs`; the first
   * success resets it). The local tiers answer meanwhile: an outage costs almost nothing.
   */
  backoffMs?: number;
  /** Longest back-off (default 30 000 ms). */
  maxBackoffMs?: number;
}

export const KEYV_STORE_DEFAULTS = {
  timeoutMs: 500,
  firstTimeoutMs: 2000,
  backoffMs: 1000,
  maxBackoffMs: 30_000,
} as const;

/** A store operation refused at once: the store failed lately and is left alone for a while. */
export class StoreBackoffError extends Error {
  override readonly name = 'StoreBackoffError';
}

/**
 * Adapts a Keyv instance (any backend: `@keyv/redis`, `@keyv/valkey`, `@keyv/sqlite`, ...) to a
 * KeyValueStore. Keyv's TTL is used, so the backend expires entries itself (Redis `PX`). Every
 * operation is bounded (`timeoutMs`); after a failure the store is left alone for a back-off.
 */
export class KeyvStore implements KeyValueStore {
  readonly shared: boolean;
  readonly #keyv: KeyvLike;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #firstTimeoutMs: number;
  /** The store answered once (connected): later operations get `timeoutMs`. */
  #answered = false;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  /** No operation is tried before this time (ms since the epoch). */
  #resumeAt = 0;
  #nextBackoffMs: number;

  constructor(keyv: KeyvLike, options: KeyvStoreOptions = {}) {
    this.#keyv = keyv;
    this.#prefix = options.prefix ?? 'detour:';
    this.shared = options.shared ?? true;
    this.#timeoutMs = Math.max(0, options.timeoutMs ?? KEYV_STORE_DEFAULTS.timeoutMs);
    this.#firstTimeoutMs =
      this.#timeoutMs === 0
        ? 0
        : Math.max(this.#timeoutMs, options.firstTimeoutMs ?? KEYV_STORE_DEFAULTS.firstTimeoutMs);
    this.#backoffMs = Math.max(0, options.backoffMs ?? KEYV_STORE_DEFAULTS.backoffMs);
    this.#maxBackoffMs = Math.max(this.#backoffMs, options.maxBackoffMs ?? KEYV_STORE_DEFAULTS.maxBackoffMs);
    this.#nextBackoffMs = this.#backoffMs;
  }

  /** Whether operations are being refused at once now (the store failed lately). */
  get backingOff(): boolean {
    return Date.now() < this.#resumeAt;
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#bounded('get', () => this.#keyv.get(this.#prefix + key));
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#bounded('set', () =>
      this.#keyv.set(this.#prefix + key, value, ttlMs > 0 ? Math.ceil(ttlMs) : undefined),
    );
  }

  async delete(key: string): Promise<void> {
    await this.#bounded('delete', () => this.#keyv.delete(this.#prefix + key));
  }

  async #bounded<T>(op: string, start: () => Promise<T>): Promise<T> {
    const wait = this.#resumeAt - Date.now();
    if (wait > 0)
      throw new StoreBackoffError(`shared store ${op} skipped: it failed lately (retried in ${wait} ms)`);
    const work = start();
    try {
      const result = await this.#race(op, work);
      this.#recovered();
      return result;
    } catch (error) {
      // A store that was only slow ends its back-off as soon as the late answer arrives.
      work.then(
        () => this.#recovered(),
        () => {},
      );
      this.#resumeAt = Date.now() + this.#nextBackoffMs;
      this.#nextBackoffMs = Math.min(this.#maxBackoffMs, this.#nextBackoffMs * 2);
      throw error;
    }
  }

  #recovered(): void {
    this.#answered = true;
    this.#resumeAt = 0;
    this.#nextBackoffMs = this.#backoffMs;
  }

  async #race<T>(op: string, work: Promise<T>): Promise<T> {
    const limit = this.#answered ? this.#timeoutMs : this.#firstTimeoutMs;
    if (limit === 0) return work;
    work.catch(() => {}); // a late failure after the timeout is nobody's business
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`shared store ${op} took longer than ${limit} ms`)), limit);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A KeyValueStore as is, or a Keyv instance wrapped in a KeyvStore. */
export function toKeyValueStore(store: KeyValueStore | KeyvLike): KeyValueStore {
  return isKeyValueStore(store) ? store : new KeyvStore(store);
}
