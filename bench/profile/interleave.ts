/**
 * Sequential latency with the clients interleaved request by request (got, Detour's transport
 * alone, pipeline variants), so that every client sees the same machine at the same moment:
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/profile/interleave.ts [n]
 */
import type { Client } from '../lib/clients.js';
import { detourClient, labPipeline } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { baseClients, checkoutClients, PROFILE_LIMITS } from './clients.js';

const n = Number(process.argv[2] ?? 2000);
const lab = await startLabProcess({ origin: { kind: 'https' } });
const origin = lab.servers.origin!;
const limits = PROFILE_LIMITS;
const clients: Client[] = await baseClients(lab.caPem);
if (process.env.VARIANTS) {
  // What the cache costs, part by part: its layer without a tier, and a memory tier of two entries.
  clients.push(
    detourClient(await labPipeline(lab.caPem, { ...limits, cache: { memory: false } }), 'no-tier'),
  );
  for (const maxEntries of (process.env.VARIANTS === '1' ? '2' : process.env.VARIANTS).split(',').map(Number))
    clients.push(
      detourClient(
        await labPipeline(lab.caPem, { ...limits, cache: { memory: { maxEntries } } }),
        `tier-of-${maxEntries}`,
      ),
    );
}
if (process.env.AB_BASE) clients.push(...(await checkoutClients(lab.caPem, process.env.AB_BASE)));
let serial = 0;
const url = () => `${origin.ipUrl}/big?bytes=10240&n=${serial++}`;
const times: Record<string, number[]> = Object.fromEntries(clients.map((c) => [c.name, []]));
for (let i = 0; i < n + 200; i++) {
  // A new order each time: a request pays for what the one before it left behind (got settles
  // before its socket is back in the pool), so no client may always follow the same one.
  const order = clients.map((c) => [Math.random(), c] as const).sort((a, b) => a[0] - b[0]);
  for (const [, client] of order) {
    const started = performance.now();
    await client.get(url());
    if (i >= 200) times[client.name]!.push((performance.now() - started) * 1000);
  }
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;
const gotMedian = pct(times.got!, 0.5);
for (const client of clients) {
  const t = times[client.name]!;
  console.log(
    `${client.name.padEnd(16)} median ${pct(t, 0.5).toFixed(0).padStart(5)} µs  p25 ${pct(t, 0.25).toFixed(0).padStart(5)}  p75 ${pct(t, 0.75).toFixed(0).padStart(5)}  × got ${(pct(t, 0.5) / gotMedian).toFixed(2)}`,
  );
}
for (const client of clients) await client.close();
await lab.close();
