/**
 * A quick same-run comparison for iterating on the happy path (figure 1's 10 KiB rows, fewer
 * requests): got, Detour with the cache, Detour without, taking turns; prints median ratios.
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/profile/ab.ts [rounds]
 * AB_BASE=<another checkout of the repo> adds that tree's Detour (e.g. main) to the same run.
 */
import type { Client } from '../lib/clients.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { summarize } from '../stats.js';
import { baseClients, checkoutClients, kitClient, transportClient } from './clients.js';

const rounds = Number(process.argv[2] ?? 5);
const lab = await startLabProcess({ origin: { kind: 'https' } });
const origin = lab.servers.origin!;
const clients: Client[] = await baseClients(lab.caPem);
if (process.env.AB_TRANSPORT) {
  // Detour's transport alone, and under the kit (strictAttempt: redirects, retries): no pipeline.
  clients.push(kitClient(lab.caPem), transportClient(lab.caPem));
}
if (process.env.AB_BASE) clients.push(...(await checkoutClients(lab.caPem, process.env.AB_BASE)));
const push = (into: Record<string, number[]>, name: string, value: number) => {
  into[name] = [...(into[name] ?? []), value];
};
let serial = 0;
const url = () => `${origin.ipUrl}/big?bytes=10240&n=${serial++}`;
const seq: Record<string, number[]> = {};
const conc: Record<string, number[]> = {};
/** CPU time of this process per request (µs), less sensitive to a loaded machine than latency. */
const cpu: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  const order = clients.map((_, i) => clients[(i + r) % clients.length]!);
  const lat: Record<string, number> = {};
  const rps: Record<string, number> = {};
  for (const client of order) {
    await runLoad(100, 1, () => client.get(url()));
    const s = await runLoad(300, 1, () => client.get(url()));
    lat[client.name] = summarize(s.latencies).median;
    await runLoad(128, 64, () => client.get(url()));
    const before = process.cpuUsage();
    const c = await runLoad(1280, 64, () => client.get(url()));
    const used = process.cpuUsage(before);
    push(cpu, client.name, (used.user + used.system) / 1280);
    rps[client.name] = (c.ok / c.wallMs) * 1000;
  }
  for (const client of clients) {
    push(seq, client.name, lat[client.name]! / lat.got!);
    push(conc, client.name, rps[client.name]! / rps.got!);
  }
  console.error(`round ${r + 1}: got ${lat.got!.toFixed(3)} ms, ${Math.round(rps.got!)} req/s`);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const client of clients.slice(1)) {
  console.log(
    `${client.name.padEnd(15)} seq latency × got ${med(seq[client.name]!).toFixed(2)}   64-in-flight throughput × got ${med(conc[client.name]!).toFixed(2)}   CPU µs/request ${med(cpu[client.name]!).toFixed(0)} (got ${med(cpu.got!).toFixed(0)})`,
  );
}
for (const client of clients) await client.close();
await lab.close();
