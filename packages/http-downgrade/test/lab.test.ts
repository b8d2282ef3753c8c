/** http-downgrade against the lab's origin that speaks HTTP but breaks TLS, on 127.0.0.1. */
import { createPipeline, type DetourError, type FetchOptions, type PipelineOptions } from '@detour/core';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpDowngradeOptions, HttpDowngradeStrategy } from '../src/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

async function run(
  url: string,
  downgrade: HttpDowngradeOptions,
  options: PipelineOptions = {},
  fetch: FetchOptions = {},
) {
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    ca: lab.ca,
    use: [new HttpDowngradeStrategy(downgrade)],
    strategies: ['direct', 'http-downgrade'],
    ...options,
  });
  try {
    return await pipeline.fetch(url, fetch);
  } catch (error) {
    return error as DetourError;
  } finally {
    await pipeline.close();
  }
}

const ok = <T>(result: T | DetourError): T => {
  if (result instanceof Error) throw result;
  return result;
};

describe('an opted-in host whose TLS is broken', () => {
  it('same port: https fails with a handshake alert, http:// on that port wins, marked downgraded', async () => {
    const { shared } = lab.downgrade;
    const result = ok(await run(`${shared.httpsUrl}/image.png?rkey=abc`, { hosts: ['localhost'] }));
    expect(result).toMatchObject({
      strategy: 'http-downgrade',
      downgraded: true,
      insecure: false,
      finalUrl: `${shared.httpUrl}/image.png?rkey=abc`,
    });
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(result.attempts.map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
      ['direct', 'failed', 'tls-handshake'],
      ['http-downgrade', 'ok', undefined],
    ]);
    expect(result.attempts[1]?.downgraded).toBe(true);
  });

  it('another port through the port map (`host:httpsPort` → httpPort)', async () => {
    const { httpsUrl, http } = lab.downgrade;
    const httpsPort = new URL(httpsUrl).port;
    const result = ok(
      await run(`${httpsUrl}/image.png`, {
        hosts: ['localhost'],
        ports: { [`localhost:${httpsPort}`]: http.port },
      }),
    );
    expect(result).toMatchObject({
      strategy: 'http-downgrade',
      downgraded: true,
      finalUrl: `${http.url}/image.png`,
    });
    expect(http.routes.hits('/image.png')).toBeGreaterThan(0);
  });

  it('without a port map the explicit port is kept (and here that port only breaks TLS)', async () => {
    const error = (await run(`${lab.downgrade.httpsUrl}/image.png`, { hosts: ['localhost'] })) as DetourError;
    expect(error).toBeInstanceOf(Error);
    expect(error.attempts.map((a) => a.strategy)).toEqual(['direct', 'http-downgrade']);
  });

  it('a redirect back to https is followed as any redirect', async () => {
    const target = encodeURIComponent(`${lab.https.url}/image.png`);
    const { httpsUrl, http } = lab.downgrade;
    const ports = { [`localhost:${new URL(httpsUrl).port}`]: http.port };
    const result = ok(await run(`${httpsUrl}/redirect-to?url=${target}`, { hosts: ['localhost'], ports }));
    expect(result).toMatchObject({
      strategy: 'http-downgrade',
      downgraded: true,
      finalUrl: `${lab.https.url}/image.png`,
    });
  });

  it('credentials are not sent in plaintext unless asked', async () => {
    const { httpsUrl, http } = lab.downgrade;
    const ports = { [`localhost:${new URL(httpsUrl).port}`]: http.port };
    const headers = { authorization: 'Bearer secret', cookie: 'sid=1', 'x-keep': 'yes' };
    const dropped = ok(await run(`${httpsUrl}/headers`, { hosts: ['localhost'], ports }, {}, { headers }));
    const seen = JSON.parse(dropped.body.toString());
    expect(seen).toMatchObject({ 'x-keep': 'yes' });
    expect(seen.authorization).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    const kept = ok(
      await run(
        `${httpsUrl}/headers`,
        { hosts: ['localhost'], ports, sendCredentials: true },
        {},
        { headers },
      ),
    );
    expect(JSON.parse(kept.body.toString())).toMatchObject({
      authorization: 'Bearer secret',
      cookie: 'sid=1',
    });
  });

  it('through the route: an HTTP proxy carries the downgraded request', async () => {
    const { shared } = lab.downgrade;
    const result = ok(
      await run(`${shared.httpsUrl}/image.png`, { hosts: ['localhost'] }, { proxy: lab.proxies.http.url }),
    );
    expect(result.strategy).toBe('http-downgrade');
    expect(result.attempts.map((a) => a.route)).toEqual([lab.proxies.http.url, lab.proxies.http.url]);
  });
});

describe('what it does not do', () => {
  it('skips hosts not opted in', async () => {
    const error = (await run(`${lab.downgrade.shared.httpsUrl}/image.png`, {
      hosts: ['*.qpic.cn'],
    })) as DetourError;
    expect(error.attempts.map((a) => [a.strategy, a.outcome, a.message])).toEqual([
      ['direct', 'failed', expect.any(String)],
      ['http-downgrade', 'skipped', 'localhost is not opted in to downgrade'],
    ]);
  });

  it.each(['expired', 'selfSigned', 'wrongHost'] as const)(
    '%s certificate: not rescued even for an opted-in host',
    async (name) => {
      const error = (await run(`${lab.certOrigins[name].url}/image.png`, {
        hosts: ['localhost'],
      })) as DetourError;
      expect(error.failureClass).toBe('tls-certificate');
      expect(error.attempts[1]).toMatchObject({
        strategy: 'http-downgrade',
        outcome: 'skipped',
        message: 'cannot rescue tls-certificate',
      });
    },
  );

  it('does not run after a 404 (terminal)', async () => {
    const error = (await run(`${lab.https.url}/status/404`, { hosts: ['localhost'] })) as DetourError;
    // Listed as never reached, with why (the whole plan in every trace), never attempted.
    expect(error.attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['direct', 'failed'],
      ['http-downgrade', 'skipped'],
    ]);
    expect(error.attempts[1]!.message).toMatch(/^not tried: direct ended the fetch/);
  });
});
