/** tsyringe as the composition root: a plugin replaces or decorates core services through the documented tokens. */
import 'reflect-metadata'; // tsyringe needs it before it loads (core imports it too)
import { LAB_PNG, type Lab, type RunningRedis, startLab, startRedis } from '@detour/lab';
import type Keyv from 'keyv';
import pino from 'pino';
import { type DependencyContainer, container as root } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CACHE,
  CACHE_STORES,
  Cache,
  type CacheStore,
  CIRCUIT,
  CircuitBreaker,
  CLASSIFIER_HOOK,
  type ClassifierHook,
  ConcurrencyLimiter,
  classifyError,
  createPipeline,
  DetourError,
  DIRECT,
  decorate,
  ENVIRONMENT,
  type EnvironmentProvider,
  type HttpTransport,
  KeyValueCacheStore,
  KeyvStore,
  LIMITER,
  LOGGER,
  OPTIONS,
  type Pipeline,
  ROUTE_MEMORY,
  type RouteMemory,
  registerCore,
  resolvePipeline,
  TRANSPORT,
} from '../src/internal.js';
import { connectKeyv } from './helpers/keyv.js';

let lab: Lab;
const opened: Pipeline[] = [];
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  for (const p of opened) await p.close();
  await lab?.close();
});
const track = (p: Pipeline) => {
  opened.push(p);
  return p;
};

describe('plugins replace or decorate core services through tokens', () => {
  it('TRANSPORT: a decorator sees every request and delegates', async () => {
    const seen: string[] = [];
    const pipeline = track(
      createPipeline({
        allowPrivateNetwork: true,
        ca: lab.ca,
        cache: false,
        use: [
          (c) =>
            decorate<HttpTransport>(c, TRANSPORT, (inner) => ({
              request: (req, signal) => {
                seen.push(req.url.pathname);
                return inner.request(req, signal);
              },
              openSockets: () => inner.openSockets(),
              close: () => inner.close(),
            })),
        ],
      }),
    );
    const result = await pipeline.fetch(`${lab.https.url}/redirect/2`);
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(seen).toEqual(['/redirect/2', '/redirect/1', '/image.png']); // one request per hop
    await pipeline.close();
    expect(pipeline.openSockets()).toBe(0);
  });

  it('LOGGER: a replacement receives the attempts, and the cache logs through it too', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const pipeline = track(
      createPipeline({
        allowPrivateNetwork: true,
        ca: lab.ca,
        use: [(c) => c.register(LOGGER, { useValue: logger })],
      }),
    );
    await pipeline.fetch(`${lab.https.url}/image.png?di=log`);
    await pipeline.fetch(`${lab.https.url}/image.png?di=log`);
    expect(lines.some((l) => l.includes('attempt succeeded'))).toBe(true);
    expect(lines.some((l) => l.includes('served from cache'))).toBe(true);
  });

  it('ENVIRONMENT: a provider registered by a plugin decides the plan', async () => {
    const environment: EnvironmentProvider = {
      routeFor: () => DIRECT,
      plan: () => ['direct-bypass', 'direct'],
      fingerprint: () => 'test',
    };
    const pipeline = track(
      createPipeline({ use: [(c) => c.register(ENVIRONMENT, { useValue: environment })] }),
    );
    expect(pipeline.planFor('https://example.com/a.png')).toEqual(['direct-bypass', 'direct']);
  });

  it('CACHE: a plugin puts its own in (here one cache shared by two pipelines)', async () => {
    const shared = new Cache({}, pino({ level: 'silent' }));
    const plugin = (c: DependencyContainer) => c.register(CACHE, { useValue: shared });
    const a = track(createPipeline({ allowPrivateNetwork: true, ca: lab.ca, use: [plugin] }));
    const b = track(createPipeline({ allowPrivateNetwork: true, ca: lab.ca, use: [plugin] }));
    expect((await a.fetch(`${lab.https.url}/image.png?di=cache`)).fromCache).toBe(false);
    expect((await b.fetch(`${lab.https.url}/image.png?di=cache`)).fromCache).toBe(true);
  });

  it('CLASSIFIER_HOOK: a hook decides the class and code of a real failed attempt', async () => {
    // lab.downgrade's HTTPS port answers every ClientHello with a handshake_failure alert.
    const url = `${lab.downgrade.httpsUrl}/image.png`;
    const seen: unknown[] = [];
    const policyAlert: ClassifierHook = (error) => {
      seen.push(error);
      return classifyError(error).failureClass === 'tls-handshake'
        ? { failureClass: 'blocked', code: 'TEST_POLICY_ALERT' }
        : undefined;
    };
    const failure = (use: Parameters<typeof createPipeline>[0]) =>
      track(createPipeline({ allowPrivateNetwork: true, ca: lab.ca, cache: false, ...use }))
        .fetch(url)
        .then(
          () => expect.unreachable('the broken TLS origin cannot answer'),
          (error: unknown) => error as DetourError,
        );

    // Without the hook: the built-in classifier's answer.
    const plain = await failure({});
    expect(plain.failureClass).toBe('tls-handshake');

    const hooked = await failure({
      use: [
        (c) => c.register(CLASSIFIER_HOOK, { useValue: () => undefined }), // no opinion: asks the next
        (c) => c.register(CLASSIFIER_HOOK, { useValue: policyAlert }),
      ],
    });
    expect(hooked).toBeInstanceOf(DetourError);
    expect(
      seen.length,
      'no hook was asked: PipelineDeps.classify does not reach the orchestrator',
    ).toBeGreaterThan(0);
    expect(seen[0]).not.toBeInstanceOf(DetourError); // the raw error the transport threw
    expect({ failureClass: hooked.failureClass, code: hooked.code }).toEqual({
      failureClass: 'blocked',
      code: 'TEST_POLICY_ALERT',
    });
    const failed = hooked.attempts.filter((a) => a.outcome === 'failed');
    expect(failed).toHaveLength(1); // blocked is terminal: nothing after it was tried
    expect(failed[0]).toMatchObject({
      strategy: 'direct',
      failureClass: 'blocked',
      code: 'TEST_POLICY_ALERT',
    });
  });

  it('CACHE_STORES: a decorator wraps each tier (here counting what reaches the real memory tier)', async () => {
    const counts = { get: 0, hit: 0, set: 0 };
    const counting = (inner: CacheStore): CacheStore => ({
      name: inner.name,
      shared: inner.shared,
      maxEntryBytes: inner.maxEntryBytes,
      get: async (key) => {
        counts.get++;
        const entry = await inner.get(key);
        if (entry) counts.hit++;
        return entry;
      },
      set: (key, entry) => {
        counts.set++;
        return inner.set(key, entry);
      },
      delete: (key) => inner.delete(key),
    });
    const pipeline = track(
      createPipeline({
        allowPrivateNetwork: true,
        ca: lab.ca,
        use: [(c) => decorate(c, CACHE_STORES, (tiers) => tiers.map(counting))],
      }),
    );
    const url = `${lab.https.url}/image.png?di=stores`;
    expect((await pipeline.fetch(url)).fromCache).toBe(false);
    expect(counts).toEqual({ get: 1, hit: 0, set: 1 }); // a miss, then the download stored
    const again = await pipeline.fetch(url);
    expect(again.fromCache).toBe(true);
    expect(again.body.equals(LAB_PNG)).toBe(true);
    expect(again.attempts).toMatchObject([{ strategy: 'cache', route: 'memory', outcome: 'ok' }]);
    expect(counts).toEqual({ get: 2, hit: 1, set: 1 });
  });

  describe('CACHE_STORES against a real redis-server', () => {
    let redis: RunningRedis;
    const clients: Keyv[] = [];
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      for (const keyv of clients) await keyv.disconnect();
      await redis?.close();
    });
    /** A plugin replacing every tier with one Keyv store on its own connection (one per bot instance). */
    const redisOnly = () => (c: DependencyContainer) => {
      const keyv = connectKeyv(redis.url, 'detour-di');
      clients.push(keyv);
      c.register(CACHE_STORES, { useValue: [new KeyValueCacheStore(new KeyvStore(keyv))] });
    };

    it('a plugin replaces the tiers: two pipelines share one Redis and nothing stays in memory', async () => {
      const url = `${lab.https.url}/image.png?di=redis`;
      const a = track(createPipeline({ allowPrivateNetwork: true, ca: lab.ca, use: [redisOnly()] }));
      const b = track(createPipeline({ allowPrivateNetwork: true, ca: lab.ca, use: [redisOnly()] }));
      expect((await a.fetch(url)).fromCache).toBe(false);
      const fromB = await b.fetch(url);
      expect(fromB.fromCache).toBe(true);
      expect(fromB.body.equals(LAB_PNG)).toBe(true);
      expect(fromB.attempts).toMatchObject([{ strategy: 'cache', route: 'shared', outcome: 'ok' }]);
      // The memory tier was replaced, not kept in front: a's own second fetch is answered by Redis too.
      expect((await a.fetch(url)).attempts).toMatchObject([{ strategy: 'cache', route: 'shared' }]);
    });
  });

  it('CACHE_STORES: something that is not a cache store is refused when the pipeline is built', () => {
    const bad = (c: DependencyContainer) =>
      c.register(CACHE_STORES, {
        useValue: [{ name: 'half', get: async () => undefined } as unknown as CacheStore],
      });
    expect(() => createPipeline({ use: [bad] })).toThrow(
      expect.objectContaining({
        code: 'DETOUR_BAD_OPTION',
        message: expect.stringContaining('cache tier 0'),
      }),
    );
    // The same check guards the plain option.
    expect(() => createPipeline({ cache: { tiers: [{} as CacheStore] } })).toThrow(
      expect.objectContaining({ code: 'DETOUR_BAD_OPTION' }),
    );
  });

  it('ROUTE_MEMORY: a decorator sees what the pipeline learns about each host', async () => {
    const learned: (string | undefined)[] = [];
    const pipeline = track(
      createPipeline({
        allowPrivateNetwork: true,
        ca: lab.ca,
        cache: false,
        use: [
          (c) =>
            decorate<RouteMemory>(c, ROUTE_MEMORY, (inner) => ({
              order: (url, fp, plan) => inner.order(url, fp, plan),
              record: (url, fp, route, outcome) => {
                learned.push(outcome.winner);
                return inner.record(url, fp, route, outcome);
              },
              inspect: (url, fp) => inner.inspect(url, fp),
              forget: (url, fp) => inner.forget(url, fp),
            })),
        ],
      }),
    );
    await pipeline.fetch(`${lab.https.url}/image.png?di=route`);
    expect(learned).toEqual(['direct']);
  });

  it('LIMITER: a replacement decides the concurrency (here one slot, counted)', async () => {
    class OneSlot extends ConcurrencyLimiter {
      acquired = 0;
      override acquire(...args: Parameters<ConcurrencyLimiter['acquire']>) {
        this.acquired++;
        return super.acquire(...args);
      }
    }
    const limiter = new OneSlot({ global: 1, perHost: 1 });
    const pipeline = track(
      createPipeline({
        allowPrivateNetwork: true,
        ca: lab.ca,
        cache: false,
        use: [(c) => c.register(LIMITER, { useValue: limiter })],
      }),
    );
    const results = await Promise.all(
      [1, 2, 3].map((n) => pipeline.fetch(`${lab.https.url}/image.png?di=lim${n}`)),
    );
    expect(results.every((r) => r.body.equals(LAB_PNG))).toBe(true);
    expect(limiter.acquired).toBe(3);
    expect(limiter.active).toBe(0);
  });

  it('CIRCUIT: a replacement with its own threshold opens after one failed fetch', async () => {
    const url = `${lab.downgrade.httpsUrl}/image.png`; // every TLS handshake fails
    const pipeline = track(
      createPipeline({
        allowPrivateNetwork: true,
        cache: false,
        use: [(c) => c.register(CIRCUIT, { useValue: new CircuitBreaker({ threshold: 1 }) })],
      }),
    );
    const failure = () =>
      pipeline.fetch(url).then(
        () => expect.unreachable('the broken TLS origin cannot answer'),
        (error: unknown) => error as DetourError,
      );
    expect((await failure()).failureClass).toBe('tls-handshake');
    expect((await failure()).code).toBe('DETOUR_CIRCUIT_OPEN'); // the default threshold (5) would still try
  });

  it('OPTIONS: a plugin reads the resolved options (defaults filled in)', () => {
    let seen: { timeoutMs: number; maxRedirects: number } | undefined;
    const reader = (c: DependencyContainer) => {
      seen = c.resolve(OPTIONS);
    };
    track(createPipeline({ timeoutMs: 1234, use: [reader] }));
    expect(seen).toMatchObject({ timeoutMs: 1234, maxRedirects: 5 });
  });

  it('registerCore + resolvePipeline: the same pipeline from a DI user’s own container', async () => {
    const container = root.createChildContainer();
    registerCore(container, { allowPrivateNetwork: true, ca: lab.ca });
    const pipeline = track(resolvePipeline(container));
    expect(pipeline.strategyNames).toEqual(['direct', 'direct-bypass']);
    expect((await pipeline.fetch(`${lab.https.url}/image.png`)).strategy).toBe('direct');
  });
});
