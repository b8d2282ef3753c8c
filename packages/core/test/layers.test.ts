/**
 * The pipeline as layers: a user adds one (metrics, a host policy) without editing core, through
 * `layers` or the `LAYER` token, and it sees every fetch: network runs, cache hits, failures.
 */
import 'reflect-metadata';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Call,
  compose,
  createPipeline,
  DetourError,
  LAYER,
  type Layer,
  type Outcome,
  type Pipeline,
  type PipelineOptions,
  type Run,
} from '../src/internal.js';

let lab: Lab;
const opened: Pipeline[] = [];
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  for (const p of opened) await p.close();
  await lab?.close();
});
const pipeline = (options: PipelineOptions = {}) => {
  const p = createPipeline({ allowPrivateNetwork: true, ca: lab.ca, ...options });
  opened.push(p);
  return p;
};
const hits = (path: string): number => lab.https.routes.hits(path);

interface Metric {
  path: string;
  outcome: string;
  strategy?: string | undefined;
  fromCache?: boolean | undefined;
  failureClass?: string | undefined;
}

/** What a user would write: a metrics layer that looks at every outcome and error. */
function metrics(seen: Metric[]): Layer {
  return (next) => async (call) => {
    const path = call.input.pathname;
    try {
      const outcome = await next(call);
      seen.push({ path, outcome: 'ok', strategy: outcome.info.strategy, fromCache: outcome.info.fromCache });
      return outcome;
    } catch (error) {
      seen.push({ path, outcome: 'failed', failureClass: (error as DetourError).failureClass });
      throw error;
    }
  };
}

describe('user layers', () => {
  it('a metrics layer sees network runs, cache hits and failures, for fetch, toFile and stream', async () => {
    const seen: Metric[] = [];
    const p = pipeline({ layers: [metrics(seen)] });
    const url = `${lab.https.url}/image.png?layer=metrics`;
    expect((await p.fetch(url)).body.equals(LAB_PNG)).toBe(true);
    expect((await p.fetch(url)).fromCache).toBe(true);
    const path = join(tmpdir(), `detour-layer-${process.pid}.png`);
    try {
      await p.toFile(url, path);
      expect((await readFile(path)).equals(LAB_PNG)).toBe(true);
    } finally {
      await rm(path, { force: true });
    }
    const streamed = await p.stream(url);
    for await (const _ of streamed.body) {
      // drain
    }
    await expect(p.fetch(`${lab.https.url}/status/404`)).rejects.toMatchObject({
      failureClass: 'http-status',
    });
    expect(seen).toEqual([
      { path: '/image.png', outcome: 'ok', strategy: 'direct', fromCache: false },
      { path: '/image.png', outcome: 'ok', strategy: 'direct', fromCache: true },
      { path: '/image.png', outcome: 'ok', strategy: 'direct', fromCache: true },
      { path: '/image.png', outcome: 'ok', strategy: 'direct', fromCache: true },
      { path: '/status/404', outcome: 'failed', failureClass: 'http-status' },
    ]);
  });

  it('a layer may answer itself: a host policy refuses without any request', async () => {
    const policy: Layer = (next) => async (call) => {
      if (call.url.pathname.startsWith('/forbidden')) {
        throw new DetourError('refused by policy', { failureClass: 'blocked', code: 'POLICY' });
      }
      return next(call);
    };
    const p = pipeline({ layers: [policy], cache: false });
    const before = hits('/image.png');
    await expect(p.fetch(`${lab.https.url}/forbidden/image.png`)).rejects.toMatchObject({ code: 'POLICY' });
    expect((await p.fetch(`${lab.https.url}/image.png`)).body.equals(LAB_PNG)).toBe(true);
    expect(hits('/forbidden/image.png')).toBe(0);
    expect(hits('/image.png')).toBe(before + 1);
  });

  it('a layer may change the call it passes down (here: a header every request carries)', async () => {
    const tag: Layer = (next) => (call) =>
      next({
        ...call,
        options: { ...call.options, headers: { ...call.options.headers, 'x-tenant': 'bot-7' } },
      });
    const p = pipeline({ layers: [tag], cache: false });
    const result = await p.fetch(`${lab.https.url}/headers`);
    expect(JSON.parse(result.body.toString())).toMatchObject({ 'x-tenant': 'bot-7' });
  });

  it('a plugin adds a layer through the LAYER token; layers run outermost first', async () => {
    const order: string[] = [];
    const named =
      (name: string): Layer =>
      (next) =>
      async (call) => {
        order.push(`${name}>`);
        const outcome = await next(call);
        order.push(`<${name}`);
        return outcome;
      };
    const p = pipeline({
      cache: false,
      layers: [named('a')],
      use: [(c) => c.register(LAYER, { useValue: named('b') })],
    });
    await p.fetch(`${lab.https.url}/image.png`);
    expect(order).toEqual(['a>', 'b>', '<b', '<a']);
  });
});

describe('compose', () => {
  it('the first layer is the outermost; absent layers are left out', async () => {
    const trace: string[] = [];
    const wrap =
      (name: string): Layer =>
      (next) =>
      async (call) => {
        trace.push(name);
        return next(call);
      };
    const inner: Run = async <T>(call: Call<T>): Promise<Outcome<T>> => {
      trace.push(`run ${call.url.pathname}`);
      throw new Error('end');
    };
    const run = compose([wrap('outer'), undefined, false, wrap('inner')], inner);
    await expect(run({ url: new URL('http://127.0.0.1/x') } as Call<Buffer>)).rejects.toThrow('end');
    expect(trace).toEqual(['outer', 'inner', 'run /x']);
  });
});
