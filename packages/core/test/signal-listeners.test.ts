/**
 * A caller's signal outlives many fetches (a bot's shutdown signal, say): each fetch listens to it
 * while it runs and leaves nothing on it after, however it ended (D37). Against a real HTTPS origin
 * on 127.0.0.1.
 */
import { getEventListeners } from 'node:events';
import { labCerts, type Origin, startHttpsOrigin } from '@detour/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPipeline } from '../src/internal.js';

let origin: Origin;
beforeAll(async () => {
  origin = await startHttpsOrigin();
});
afterAll(async () => {
  await origin?.close();
});

it('a long-lived caller signal keeps no listener after fetches that succeed, fail, share, hit the cache or time out', async () => {
  const pipeline = createPipeline({ allowPrivateNetwork: true, ca: labCerts().ca.cert, proxy: false });
  const shutdown = new AbortController();
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  const signal = shutdown.signal;
  try {
    const ok = (n: number) => pipeline.fetch(`${origin.url}/big?bytes=2048&n=${n}`, { signal });
    // Fresh downloads, 16 at once, then the same URLs again (the cache).
    await Promise.all(Array.from({ length: 16 }, (_, n) => ok(n)));
    const again = await Promise.all(Array.from({ length: 16 }, (_, n) => ok(n)));
    expect(again.every((r) => r.fromCache)).toBe(true);
    // One URL 8 times at once: one download, shared.
    origin.routes.resetCounts();
    await Promise.all(
      Array.from({ length: 8 }, () => pipeline.fetch(`${origin.url}/image.png?shared=1`, { signal })),
    );
    expect(origin.routes.hits('/image.png')).toBe(1);
    // Twelve at once that stall and time out: one EventTarget listener on the signal while they
    // run (Node warns of a leak past ten), none after.
    const stalled = Array.from({ length: 12 }, () =>
      pipeline.fetch(`${origin.url}/stall-head`, { signal, timeoutMs: 300 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    for (const settled of await Promise.allSettled(stalled)) {
      expect(settled).toMatchObject({ status: 'rejected', reason: { failureClass: 'timeout' } });
    }
    await expect(pipeline.fetch(`${origin.url}/status/404`, { signal })).rejects.toMatchObject({
      failureClass: 'http-status',
    });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  } finally {
    process.off('warning', onWarning);
    await pipeline.close();
  }
  expect(pipeline.openSockets()).toBe(0);
});
