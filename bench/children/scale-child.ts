/**
 * Figure 5's measured process (bundled, plain node): many downloads from many hosts at once.
 * Input over IPC: ScaleInput. Output: { result: ScaleOutput }.
 */
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPipeline } from '@detour/core';
import got from 'got';
import { runLoad } from '../lib/load.js';
import { openFds, peakRss, RssSampler } from '../lib/proc.js';
import { serveParent } from '../lib/serve-parent.js';
import { summarize } from '../stats.js';

export interface ScaleInput {
  /** `detour-extra-ca`: the lab CA comes from NODE_EXTRA_CA_CERTS (set by the parent), not the `ca` option. */
  mode: 'detour' | 'detour-extra-ca' | 'got';
  /** Origins (`https://127.0.0.1:PORT`), one per host. */
  origins: string[];
  downloads: number;
  inFlight: number;
  bytes: number;
  ca: string;
}

export interface ScaleOutput {
  ok: number;
  failed: number;
  errors: string[];
  wallMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  baselineRss: number;
  hwm: number;
  fdsBefore: number;
  fdsPeak: number;
  socketsBeforeClose: number | null;
  socketsAfterClose: number | null;
  /** Descriptors above `fdsBefore` once everything is closed (after up to 2 s of settling). */
  fdsLeftAfterClose: number;
  settleMs: number;
}

async function run(input: ScaleInput): Promise<ScaleOutput> {
  (globalThis as { gc?: () => void }).gc?.();
  const fdsBefore = openFds();
  const baselineRss = process.memoryUsage.rss();
  const detour =
    input.mode !== 'got'
      ? createPipeline({
          allowPrivateNetwork: true,
          ...(input.mode === 'detour' ? { ca: input.ca } : {}),
          proxy: false,
          concurrency: { global: input.inFlight },
        })
      : undefined;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, scheduling: 'lifo' });
  const client = got.extend({
    agent: { https: agent },
    https: { certificateAuthority: input.ca },
    retry: { limit: 0 },
  });
  const rss = new RssSampler(() => process.memoryUsage.rss(), 20).start();
  let fdsPeak = fdsBefore;
  const fdTimer = setInterval(() => {
    fdsPeak = Math.max(fdsPeak, openFds());
  }, 50);
  const url = (i: number) => `${input.origins[i % input.origins.length]}/big?bytes=${input.bytes}&n=${i}`;
  const load = await runLoad(input.downloads, input.inFlight, async (i) => {
    if (detour) return (await detour.fetch(url(i))).bytes;
    return (await client(url(i)).buffer()).length;
  });
  clearInterval(fdTimer);
  fdsPeak = Math.max(fdsPeak, openFds());
  rss.stop();
  const socketsBeforeClose = detour ? detour.openSockets() : null;
  await detour?.close();
  agent.destroy();
  const socketsAfterClose = detour ? detour.openSockets() : null;
  // Destroyed sockets release their descriptors on a later tick: wait (bounded) for them.
  const settleStarted = performance.now();
  while (openFds() > fdsBefore && performance.now() - settleStarted < 2000) await sleep(10);
  const lat = summarize(load.latencies);
  return {
    ok: load.ok,
    failed: load.failed,
    errors: load.errors,
    wallMs: load.wallMs,
    rps: (load.ok / load.wallMs) * 1000,
    p50Ms: lat.median,
    p99Ms: lat.p99,
    maxMs: lat.max,
    baselineRss,
    hwm: peakRss('self'),
    fdsBefore,
    fdsPeak,
    socketsBeforeClose,
    socketsAfterClose,
    fdsLeftAfterClose: openFds() - fdsBefore,
    settleMs: performance.now() - settleStarted,
  };
}

serveParent(run);
