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
import { BARE, PROFILE_LIMITS, SERVICES_OFF, transportClient } from './clients.js';

const runs = Number(process.argv[2] ?? 9);
const c = Number(process.argv[3] ?? 64);
const total = c === 1 ? 300 : 1280;
const lab = await startLabProcess({ origin: { kind: 'https' } });
const limits = PROFILE_LIMITS;
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
        ['no cache, circuit, memory', { ...limits, ...SERVICES_OFF }],
        ['bare (nor limiter)', BARE],
      ] as Array<[string, PipelineOptions]>)
    : []),
];
const clients: Client[] = [gotClient(lab.caPem)];
for (const [name, options] of variants)
  clients.push(detourClient(await labPipeline(lab.caPem, options), name));
// UNDICI=1: undici takes its turn too, as in figure 1 (the client after it pays for what it leaves).
if (process.env.UNDICI) clients.push(undiciClient(lab.caPem));
// Detour's transport alone (no pipeline): got over the agent pool, the body read under its rules.
if (process.env.TRANSPORT) clients.push(transportClient(lab.caPem, 'transport alone'));
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
