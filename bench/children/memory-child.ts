/**
 * Figure 4's measured process (bundled, plain node): stream one big body to a file and report the
 * peak RSS. Input over IPC: { mode, url, ca, path }. Output: { result } with bytes, ms, RSS figures.
 */
import { createWriteStream, statSync, unlinkSync } from 'node:fs';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { createPipeline } from '@detour/core';
import got from 'got';
import { currentRss, peakRss, RssSampler } from '../lib/proc.js';
import { serveParent } from '../lib/serve-parent.js';

export interface MemoryInput {
  mode: 'detour' | 'detour-no-cache' | 'detour-stream' | 'got';
  url: string;
  ca: string;
  path: string;
}

export interface MemoryOutput {
  bytes: number;
  ms: number;
  /** RSS once everything is loaded, before the download. */
  baselineRss: number;
  /** Highest RSS sampled every 10 ms during the download. */
  sampledPeakRss: number;
  /** VmHWM at the end: the true peak of the process's life. */
  hwm: number;
  strategy?: string;
}

async function run(input: MemoryInput): Promise<MemoryOutput> {
  const size = Number(new URL(input.url).searchParams.get('bytes'));
  const limits = { maxBytes: size * 2, timeoutMs: 600_000, attemptTimeoutMs: 600_000 };
  const detour =
    input.mode === 'got'
      ? undefined
      : createPipeline({
          allowPrivateNetwork: true,
          ca: input.ca,
          proxy: false,
          ...limits,
          ...(input.mode === 'detour-no-cache' ? { cache: false } : {}),
        });
  const agent = new https.Agent({ keepAlive: true });
  (globalThis as { gc?: () => void }).gc?.();
  const baselineRss = currentRss('self');
  const sampler = new RssSampler(() => process.memoryUsage.rss(), 10).start();
  const started = performance.now();
  let strategy: string | undefined;
  try {
    if (detour && input.mode === 'detour-stream') {
      const result = await detour.stream(input.url);
      strategy = result.strategy;
      await pipeline(result.body, createWriteStream(input.path));
    } else if (detour) {
      const result = await detour.toFile(input.url, input.path);
      strategy = result.strategy;
    } else {
      await pipeline(
        got.stream(input.url, { agent: { https: agent }, https: { certificateAuthority: input.ca } }),
        createWriteStream(input.path),
      );
    }
    const ms = performance.now() - started;
    const sampledPeakRss = sampler.stop();
    const bytes = statSync(input.path).size;
    return {
      bytes,
      ms,
      baselineRss,
      sampledPeakRss,
      hwm: peakRss('self'),
      ...(strategy ? { strategy } : {}),
    };
  } finally {
    sampler.stop();
    try {
      unlinkSync(input.path);
    } catch {}
    agent.destroy();
    await detour?.close();
  }
}

serveParent(run);
