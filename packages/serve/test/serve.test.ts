import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DetourServer, startServer } from '../src/index.js';
import { call } from './http.js';

let lab: Lab;
let server: DetourServer;
const sha = (body: Buffer) => createHash('sha256').update(body).digest('hex');
const q = (url: string, extra = '') => `${server.url}/v1/fetch?url=${encodeURIComponent(url)}${extra}`;

beforeAll(async () => {
  lab = await startLab();
  server = await startServer({
    port: 0,
    redetectMs: 0,
    detour: { allowPrivateNetwork: true, proxy: false, ca: lab.ca, env: {}, logLevel: 'silent' },
  });
});
afterAll(async () => {
  await server?.close(1000);
  await lab?.close();
});

describe('GET /v1/fetch', () => {
  it('streams the body with the Detour headers; a repeat is a cache hit with the SHA-256 up front', async () => {
    const url = `${lab.https.url}/image.png?n=first`;
    const first = await call(q(url, '&expect=image'));
    expect(first.status).toBe(200);
    expect(first.body.equals(LAB_PNG)).toBe(true);
    expect(first.headers['content-type']).toBe('image/png');
    expect(first.headers['content-length']).toBe(String(LAB_PNG.length));
    expect(first.headers['x-detour-strategy']).toBe('direct');
    expect(first.headers['x-detour-degraded']).toBe('false');
    expect(first.headers['x-detour-from-cache']).toBe('false');
    expect(first.headers['x-detour-format']).toBe('png');
    // Every planned strategy is in the header: those after the winner as skipped, with why (D83).
    const attempts = JSON.parse(String(first.headers['x-detour-attempts']));
    expect(attempts).toEqual([
      { strategy: 'direct', route: 'direct', outcome: 'ok', ms: expect.any(Number), status: 200 },
      ...['tls-relaxed', 'curl'].map((strategy) => ({
        strategy,
        route: 'direct',
        outcome: 'skipped',
        ms: 0,
        message: 'not needed: direct succeeded',
      })),
    ]);
    const again = await call(q(url, '&expect=image'));
    expect(again.status).toBe(200);
    expect(again.body.equals(LAB_PNG)).toBe(true);
    expect(again.headers['x-detour-from-cache']).toBe('true');
    expect(again.headers['x-detour-strategy']).toBe('direct');
    expect(again.headers['x-detour-sha256']).toBe(sha(LAB_PNG));
    // A cache hit planned nothing: its one row says where the bytes came from.
    expect(JSON.parse(String(again.headers['x-detour-attempts']))).toEqual([
      { strategy: 'cache', route: 'memory', outcome: 'ok', ms: expect.any(Number), status: 200 },
    ]);
    expect(lab.https.routes.hits('/image.png')).toBeGreaterThanOrEqual(1);
  });

  it('without a Content-Length, sends the SHA-256 as a trailer of a chunked body', async () => {
    const answer = await call(q(`${lab.https.url}/big?bytes=300000&chunked=1`));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.body.length).toBe(300_000);
    expect(answer.trailers['x-detour-sha256']).toBe(sha(answer.body));
  });

  it('maps failure classes to statuses with the `detour fetch --json` failure body', async () => {
    const notImage = await call(q(`${lab.https.url}/html`, '&expect=image'));
    expect(notImage.status).toBe(422);
    expect(notImage.json()).toMatchObject({
      ok: false,
      url: `${lab.https.url}/html`,
      strategy: null,
      degraded: false,
      fromCache: false,
      error: { failureClass: 'content-invalid' },
    });
    expect(notImage.json().attempts?.length).toBeGreaterThan(0);

    const tooLarge = await call(`${server.url}/v1/fetch`, {
      body: { url: `${lab.https.url}/big?bytes=100000`, maxBytes: 1000 },
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json().error).toMatchObject({ failureClass: 'too-large' });

    const slow = await call(`${server.url}/v1/fetch`, {
      body: { url: `${lab.https.url}/stall-after-headers`, expect: 'image', timeoutMs: 600 },
    });
    expect(slow.status).toBe(504);
    expect(slow.json().error).toMatchObject({ failureClass: 'timeout' });

    const missing = await call(q(`${lab.https.url}/status/404`));
    expect(missing.status).toBe(502);
    expect(missing.json().error).toMatchObject({ failureClass: 'http-status' });

    const scheme = await call(q('file:///etc/passwd'));
    expect(scheme.status).toBe(400);
    expect(scheme.json().error).toMatchObject({ code: 'DETOUR_BAD_SCHEME' });

    const strategy = await call(`${server.url}/v1/fetch`, {
      body: { url: `${lab.https.url}/image.png`, strategies: ['teleport'] },
    });
    expect(strategy.status).toBe(400);
    expect(strategy.json().error).toMatchObject({ code: 'DETOUR_UNKNOWN_STRATEGY' });
  });

  it('expectBytes reaches core: a size other than announced is content-invalid (422)', async () => {
    const wrong = await call(q(`${lab.https.url}/image.png?n=size`, `&expectBytes=${LAB_PNG.length + 1}`));
    expect(wrong.status).toBe(422);
    expect(wrong.json().error).toMatchObject({ code: 'DETOUR_SIZE_MISMATCH' });
    const right = await call(`${server.url}/v1/fetch`, {
      body: { url: `${lab.https.url}/image.png?n=size-ok`, expectBytes: LAB_PNG.length },
    });
    expect(right.status).toBe(200);
  });

  it('a failure after the headers went out cuts the response short: never a complete 200', async () => {
    const outcome = await call(q(`${lab.http.url}/reset-mid-body`)).then(
      (answer) => (answer.status === 200 ? 'complete 200' : `status ${answer.status}`),
      (error: NodeJS.ErrnoException) => `error ${error.code ?? error.message}`,
    );
    expect(outcome).not.toBe('complete 200');
  });

  it('a bot that hangs up stops the download', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(q(`${lab.http.url}/big?bytes=${40 * 1024 * 1024}`), (res) => {
        expect(res.statusCode).toBe(200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.once('error', (error) => (req.destroyed ? undefined : reject(error)));
      req.end();
    });
    let inFlight = '';
    for (let i = 0; i < 50; i++) {
      const metrics = (await call(`${server.url}/metrics`)).body.toString();
      inFlight = /^detour_fetches_in_flight (\d+)/m.exec(metrics)?.[1] ?? '';
      if (inFlight === '0') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(inFlight).toBe('0');
  });
});

describe('request validation', () => {
  it('refuses unknown fields, wrong types, bad URLs and missing ones with 400 and a clear message', async () => {
    const cases: Array<[string, Parameters<typeof call>[1] | undefined, RegExp]> = [
      [
        `${server.url}/v1/fetch`,
        { body: { url: 'https://a.example/x', colour: 'red' } },
        /unknown field "colour"/,
      ],
      [
        `${server.url}/v1/fetch`,
        { body: { url: 'https://a.example/x', timeoutMs: '5' } },
        /timeoutMs must be integer/,
      ],
      [
        `${server.url}/v1/fetch`,
        { body: { url: 'https://a.example/x', expect: 'sound' } },
        // The front-end kit's message, as `detour fetch --expect sound` gives (D86).
        /--expect takes one of image, audio, video, media, any, got "sound"/,
      ],
      [
        `${server.url}/v1/fetch`,
        { body: { url: 'https://a.example/x', headers: { 'bad name': 'x' } } },
        /property name/,
      ],
      [`${server.url}/v1/fetch`, { body: { expect: 'image' } }, /must have required property 'url'/],
      [`${server.url}/v1/fetch?url=x&colour=red`, undefined, /unknown query parameter "colour"/],
      // A POST-only field in a GET query is named too (GET takes url, expect, expectBytes, convert, sampleRate).
      [`${server.url}/v1/fetch?url=x&timeoutMs=5`, undefined, /unknown query parameter "timeoutMs"/],
      [
        `${server.url}/v1/fetch?url=https%3A%2F%2Fa.example%2F&expectBytes=-1`,
        undefined,
        /--expect-bytes \/ expectBytes takes a whole number from 0, got "-1"/,
      ],
      [`${server.url}/v1/fetch?url=not%20a%20url`, undefined, /not a valid URL|invalid URL|URL/i],
    ];
    for (const [url, init, message] of cases) {
      const answer = await call(url, init);
      expect(answer.status, url).toBe(400);
      const body = answer.json();
      expect(body.ok).toBe(false);
      expect(String(body.error?.message), JSON.stringify(init?.body)).toMatch(message);
    }
  });
});

describe('detect, health, metrics', () => {
  it('/v1/detect is the `detour detect --json` object; /healthz is {ok:true}', async () => {
    const detect = (await call(`${server.url}/v1/detect`)).json();
    expect(detect).toHaveProperty('proxy');
    expect(detect).toHaveProperty('tun');
    expect(detect).toHaveProperty('fakeIp');
    expect(detect.plan).toEqual(expect.arrayContaining(['direct']));
    expect(detect).toHaveProperty('reasons');
    expect((await call(`${server.url}/healthz`)).json()).toEqual({ ok: true });
  });

  it('/metrics counts fetches by strategy, outcome and class, cache hits by tier, durations', async () => {
    const url = `${lab.https.url}/image.png?n=metrics`;
    await call(q(url));
    await call(q(url));
    const text = (await call(`${server.url}/metrics`)).body.toString();
    expect(text).toMatch(/^detour_fetches_total\{strategy="direct",outcome="ok",failure_class=""\} [1-9]/m);
    expect(text).toMatch(
      /^detour_fetches_total\{strategy="none",outcome="failed",failure_class="content-invalid"\} [1-9]/m,
    );
    expect(text).toMatch(/^detour_cache_hits_total\{tier="memory"\} [1-9]/m);
    expect(text).toMatch(/^detour_fetch_duration_seconds_count\{outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^detour_fetches_in_flight \d/m);
    expect(text).toMatch(/^detour_circuits_open \d/m);
  });
});

describe('auth and policy', () => {
  it('with a token every route but /healthz needs `Authorization: Bearer TOKEN`', async () => {
    const guarded = await startServer({
      port: 0,
      token: 's3cret-token',
      redetectMs: 0,
      detour: { allowPrivateNetwork: true, proxy: false, ca: lab.ca, env: {}, logLevel: 'silent' },
    });
    try {
      const url = `${guarded.url}/v1/fetch?url=${encodeURIComponent(`${lab.https.url}/image.png`)}`;
      expect((await call(`${guarded.url}/healthz`)).status).toBe(200);
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 's3cret-token' }]) {
        const refused = await call(url, { headers });
        expect(refused.status).toBe(401);
        expect(refused.json()).toMatchObject({ ok: false, error: { code: 'DETOUR_UNAUTHORIZED' } });
        expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
      }
      expect((await call(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await call(`${guarded.url}/v1/detect`)).status).toBe(401);
      const ok = await call(url, { headers: { authorization: 'Bearer s3cret-token' } });
      expect(ok.status).toBe(200);
      expect(ok.body.equals(LAB_PNG)).toBe(true);
    } finally {
      await guarded.close(1000);
    }
  });

  it('the SSRF guard applies as for `detour fetch`: private targets are 403 unless allowed', async () => {
    const strict = await startServer({
      port: 0,
      redetectMs: 0,
      detour: { proxy: false, env: {}, logLevel: 'silent' },
    });
    try {
      const answer = await call(
        `${strict.url}/v1/fetch?url=${encodeURIComponent(`${lab.http.ipUrl}/image.png`)}`,
      );
      expect(answer.status).toBe(403);
      expect(answer.json().error).toMatchObject({ failureClass: 'blocked' });
      expect(lab.http.routes.hits('/image.png')).toBe(0);
    } finally {
      await strict.close(1000);
    }
  });

  it('refuses a non-loopback bind without a token', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0 })).rejects.toThrow(/without a token/);
  });
});
