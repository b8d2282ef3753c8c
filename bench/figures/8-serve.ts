/**
 * Figure 8: `detour serve` over loopback HTTP vs the same pipeline in process. The origin runs in
 * its own process, the service in another (tsx, source packages), the load here: an undici pool
 * (keep-alive) calling `GET /v1/fetch` vs `pipeline.fetch` of a pipeline built the same way
 * (`createDetour`, cache off, loopback allowed). Then the Python client (clients/python, httpx)
 * against the same service, to show what the client itself costs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Pipeline } from '@detour/core';
import { Pool } from 'undici';
import { KiB, MiB } from '../lib/config.js';
import { REPO_ROOT, spawnTsx, startLabProcess, stopChild } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { collectGarbage } from '../lib/proc.js';
import { type Cell, type Figure, NotAvailable, type Target } from '../lib/types.js';
import { quantile, ratio, summarize } from '../stats.js';

const PYTHON = '/usr/bin/python3';

async function startService(ctx: Parameters<Figure['run']>[0]): Promise<string> {
  const child = spawnTsx('bench/children/serve-child.ts');
  ctx.defer(() => stopChild(child, () => child.send({ close: true })));
  return new Promise((resolve, reject) => {
    child.once('message', (message: { url?: string }) =>
      message.url ? resolve(message.url) : reject(new Error('no url')),
    );
    child.once('exit', (code) =>
      reject(new NotAvailable(`detour serve exited with ${code} before listening`)),
    );
  });
}

function python(args: string[]): Promise<{ latencies: number[]; wallMs: number; failed: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [`${REPO_ROOT}bench/children/python-client.py`, ...args],
      { env: { ...process.env, PYTHONPATH: `${REPO_ROOT}clients/python` }, maxBuffer: 64 * MiB },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`python client: ${stderr.split('\n').slice(-3).join(' ')}`));
        else resolve(JSON.parse(stdout));
      },
    );
  });
}

export const figure: Figure = {
  id: 8,
  key: 'serve',
  title: 'detour serve over loopback HTTP vs in-process pipeline.fetch',
  async run(ctx) {
    const quick = ctx.config.quick;
    const runs = quick ? 1 : ctx.config.runs;
    const lab = await startLabProcess({ origin: { kind: 'https' } });
    ctx.defer(() => lab.close());
    const base = await startService(ctx);
    ctx.log(`detour serve listening on ${base}`);
    const { createDetour } = await import('detour');
    const pipeline: Pipeline = await createDetour({
      allowPrivateNetwork: true,
      proxy: false,
      cache: false,
      logLevel: 'silent',
      env: process.env,
    });
    ctx.defer(() => pipeline.close());
    const pool = new Pool(base, { connections: 64, pipelining: 1 });
    ctx.defer(() => pool.close());
    const origin = lab.servers.origin!.ipUrl;

    const viaService = async (url: string): Promise<number> => {
      const { statusCode, body } = await pool.request({
        path: `/v1/fetch?url=${encodeURIComponent(url)}`,
        method: 'GET',
      });
      const bytes = (await body.arrayBuffer()).byteLength;
      if (statusCode !== 200) throw new Error(`HTTP ${statusCode}`);
      return bytes;
    };
    const inProcess = async (url: string): Promise<number> => (await pipeline.fetch(url)).bytes;

    const scenarios = [
      { label: '10 KiB, 1 in flight', size: 10 * KiB, inFlight: 1, total: quick ? 20 : 300 },
      { label: '10 KiB, 32 in flight', size: 10 * KiB, inFlight: 32, total: quick ? 64 : 1280 },
      { label: '1 MiB, 1 in flight', size: MiB, inFlight: 1, total: quick ? 4 : 50 },
      { label: '1 MiB, 32 in flight', size: MiB, inFlight: 32, total: quick ? 32 : 192 },
    ];
    const rows: Cell[][] = [];
    const targets: Target[] = [];
    const data: Record<string, unknown> = {};
    let serial = 0;
    for (const scenario of scenarios) {
      ctx.signal.throwIfAborted();
      const url = (i: number) => `${origin}/big?bytes=${scenario.size}&n=${serial}-${i}`;
      ctx.log(`${scenario.label}: warming up`);
      // Warm both paths (sockets, JIT).
      await runLoad(scenario.inFlight * 2, scenario.inFlight, (i) => viaService(url(-1 - i)));
      await runLoad(scenario.inFlight * 2, scenario.inFlight, (i) => inProcess(url(-1 - i)));
      const perRun: Record<
        'service' | 'in-process',
        { rps: number; p50: number; p99: number; failed: number }[]
      > = {
        service: [],
        'in-process': [],
      };
      const ratios: number[] = [];
      for (let run = 0; run < runs; run++) {
        const order = run % 2 ? (['in-process', 'service'] as const) : (['service', 'in-process'] as const);
        const rps: Record<string, number> = {};
        for (const path of order) {
          collectGarbage();
          serial++;
          const task = path === 'service' ? viaService : inProcess;
          const load = await runLoad(scenario.total, scenario.inFlight, (i) => task(url(i)), ctx.signal);
          const sorted = [...load.latencies].sort((a, b) => a - b);
          rps[path] = load.ok / (load.wallMs / 1000);
          perRun[path].push({
            rps: rps[path]!,
            p50: quantile(sorted, 0.5),
            p99: quantile(sorted, 0.99),
            failed: load.failed,
          });
        }
        ratios.push(ratio(rps.service!, rps['in-process']!));
      }
      ctx.log(`${scenario.label}: done (${summarize(ratios).median.toFixed(2)}× in-process)`);
      const r = summarize(ratios);
      for (const path of ['in-process', 'service'] as const) {
        const runsOf = perRun[path];
        rows.push([
          scenario.label,
          path === 'service' ? 'detour serve (HTTP, undici pool)' : 'pipeline.fetch (in process)',
          summarize(runsOf.map((x) => x.rps)).median,
          summarize(runsOf.map((x) => x.p50)).median,
          summarize(runsOf.map((x) => x.p99)).median,
          path === 'service'
            ? `${r.median.toFixed(2)} / ${quantile(
                [...ratios].sort((a, b) => a - b),
                0.05,
              ).toFixed(2)}`
            : '1 (base)',
          runsOf.reduce((a, x) => a + x.failed, 0),
        ]);
      }
      if (scenario.label === '10 KiB, 32 in flight') {
        targets.push({
          name: 'detour serve, 10 KiB, 32 in flight: throughput ÷ in-process',
          target: '≥ 0.70',
          value: r.median,
          met: r.median >= 0.7,
        });
      }
      data[scenario.label] = { perRun, ratios };
    }

    // The Python client against the same service (httpx from Debian's python3-httpx).
    let pythonNote = 'Python client: not measured (no /usr/bin/python3 with httpx).';
    if (existsSync(PYTHON)) {
      try {
        for (const scenario of [
          { label: '10 KiB, 1 in flight', inFlight: 1, total: quick ? 20 : 300 },
          { label: '10 KiB, 32 in flight', inFlight: 32, total: quick ? 64 : 1280 },
        ]) {
          ctx.log(`Python client, ${scenario.label}`);
          const url = `${origin}/big?bytes=${10 * KiB}&n=py-${serial++}`;
          await python([base, url, String(scenario.inFlight * 2), String(scenario.inFlight)]);
          const results = [];
          for (let run = 0; run < Math.min(runs, 3); run++) {
            results.push(
              await python([base, `${url}-${run}`, String(scenario.total), String(scenario.inFlight)]),
            );
          }
          const rps = summarize(results.map((x) => x.latencies.length / (x.wallMs / 1000))).median;
          const p50 = summarize(
            results.map((x) =>
              quantile(
                [...x.latencies].sort((a, b) => a - b),
                0.5,
              ),
            ),
          ).median;
          const p99 = summarize(
            results.map((x) =>
              quantile(
                [...x.latencies].sort((a, b) => a - b),
                0.99,
              ),
            ),
          ).median;
          const node = rows.find(
            (row) => row[0] === scenario.label && String(row[1]).startsWith('detour serve'),
          );
          rows.push([
            scenario.label,
            `Python client (${scenario.inFlight > 1 ? 'AsyncDetour' : 'Detour'}, httpx)`,
            rps,
            p50,
            p99,
            node ? `${(rps / Number(node[2])).toFixed(2)} × serve via undici` : '–',
            results.reduce((a, x) => a + x.failed, 0),
          ]);
        }
        pythonNote =
          'Python client rows: its ratio column is its throughput ÷ the undici rows against the same service; the difference is what httpx and the client cost per call (each call also hashes the body).';
      } catch (error) {
        pythonNote = `Python client: not measured (${(error as Error).message}).`;
      }
    }

    return {
      tables: [
        {
          caption: `${runs} runs per scenario; origin: lab HTTPS in its own process; \`detour serve\` in its own process (cache off, like the in-process pipeline); every request has its own URL. Ratio: median / p5 over runs of (service req/s ÷ in-process req/s in the same run).`,
          columns: [
            'scenario',
            'path',
            'req/s',
            'p50 ms',
            'p99 ms',
            'throughput ÷ in-process (med / p5)',
            'failed',
          ],
          rows,
        },
      ],
      targets,
      notes: [
        pythonNote,
        'The machine is shared (2 cores, other engineers building and testing at the same time): absolute figures move between runs; the same-run ratios are what to read.',
        'The service path pays an extra loopback HTTP hop and a second process competing for the same 2 cores as the origin and the load generator.',
      ],
      data,
    };
  },
};
