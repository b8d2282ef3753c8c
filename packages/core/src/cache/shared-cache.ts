import { sha256Hex } from '../digest.js';
import type { Clock, KeyValueStore } from '../store/store-types.js';
import type { CacheEntry, CacheMeta, CacheStore } from './types.js';

const PREFIX = 'cache:v1:';

/**
 * A cache tier over a KeyValueStore (Redis through Keyv, ...). An entry is one JSON string:
 * the metadata and the body in base64. The SHA-256 is checked on every read: a damaged entry is
 * deleted and reads as a miss.
 */
export class KeyValueCacheStore implements CacheStore {
  readonly name: string;
  readonly shared: boolean;
  readonly #store: KeyValueStore;
  readonly #now: Clock;

  constructor(store: KeyValueStore, options: { name?: string; now?: Clock } = {}) {
    this.#store = store;
    this.shared = store.shared;
    this.name = options.name ?? (store.shared ? 'shared' : 'store');
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const raw = await this.#store.get(PREFIX + key);
    if (raw === undefined) return undefined;
    const entry = decode(raw);
    if (!entry || entry.meta.expiresAt <= this.#now()) {
      await this.#store.delete(PREFIX + key);
      return undefined;
    }
    return entry;
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    const ttl = entry.meta.expiresAt - this.#now();
    if (ttl <= 0) return;
    await this.#store.set(
      PREFIX + key,
      JSON.stringify({ meta: entry.meta, body: entry.body.toString('base64') }),
      ttl,
    );
  }

  async delete(key: string): Promise<void> {
    await this.#store.delete(PREFIX + key);
  }
}

function decode(raw: string): CacheEntry | undefined {
  try {
    const parsed = JSON.parse(raw) as { meta?: CacheMeta; body?: unknown };
    const meta = parsed.meta;
    if (meta?.v !== 1 || typeof parsed.body !== 'string') return undefined;
    const body = Buffer.from(parsed.body, 'base64');
    if (body.length !== meta.bytes) return undefined;
    if (sha256Hex(body) !== meta.sha256) return undefined;
    return { meta, body };
  } catch {
    return undefined;
  }
}
