/**
 * Figure 1: what Detour's pipeline costs on the happy path. The same HTTPS origin (another
 * process, keep-alive) is downloaded from by Detour (`pipeline.fetch`), raw got over an
 * https.Agent configured like Detour's, undici's `request`, and one `curl` process per file.
 * Clients take turns in a rotating order within each run; every ratio compares numbers of the
 * same run, and the table shows the median (and spread) of those per-run ratios.
 */
import { type Client, curlClient, curlVersion, gotClient, undiciClient } from '../lib/clients.js';
import { KiB, MiB } from '../lib/config.js';
import { detourClient, labPipeline } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { collectGarbage } from '../lib/proc.js';
import type { Cell, Figure, Target } from '../lib/types.js';
import { num, pushTo, ratio, summarize } from '../stats.js';

interface Scenario {
  label: string;
  bytes: number;
  concurrency: number;
  requests: number;
  curlRequests: number;
}

interface RunFigures {
  medianMs: number;
  p95Ms: number;
  rps: number;
  mibps: number;
  failed: number;
}

const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, i) => items[(i + by) % items.length]!);

export const figure: Figure = {
  id: 1,
  key: 'overhead',
  title: 'Happy-path overhead vs raw got (HTTPS keep-alive)',
  async run(ctx) {
    const { overhead, runs } = ctx.config;
    const c = overhead.concurrency;
    const scenarios: Scenario[] = [
      {
        label: `10 KiB × ${overhead.small.sequential}, sequential`,
        bytes: 10 * KiB,
        concurrency: 1,
        requests: overhead.small.sequential,
        curlRequests: overhead.curl.small.sequential,
      },
      {
        label: `10 KiB × ${overhead.small.concurrent}, ${c} in flight`,
        bytes: 10 * KiB,
        concurrency: c,
        requests: overhead.small.concurrent,
        curlRequests: overhead.curl.small.concurrent,
      },
      {
        label: `1 MiB × ${overhead.medium.sequential}, sequential`,
        bytes: MiB,
        concurrency: 1,
        requests: overhead.medium.sequential,
        curlRequests: overhead.curl.medium.sequential,
      },
      {
        label: `1 MiB × ${overhead.medium.concurrent}, ${c} in flight`,
        bytes: MiB,
        concurrency: c,
        requests: overhead.medium.concurrent,
        curlRequests: overhead.curl.medium.concurrent,
      },
    ];

    const lab = await startLabProcess({ origin: { kind: 'https' } });
    ctx.defer(() => lab.close());
    const origin = lab.servers.origin!;

    // `detour`: Detour's defaults (in-memory cache, route memory, dedup) with the concurrency limits
    // raised to the clients' level; `detour, no cache`: the same without the cache tier.
    const limits = { concurrency: { global: Math.max(64, c), perHost: c } };
    const pipeline = await labPipeline(lab.caPem, limits);
    const bare = await labPipeline(lab.caPem, { ...limits, cache: false });
    const clients: Client[] = [
      detourClient(pipeline),
      detourClient(bare, 'detour, no cache'),
      gotClient(lab.caPem),
      undiciClient(lab.caPem),
    ];
    const notes: string[] = [];
    const curl = await curlVersion();
    if (curl) clients.push(curlClient(lab.caPath));
    else notes.push('curl: n/a (no curl binary on PATH)');
    ctx.defer(() => Promise.all(clients.map((client) => client.close())));

    // perRun[scenario][client] = figures of each run
    const perRun: Record<string, Record<string, RunFigures[]>> = {};
    let serial = 0;
    for (const scenario of scenarios) {
      // A URL of its own per request: Detour's cache and in-flight dedup must not answer for the network.
      const base = `${origin.ipUrl}/big?bytes=${scenario.bytes}&n=`;
      const url = () => `${base}${serial++}`;
      const byClient: Record<string, RunFigures[]> = {};
      perRun[scenario.label] = byClient;
      for (let run = 0; run < runs; run++) {
        for (const client of rotate(clients, run)) {
          ctx.signal.throwIfAborted();
          const isCurl = client.name === 'curl';
          const total = isCurl ? scenario.curlRequests : scenario.requests;
          // Warm-up: open the keep-alive sockets this concurrency needs, let the JIT settle.
          const warm = isCurl ? 1 : Math.max(overhead.warmup, scenario.concurrency);
          await runLoad(warm, scenario.concurrency, () => client.get(url()), ctx.signal);
          collectGarbage();
          const load = await runLoad(total, scenario.concurrency, () => client.get(url()), ctx.signal);
          if (load.failed)
            ctx.log(`${client.name} ${scenario.label}: ${load.failed} failed: ${load.errors[0]}`);
          const lat = summarize(load.latencies);
          pushTo(byClient, client.name, {
            medianMs: lat.median,
            p95Ms: lat.p95,
            rps: (load.ok / load.wallMs) * 1000,
            mibps: (load.bytes / MiB / load.wallMs) * 1000,
            failed: load.failed,
          });
        }
      }
      ctx.log(`${scenario.label}: done`);
    }

    const rows: Cell[][] = [];
    const targets: Target[] = [];
    const data: Record<string, unknown> = {};
    for (const scenario of scenarios) {
      const byClient = perRun[scenario.label]!;
      const got = byClient.got ?? [];
      const scenarioData: Record<string, unknown> = {};
      data[scenario.label] = scenarioData;
      for (const client of clients) {
        const runsOf = byClient[client.name] ?? [];
        const latRatios = runsOf.map((r, i) => ratio(r.medianMs, got[i]?.medianMs ?? Number.NaN));
        const tputRatios = runsOf.map((r, i) => ratio(r.rps, got[i]?.rps ?? Number.NaN));
        const lr = summarize(latRatios);
        const tr = summarize(tputRatios);
        const med = (pick: (r: RunFigures) => number) => summarize(runsOf.map(pick)).median;
        const failed = runsOf.reduce((a, r) => a + r.failed, 0);
        rows.push([
          scenario.label,
          client.name,
          med((r) => r.medianMs),
          med((r) => r.p95Ms),
          med((r) => r.rps),
          med((r) => r.mibps),
          client.name === 'got' ? '1 (base)' : `${fmtRatio(lr.median)} / ${fmtRatio(lr.p95)}`,
          client.name === 'got' ? '1 (base)' : `${fmtRatio(tr.median)} / ${fmtRatio(tr.p5)}`,
          failed,
        ]);
        scenarioData[client.name] = {
          runs: runsOf,
          latencyRatio: { median: num(lr.median), p95: num(lr.p95), min: num(lr.min), max: num(lr.max) },
          throughputRatio: {
            median: num(tr.median),
            p5: num(tr.p5),
            p95: num(tr.p95),
            min: num(tr.min),
            max: num(tr.max),
          },
        };
        if (client.name === 'detour') {
          targets.push(
            {
              name: `${scenario.label}: Detour latency ÷ got (median of runs)`,
              target: '≤ 1.10',
              value: num(lr.median),
              met: Number.isFinite(lr.median) ? lr.median <= 1.1 : null,
            },
            {
              name: `${scenario.label}: Detour throughput ÷ got (median of runs)`,
              target: '≥ 0.90',
              value: num(tr.median),
              met: Number.isFinite(tr.median) ? tr.median >= 0.9 : null,
            },
          );
        }
      }
    }
    const socketsOpen = pipeline.openSockets();
    await pipeline.close();
    notes.push(
      `Detour pipeline sockets: ${socketsOpen} open before close(), ${pipeline.openSockets()} after.`,
      `Both Detour rows run with concurrency { global: ${limits.concurrency.global}, perHost: ${c} } (default perHost is 8, which would queue ${c} in-flight fetches to one host). Every request has its own URL (\`&n=<i>\`), so the cache never answers: the \`detour\` row pays the cache's store on every miss.`,
      'latency × got: median / p95 over runs of (client median latency ÷ got median latency in the same run); throughput × got: median / p5 (the slow end) over runs of (client req/s ÷ got req/s).',
    );
    return {
      tables: [
        {
          caption: `${runs} runs; origin: lab HTTPS (TLS 1.3, EC P-256) in a separate process on 127.0.0.1; bodies buffered in memory; curl = one process per file.`,
          columns: [
            'scenario',
            'client',
            'median ms',
            'p95 ms',
            'req/s',
            'MiB/s',
            'latency × got (med / p95)',
            'throughput × got (med / p5)',
            'failed',
          ],
          rows,
        },
      ],
      targets,
      notes,
      data,
    };
  },
};

function fmtRatio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '–';
}
