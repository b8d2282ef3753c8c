/**
 * Figure 1's 10 KiB rows alone, as its child runs them (clients in one process, a forced GC before
 * each measured load, rotating order, got as the base of each run), with more runs and any
 * pipeline variants: a quicker way to see what moves those two rows.
 *   node bench/profile/bundle.mjs fig1-small.ts [runs] [concurrency]   (BUNDLE_NODE_FLAGS=--expose-gc)
 */
import type { PipelineOptions } from '@detour/core';
import { type Client, gotClient, undiciClient } from '../lib/clients.js';
import { detourClient, labPipeline } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { collectGarbage } from '../lib/proc.js';
import { summarize } from '../stats.js';

const runs = Number(process.argv[2] ?? 9);
const c = Number(process.argv[3] ?? 64);
const total = c === 1 ? 300 : 1280;
const lab = await startLabProcess({ origin: { kind: 'https' } });
const limits = { concurrency: { global: 64, perHost: 64 } };
const variants: Array<[string, PipelineOptions]> = [
  ['detour', limits],
  ['detour, no cache', { ...limits, cache: false }],
  ...(process.env.VARIANTS
    ? ([
        ['no memory tier', { ...limits, cache: { memory: false } }],
        ['tier of 2', { ...limits, cache: { memory: { maxEntries: 2 } } }],
      ] as Array<[string, PipelineOptions]>)
    : []),
  ...(process.env.BARE
    ? ([
        ['no cache, circuit, memory', { ...limits, cache: false, circuit: false, routeMemory: false }],
        [
          'bare (nor limiter)',
          {
            cache: false,
            circuit: false,
            routeMemory: false,
            concurrency: { global: Number.POSITIVE_INFINITY, perHost: Number.POSITIVE_INFINITY },
          },
        ],
      ] as Array<[string, PipelineOptions]>)
    : []),
];
const clients: Client[] = [gotClient(lab.caPem)];
for (const [name, options] of variants)
  clients.push(detourClient(await labPipeline(lab.caPem, options), name));
if (process.env.TRANSPORT) {
  // Detour's transport alone (no pipeline): got over the agent pool, the body read under its rules.
  const { Transport } = await import('../../packages/core/src/transport/transport.js');
  const { BodyCheck } = await import('../../packages/core/src/body.js');
  const { readBody } = await import('../../packages/core/src/read-body.js');
  const { rootCertificates } = await import('node:tls');
  const transport = new Transport({});
  const tls = { rejectUnauthorized: true, ca: [...rootCertificates, lab.caPem] };
  clients.push({
    name: 'transport alone',
    async get(u: string) {
      const signal = new AbortController().signal;
      const res = await transport.request(
        {
          url: new URL(u),
          headers: { 'user-agent': 'detour/0.1', 'accept-encoding': 'gzip, deflate, br' },
          route: { kind: 'direct' },
          tls,
          allowPrivateNetwork: true,
        } as never,
        signal,
      );
      const check = new BodyCheck({ maxBytes: 1e9, expect: 'any' }, null);
      const body = await readBody(res.body, check, signal);
      return body.length + check.sha256.length * 0;
    },
    async close() {
      transport.close();
    },
  });
}
let serial = 0;
const url = () => `${lab.servers.origin!.ipUrl}/big?bytes=10240&n=${serial++}`;
const lat: Record<string, number[]> = Object.fromEntries(clients.map((x) => [x.name, []]));
const rps: Record<string, number[]> = Object.fromEntries(clients.map((x) => [x.name, []]));
for (let run = 0; run < runs; run++) {
  const order = clients.map((_, i) => clients[(i + run) % clients.length]!);
  const byRun: Record<string, [number, number]> = {};
  for (const client of order) {
    await runLoad(Math.max(64, c), c, () => client.get(url()));
    collectGarbage();
    const load = await runLoad(total, c, () => client.get(url()));
    byRun[client.name] = [summarize(load.latencies).median, (load.ok / load.wallMs) * 1000];
  }
  for (const client of clients) {
    lat[client.name]!.push(byRun[client.name]![0] / byRun.got![0]);
    rps[client.name]!.push(byRun[client.name]![1] / byRun.got![1]);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const client of clients.slice(1))
  console.log(
    `${client.name.padEnd(18)} latency × got ${med(lat[client.name]!).toFixed(2)}   throughput × got ${med(rps[client.name]!).toFixed(2)}   (${c} in flight, ${runs} runs)`,
  );
for (const client of clients) await client.close();
await lab.close();
