/**
 * Figure 6: what a cache hit saves. The same URL fetched through three pipelines in turn: no cache
 * (a warm keep-alive network fetch), the in-memory tier, and the disk tier alone (cacache, memory
 * tier off, so every read is a disk read plus its integrity check). Ratios are hit ÷ network per run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pipeline } from '@detour/core';
import { KiB, MiB } from '../lib/config.js';
import { labPipeline, labTrust } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { collectGarbage } from '../lib/proc.js';
import { type Cell, type Figure, NotAvailable } from '../lib/types.js';
import { ratio, summarize } from '../stats.js';

type Tier = 'network' | 'memory' | 'disk';

export const figure: Figure = {
  id: 6,
  key: 'cache',
  title: 'Cache hits vs a network fetch',
  async run(ctx) {
    const { runs, requests } = ctx.config.cache;
    const lab = await startLabProcess({ origin: { kind: 'https' } });
    ctx.defer(() => lab.close());
    const dir = mkdtempSync(join(tmpdir(), 'detour-bench-cache-'));
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    const trust = labTrust(lab.caPem, lab.caPath);
    const pipelines: Record<Tier, Pipeline> = {
      network: await labPipeline(lab.caPem, { ...trust.options, cache: false }),
      memory: await labPipeline(lab.caPem, trust.options),
      disk: await labPipeline(lab.caPem, { ...trust.options, cache: { memory: false, dir } }),
    };
    ctx.defer(() => Promise.all(Object.values(pipelines).map((p) => p.close())));

    const rows: Cell[][] = [];
    const data: Record<string, unknown> = {};
    for (const size of [10 * KiB, MiB]) {
      const label = size === MiB ? '1 MiB' : '10 KiB';
      const url = `${lab.servers.origin!.ipUrl}/big?bytes=${size}`;
      // Fill the caches (and open the network pipeline's socket); check every tier really answers.
      for (const [tier, pipeline] of Object.entries(pipelines) as Array<[Tier, Pipeline]>) {
        await pipeline.fetch(url);
        const second = await pipeline.fetch(url);
        const answered = second.fromCache ? second.attempts[0]?.route : 'network';
        if (answered !== tier) {
          throw new NotAvailable(
            `the ${tier} pipeline answered from ${answered}: is the cache wired into Pipeline?`,
          );
        }
      }
      const perTier: Record<Tier, number[]> = { network: [], memory: [], disk: [] };
      const ratios: Record<'memory' | 'disk', number[]> = { memory: [], disk: [] };
      for (let run = 0; run < runs; run++) {
        const medians: Partial<Record<Tier, number>> = {};
        const order: Tier[] = ['network', 'memory', 'disk'];
        for (const tier of run % 2 ? order.reverse() : order) {
          ctx.signal.throwIfAborted();
          collectGarbage();
          const times: number[] = [];
          for (let i = 0; i < requests; i++) {
            const started = performance.now();
            await pipelines[tier].fetch(url);
            times.push(performance.now() - started);
          }
          medians[tier] = summarize(times).median;
          perTier[tier].push(medians[tier]);
        }
        ratios.memory.push(ratio(medians.memory!, medians.network!));
        ratios.disk.push(ratio(medians.disk!, medians.network!));
      }
      const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');
      for (const tier of ['network', 'memory', 'disk'] as const) {
        const ms = summarize(perTier[tier]).median;
        const r = tier === 'network' ? undefined : summarize(ratios[tier]);
        rows.push([
          label,
          tier === 'network' ? 'network (keep-alive, no cache)' : `${tier} hit`,
          ms,
          r ? `${fmt(r.median)} / ${fmt(r.p95)}` : '1 (base)',
          r ? 1 / r.median : null,
        ]);
      }
      data[label] = { perTier, ratios };
    }
    return {
      tables: [
        {
          caption: `${runs} runs × ${requests} sequential fetches of one URL per tier; \`pipeline.fetch\` end to end (body buffered, hashed, checked). Ratio: median / p95 over runs of (hit median ÷ network median in the same run).`,
          columns: ['body', 'answered by', 'median ms', 'latency ÷ network (med / p95)', 'times faster'],
          rows,
        },
      ],
      targets: [],
      notes: [
        'The disk tier is read with the memory tier off: every hit reads the file and checks its SHA-256 integrity.',
      ],
      data,
    };
  },
};
