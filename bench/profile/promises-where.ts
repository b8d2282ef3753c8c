/**
 * Where a sequential Detour fetch creates its promises: the first two Detour frames of each
 * promise's creation stack, counted per fetch. An async_hooks promise hook is on, so V8 makes a
 * promise for every `await` as well (one it skips otherwise): read the list as "where the hops are".
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/profile/promises-where.ts [n] [cache|nocache|bare]
 */
import { createHook } from 'node:async_hooks';
import type { PipelineOptions } from '@detour/core';
import { detourClient, labPipeline } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { BARE, PROFILE_LIMITS } from './clients.js';

const n = Number(process.argv[2] ?? 100);
const which = process.argv[3] ?? 'nocache';
const lab = await startLabProcess({ origin: { kind: 'https' } });
const counts = new Map<string, number>();
let on = false;
Error.stackTraceLimit = 30;
createHook({
  init(_id, type) {
    if (!on || type !== 'PROMISE') return;
    on = false;
    const frames = (new Error().stack ?? '').split('\n').slice(2);
    on = true;
    const own = frames.filter((f) => f.includes('/packages/'));
    const key = own.length
      ? own
          .slice(0, 2)
          .map((f) =>
            f
              .trim()
              .replace(/\(.*packages\//, '(')
              .replace(/^at /, ''),
          )
          .join(' < ')
      : `(outside) ${frames[0]?.trim()}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  },
}).enable();
let serial = 0;
const url = () => `${lab.servers.origin!.ipUrl}/big?bytes=10240&n=${serial++}`;
const options: PipelineOptions =
  which === 'bare' ? BARE : which === 'cache' ? PROFILE_LIMITS : { ...PROFILE_LIMITS, cache: false as const };
const client = detourClient(await labPipeline(lab.caPem, options), which);
await runLoad(50, 1, () => client.get(url()));
on = true;
await runLoad(n, 1, () => client.get(url()));
on = false;
let total = 0;
for (const [, c] of counts) total += c;
console.log(`${which}: ${(total / n).toFixed(1)} promises per fetch`);
for (const [k, c] of [...counts].sort((a, b) => b[1] - a[1]))
  console.log(`${(c / n).toFixed(1).padStart(5)}  ${k}`);
await client.close();
await lab.close();
