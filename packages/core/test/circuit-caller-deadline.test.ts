/**
 * Issue 22 item 4: a caller's own deadline or abort is not the origin's failure. Real slow origins
 * on loopback; the circuit opens only for failures the origin or the path caused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_PNG } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, DetourError } from '../src/internal.js';

/** An origin that answers every request with the lab PNG after `delayMs` (slow but healthy). */
async function slowOrigin(delayMs: number): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': LAB_PNG.length });
      res.end(LAB_PNG);
    }, delayMs);
    res.once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/image.png`, hits: () => hits, server };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as DetourError,
  );

describe("the circuit and the caller's deadline (issue 22 item 4)", () => {
  let slow: Awaited<ReturnType<typeof slowOrigin>>;
  beforeAll(async () => {
    slow = await slowOrigin(400);
  });
  afterAll(async () => {
    slow.server.closeAllConnections();
    await new Promise((resolve) => slow.server.close(resolve));
  });

  it('ten fetches with timeoutMs: 50 to a slow but healthy origin leave its circuit closed', async () => {
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      proxy: false,
      strategies: ['direct'],
      cache: false,
      circuit: { threshold: 5 },
    });
    for (let i = 0; i < 10; i++) {
      const error = await failure(pipeline.fetch(slow.url, { timeoutMs: 50 }));
      expect(error).toBeInstanceOf(DetourError);
      expect(error?.failureClass).toBe('timeout');
      expect(error?.code).not.toBe('DETOUR_CIRCUIT_OPEN');
    }
    // Another caller with a sane deadline gets the file: the origin was never refused.
    const ok = await pipeline.fetch(slow.url, { timeoutMs: 5000 });
    expect(ok.body.equals(LAB_PNG)).toBe(true);
    await pipeline.close();
  });

  it('aborts by the caller do not count either', async () => {
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      proxy: false,
      strategies: ['direct'],
      cache: false,
      circuit: { threshold: 2 },
    });
    for (let i = 0; i < 4; i++) {
      const error = await failure(pipeline.fetch(slow.url, { signal: AbortSignal.timeout(50) }));
      expect(error?.failureClass).toBe('aborted');
    }
    const ok = await pipeline.fetch(slow.url, { timeoutMs: 5000 });
    expect(ok.body.equals(LAB_PNG)).toBe(true);
    await pipeline.close();
  });

  it("the attempt's own deadline (the origin too slow for it) still counts and opens the circuit", async () => {
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      proxy: false,
      strategies: ['direct'],
      cache: false,
      attemptTimeoutMs: 50,
      circuit: { threshold: 2 },
    });
    for (let i = 0; i < 2; i++) {
      const error = await failure(pipeline.fetch(slow.url, { timeoutMs: 5000 }));
      expect(error?.failureClass).toBe('timeout');
    }
    const before = slow.hits();
    const refused = await failure(pipeline.fetch(slow.url, { timeoutMs: 5000 }));
    expect(refused?.code).toBe('DETOUR_CIRCUIT_OPEN');
    expect(slow.hits()).toBe(before);
    await pipeline.close();
  });

  it('a FIFO nobody reads (local-io, issue 22 item 12) never counts either', async () => {
    const fast = await slowOrigin(0);
    const dir = mkdtempSync(join(tmpdir(), 'detour-fifo-circuit-'));
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      proxy: false,
      cache: false,
      circuit: { threshold: 1 },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const error = await failure(pipeline.toFile(fast.url, fifo, { timeoutMs: 300 }));
        expect(error).toMatchObject({ failureClass: 'local-io', code: 'DETOUR_FIFO_UNREAD' });
      }
      expect(fast.hits()).toBe(3); // one download per fetch, no second strategy
      const ok = await pipeline.fetch(fast.url);
      expect(ok.body.equals(LAB_PNG)).toBe(true);
    } finally {
      await pipeline.close();
      fast.server.closeAllConnections();
      await new Promise((resolve) => fast.server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
