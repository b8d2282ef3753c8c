import { getEventListeners } from 'node:events';
import { syncBuiltinESMExports } from 'node:module';
import tls from 'node:tls';
import { labCerts, type Origin, startHttpsOrigin } from '@detour/lab';
import { AbortError, Options, TimeoutError } from 'got';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRECT, type TransportRequest } from '../src/internal.js';
import { AttemptSignal } from '../src/run/attempt-signal.js';
import { AgentPool } from '../src/transport/agents.js';
import { emptyCacheOptions, Transport } from '../src/transport/transport.js';

/** A lab HTTPS origin and a transport for the tests of one describe block, both closed after them. */
function useOriginAndTransport(): { origin: Origin; transport: Transport } {
  const lab = { origin: undefined as unknown as Origin, transport: new Transport() };
  beforeAll(async () => {
    lab.origin = await startHttpsOrigin();
  });
  afterAll(async () => {
    lab.transport.close();
    await lab.origin.close();
  });
  return lab;
}

// D35: got 14 spreads `cacheOptions` into every request's options for Node; a non-empty object
// there sends V8 (Node 20) down a slow path (~45 µs a request). The transport empties it per request.
describe('the transport and got 14', () => {
  it('got still defaults cacheOptions to an object with keys (the reason for the hook)', () => {
    const options = new Options('https://127.0.0.1/file');
    expect(Object.keys(options.cacheOptions).length).toBeGreaterThan(0);
  });

  it('emptyCacheOptions replaces it with an empty object, and got builds its request options without them', () => {
    const options = new Options('https://127.0.0.1/file', { https: { rejectUnauthorized: true } });
    emptyCacheOptions(options as never);
    expect(options.cacheOptions).toEqual({});
    const native = options.createNativeRequestOptions() as Record<string, unknown>;
    for (const key of ['shared', 'cacheHeuristic', 'immutableMinTimeToLive', 'ignoreCargoCult'])
      expect(native).not.toHaveProperty(key);
    expect(native.rejectUnauthorized).toBe(true);
    expect(native.method).toBe('GET');
  });
});

describe('the transport reuses the last got instance only for the same settings', () => {
  const lab = useOriginAndTransport();

  const get = async (tls: TransportRequest['tls']): Promise<number> => {
    const res = await lab.transport.request(
      {
        url: new URL(`${lab.origin.url}/image.png`),
        headers: {},
        route: DIRECT,
        tls,
        allowPrivateNetwork: true,
      },
      new AbortController().signal,
    );
    res.body.resume();
    return res.status;
  };

  it('a strict request after a trusting one still verifies the certificate (real TLS origin)', async () => {
    const trusting = { rejectUnauthorized: true, ca: [labCerts().ca.cert] };
    const strict = { rejectUnauthorized: true };
    const insecure = { rejectUnauthorized: false };
    expect(await get(trusting)).toBe(200);
    expect(await get(trusting)).toBe(200); // the same objects: the last instance
    await expect(get(strict)).rejects.toThrow(/certificate/i); // the lab CA is not in Node's roots
    expect(await get(insecure)).toBe(200);
    await expect(get(strict)).rejects.toThrow(/certificate/i);
    expect(await get(trusting)).toBe(200);
  });
});

describe('one secure context per agent pair, Node’s default trust included', () => {
  const origins: Origin[] = [];
  const transport = new Transport();
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) origins.push(await startHttpsOrigin());
  });
  afterAll(async () => {
    transport.close();
    await Promise.all(origins.map((o) => o.close()));
  });

  it('opens new connections without building a context for each (real TLS origins)', async () => {
    // Node's tls.connect() builds a context through the module's own export when none is given;
    // Detour's agents build theirs through their import, which this does not see.
    const built: unknown[] = [];
    const original = tls.createSecureContext;
    tls.createSecureContext = (options) => {
      built.push(options);
      return original(options);
    };
    try {
      for (const tlsOptions of [
        { rejectUnauthorized: false },
        { rejectUnauthorized: true, ca: [labCerts().ca.cert] },
      ]) {
        for (const origin of origins) {
          // A new origin is a new connection.
          const res = await transport.request(
            {
              url: new URL(`${origin.url}/image.png`),
              headers: {},
              route: DIRECT,
              tls: tlsOptions,
              allowPrivateNetwork: true,
            },
            new AbortController().signal,
          );
          res.body.resume();
          expect(res.status).toBe(200);
        }
      }
    } finally {
      tls.createSecureContext = original;
    }
    expect(built).toEqual([]);
  });
});

// The transport does not hand its signal to got (got's EventTarget listener costs ~4 µs a request):
// it destroys the request itself, with the error got's `signal` option would give.
describe('the transport stops a request when its signal aborts (real TLS origin)', () => {
  const lab = useOriginAndTransport();
  const request = (path: string, signal: AbortSignal) =>
    lab.transport.request(
      {
        url: new URL(`${lab.origin.url}${path}`),
        headers: {},
        route: DIRECT,
        tls: { rejectUnauthorized: true, ca: [labCerts().ca.cert] },
        allowPrivateNetwork: true,
      },
      signal,
    );

  it('before the headers: an AbortError (ERR_ABORTED), and no listener left on the signal', async () => {
    const controller = new AbortController();
    const pending = request('/stall-head', controller.signal);
    setTimeout(() => controller.abort(), 50);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it("a reason named TimeoutError gives got's TimeoutError, as its signal option does", async () => {
    const controller = new AbortController();
    const pending = request('/stall-head', controller.signal);
    setTimeout(() => controller.abort(new DOMException('too slow', 'TimeoutError')), 50);
    await expect(pending).rejects.toBeInstanceOf(TimeoutError);
  });

  it('mid-body, through an attempt signal: the body errors, and the signal has no EventTarget listener', async () => {
    const caller = new AbortController();
    const attempt = new AttemptSignal(Date.now() + 60_000, caller.signal);
    const res = await request('/stall-after-headers', attempt.signal);
    expect(getEventListeners(attempt.signal, 'abort')).toHaveLength(0);
    const failed = new Promise((resolve) => res.body.once('error', resolve));
    res.body.resume();
    caller.abort();
    expect(await failed).toBeInstanceOf(AbortError);
    attempt.dispose();
  });

  it('an already aborted signal never reaches the network', async () => {
    const controller = new AbortController();
    controller.abort(new Error('before'));
    await expect(request('/image.png', controller.signal)).rejects.toThrow('before');
  });
});

// D37: `ca` as Node's roots plus others (the pipeline's `ca` option) starts from Node's default roots
// and adds only the others: given whole, the ~140 roots were parsed from PEM again (~60 ms).
describe("a `ca` list of Node's roots and more (real TLS origins)", () => {
  let origin: Origin;
  let selfSigned: Origin;
  beforeAll(async () => {
    origin = await startHttpsOrigin();
    selfSigned = await startHttpsOrigin({ cert: labCerts().selfSigned });
  });
  afterAll(async () => {
    await origin.close();
    await selfSigned.close();
  });

  it('trusts the added CA and nothing else; the roots are not passed again as a `ca` option', async () => {
    const built: { ca?: unknown }[] = [];
    const original = tls.createSecureContext;
    tls.createSecureContext = (options) => {
      built.push({ ...options });
      return original(options);
    };
    syncBuiltinESMExports(); // so agents.ts's own import sees the spy
    const pool = new AgentPool();
    try {
      pool.for(DIRECT, { rejectUnauthorized: true, ca: [...tls.rootCertificates, labCerts().ca.cert] });
      pool.for(DIRECT, { rejectUnauthorized: true, ca: [labCerts().ca.cert] });
    } finally {
      tls.createSecureContext = original;
      syncBuiltinESMExports();
      pool.destroy();
    }
    expect(built).toHaveLength(2);
    expect(built[0]).not.toHaveProperty('ca');
    expect(built[1]!.ca).toEqual([labCerts().ca.cert]); // only its own CA: Node's roots are not added

    const transport = new Transport();
    const tlsOptions = { rejectUnauthorized: true, ca: [...tls.rootCertificates, labCerts().ca.cert] };
    const get = (o: Origin) =>
      transport.request(
        {
          url: new URL(`${o.url}/image.png`),
          headers: {},
          route: DIRECT,
          tls: tlsOptions,
          allowPrivateNetwork: true,
        },
        new AbortController().signal,
      );
    try {
      const res = await get(origin);
      res.body.resume();
      expect(res.status).toBe(200);
      await expect(get(selfSigned)).rejects.toThrow(/self[- ]signed|certificate/i);
    } finally {
      transport.close();
    }
  });
});
