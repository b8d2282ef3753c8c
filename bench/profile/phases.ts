/**
 * Where a sequential fetch's latency goes, phase by phase: from the call to the transport's
 * request, to the response headers, to the body's end, to the caller's answer (medians, µs). The
 * clients take turns request by request, so a machine that speeds up or slows down meets all alike.
 *   node bench/profile/bundle.mjs phases.ts [n per client]   (SERVICES=1: each service alone)
 */
import type { PipelineOptions } from '@detour/core';
import { Transport } from '../../packages/core/src/transport/transport.js';
import { type Client, gotClient } from '../lib/clients.js';
import { detourClient, labPipeline, labTrust } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { BARE, PROFILE_LIMITS, SERVICES_OFF, transportClient } from './clients.js';

const n = Number(process.argv[2] ?? 2000);
const lab = await startLabProcess({ origin: { kind: 'https' } });
let t: { request?: number; response?: number; end?: number } = {};
const original = Transport.prototype.request;
Transport.prototype.request = async function (this: Transport, req, signal) {
  t.request = performance.now();
  const res = await original.call(this, req, signal);
  t.response = performance.now();
  res.body.once('end', () => {
    t.end = performance.now();
  });
  return res;
};
const variants: Array<[string, PipelineOptions]> = [
  ['detour', PROFILE_LIMITS],
  ['detour-nocache', { ...PROFILE_LIMITS, cache: false }],
  ['detour-bare', BARE],
  // NODE_EXTRA_CA_CERTS=<the lab CA's file> (labTrust checks it is that file, not the system
  // bundle some machines set): Detour trusting the lab CA through the default store.
  ...(labTrust(lab.caPem, lab.caPath).options.ca === undefined
    ? ([['detour, system trust', { ...PROFILE_LIMITS, ca: undefined }]] as Array<[string, PipelineOptions]>)
    : []),
  ...(process.env.SERVICES
    ? ([
        ['circuit only', { ...BARE, circuit: undefined }],
        ['route memory only', { ...BARE, routeMemory: undefined }],
        ['limiter only', { ...SERVICES_OFF, ...PROFILE_LIMITS }],
        ['cache only', { ...BARE, cache: undefined }],
      ] as Array<[string, PipelineOptions]>)
    : []),
];
const clients: Client[] = [gotClient(lab.caPem), transportClient(lab.caPem)];
for (const [name, options] of variants)
  clients.push(detourClient(await labPipeline(lab.caPem, options), name));
let serial = 0;
const url = () => `${lab.servers.origin!.ipUrl}/big?bytes=10240&n=${serial++}`;
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = new Map<Client, number[][]>(clients.map((c) => [c, []]));
for (let i = 0; i < n + 200; i++) {
  for (const client of clients) {
    t = {};
    const started = performance.now();
    await client.get(url());
    const done = performance.now();
    // got is timed whole: the transport's phases are not its own.
    if (client.name === 'got') t = { request: started, response: started, end: started };
    if (i >= 200)
      rows
        .get(client)!
        .push([
          t.request! - started,
          t.response! - t.request!,
          t.end! - t.response!,
          done - t.end!,
          done - started,
        ]);
  }
}
const gotTotal = med(rows.get(clients[0]!)!.map((x) => x[4]!));
for (const client of clients) {
  const r = rows.get(client)!;
  const cols = [0, 1, 2, 3, 4].map((k) => (med(r.map((x) => x[k]!)) * 1000).toFixed(0).padStart(5));
  console.log(
    `${client.name.padEnd(18)} to request ${cols[0]}  to headers ${cols[1]}  body ${cols[2]}  to answer ${cols[3]}  total ${cols[4]} µs (× got ${(med(r.map((x) => x[4]!)) / gotTotal).toFixed(2)})`,
  );
  await client.close();
}
await lab.close();
