import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cacache from 'cacache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache, type CacheCandidate, DiskCacheStore, hashKey } from '../src/cache/index.js';
import { candidate as baseCandidate, sha } from './helpers/cache.js';

const candidate = (body: Buffer): CacheCandidate => baseCandidate(body, { strategy: 'curl' });

/** The cacache content file behind a key, damaged by hand: same size, different bytes. */
async function corrupt(dir: string, key: string): Promise<string> {
  const info = await cacache.get.info(dir, hashKey(key));
  expect(info).not.toBeNull();
  const path = info!.path;
  const original = await readFile(path);
  await chmod(path, 0o644);
  await writeFile(path, Buffer.alloc(original.length, 0x41));
  return path;
}

describe('DiskCacheStore (cacache, real temp dir)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'detour-disk-cache-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('survives a new instance on the same directory (a restart)', async () => {
    const body = Buffer.from('PNG bytes that outlive the process');
    const first = new Cache({ memory: false, dir });
    expect(await first.set('https://a.example/x.png', candidate(body), body)).toEqual({ stored: true });
    const second = new Cache({ memory: false, dir });
    const hit = await second.get('https://a.example/x.png');
    expect(hit?.tier).toBe('disk');
    expect(hit?.entry.body.equals(body)).toBe(true);
    expect(hit?.entry.meta).toMatchObject({ strategy: 'curl', sha256: sha(body), bytes: body.length });
  });

  it('a corrupted content file is a miss, and the entry and its content are removed', async () => {
    const cache = new Cache({ memory: false, dir });
    const body = Buffer.from('the real image bytes');
    await cache.set('https://a.example/corrupt.png', candidate(body), body);
    const path = await corrupt(dir, 'https://a.example/corrupt.png');
    expect(await cache.get('https://a.example/corrupt.png')).toBeUndefined();
    expect(await cacache.get.info(dir, hashKey('https://a.example/corrupt.png'))).toBeNull();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    // stored again, it is served again
    await cache.set('https://a.example/corrupt.png', candidate(body), body);
    expect((await cache.get('https://a.example/corrupt.png'))?.entry.body.equals(body)).toBe(true);
  });

  it('a truncated content file is a miss and is removed', async () => {
    const cache = new Cache({ memory: false, dir });
    const body = Buffer.from('0123456789abcdef');
    await cache.set('k-trunc', candidate(body), body);
    const info = await cacache.get.info(dir, hashKey('k-trunc'));
    await chmod(info!.path, 0o644);
    await writeFile(info!.path, body.subarray(0, 5));
    expect(await cache.get('k-trunc')).toBeUndefined();
    expect(await cacache.get.info(dir, hashKey('k-trunc'))).toBeNull();
  });

  it('a missing content file is a miss and the index entry goes', async () => {
    const cache = new Cache({ memory: false, dir });
    const body = Buffer.from('soon gone');
    await cache.set('k-gone', candidate(body), body);
    const info = await cacache.get.info(dir, hashKey('k-gone'));
    await rm(info!.path);
    expect(await cache.get('k-gone')).toBeUndefined();
    expect(await cacache.get.info(dir, hashKey('k-gone'))).toBeNull();
  });

  it('with memory on top: the disk hit is promoted, the corrupted one never reaches memory', async () => {
    const body = Buffer.from('promote me');
    await new Cache({ memory: false, dir }).set('k-promote', candidate(body), body);
    const cache = new Cache({ dir });
    expect((await cache.get('k-promote'))?.tier).toBe('disk');
    expect((await cache.get('k-promote'))?.tier).toBe('memory');

    const bad = Buffer.from('will be damaged');
    await new Cache({ memory: false, dir }).set('k-bad', candidate(bad), bad);
    await corrupt(dir, 'k-bad');
    const fresh = new Cache({ dir });
    expect(await fresh.get('k-bad')).toBeUndefined();
    expect(await fresh.get('k-bad')).toBeUndefined();
  });

  it('expired entries are misses and are removed; prune() collects them', async () => {
    let now = 0;
    const store = new DiskCacheStore(dir, { now: () => now });
    const cache = new Cache({ memory: false, dir, ttlMs: 1000, now: () => now });
    const body = Buffer.from('short lived');
    await cache.set('k-exp', candidate(body), body);
    await cache.set('k-exp2', candidate(Buffer.from('another')), Buffer.from('another'));
    now = 1000;
    expect(await cache.get('k-exp')).toBeUndefined();
    expect(await cacache.get.info(dir, hashKey('k-exp'))).toBeNull();
    await store.prune();
    expect(await cacache.get.info(dir, hashKey('k-exp2'))).toBeNull();
  });
});
