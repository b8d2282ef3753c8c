/**
 * pipeline.close() settles every fetch in flight at once with `aborted` / `DETOUR_CLOSED`: waiting
 * for a response head, reading a body, writing a file, streaming, queued for a slot, or joined to
 * another caller's download. Against a real HTTPS origin on 127.0.0.1 that stalls or drips.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { labCerts, type Origin, startHttpsOrigin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, DetourError, type Pipeline, type PipelineOptions } from '../src/internal.js';

/**
 * The contract is 100 ms (issue 9); measured here 1-35 ms. The bound leaves room for a loaded
 * 2-core CI machine and still fails the old behaviour (pending until the 20-30 s deadlines).
 */
const SETTLE_MS = 250;

let origin: Origin;
let dir: string;
const pipelines: Pipeline[] = [];

beforeAll(async () => {
  origin = await startHttpsOrigin();
  dir = mkdtempSync(join(tmpdir(), 'detour-close-'));
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await origin?.close();
  rmSync(dir, { recursive: true, force: true });
});

function pipeline(options: PipelineOptions = {}): Pipeline {
  const p = createPipeline({
    allowPrivateNetwork: true,
    ca: labCerts().ca.cert,
    timeoutMs: 30_000,
    ...options,
  });
  pipelines.push(p);
  return p;
}

/** Wait until the origin has seen `n` requests for `path` (the fetches are really in flight). */
async function arrived(path: string, n = 1): Promise<void> {
  for (let i = 0; i < 500 && origin.routes.hits(path) < n; i++) await sleep(5);
  expect(origin.routes.hits(path)).toBeGreaterThanOrEqual(n);
}

/** close() the pipeline and return how long each pending promise took to settle after the call. */
async function closeAndTime(
  p: Pipeline,
  pending: Promise<unknown>[],
): Promise<{ ms: number[]; errors: unknown[] }> {
  const started = performance.now();
  const timed = pending.map((promise) =>
    promise.then(
      () => ({ ms: performance.now() - started, error: undefined as unknown }),
      (error: unknown) => ({ ms: performance.now() - started, error }),
    ),
  );
  const closing = p.close();
  const settled = await Promise.all(timed);
  await closing;
  return { ms: settled.map((s) => s.ms), errors: settled.map((s) => s.error) };
}

function expectClosed(error: unknown): void {
  expect(error).toBeInstanceOf(DetourError);
  expect((error as DetourError).failureClass).toBe('aborted');
  expect((error as DetourError).code).toBe('DETOUR_CLOSED');
}

describe('close() settles every fetch in flight', () => {
  it('fetch waiting for a response head that never comes', async () => {
    const p = pipeline();
    const pending = p.fetch(`${origin.url}/stall-head?n=1`);
    await arrived('/stall-head');
    const { ms, errors } = await closeAndTime(p, [pending]);
    expectClosed(errors[0]);
    expect((errors[0] as DetourError).attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', failureClass: 'aborted', code: 'DETOUR_CLOSED' }),
      // The rest of the plan, never reached (the whole plan in every trace).
      expect.objectContaining({
        strategy: 'direct-bypass',
        outcome: 'skipped',
        message: 'the fetch was aborted before its turn',
      }),
    ]);
    expect(ms[0]).toBeLessThan(SETTLE_MS);
    expect(p.openSockets()).toBe(0);
  });

  it('fetch reading a dripping body', async () => {
    const p = pipeline();
    origin.routes.resetCounts();
    const pending = p.fetch(`${origin.url}/slow-drip?ms=100&bytes=1000`);
    await arrived('/slow-drip');
    await sleep(150);
    const { ms, errors } = await closeAndTime(p, [pending]);
    expectClosed(errors[0]);
    expect(ms[0]).toBeLessThan(SETTLE_MS);
  });

  it('toFile writing a dripping body: settled, and no partial file left', async () => {
    const p = pipeline();
    origin.routes.resetCounts();
    const target = join(dir, 'drip.png');
    const pending = p.toFile(`${origin.url}/slow-drip?ms=100&bytes=1000`, target);
    await arrived('/slow-drip');
    await sleep(150);
    expect(readdirSync(dir)).toHaveLength(1); // the hidden temp file, being written
    const { ms, errors } = await closeAndTime(p, [pending]);
    expectClosed(errors[0]);
    expect(ms[0]).toBeLessThan(SETTLE_MS);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stream() before its head, and a stream already flowing', async () => {
    const p = pipeline();
    origin.routes.resetCounts();
    const flowing = await p.stream(`${origin.url}/slow-drip?ms=100&bytes=1000`);
    const bodyError = new Promise<unknown>((resolve) => flowing.body.once('error', resolve));
    flowing.body.resume();
    const waiting = p.stream(`${origin.url}/stall-head?n=2`);
    await arrived('/stall-head');
    const { ms, errors } = await closeAndTime(p, [waiting, bodyError.then((e) => Promise.reject(e))]);
    expectClosed(errors[0]);
    expect(errors[1]).toBeDefined(); // the flowing body errors instead of hanging
    expect(Math.max(...ms)).toBeLessThan(SETTLE_MS);
  });

  it('fetches queued for a concurrency slot, and callers joined to a shared download', async () => {
    const p = pipeline({ concurrency: { global: 1, perHost: 1 } });
    origin.routes.resetCounts();
    const url = `${origin.url}/stall-head?n=3`;
    const starter = p.fetch(url);
    const joiners = [p.fetch(url), p.toFile(url, join(dir, 'joined.png')), p.stream(url)];
    const queued = [
      p.fetch(`${origin.url}/image.png?queued=1`),
      p.toFile(`${origin.url}/image.png?q=2`, join(dir, 'q.png')),
    ];
    await arrived('/stall-head');
    const { ms, errors } = await closeAndTime(p, [starter, ...joiners, ...queued]);
    for (const error of errors) expectClosed(error);
    expect(Math.max(...ms)).toBeLessThan(SETTLE_MS);
    expect(origin.routes.hits('/image.png')).toBe(0); // the queued ones never started
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a caller’s own abort is still reported as the caller’s (ABORT_ERR), and a fetch after close() is refused', async () => {
    const p = pipeline();
    origin.routes.resetCounts();
    const controller = new AbortController();
    const pending = p.fetch(`${origin.url}/stall-head?n=4`, { signal: controller.signal });
    await arrived('/stall-head');
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ failureClass: 'aborted', code: 'ABORT_ERR' });
    const withSignal = p.fetch(`${origin.url}/stall-head?n=5`, { signal: new AbortController().signal });
    await arrived('/stall-head', 2);
    const { errors } = await closeAndTime(p, [withSignal]);
    expectClosed(errors[0]);
    await expect(p.fetch(`${origin.url}/image.png`)).rejects.toMatchObject({ code: 'DETOUR_CLOSED' });
  });
});
