import type Cacache from 'cacache';
import { sha256Hex } from '../digest.js';
import type { Clock } from '../store/types.js';
import type { CacheEntry, CacheMeta, CacheStore } from './types.js';

type CacacheModule = typeof Cacache;
let loading: Promise<CacacheModule> | undefined;

/**
 * cacache (and its dependency tree) is loaded by the first disk-cache operation, not with core:
 * a process without a disk tier never pays for it (issue 13 item 7, bench figure 4).
 */
function loadCacache(): Promise<CacacheModule> {
  loading ??= import('cacache').then(
    (module) => (module as { default?: CacacheModule }).default ?? (module as CacacheModule),
  );
  return loading;
}

/** Reading these means the content on disk is damaged or gone: drop the entry, never serve it. */
const DAMAGED = new Set(['EINTEGRITY', 'EBADSIZE', 'ENOENT']);

/**
 * A cache tier on disk, in a cacache directory: content-addressed files written atomically,
 * an append-only index safe under several processes, and the content's SRI hash checked on every
 * read. A damaged entry (bad hash or size, missing content, metadata that does not match) is
 * removed and reads as a miss.
 */
export class DiskCacheStore implements CacheStore {
  readonly name = 'disk';
  readonly shared = false;
  readonly dir: string;
  readonly #now: Clock;

  constructor(dir: string, options: { now?: Clock } = {}) {
    this.dir = dir;
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const cacache = await loadCacache();
    const info = await cacache.get.info(this.dir, key);
    if (!info) return undefined;
    const meta = info.metadata as CacheMeta | undefined;
    if (meta?.v !== 1 || meta.expiresAt <= this.#now()) {
      await this.#remove(key, info.integrity);
      return undefined;
    }
    let body: Buffer;
    try {
      body = await cacache.get.byDigest(this.dir, info.integrity, { size: meta.bytes });
    } catch (error) {
      if (!DAMAGED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await this.#remove(key, info.integrity);
      return undefined;
    }
    if (sha256Hex(body) !== meta.sha256) {
      await this.#remove(key, info.integrity);
      return undefined;
    }
    return { meta, body };
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    if (entry.meta.expiresAt <= this.#now()) return;
    const cacache = await loadCacache();
    await cacache.put(this.dir, key, entry.body, { metadata: entry.meta, size: entry.body.length });
  }

  async delete(key: string): Promise<void> {
    const cacache = await loadCacache();
    const info = await cacache.get.info(this.dir, key);
    if (info) await this.#remove(key, info.integrity);
  }

  /** Garbage-collect: drop expired entries and content no entry points to (cacache `verify`). */
  async prune(): Promise<void> {
    const now = this.#now();
    const cacache = await loadCacache();
    const filter = (entry: { metadata?: CacheMeta }) =>
      entry.metadata?.v === 1 && entry.metadata.expiresAt > now;
    await cacache.verify(this.dir, { filter } as unknown as Cacache.verify.Options);
  }

  /**
   * Remove the index entry and its content. Identical bodies under two keys share one content
   * file; the other key then reads as a miss (ENOENT) and is refetched, which is the safe side.
   */
  async #remove(key: string, integrity: string): Promise<void> {
    const cacache = await loadCacache();
    await cacache.rm.entry(this.dir, key);
    await cacache.rm.content(this.dir, integrity).catch(() => false);
  }
}
