/**
 * `pipeline.with({ layers, use })` (issue 24 item 4): a derived pipeline adds layers or strategies
 * and shares the parent's transport and cache, as `got.extend` does. Against the lab's real TLS origin.
 */
import 'reflect-metadata';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, type Layer, type Pipeline } from '../src/internal.js';

let lab: Lab;
let parent: Pipeline;
beforeAll(async () => {
  lab = await startLab();
  parent = createPipeline({ allowPrivateNetwork: true, ca: lab.ca });
});
afterAll(async () => {
  await parent?.close();
  await lab?.close();
});

/** A layer that records the path of every fetch it sees (cache hits included). */
function seenBy(paths: string[]): Layer {
  return (next) => (call) => {
    paths.push(call.input.pathname);
    return next(call);
  };
}

describe('pipeline.with', () => {
  it('adds a layer only to the derived pipeline, and shares the cache', async () => {
    const seen: string[] = [];
    const derived = parent.with({ layers: [seenBy(seen)] });
    try {
      const first = await parent.fetch(`${lab.https.url}/image.png`);
      expect(first.fromCache).toBe(false);
      expect(seen).toEqual([]); // the parent does not run the derived pipeline's layer
      const again = await derived.fetch(`${lab.https.url}/image.png`);
      expect(again.fromCache).toBe(true); // the parent's cache answered
      expect(again.sha256).toBe(first.sha256);
      expect(lab.https.routes.hits('/image.png')).toBe(1);
      expect(seen).toEqual(['/image.png']);
    } finally {
      await derived.close();
    }
  });

  it('keeps the parent working after the derived pipeline closes', async () => {
    const derived = parent.with({});
    expect(derived).not.toBe(parent);
    expect(derived.strategyNames).toEqual(parent.strategyNames);
    await derived.close();
    await expect(derived.fetch(`${lab.https.url}/image.png`)).rejects.toMatchObject({
      code: 'DETOUR_CLOSED',
    });
    const result = await parent.fetch(`${lab.https.url}/image.png?after-close`);
    expect(result.ok).toBe(true);
    expect(result.fromCache).toBe(false);
  });

  it('adds strategies from use, after the parent’s', async () => {
    const derived = parent.with({
      use: [
        {
          name: 'never',
          stage: 'last-resort',
          rescues: 'any',
          attempt: () => Promise.reject(new Error('not used')),
        } as never,
      ],
    });
    try {
      expect(derived.strategyNames).toEqual([...parent.strategyNames, 'never']);
      expect(parent.strategyNames).not.toContain('never');
    } finally {
      await derived.close();
    }
  });

  it('refuses to derive from a closed pipeline', async () => {
    const closed = createPipeline({ allowPrivateNetwork: true, ca: lab.ca });
    await closed.close();
    expect(() => closed.with({})).toThrow(/closed/);
  });
});
