import { isKeyValueStore, type KeyValueStore, type KeyvLike } from './types.js';

export interface KeyvStoreOptions {
  /** Prefix of every key (default `detour:`), so Detour's keys never collide with the app's. */
  prefix?: string;
  /** Whether other processes see the store (default true: Redis and friends). */
  shared?: boolean;
}

/**
 * Adapts a Keyv instance (any backend: `@keyv/redis`, `@keyv/valkey`, `@keyv/sqlite`, ...) to a
 * KeyValueStore. Keyv's TTL is used, so the backend expires entries itself (Redis `PX`).
 */
export class KeyvStore implements KeyValueStore {
  readonly shared: boolean;
  readonly #keyv: KeyvLike;
  readonly #prefix: string;

  constructor(keyv: KeyvLike, options: KeyvStoreOptions = {}) {
    this.#keyv = keyv;
    this.#prefix = options.prefix ?? 'detour:';
    this.shared = options.shared ?? true;
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#keyv.get(this.#prefix + key);
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#keyv.set(this.#prefix + key, value, ttlMs > 0 ? Math.ceil(ttlMs) : undefined);
  }

  async delete(key: string): Promise<void> {
    await this.#keyv.delete(this.#prefix + key);
  }
}

/** A KeyValueStore as is, or a Keyv instance wrapped in a KeyvStore. */
export function toKeyValueStore(store: KeyValueStore | KeyvLike): KeyValueStore {
  return isKeyValueStore(store) ? store : new KeyvStore(store);
}
