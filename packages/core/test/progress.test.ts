import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labCerts, type Origin, startHttpsOrigin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, type DownloadProgress } from '../src/internal.js';

let origin: Origin;
let dir: string;
beforeAll(async () => {
  origin = await startHttpsOrigin();
  dir = mkdtempSync(join(tmpdir(), 'detour-progress-'));
});
afterAll(async () => {
  await origin?.close();
  rmSync(dir, { recursive: true, force: true });
});

const pipeline = () =>
  createPipeline({ allowPrivateNetwork: true, ca: labCerts().ca.cert, proxy: false, cache: false });

describe('onProgress', () => {
  it('is told received/total while the body flows, throttled, and once at the end', async () => {
    const p = pipeline();
    const seen: DownloadProgress[] = [];
    try {
      // 30 bytes, one every 20 ms: ~600 ms of body, 30 chunks
      const result = await p.fetch(`${origin.url}/slow-drip?bytes=30&ms=20`, {
        onProgress: (progress) => seen.push(progress),
        progressIntervalMs: 100,
      });
      expect(result.bytes).toBe(30);
    } finally {
      await p.close();
    }
    expect(seen.at(-1)).toEqual({ received: 30, total: 30 });
    expect(seen.every((s) => s.total === 30)).toBe(true);
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]!.received).toBeGreaterThanOrEqual(seen[i - 1]!.received);
    // throttled: far fewer calls than chunks, but more than just the end
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThan(20);
  });

  it('total is null when the length is unknown; toFile reports too; a throwing callback breaks nothing', async () => {
    const p = pipeline();
    const seen: DownloadProgress[] = [];
    try {
      const path = join(dir, 'a.png');
      const info = await p.toFile(`${origin.url}/slow-drip?bytes=12&ms=5&chunked`, path, {
        onProgress: (progress) => {
          seen.push(progress);
          throw new Error('a broken progress display');
        },
      });
      expect(info.bytes).toBe(12);
      expect(readFileSync(path).length).toBe(12);
    } finally {
      await p.close();
    }
    expect(seen.at(-1)).toEqual({ received: 12, total: null });
  });
});
