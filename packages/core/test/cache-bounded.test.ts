/**
 * Issue 25 item 2: the disk tier stays under `maxSize` (eviction by last use, after writes, in the
 * background), while the newest entries still answer. A real HTTP server on loopback gives each
 * URL its own body (identical bodies would share one content file and hide the growth).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, DiskCacheStore, directorySize } from '../src/internal.js';

const BODY = 16 * 1024;
let server: Server;
let base: string;
let requests = 0;
const dirs: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const body = randomBytes(BODY);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'detour-bounded-'));
  dirs.push(dir);
  return dir;
}

describe('disk cache bounded by maxSize', () => {
  it('stays under its cap across 100 fetches; the newest (and a recently used old) entry still hit', async () => {
    const dir = tempDir();
    const cap = 256 * 1024; // room for ~12 bodies of 16 KiB with their index
    const disk = new DiskCacheStore(dir, { maxSize: cap });
    const pipeline = createPipeline({ allowPrivateNetwork: true, cache: { tiers: [disk] } });
    const sizes: number[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const r = await pipeline.fetch(`${base}/file?n=${i}`);
        expect(r.fromCache).toBe(false);
        if (i % 10 === 5) {
          // Use the first entry again now and then: the least recently used go first, not the oldest.
          expect((await pipeline.fetch(`${base}/file?n=0`)).fromCache).toBe(true);
        }
        await disk.close(); // the background eviction this write started, if any
        sizes.push(await directorySize(dir));
      }
      expect(Math.max(...sizes)).toBeLessThanOrEqual(cap);
      expect(sizes.at(-1)).toBeGreaterThan(cap / 2); // evicted down to ~90%, not emptied
      const before = requests;
      for (const n of [99, 98, 97, 96, 95, 0]) {
        expect((await pipeline.fetch(`${base}/file?n=${n}`)).fromCache).toBe(true);
      }
      expect(requests).toBe(before);
      expect((await pipeline.fetch(`${base}/file?n=1`)).fromCache).toBe(false); // evicted long ago
    } finally {
      await pipeline.close();
    }
  }, 120_000);

  it('the default bound is 1 GiB; 0 means none', () => {
    expect(new DiskCacheStore(tempDir()).maxSize).toBe(1024 ** 3);
    expect(new DiskCacheStore(tempDir(), { maxSize: 0 }).maxSize).toBe(Number.POSITIVE_INFINITY);
  });

  it('list() says what each entry is; trim() and clear() remove them', async () => {
    const dir = tempDir();
    const pipeline = createPipeline({ allowPrivateNetwork: true, cache: { memory: false, dir } });
    try {
      await pipeline.fetch(`${base}/file?n=a&token=secret-value`);
      await pipeline.fetch(`${base}/file?n=b`);
    } finally {
      await pipeline.close();
    }
    const store = new DiskCacheStore(dir);
    const entries = await store.list();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ bytes: BODY, strategy: 'direct', expired: false, insecure: false });
    expect(entries.map((e) => e.url).join(' ')).not.toContain('secret-value');
    expect((await store.trim(BODY)).removed).toBeGreaterThanOrEqual(1);
    expect((await store.list()).length).toBeLessThan(2);
    const cleared = await store.clear();
    expect(await store.list()).toEqual([]);
    expect(cleared.size).toBe(0);
  });
});
