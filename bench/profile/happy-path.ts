/**
 * A profiling harness for the happy path (not part of `pnpm bench`): N sequential (or C in flight)
 * 10 KiB fetches through one pipeline against a lab HTTPS origin in its own process. Run with
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile/happy-path.ts [client] [n] [c]
 * (TSX_TSCONFIG_PATH=bench/tsconfig.json, NODE_EXTRA_CA_CERTS unset: the `ca` option is used).
 * client: a name `labAndClient()` (clients.ts) knows, e.g. detour, detour-bare, transport, kit, got;
 * ORIGINS=100 spreads the fetches round-robin over that many origins (figure 5's shape; with c=256
 * set DETOUR_GLOBAL=256). Prints req/s and this process's CPU per fetch.
 */
import { runLoad } from '../lib/load.js';
import { labAndClient } from './clients.js';

const [which = 'detour', n = '2000', c = '1', bytes = '10240'] = process.argv.slice(2);
const { lab, origins, client } = await labAndClient(which);
let serial = 0;
const url = () => {
  const n = serial++;
  return `${origins[n % origins.length]}/big?bytes=${bytes}&n=${n}`;
};
await runLoad(200, Number(c), () => client.get(url()));
const cpuStart = process.cpuUsage();
const started = performance.now();
const load = await runLoad(Number(n), Number(c), () => client.get(url()));
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
console.log(
  JSON.stringify({
    client: which,
    n: Number(n),
    c: Number(c),
    ms: Math.round(ms),
    rps: Math.round((Number(n) / ms) * 1000),
    failed: (load as { failed?: number }).failed,
    // this process's CPU (user + system) per fetch, µs: steadier than req/s on a shared VM
    cpu: Math.round((cpu.user + cpu.system) / Number(n)),
  }),
);
await client.close();
await lab.close();
