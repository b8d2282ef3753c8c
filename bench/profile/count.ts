/**
 * Objects a client creates per fetch (promises, timers, AbortControllers' signals, listeners...),
 * counted with async_hooks: what a fetch costs besides CPU in its own functions.
 *   node bench/profile/bundle.mjs count.ts [n]
 */
import { createHook } from 'node:async_hooks';
import { gotClient } from '../lib/clients.js';
import { detourClient, labPipeline } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { PROFILE_LIMITS, transportClient } from './clients.js';

const n = Number(process.argv[2] ?? 500);
const lab = await startLabProcess({ origin: { kind: 'https' } });
const counts = new Map<string, number>();
let on = false;
createHook({
  init(_id, type) {
    if (on) counts.set(type, (counts.get(type) ?? 0) + 1);
  },
}).enable();
let serial = 0;
const url = () => `${lab.servers.origin!.ipUrl}/big?bytes=10240&n=${serial++}`;
for (const client of [
  gotClient(lab.caPem),
  transportClient(lab.caPem),
  detourClient(await labPipeline(lab.caPem, { ...PROFILE_LIMITS, cache: false }), 'detour-nocache'),
  detourClient(await labPipeline(lab.caPem, PROFILE_LIMITS), 'detour'),
]) {
  await runLoad(50, 1, () => client.get(url()));
  counts.clear();
  on = true;
  await runLoad(n, 1, () => client.get(url()));
  on = false;
  console.log(
    client.name.padEnd(15),
    [...counts].map(([type, count]) => `${type} ${(count / n).toFixed(1)}`).join('  '),
  );
  await client.close();
}
await lab.close();
