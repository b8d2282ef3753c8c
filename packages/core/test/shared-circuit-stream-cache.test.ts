import { createHash } from 'node:crypto';
import { LAB_PNG, type Origin, startHttpOrigin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from '../src/adaptive/index.js';
import { createPipeline } from '../src/create.js';
import { MemoryStore } from '../src/store/index.js';

describe('circuit breaker with a shared store', () => {
  it('a circuit opened by one instance is open for another; a success anywhere closes it for all', async () => {
    let now = 1_000;
    const store = new MemoryStore({ now: () => now });
    const a = new CircuitBreaker({ threshold: 2, cooldownMs: 10_000, store, now: () => now });
    const b = new CircuitBreaker({ threshold: 2, cooldownMs: 10_000, store, now: () => now });
    expect(a.shared).toBe(true);
    const key = 'none|https://down.example';
    a.failure(await a.admit(key));
    await a.flush();
    await expect(b.admit(key)).resolves.toMatchObject({ probe: false }); // one failure: still closed
    a.failure(await a.admit(key));
    await a.flush();
    await expect(b.admit(key)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(b.state(key)).toBe('open');
    now += 10_001; // cool-down over: b lets its probe through, and it succeeds
    const probe = await b.admit(key);
    expect(probe.probe).toBe(true);
    b.success(probe);
    await b.flush();
    expect(await store.get(`circuit:v1:${key}`)).toBeUndefined();
    // a's own view is still half-open; its next request is its probe, which closes it too.
    const next = await a.admit(key);
    a.success(next);
    expect(a.state(key)).toBe('closed');
  });

  it('a store that fails is read as "nothing shared"', async () => {
    const broken = {
      shared: true,
      get: async () => {
        throw new Error('down');
      },
      set: async () => {
        throw new Error('down');
      },
      delete: async () => {
        throw new Error('down');
      },
    };
    const circuit = new CircuitBreaker({ threshold: 1, store: broken });
    const ticket = await circuit.admit('k');
    circuit.failure(ticket);
    await circuit.flush();
    await expect(circuit.admit('k')).rejects.toBeInstanceOf(CircuitOpenError); // local state still works
  });
});

describe('pipeline.stream() and the cache', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startHttpOrigin();
  });
  afterAll(async () => {
    await origin?.close();
  });

  const read = async (body: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it('a streamed body the cache keeps is stored before the stream ends; the next fetch is a hit', async () => {
    const pipeline = createPipeline({ allowPrivateNetwork: true, proxy: false });
    try {
      const url = `${origin.url}/image.png?n=stream-cache`;
      const first = await pipeline.stream(url);
      expect(first.fromCache).toBe(false);
      expect((await read(first.body)).equals(LAB_PNG)).toBe(true);
      const again = await pipeline.stream(url);
      expect(again.fromCache).toBe(true);
      expect(again.sha256).toBe(createHash('sha256').update(LAB_PNG).digest('hex'));
      expect((await read(again.body)).equals(LAB_PNG)).toBe(true);
      expect((await pipeline.fetch(url)).fromCache).toBe(true);
      expect(origin.routes.hits('/image.png')).toBe(1);
    } finally {
      await pipeline.close();
    }
  });

  it('a body larger than the cache keeps streams through and is not stored', async () => {
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      proxy: false,
      cache: { maxEntryBytes: 10_000 },
    });
    try {
      for (const chunked of ['', '&chunked=1']) {
        const url = `${origin.url}/big?bytes=50000${chunked}`;
        const first = await pipeline.stream(url);
        expect((await read(first.body)).length).toBe(50_000);
        const again = await pipeline.stream(url);
        expect(again.fromCache).toBe(false);
        await read(again.body);
      }
    } finally {
      await pipeline.close();
    }
  });
});
