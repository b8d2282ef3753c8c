/**
 * Where a client's sequential latency goes: wall time, this process's CPU and GC pause per fetch,
 * the clients interleaved in blocks (random order each round).
 *   BUNDLE_NODE_FLAGS=--expose-gc node bench/profile/bundle.mjs split.ts [rounds] [per block] [c]
 * MORE=1 adds Detour without its memory tier and Detour bare (no cache, circuit, memory, limits).
 * CPU ≈ wall here means the client, not the network, sets the pace.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { gotClient } from '../lib/clients.js';
import { detourClient, labPipeline } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { collectGarbage } from '../lib/proc.js';
import { summarize } from '../stats.js';
import { BARE, PROFILE_LIMITS, transportClient } from './clients.js';

const rounds = Number(process.argv[2] ?? 10);
const block = Number(process.argv[3] ?? 300);
const c = Number(process.argv[4] ?? 1);
// ORIGINS=100 (with c=256): figure 5's shape, the fetches round-robin over that many origins.
const originCount = Number(process.env.ORIGINS ?? 1);
const lab = await startLabProcess(
  Object.fromEntries(Array.from({ length: originCount }, (_, i) => [`o${i}`, { kind: 'https' as const }])),
);
const origins = Object.values(lab.servers).map((server) => server.ipUrl);
const LIMITS = originCount > 1 ? { concurrency: { global: c } } : PROFILE_LIMITS;
const clients = [
  gotClient(lab.caPem),
  transportClient(lab.caPem, 'transport'),
  detourClient(await labPipeline(lab.caPem, LIMITS), 'detour'),
  detourClient(await labPipeline(lab.caPem, { ...LIMITS, cache: false }), 'detour-nocache'),
  ...(process.env.MORE
    ? [
        detourClient(await labPipeline(lab.caPem, { ...LIMITS, cache: { memory: false } }), 'detour-notier'),
        detourClient(await labPipeline(lab.caPem, BARE), 'detour-bare'),
      ]
    : []),
];
let gcMs = 0;
let majorGcs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    // NODE_PERFORMANCE_GC_MAJOR = 4 (mark-sweep-compact)
    if ((entry as { detail?: { kind?: number } }).detail?.kind === 4) majorGcs++;
  }
}).observe({ entryTypes: ['gc'] });
let serial = 0;
const url = () => {
  const n = serial++;
  return `${origins[n % origins.length]}/big?bytes=10240&n=${n}`;
};
const acc: Record<
  string,
  { med: number[]; cpus: number[]; wall: number; cpu: number; gc: number; major: number; n: number }
> = {};
for (const client of clients)
  acc[client.name] = { med: [], cpus: [], wall: 0, cpu: 0, gc: 0, major: 0, n: 0 };
for (let round = 0; round < rounds; round++) {
  const order = [...clients].sort(() => Math.random() - 0.5);
  for (const client of order) {
    await runLoad(50, c, () => client.get(url()));
    collectGarbage();
    await new Promise((r) => setTimeout(r, 20));
    gcMs = 0;
    majorGcs = 0;
    const cpu = process.cpuUsage();
    const load = await runLoad(block, c, () => client.get(url()));
    const used = process.cpuUsage(cpu);
    await new Promise((r) => setImmediate(r));
    const a = acc[client.name]!;
    a.med.push(summarize(load.latencies).median);
    a.wall += load.wallMs;
    a.cpu += (used.user + used.system) / 1000;
    a.cpus.push((used.user + used.system) / block);
    a.gc += gcMs;
    a.major += majorGcs;
    a.n += block;
  }
}
const base = acc.got!;
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
// Paired: each round's ratio to got's block in the same round, then the median over rounds.
const paired = (xs: number[], ys: number[]) => med(xs.map((x, i) => x / ys[i]!)).toFixed(2);
for (const [name, a] of Object.entries(acc))
  console.log(
    `${name.padEnd(15)} median ${(med(a.med) * 1000).toFixed(0).padStart(5)} µs (×${paired(a.med, base.med)})  wall/fetch ${((a.wall / a.n) * 1000).toFixed(0).padStart(5)} µs  cpu/fetch ${((a.cpu / a.n) * 1000).toFixed(0).padStart(5)} µs (×${paired(a.cpus, base.cpus)})  gc/fetch ${((a.gc / a.n) * 1000).toFixed(1).padStart(5)} µs, ${a.major} major`,
  );
for (const client of clients) await client.close();
await lab.close();
