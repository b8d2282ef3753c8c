/** tsyringe as the composition root: a plugin replaces or decorates core services through the documented tokens. */
import 'reflect-metadata'; // tsyringe needs it before it loads (core imports it too)
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import pino from 'pino';
import { type DependencyContainer, container as root } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CACHE,
  Cache,
  CLASSIFIER_HOOK,
  type ClassifierHook,
  classifyError,
  createPipeline,
  DetourError,
  DIRECT,
  decorate,
  ENVIRONMENT,
  type EnvironmentProvider,
  type HttpTransport,
  LOGGER,
  type Pipeline,
  registerCore,
  resolvePipeline,
  TRANSPORT,
} from '../src/index.js';

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

  it('registerCore + resolvePipeline: the same pipeline from a DI user’s own container', async () => {
    const container = root.createChildContainer();
    registerCore(container, { allowPrivateNetwork: true, ca: lab.ca });
    const pipeline = track(resolvePipeline(container));
    expect(pipeline.strategyNames).toEqual(['direct', 'direct-bypass']);
    expect((await pipeline.fetch(`${lab.https.url}/image.png`)).strategy).toBe('direct');
  });
});
