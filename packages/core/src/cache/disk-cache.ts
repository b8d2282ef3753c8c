import { open, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type Cacache from 'cacache';
import { sha256Hex } from '../digest.js';
import { type MediaFormat, sniffFormat } from '../magic.js';
import type { Clock } from '../store/store-types.js';
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

/** The disk tier's default bound (`cache.maxSize`, `--cache-max-size`): 1 GiB. */
export const DEFAULT_DISK_CACHE_MAX_SIZE = 1024 ** 3;

export interface DiskCacheOptions {
  now?: Clock;
  /**
   * Most bytes the directory holds (bodies and index; default 1 GiB; 0 or Infinity: no bound). After
   * each write, in the background (a fetch never waits for it), the least recently used entries are
   * removed until the directory is under 90% of it.
   */
  maxSize?: number;
}

/** One entry of a disk cache, as `detour cache ls` shows it. */
export interface DiskCacheEntryInfo {
  /** The index key (the SHA-256 of the cache key: URL secrets never reach the disk). */
  key: string;
  /** The URL it was fetched from, secrets masked when it was stored. */
  url: string;
  bytes: number;
  format: MediaFormat | null;
  contentType: string | null;
  strategy: string;
  storedAt: number;
  /** The last time it was written or answered a fetch. */
  lastUsedAt: number;
  expiresAt: number;
  expired: boolean;
  insecure: boolean;
  downgraded: boolean;
  private: boolean;
}

/** What a prune removed. */
export interface DiskCachePruneResult {
  removed: number;
  removedBytes: number;
  /** The directory's size after the prune. */
  size: number;
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
  /** The bound in bytes (Infinity: none). */
  readonly maxSize: number;
  readonly #now: Clock;
  /** The eviction running in the background, and whether another write asked for one since it began. */
  #evicting: Promise<void> | undefined;
  #again = false;

  constructor(dir: string, options: DiskCacheOptions = {}) {
    this.dir = dir;
    this.#now = options.now ?? Date.now;
    const max = options.maxSize ?? DEFAULT_DISK_CACHE_MAX_SIZE;
    this.maxSize = max > 0 ? max : Number.POSITIVE_INFINITY;
  }

  /** Nothing bigger than the whole bound is written. */
  get maxEntryBytes(): number | undefined {
    return Number.isFinite(this.maxSize) ? this.maxSize : undefined;
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
    // The content file's mtime is the entry's last use: what eviction goes by.
    const now = new Date(this.#now());
    await utimes(info.path, now, now).catch(() => {});
    return { meta, body };
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    if (entry.meta.expiresAt <= this.#now()) return;
    const cacache = await loadCacache();
    await cacache.put(this.dir, key, entry.body, { metadata: entry.meta, size: entry.body.length });
    if (Number.isFinite(this.maxSize)) this.#evictSoon();
  }

  /** Wait for a background eviction still running (close, tests). */
  async close(): Promise<void> {
    while (this.#evicting) await this.#evicting;
  }

  /** Start an eviction in the background, or ask the running one to go again when it ends. */
  #evictSoon(): void {
    if (this.#evicting) {
      this.#again = true;
      return;
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false;
        await this.trim(Math.floor(this.maxSize * 0.9), this.maxSize).catch(() => {});
      } while (this.#again);
    };
    this.#evicting = run().finally(() => {
      this.#evicting = undefined;
    });
  }

  /** Every entry (expired ones included), least recently used first. */
  async list(): Promise<DiskCacheEntryInfo[]> {
    const cacache = await loadCacache();
    const index = await cacache.ls(this.dir).catch(() => ({}) as Record<string, Cacache.CacheObject>);
    const now = this.#now();
    const entries: DiskCacheEntryInfo[] = [];
    for (const item of Object.values(index)) {
      const meta = item.metadata as CacheMeta | undefined;
      const seen = await stat(item.path).catch(() => undefined);
      if (meta?.v !== 1 || !seen) continue; // not Detour's, or its content is gone: a prune removes it
      entries.push({
        key: item.key,
        url: meta.url,
        bytes: meta.bytes,
        format: await sniffFile(item.path),
        contentType: meta.contentType,
        strategy: meta.strategy,
        storedAt: meta.storedAt,
        lastUsedAt: Math.max(meta.storedAt, Math.round(seen.mtimeMs)),
        expiresAt: meta.expiresAt,
        expired: meta.expiresAt <= now,
        insecure: meta.insecure,
        downgraded: meta.downgraded,
        private: meta.private === true,
      });
    }
    return entries.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  }

  /**
   * Remove expired and broken entries, then the least recently used ones until the directory holds
   * at most `target` bytes. With `threshold`, nothing is removed while the directory is under it.
   */
  async trim(target: number, threshold = 0): Promise<DiskCachePruneResult> {
    let size = await directorySize(this.dir);
    if (size <= threshold) return { removed: 0, removedBytes: 0, size };
    const cacache = await loadCacache();
    const index = await cacache.ls(this.dir).catch(() => ({}) as Record<string, Cacache.CacheObject>);
    const now = this.#now();
    const candidates = await Promise.all(
      Object.values(index).map(async (item) => {
        const seen = await stat(item.path).catch(() => undefined);
        const meta = item.metadata as CacheMeta | undefined;
        const dead = !seen || meta?.v !== 1 || meta.expiresAt <= now;
        return { item, used: dead ? -1 : (seen?.mtimeMs ?? 0), bytes: seen?.size ?? 0 };
      }),
    );
    candidates.sort((a, b) => a.used - b.used);
    let removed = 0;
    let removedBytes = 0;
    for (const { item, used, bytes } of candidates) {
      if (used >= 0 && size <= target) break;
      await this.#remove(item.key, item.integrity).catch(() => {});
      removed++;
      removedBytes += bytes;
      size = Math.max(0, size - bytes);
    }
    return { removed, removedBytes, size: removed ? await directorySize(this.dir) : size };
  }

  /** Remove every entry (and cacache's temporary files); the directory itself stays. */
  async clear(): Promise<DiskCachePruneResult> {
    const before = await this.list().catch(() => []);
    const bytes = before.reduce((sum, entry) => sum + entry.bytes, 0);
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      if (/^(content-v\d+|index-v\d+|tmp)$/.test(name)) {
        await rm(join(this.dir, name), { recursive: true, force: true });
      }
    }
    return { removed: before.length, removedBytes: bytes, size: await directorySize(this.dir) };
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
    // `removeFully`: the index bucket goes too, instead of growing by a deletion record.
    // (cacache takes the option; its type definitions predate it.)
    const rmEntry = cacache.rm.entry as (dir: string, key: string, options: object) => Promise<unknown>;
    await rmEntry(this.dir, key, { removeFully: true });
    await cacache.rm.content(this.dir, integrity).catch(() => false);
  }
}

/** Bytes of every file under `dir` (0 when it does not exist). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(path);
    else if (entry.isFile())
      total += await stat(path).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/** The format of a stored body, from its first bytes. */
async function sniffFile(path: string): Promise<MediaFormat | null> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return null;
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return sniffFormat(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
