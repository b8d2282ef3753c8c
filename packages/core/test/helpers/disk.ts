import { chmod, readFile, writeFile } from 'node:fs/promises';
import cacache from 'cacache';
import { hashKey } from '../../src/cache/key.js';

/**
 * Damage the cacache content file behind a cache key by hand: same size, other bytes. Returns its
 * path, or undefined when the key has no entry.
 */
export async function corruptCacheEntry(dir: string, cacheKey: string): Promise<string | undefined> {
  const info = await cacache.get.info(dir, hashKey(cacheKey));
  if (!info) return undefined;
  const original = await readFile(info.path);
  await chmod(info.path, 0o644);
  await writeFile(info.path, Buffer.alloc(original.length, 0x41));
  return info.path;
}

/** Whether the cache directory has an index entry for the key. */
export async function hasCacheEntry(dir: string, cacheKey: string): Promise<boolean> {
  return (await cacache.get.info(dir, hashKey(cacheKey))) !== null;
}
