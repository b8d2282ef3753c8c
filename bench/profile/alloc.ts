/**
 * Where a client's fetches allocate (collected garbage included): V8's sampling heap profiler
 * through the inspector, bytes per fetch by allocating function.
 *   node bench/profile/bundle.mjs alloc.ts [client] [n] [c]   (ORIGINS=100 DETOUR_GLOBAL=256: figure 5's shape)
 */
import { Session } from 'node:inspector/promises';
import { runLoad } from '../lib/load.js';
import { labAndClient } from './clients.js';

const [which = 'detour', n = '3000', c = '1'] = process.argv.slice(2);
const { lab, origins, client } = await labAndClient(which);
let serial = 0;
const url = () => `${origins[serial % origins.length]}/big?bytes=10240&n=${serial++}`;
await runLoad(500, Number(c), () => client.get(url()));
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 256,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as never);
await runLoad(Number(n), Number(c), () => client.get(url()));
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as {
  profile: { head: Node };
};
interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}
const bySelf = new Map<string, number>();
let total = 0;
const walk = (node: Node) => {
  const { functionName, url: file, lineNumber } = node.callFrame;
  const key = `${functionName || '(anon)'} ${file.replace(/.*\//, '')}:${lineNumber + 1}`;
  bySelf.set(key, (bySelf.get(key) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child);
};
walk(profile.head);
console.log(
  `${which}: ${(total / Number(n) / 1024).toFixed(1)} KiB allocated on the JS heap per fetch (sampled)`,
);
for (const [key, bytes] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 30)))
  console.log(`${(bytes / Number(n)).toFixed(0).padStart(7)} B  ${key}`);
session.disconnect();
await client.close();
await lab.close();
