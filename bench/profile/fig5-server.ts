/**
 * Figure 5's shape, seen from the origins: for each client, the origins' CPU per fetch and the TLS
 * handshakes (full and resumed) they served. Not part of `pnpm bench`:
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/profile/fig5-server.ts [runs]
 */
import type { TLSSocket } from 'node:tls';
import type { ScaleInput, ScaleOutput } from '../children/scale-child.js';
import { runMeasuredChild } from '../lib/measured-child.js';

const runs = Number(process.argv[2] ?? 2);
const lab = await import('../../packages/lab/src/index.js');
const ca = lab.labCerts().ca.cert;
let full = 0;
let resumed = 0;
const origins = await Promise.all(Array.from({ length: 100 }, () => lab.startHttpsOrigin()));
for (const origin of origins)
  origin.server.on('secureConnection', (t: TLSSocket) => (t.isSessionReused() ? resumed++ : full++));
const input = (mode: ScaleInput['mode']): ScaleInput => ({
  mode,
  origins: origins.map((o) => o.ipUrl),
  downloads: 10_000,
  inFlight: 256,
  bytes: 10_240,
  ca,
});
await runMeasuredChild<ScaleOutput>(
  'scale-child',
  { ...input('got'), downloads: 2000 },
  { timeoutMs: 180_000 },
);
for (let r = 0; r < runs; r++) {
  for (const mode of ['detour', 'got'] as const) {
    full = 0;
    resumed = 0;
    const cpu = process.cpuUsage();
    const { result } = await runMeasuredChild<ScaleOutput>('scale-child', input(mode), {
      timeoutMs: 180_000,
    });
    const used = process.cpuUsage(cpu);
    console.log(
      JSON.stringify({
        mode,
        rps: Math.round(result.rps),
        serverCpuPerFetch: Math.round((used.user + used.system) / result.ok),
        fullHandshakes: full,
        resumed,
        p99: Math.round(result.p99Ms),
      }),
    );
  }
}
await Promise.all(origins.map((o) => o.close()));
