/**
 * Figure 5: scale. N downloads, M in flight, round-robin over H hosts (H lab HTTPS origins on
 * their own loopback ports, all in this process; a host is host:port). The client runs in a
 * fresh bundled node process per run: its peak RSS, its descriptors and Detour's open sockets
 * after close are the figure. Raw got over a keep-alive agent is measured the same way, in turn.
 */
import type { ScaleInput, ScaleOutput } from '../children/scale-child.js';
import { MiB } from '../lib/config.js';
import { runMeasuredChild } from '../lib/measured-child.js';
import type { Cell, Figure, Target } from '../lib/types.js';
import { num, ratio, summarize } from '../stats.js';

export const figure: Figure = {
  id: 5,
  key: 'scale',
  title: 'Scale: 10,000 downloads, 256 in flight, 100 hosts',
  async run(ctx) {
    const { downloads, inFlight, hosts, bytes, runs } = ctx.config.scale;
    const lab = await import('../../packages/lab/src/index.js');
    const started = await Promise.allSettled(Array.from({ length: hosts }, () => lab.startHttpsOrigin()));
    const origins = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    ctx.defer(() => Promise.all(origins.map((o) => o.close())));
    if (origins.length < hosts) throw new Error(`only ${origins.length} of ${hosts} origins started`);
    const certs = lab.labCerts();
    const ca = certs.ca.cert;
    const modes: ScaleInput['mode'][] = ['detour', 'detour-extra-ca', 'got'];
    // got runs between the two Detour rows, so each Detour run is paired with a got run next to it
    // in time (adjacent runs' ratios spread less: D38); the order reverses every round.
    const turns: ScaleInput['mode'][] = ['detour', 'got', 'detour-extra-ca'];
    // One unmeasured child first: the origins (in this process) serve their first requests cold,
    // and that cost landed on whichever client ran first (always Detour's first run).
    await runMeasuredChild<ScaleOutput>(
      'scale-child',
      {
        mode: 'got',
        origins: origins.map((o) => o.ipUrl),
        downloads: Math.min(downloads, 2_000),
        inFlight,
        bytes,
        ca,
      } satisfies ScaleInput,
      { timeoutMs: 180_000, signal: ctx.signal },
    );
    ctx.log('warm-up child done (not measured)');
    const results: Record<string, ScaleOutput[]> = { detour: [], 'detour-extra-ca': [], got: [] };
    for (let run = 0; run < runs; run++) {
      for (const mode of run % 2 === 0 ? turns : [...turns].reverse()) {
        ctx.signal.throwIfAborted();
        const input: ScaleInput = {
          mode,
          origins: origins.map((o) => o.ipUrl),
          downloads,
          inFlight,
          bytes,
          ca,
        };
        const { result } = await runMeasuredChild<ScaleOutput>('scale-child', input, {
          timeoutMs: 180_000,
          signal: ctx.signal,
          ...(mode === 'detour-extra-ca' ? { env: { NODE_EXTRA_CA_CERTS: certs.ca.certPath } } : {}),
        });
        results[mode]!.push(result);
        ctx.log(
          `${mode} run ${run + 1}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(1)} ms, ${result.failed} failed`,
        );
        if (result.failed) ctx.log(`${mode}: ${result.errors.join(' | ')}`);
      }
    }
    const rows: Cell[][] = [];
    const targets: Target[] = [];
    const gotRuns = results.got!;
    const ratios = (mode: ScaleInput['mode']) => ({
      rps: summarize(results[mode]!.map((r, i) => ratio(r.rps, gotRuns[i]?.rps ?? Number.NaN))),
      p99: summarize(results[mode]!.map((r, i) => ratio(r.p99Ms, gotRuns[i]?.p99Ms ?? Number.NaN))),
    });
    const labels: Record<ScaleInput['mode'], string> = {
      detour: 'Detour pipeline.fetch, `ca` option',
      'detour-extra-ca': 'Detour pipeline.fetch, CA via NODE_EXTRA_CA_CERTS',
      got: 'raw got (keep-alive agent)',
    };
    for (const mode of modes) {
      const list = results[mode]!;
      const med = (pick: (r: ScaleOutput) => number) => summarize(list.map(pick)).median;
      const worst = (pick: (r: ScaleOutput) => number) => summarize(list.map(pick)).max;
      const failed = list.reduce((a, r) => a + r.failed, 0);
      const sockets = mode === 'got' ? null : worst((r) => r.socketsAfterClose ?? Number.NaN);
      const fdsLeft = worst((r) => r.fdsLeftAfterClose);
      rows.push([
        labels[mode],
        med((r) => r.rps),
        med((r) => r.p50Ms),
        med((r) => r.p99Ms),
        worst((r) => r.hwm / MiB),
        worst((r) => r.fdsPeak - r.fdsBefore),
        sockets,
        fdsLeft,
        failed,
      ]);
      if (mode !== 'got') {
        targets.push(
          {
            name: `${labels[mode]}: failed downloads (all runs)`,
            target: '= 0',
            value: failed,
            met: failed === 0,
          },
          {
            name: `${labels[mode]}: open sockets after close() (worst run)`,
            target: '= 0',
            value: num(sockets ?? Number.NaN),
            met: sockets === 0,
          },
          {
            name: `${labels[mode]}: throughput ÷ raw got (median over runs)`,
            target: '≥ 0.85',
            value: num(ratios(mode).rps.median),
            met: Number.isFinite(ratios(mode).rps.median) ? ratios(mode).rps.median >= 0.85 : null,
          },
          {
            name: `${labels[mode]}: descriptors left open after close() (worst run)`,
            target: '= 0',
            value: num(fdsLeft),
            met: fdsLeft <= 0,
          },
        );
      }
    }
    const withCa = ratios('detour');
    const extraCa = ratios('detour-extra-ca');
    // An A/A check: both Detour rows run the same pipeline (one secure context each) in the same
    // run, so their ratio shows what the machine alone moves one run by (D37).
    const aa = summarize(
      results.detour!.map((r, i) => ratio(r.rps, results['detour-extra-ca']![i]?.rps ?? Number.NaN)),
    );
    return {
      tables: [
        {
          caption: `${downloads.toLocaleString('en-US')} downloads of ${bytes / 1024} KiB, ${inFlight} in flight, round-robin over ${hosts} HTTPS origins (127.0.0.1, one port each); ${runs} run(s) per client, each in a fresh process, after one unmeasured warm-up child. Detour: default options except concurrency.global = ${inFlight}. Throughput and latencies: median over runs; RSS, descriptors, sockets: worst run.`,
          columns: [
            'client',
            'req/s',
            'p50 ms',
            'p99 ms',
            'peak RSS MiB',
            'peak fds in use',
            'sockets after close',
            'fds left after close',
            'failed',
          ],
          rows,
        },
      ],
      targets,
      notes: [
        `Detour ÷ got in the same run, \`ca\` option: throughput ${fmt(withCa.rps.median)} (p5 ${fmt(withCa.rps.p5)}), p99 latency ${fmt(withCa.p99.median)} (p95 ${fmt(withCa.p99.p95)}).`,
        `Detour ÷ got in the same run, NODE_EXTRA_CA_CERTS: throughput ${fmt(extraCa.rps.median)} (p5 ${fmt(extraCa.rps.p5)}), p99 latency ${fmt(extraCa.p99.median)} (p95 ${fmt(extraCa.p99.p95)}).`,
        `A/A check: the two Detour rows run the same pipeline; their throughput ratio in the same run was ${fmt(aa.min)}–${fmt(aa.max)} (median ${fmt(aa.median)}). What a run's ratio moves by on this machine, whatever the client.`,
      ],
      data: { results, ratios: { ca: withCa, extraCa, aa } },
    };
  },
};

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
