/**
 * A proxy that accepts TCP and never answers (a stuck accelerator): the tunnel has its own
 * deadline (`timeouts.proxy`), fails as `proxy` / `DETOUR_PROXY_TIMEOUT`, `direct-bypass` rescues,
 * and no socket to the stuck proxy outlives the attempt. Real servers on loopback.
 */
import {
  type BlackHoleProxy,
  LAB_PNG,
  labCerts,
  type Origin,
  type RunningProxy,
  startBlackHoleProxy,
  startHttpOrigin,
  startHttpsOrigin,
  startMicrosocks,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPipeline,
  DEFAULT_TIMEOUTS,
  DetourError,
  type Pipeline,
  type PipelineOptions,
} from '../src/internal.js';

let hole: BlackHoleProxy;
let https: Origin;
let http: Origin;
let socks: RunningProxy;
const pipelines: Pipeline[] = [];

beforeAll(async () => {
  [hole, https, http, socks] = await Promise.all([
    startBlackHoleProxy(),
    startHttpsOrigin(),
    startHttpOrigin(),
    startMicrosocks(),
  ]);
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await Promise.all([hole?.close(), https?.close(), http?.close(), socks?.close()]);
});

function pipeline(options: PipelineOptions): Pipeline {
  const p = createPipeline({ allowPrivateNetwork: true, ca: labCerts().ca.cert, ...options });
  pipelines.push(p);
  return p;
}

/** Wait (bounded) until the black hole has no open connection left. */
async function holeDrained(): Promise<number> {
  for (let i = 0; i < 50 && hole.open() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return hole.open();
}

describe('proxy deadline (timeouts.proxy)', () => {
  it('defaults to 3 s', () => {
    expect(DEFAULT_TIMEOUTS.proxy).toBe(3_000);
  });

  it.each([
    ['HTTP CONNECT, https:// target', () => hole.url, () => `${https.url}/image.png`],
    ['HTTP CONNECT, http:// target', () => hole.url, () => `${http.url}/image.png`],
    ['SOCKS5, https:// target', () => hole.socksUrl, () => `${https.url}/image.png`],
    [
      'socks5h, http:// target',
      () => hole.socksUrl.replace('socks5:', 'socks5h:'),
      () => `${http.url}/image.png`,
    ],
  ])(
    '%s: a stuck proxy fails as proxy/DETOUR_PROXY_TIMEOUT and direct-bypass rescues',
    async (_n, proxy, url) => {
      const before = hole.accepted();
      const started = performance.now();
      const result = await pipeline({ proxy: proxy(), timeouts: { proxy: 400 } }).fetch(url());
      const ms = performance.now() - started;
      expect(result.body.equals(LAB_PNG)).toBe(true);
      expect(result.strategy).toBe('direct-bypass');
      expect(result.attempts[0]).toMatchObject({
        strategy: 'direct',
        outcome: 'failed',
        failureClass: 'proxy',
        code: 'DETOUR_PROXY_TIMEOUT',
      });
      expect(result.attempts[0]!.ms).toBeGreaterThanOrEqual(350);
      // The rescue waits for the proxy deadline, not the 30 s attempt deadline.
      expect(ms).toBeLessThan(2_500);
      expect(hole.accepted()).toBeGreaterThan(before);
      // The socket to the stuck proxy was destroyed, not left to keep the process alive.
      expect(await holeDrained()).toBe(0);
    },
  );

  it('without direct-bypass the fetch fails with the proxy timeout, not the attempt deadline', async () => {
    const p = pipeline({ proxy: hole.url, timeouts: { proxy: 300 }, strategies: ['direct'] });
    const error = await p.fetch(`${https.url}/image.png`).then(
      () => undefined,
      (e: unknown) => e as DetourError,
    );
    expect(error).toBeInstanceOf(DetourError);
    expect(error).toMatchObject({ failureClass: 'proxy', code: 'DETOUR_PROXY_TIMEOUT' });
    expect(error?.message).toContain(`proxy ${hole.url}`);
    expect(await holeDrained()).toBe(0);
  });

  it('close() tears down a tunnel still waiting on the proxy', async () => {
    const p = pipeline({ proxy: hole.url, timeouts: { proxy: 60_000 }, strategies: ['direct'] });
    const before = hole.accepted();
    const pending = p.fetch(`${https.url}/image.png`).then(
      () => undefined,
      (e: unknown) => e as DetourError,
    );
    for (let i = 0; i < 100 && hole.accepted() === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(hole.accepted()).toBe(before + 1);
    const closedAt = performance.now();
    await p.close();
    const error = await pending;
    expect(performance.now() - closedAt).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(DetourError);
    expect(await holeDrained()).toBe(0);
  });

  it('the deadline covers the tunnel only: a slow body through a live SOCKS proxy still arrives', async () => {
    // 3 bytes, one every 1.3 s: each silence is longer than the 1 s proxy deadline (which is
    // generous for a loopback handshake, even on a loaded machine).
    const result = await pipeline({
      proxy: socks.url,
      timeouts: { proxy: 1_000 },
      strategies: ['direct'],
    }).fetch(`${https.url}/slow-drip?ms=1300&bytes=3`);
    expect(result).toMatchObject({ strategy: 'direct', bytes: 3 });
    expect(result.attempts).toHaveLength(1);
  });

  it('refuses a negative timeouts.proxy as bad usage', () => {
    expect(() => createPipeline({ timeouts: { proxy: -1 } })).toThrow(/timeouts.proxy/);
  });
});
