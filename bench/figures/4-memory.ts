/**
 * Figure 4: streaming a big body to a file must keep memory flat. The origin (/big?bytes=N, lab
 * HTTPS) runs in this process; the client runs in a separate, bundled node process whose peak RSS
 * (VmHWM) is the figure. Raw got streaming to a file is the reference.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryInput, MemoryOutput } from '../children/memory-child.js';
import { MiB } from '../lib/config.js';
import { runMeasuredChild } from '../lib/measured-child.js';
import type { Cell, Figure, Target } from '../lib/types.js';
import { num, pushTo, summarize } from '../stats.js';

const MODES: Array<{ mode: MemoryInput['mode']; label: string }> = [
  { mode: 'detour', label: 'Detour toFile, default options' },
  { mode: 'detour-no-cache', label: 'Detour toFile, cache: false' },
  { mode: 'detour-stream', label: 'Detour stream() → file, default options' },
  { mode: 'got', label: 'raw got.stream → file (reference)' },
];

export const figure: Figure = {
  id: 4,
  key: 'memory',
  title: 'Memory: 1 GiB streamed to a file',
  async run(ctx) {
    const { bytes, runs } = ctx.config.memory;
    const lab = await import('../../packages/lab/src/index.js');
    const origin = await lab.startHttpsOrigin();
    ctx.defer(() => origin.close());
    const ca = lab.labCerts().ca.cert;
    const url = `${origin.ipUrl}/big?bytes=${bytes}`;
    const results: Record<string, MemoryOutput[]> = {};
    for (let run = 0; run < runs; run++) {
      for (const { mode } of MODES) {
        ctx.signal.throwIfAborted();
        const path = join(tmpdir(), `detour-bench-${process.pid}-${mode}-${run}.bin`);
        const child = await runMeasuredChild<MemoryOutput>(
          'memory-child',
          { mode, url, ca, path } satisfies MemoryInput,
          {
            timeoutMs: 300_000,
            signal: ctx.signal,
          },
        );
        pushTo(results, mode, child.result);
        ctx.log(
          `${mode} run ${run + 1}: ${(child.result.hwm / MiB).toFixed(0)} MiB peak, ${(child.result.ms / 1000).toFixed(1)} s`,
        );
      }
    }
    const rows: Cell[][] = [];
    const targets: Target[] = [];
    for (const { mode, label } of MODES) {
      const list = results[mode] ?? [];
      const hwm = summarize(list.map((r) => r.hwm / MiB));
      const base = summarize(list.map((r) => r.baselineRss / MiB));
      const secs = summarize(list.map((r) => r.ms / 1000));
      const complete = list.every((r) => r.bytes === bytes);
      rows.push([
        label,
        base.median,
        hwm.max,
        hwm.max - base.median,
        bytes / MiB / secs.median,
        complete ? 'yes' : 'NO',
      ]);
      if (mode !== 'got') {
        targets.push({
          name: `${label}: peak RSS (MiB, worst of ${list.length})`,
          target: '< 100',
          value: num(hwm.max, 1),
          met: Number.isFinite(hwm.max) ? hwm.max < 100 && complete : null,
        });
      }
    }
    const notes = [
      "Peak RSS is the process's VmHWM read at the end (the whole life of the process, loading included). 'RSS before' is after loading and a GC, before the request.",
    ];
    // Compared with raw got's growth (GC slack, the same for every streaming client).
    const growthOf = (mode: string) => summarize((results[mode] ?? []).map((r) => r.hwm - r.baselineRss)).max;
    for (const { mode, label } of MODES) {
      const extra = growthOf(mode) - growthOf('got');
      if (mode !== 'got' && extra > bytes / 2) {
        notes.push(
          `${label}: grows ${(extra / MiB).toFixed(0)} MiB more than raw got for a ${(bytes / MiB).toFixed(0)} MiB body: the body is held in memory at some point.`,
        );
      }
    }
    return {
      tables: [
        {
          caption: `${(bytes / MiB).toFixed(0)} MiB body, ${runs} run(s) per client, each in a fresh process (esbuild bundle of the source packages, plain node, no tsx).`,
          columns: [
            'client',
            'RSS before MiB',
            'peak RSS MiB (VmHWM)',
            'growth MiB',
            'MiB/s',
            'file complete',
          ],
          rows,
        },
      ],
      targets,
      notes,
      data: results,
    };
  },
};
