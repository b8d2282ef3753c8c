/**
 * `pnpm soak`: minutes of mixed good and faulty downloads through ONE pipeline, against the lab
 * (a broken accelerator proxy in the way, resets mid-body, 404s, a silent TLS server, stalled
 * heads, dripping bodies, curl children, files written and removed). Every SOAK_SAMPLE_S seconds
 * it samples RSS, open descriptors (/proc/self/fd), sockets (pipeline.openSockets() and socket
 * fds in /proc) and child processes, prints a table, and exits 1 when the last samples grew past
 * the thresholds below compared with the first ones after warm-up. Not in CI.
 *
 * Then the hostile mix (soak-hostile.ts, issue 22): the built `detour serve` with Redis behind it
 * under flooders, hung hosts, Redis killed and restarted, and header-varying clients, its RSS,
 * descriptors and sockets sampled from /proc (needs `pnpm build`).
 *
 * SOAK_MINUTES (default 3, for each half), SOAK_SAMPLE_S (default 10), SOAK_MIX (`all`, default;
 * `pipeline`; `hostile`).
 */
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline } from '../packages/core/src/index.js';
import { CurlStrategy } from '../packages/curl/src/index.js';
import { startBrokenTlsServer, startLab } from '../packages/lab/src/index.js';
import { runHostileSoak } from './soak-hostile.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 3);
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_S ?? 10);
/** Allowed growth from the first samples (after warm-up) to the last ones. */
const LIMITS = { rssMiB: 40, fds: 16, sockets: 16, children: 0 };
const MIX = process.env.SOAK_MIX ?? 'all';
if (!['all', 'pipeline', 'hostile'].includes(MIX))
  throw new Error(`SOAK_MIX takes all, pipeline or hostile, got ${MIX}`);

if (MIX === 'hostile') {
  const lab = await startLab();
  const bad = await runHostileSoak(lab, MINUTES, SAMPLE_S);
  await lab.close();
  process.exit(bad ? 1 : 0);
}

interface Sample {
  s: number;
  fetches: number;
  ok: number;
  failed: number;
  rssMiB: number;
  heapMiB: number;
  fds: number;
  socketFds: number;
  openSockets: number;
  children: number;
}

function fdStats(): { fds: number; socketFds: number } {
  const fds = readdirSync('/proc/self/fd');
  let socketFds = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) socketFds++;
    } catch {
      // closed while we looked
    }
  }
  return { fds: fds.length, socketFds };
}

/** Live (non-zombie) processes whose parent is this process. */
function children(): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') n++;
    } catch {
      // exited
    }
  }
  return n;
}

const lab = await startLab();
const silent = await startBrokenTlsServer('silent');
const dir = await mkdtemp(join(tmpdir(), 'detour-soak-'));
const curl = new CurlStrategy({ tmpDir: dir });
const pipeline = createPipeline({
  allowPrivateNetwork: true,
  ca: lab.ca,
  use: [curl],
  proxy: lab.proxies.accelerator.url, // breaks TLS to the lab origin: direct-bypass rescues
  timeoutMs: 4000,
});
const baseline = { children: children() }; // the lab's own servers (tinyproxy, microsocks, …)

let n = 0;
let ok = 0;
let failed = 0;
const https = lab.https.url;
const jobs: Array<() => Promise<unknown>> = [
  () => pipeline.fetch(`${https}/image.png?n=${n}`),
  () =>
    pipeline.toFile(`${https}/image.png?f=${n}`, join(dir, `f${n % 8}.png`)).then(() => {
      rmSync(join(dir, `f${n % 8}.png`), { force: true });
    }),
  () => pipeline.fetch(`${https}/reset-mid-body?n=${n}`, { timeoutMs: 2000 }),
  () => pipeline.fetch(`${https}/status/404?n=${n}`),
  () => pipeline.fetch(`${silent.url}/x?n=${n}`, { timeoutMs: 400, strategies: ['direct'] }),
  () => pipeline.fetch(`${https}/stall-head?n=${n}`, { timeoutMs: 300, strategies: ['direct'] }),
  async () => {
    const s = await pipeline.stream(`${https}/slow-drip?ms=2&bytes=40&n=${n}`);
    for await (const _ of s.body);
  },
  () => pipeline.fetch(`${https}/image.png?c=${n}`, { strategies: ['curl'], noCache: true }),
  () => pipeline.fetch(`${lab.http.url}/image.png?n=${n}`, { noCache: true }),
];

const samples: Sample[] = [];
const started = Date.now();
const sample = () => {
  const { fds, socketFds } = fdStats();
  const m = process.memoryUsage();
  samples.push({
    s: Math.round((Date.now() - started) / 1000),
    fetches: n,
    ok,
    failed,
    rssMiB: Math.round((m.rss / 2 ** 20) * 10) / 10,
    heapMiB: Math.round((m.heapUsed / 2 ** 20) * 10) / 10,
    fds,
    socketFds,
    openSockets: pipeline.openSockets(),
    children: children() - baseline.children,
  });
  const last = samples.at(-1)!;
  console.log(
    Object.values(last)
      .map((v) => String(v).padStart(9))
      .join(' '),
  );
};
console.log(
  `soak: ${MINUTES} min, sample every ${SAMPLE_S} s, ${jobs.length} kinds of fetch, 8 in flight; node ${process.version}`,
);
console.log(
  ['s', 'fetches', 'ok', 'failed', 'rss MiB', 'heap MiB', 'fds', 'sock fds', 'pipe socks', 'children']
    .map((h) => h.padStart(9))
    .join(' '),
);
const timer = setInterval(sample, SAMPLE_S * 1000);
const until = started + MINUTES * 60_000;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (Date.now() < until) {
      const job = jobs[n++ % jobs.length]!;
      await job().then(
        () => ok++,
        () => failed++,
      );
    }
  }),
);
clearInterval(timer);
global.gc?.();
await new Promise((resolve) => setTimeout(resolve, 1000));
sample();

// Growth: median of the last three samples against the median of samples 2-4 (after warm-up).
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const early = samples.slice(1, 4);
const late = samples.slice(-3);
const growth = (key: 'rssMiB' | 'fds' | 'socketFds' | 'children') =>
  median(late.map((x) => x[key])) - median(early.map((x) => x[key]));
const checks = [
  ['RSS (MiB)', growth('rssMiB'), LIMITS.rssMiB],
  ['open descriptors', growth('fds'), LIMITS.fds],
  ['socket descriptors', growth('socketFds'), LIMITS.sockets],
  ['child processes at the end', samples.at(-1)!.children, LIMITS.children],
] as const;
let bad = 0;
for (const [name, value, limit] of checks) {
  const pass = value <= limit;
  if (!pass) bad++;
  console.log(`${pass ? '✓' : '✗'} ${name}: growth ${Math.round(value * 10) / 10} (limit ${limit})`);
}
await pipeline.close();
const afterClose = { openSockets: pipeline.openSockets(), children: children() - baseline.children };
console.log(
  `after close(): pipeline sockets ${afterClose.openSockets}, curl children ${afterClose.children}`,
);
if (afterClose.openSockets !== 0 || afterClose.children !== 0) bad++;
if (MIX === 'all') bad += await runHostileSoak(lab, MINUTES, SAMPLE_S);
await Promise.all([lab.close(), silent.close()]);
rmSync(dir, { recursive: true, force: true });
process.exitCode = bad ? 1 : 0;
