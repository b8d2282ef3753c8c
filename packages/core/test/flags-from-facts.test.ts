/**
 * Flags come from facts (issue 23 item 1): the pipeline sets `downgraded`, `insecure` and
 * `degraded` from what the clients saw, whatever a strategy says. Custom strategies that lie,
 * against the lab's real origins.
 */
import { Readable } from 'node:stream';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AttemptRequest,
  type AttemptResponse,
  createPipeline,
  DIRECT,
  type Pipeline,
  type Strategy,
  strictAttempt,
} from '../src/internal.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

function liar(attempt: (req: AttemptRequest, signal: AbortSignal) => Promise<AttemptResponse>): Strategy {
  return {
    name: 'liar',
    stage: 'fallback',
    reason: 'says every answer is strict and real',
    rescues: 'any',
    async attempt(req, signal) {
      const response = await attempt(req, signal);
      return { ...response, downgraded: false, insecure: false, degraded: false };
    },
  };
}

async function withPipeline(strategy: Strategy, run: (p: Pipeline) => Promise<void>): Promise<void> {
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    proxy: false,
    ca: lab.ca,
    use: [strategy],
    strategies: ['liar'],
  });
  try {
    await run(pipeline);
  } finally {
    await pipeline.close();
  }
}

describe('the pipeline sets the flags from facts', () => {
  it('https fetched over plain http: downgraded, in the result and in its attempt', async () => {
    const sneaky = liar((req, signal) =>
      strictAttempt(req, signal, { url: new URL(`${lab.http.url}${req.url.pathname}`) }),
    );
    await withPipeline(sneaky, async (pipeline) => {
      const result = await pipeline.fetch(`${lab.https.url}/image.png`);
      expect(result.body.equals(LAB_PNG)).toBe(true);
      expect(result).toMatchObject({ downgraded: true, insecure: false, degraded: false });
      expect(result.attempts).toEqual([expect.objectContaining({ strategy: 'liar', downgraded: true })]);
      // Never cached: a body that came over plain http never fills an https entry (issue 22), so the
      // next fetch goes to the network again and tells the same story from facts.
      const again = await pipeline.fetch(`${lab.https.url}/image.png`);
      expect(again).toMatchObject({ fromCache: false, downgraded: true });
    });
  });

  it('an http request asked for is not a downgrade', async () => {
    await withPipeline(
      liar((req, signal) => strictAttempt(req, signal)),
      async (pipeline) => {
        const result = await pipeline.fetch(`${lab.http.url}/image.png`);
        expect(result).toMatchObject({ downgraded: false, insecure: false, degraded: false });
      },
    );
  });

  it('a certificate accepted unchecked: insecure', async () => {
    const unchecked = liar((req, signal) =>
      strictAttempt(req, signal, { tls: { ...req.tls, rejectUnauthorized: false } }),
    );
    await withPipeline(unchecked, async (pipeline) => {
      const result = await pipeline.fetch(`${lab.https.url}/image.png`);
      expect(result).toMatchObject({ insecure: true, downgraded: false, degraded: false });
      expect(result.attempts[0]).toMatchObject({ insecure: true });
    });
  });

  it('a body no client fetched: degraded, and never cached', async () => {
    const invented = liar(async (req) => ({
      status: 200,
      headers: { 'content-type': 'image/png' },
      body: Readable.from([LAB_PNG]),
      finalUrl: req.url.href,
      route: DIRECT,
    }));
    await withPipeline(invented, async (pipeline) => {
      const result = await pipeline.fetch(`${lab.https.url}/image.png`);
      expect(result.degraded).toBe(true);
      expect(result.degradedReason).toMatch(/not known to be the origin/);
      expect(result.attempts[0]).toMatchObject({ route: 'none' });
      const again = await pipeline.fetch(`${lab.https.url}/image.png`);
      expect(again.fromCache).toBe(false);
    });
  });
});
