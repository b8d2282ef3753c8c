/**
 * The pipeline's own cost per fetch, without a network: a strategy that answers from memory (a
 * 10 KiB body in one chunk), N fetches of distinct URLs, sequential and C in flight. Compares the
 * strategy + body read alone with pipeline.fetch (cache on and off). Not part of `pnpm bench`:
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/profile/overhead.ts [n] [c]
 */
import { Readable } from 'node:stream';
import { type AttemptResponse, BodyCheck, createPipeline, type Strategy } from '@detour/core/internal';
import { readBody } from '../../packages/core/src/body/read-body.js';
import { runLoad } from '../lib/load.js';

const n = Number(process.argv[2] ?? 20000);
const c = Number(process.argv[3] ?? 1);
const body = Buffer.alloc(10240, 7);

const memory: Strategy = {
  name: 'memory',
  stage: 'strict',
  reason: 'answers from memory',
  rescues: 'first',
  async attempt(req): Promise<AttemptResponse> {
    // A stand-in for a network client: it reports its "exchange", else the pipeline marks the body degraded.
    req.reportHop?.({ url: req.url, insecure: false });
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      body: Readable.from([body], { objectMode: false }),
      finalUrl: req.url.toString(),
      route: req.route,
    };
  },
};

type Get = (url: string) => Promise<number>;
const clients: Record<string, Get> = {
  strategy: async (url) => {
    const signal = new AbortController().signal;
    const res = await memory.attempt({ url: new URL(url), route: { kind: 'direct' } } as never, signal);
    const read = await readBody(
      res.body,
      new BodyCheck({ maxBytes: 1e9, expect: 'any' }, body.length),
      signal,
    );
    return read.length;
  },
};
for (const [name, extra] of [
  ['pipeline', {}],
  ['pipeline-nocache', { cache: false as const }],
  ['pipeline-notier', { cache: { memory: false as const } }],
] as const) {
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    proxy: false,
    use: [memory],
    strategies: ['memory'],
    concurrency: { global: 64, perHost: 64 },
    ...extra,
  });
  clients[name] = async (url) => (await pipeline.fetch(url)).bytes;
}

let serial = 0;
const only = process.env.ONLY?.split(',');
const best: Record<string, number> = {};
const rounds = Number(process.env.ROUNDS ?? 5);
for (let round = 0; round < rounds; round++) {
  for (const [name, get] of Object.entries(clients)) {
    if (only && !only.includes(name)) continue;
    const url = () => `https://cdn.example.test/f?n=${serial++}`;
    await runLoad(500, c, () => get(url()));
    const cpu = process.cpuUsage();
    const started = performance.now();
    await runLoad(n, c, () => get(url()));
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, (used.user + used.system) / n);
    if (process.env.VERBOSE)
      console.log(
        `round ${round} ${name.padEnd(17)} ${((ms * 1000) / n).toFixed(1).padStart(6)} µs/fetch wall, ${((used.user + used.system) / n).toFixed(1).padStart(6)} µs CPU`,
      );
  }
}
// The least CPU per fetch over the rounds: the steadiest figure on a shared machine.
for (const [name, us] of Object.entries(best))
  console.log(
    `${name.padEnd(17)} ${us.toFixed(1).padStart(6)} µs CPU per fetch (best of ${rounds} rounds, ${c} in flight)`,
  );
