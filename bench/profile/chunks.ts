/**
 * Figure 5's shape, with the clients taking turns in one process: each round runs K fetches per
 * client (C in flight, round-robin over ORIGINS lab origins), in a new shuffled order. The turns
 * are seconds apart instead of a whole process apart, so a slow minute of the VM lands on every
 * client alike; each client's figures are paired with got's in the same round.
 *   ORIGINS=100 node bench/profile/bundle.mjs chunks.ts [rounds] [k] [c] [client,client,...]
 * Clients as `labAndClient()` names them (clients.ts); got is always one of them. Prints, per
 * client: CPU µs per fetch and req/s (median over rounds), and the median and quartiles of its
 * ratio to got in the same round. On the 2-core VM a turn's ratio still moves by ±30%: the noise
 * is faster than a turn (D38). A client waits through the others' turns with its connections
 * pooled, past the origins' 5 s keep-alive: raw got loses some requests to the keep-alive race
 * there (printed as failures); Detour's transport sends them again (it lost ~1% before D38).
 */
import { runLoad } from '../lib/load.js';
import { pushTo, quantile, summarize } from '../stats.js';
import { labAndClient, makeClient } from './clients.js';

const [rounds = '12', k = '2000', c = '256', names = 'detour'] = process.argv.slice(2);
const { lab, origins, client: got } = await labAndClient('got');
const clients = [got];
for (const name of names.split(',').filter((n) => n !== 'got')) clients.push(await makeClient(lab, name));
let serial = 0;
const url = () => `${origins[serial % origins.length]}/big?bytes=10240&n=${serial++}`;
for (const client of clients) await runLoad(500, Number(c), () => client.get(url()));
const cpu: Record<string, number[]> = {};
const rps: Record<string, number[]> = {};
for (let round = 0; round < Number(rounds); round++) {
  const order = clients.map((cl) => [Math.random(), cl] as const).sort((a, b) => a[0] - b[0]);
  for (const [, client] of order) {
    const cpuStart = process.cpuUsage();
    const load = await runLoad(Number(k), Number(c), () => client.get(url()));
    const used = process.cpuUsage(cpuStart);
    if (load.failed) console.error(`${client.name}: ${load.failed} failed: ${load.errors.join(' | ')}`);
    pushTo(cpu, client.name, (used.user + used.system) / Number(k));
    pushTo(rps, client.name, (Number(k) / load.wallMs) * 1000);
  }
}
const f = (v: number, d = 2) => v.toFixed(d);
const spread = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: summarize(values).median, p25: quantile(sorted, 0.25), p75: quantile(sorted, 0.75) };
};
for (const client of clients) {
  const name = client.name;
  const cpuR = spread(cpu[name]!.map((v, i) => v / cpu.got![i]!));
  const rpsR = spread(rps[name]!.map((v, i) => v / rps.got![i]!));
  console.log(
    `${name.padEnd(22)} cpu ${f(summarize(cpu[name]!).median, 0).padStart(5)} µs/fetch (× got ${f(cpuR.median)}, ${f(cpuR.p25)}–${f(cpuR.p75)})  ` +
      `req/s ${f(summarize(rps[name]!).median, 0).padStart(5)} (× got ${f(rpsR.median)}, ${f(rpsR.p25)}–${f(rpsR.p75)})`,
  );
}
for (const client of clients) await client.close();
await lab.close();
