/**
 * A profiling harness for the happy path (not part of `pnpm bench`): N sequential (or C in flight)
 * 10 KiB fetches through one pipeline against a lab HTTPS origin in its own process. Run with
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile/happy-path.ts [client] [n] [c]
 * (TSX_TSCONFIG_PATH=bench/tsconfig.json, NODE_EXTRA_CA_CERTS unset: the `ca` option is used).
 * client: detour | detour-nocache | detour-bare (no cache, circuit, route memory, limits) |
 * detour-system-trust (no `ca` option; set NODE_EXTRA_CA_CERTS to the lab CA's file) | transport
 * (Detour's transport alone, the body read under its rules) | kit (the transport under the kit's
 * strictAttempt) | got | undici. ORIGINS=100 spreads the fetches round-robin over that many origins
 * (figure 5's shape; with c=256 set DETOUR_GLOBAL=256). Prints req/s and this process's CPU per fetch.
 */
import { gotClient, undiciClient } from '../lib/clients.js';
import { detourClient, labPipeline } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { BARE, kitClient, transportClient } from './clients.js';

const [which = 'detour', n = '2000', c = '1', bytes = '10240'] = process.argv.slice(2);
const originCount = Number(process.env.ORIGINS ?? 1);
const lab = await startLabProcess(
  Object.fromEntries(Array.from({ length: originCount }, (_, i) => [`o${i}`, { kind: 'https' as const }])),
);
const origins = Object.values(lab.servers).map((server) => server.ipUrl);
const global = Number(process.env.DETOUR_GLOBAL ?? 64);
const limits = originCount > 1 ? { concurrency: { global } } : { concurrency: { global, perHost: global } };
const client =
  which === 'got'
    ? gotClient(lab.caPem)
    : which === 'undici'
      ? undiciClient(lab.caPem)
      : which === 'transport'
        ? transportClient(lab.caPem)
        : which === 'kit'
          ? kitClient(lab.caPem)
          : detourClient(
              await labPipeline(
                lab.caPem,
                which === 'detour-nocache'
                  ? { ...limits, cache: false }
                  : which === 'detour-bare'
                    ? BARE
                    : which === 'detour-system-trust'
                      ? { ...limits, ca: undefined } // with NODE_EXTRA_CA_CERTS = the lab CA's file
                      : limits,
              ),
              which,
            );
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
