import { isKeyValueStore, type KeyValueStore, type KeyvLike } from './types.js';

export interface KeyvStoreOptions {
  /** Prefix of every key (default `detour:`), so Detour's keys never collide with the app's. */
  prefix?: string;
  /** Whether other processes see the store (default true: Redis and friends). */
  shared?: boolean;
  /**
   * Longest wait for one store operation (default 2000 ms; 0 = no bound). A Redis that is down or
   * reconnecting then costs a fetch this much at most: the operation fails, and the cache reads it
   * as a miss, the route memory as "nothing remembered".
   */
  timeoutMs?: number;
}

/**
 * Adapts a Keyv instance (any backend: `@keyv/redis`, `@keyv/valkey`, `@keyv/sqlite`, ...) to a
 * KeyValueStore. Keyv's TTL is used, so the backend expires entries itself (Redis `PX`).
 */
export class KeyvStore implements KeyValueStore {
  readonly shared: boolean;
  readonly #keyv: KeyvLike;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(keyv: KeyvLike, options: KeyvStoreOptions = {}) {
    this.#keyv = keyv;
    this.#prefix = options.prefix ?? 'detour:';
    this.shared = options.shared ?? true;
    this.#timeoutMs = Math.max(0, options.timeoutMs ?? 2000);
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#bounded('get', this.#keyv.get(this.#prefix + key));
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#bounded(
      'set',
      this.#keyv.set(this.#prefix + key, value, ttlMs > 0 ? Math.ceil(ttlMs) : undefined),
    );
  }

  async delete(key: string): Promise<void> {
    await this.#bounded('delete', this.#keyv.delete(this.#prefix + key));
  }

  async #bounded<T>(op: string, work: Promise<T>): Promise<T> {
    if (this.#timeoutMs === 0) return work;
    work.catch(() => {}); // a late failure after the timeout is nobody's business
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`shared store ${op} took longer than ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
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
