import { once } from 'node:events';
import {
  type AttemptRecord,
  type AttemptRequest,
  createPipeline,
  type DetourError,
  type ExpectKind,
} from '@detour/core';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeFailures,
  PlaceholderStrategy,
  REASON_HEADER,
  TRANSPARENT_GIF,
  TRANSPARENT_PNG,
} from '../src/index.js';

const failure = (
  strategy: string,
  failureClass: AttemptRecord['failureClass'],
  code?: string,
): AttemptRecord => ({
  strategy,
  route: 'direct',
  outcome: 'failed',
  failureClass,
  ...(code ? { code } : {}),
  ms: 1,
});

const request = (url: string, failures: AttemptRecord[], expect: ExpectKind = 'any', accept?: string) =>
  ({ url: new URL(url), failures, expect, headers: accept ? { accept } : {} }) as unknown as AttemptRequest;

describe('PlaceholderStrategy', () => {
  const strategy = new PlaceholderStrategy();
  const tls = [failure('direct', 'tls-handshake', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE')];

  it.each([
    [
      'https://a.example/x.png',
      [],
      'any',
      undefined,
      'nothing has failed yet (placeholder is a last resort)',
    ],
    ['https://a.example/x.png', tls, 'any', undefined, true],
    ['https://a.example/download?rkey=1', tls, 'image', undefined, true],
    ['https://a.example/download?rkey=1', tls, 'any', 'image/webp,image/*,*/*;q=0.8', true],
    ['https://a.example/download?rkey=1', tls, 'any', undefined, 'not an image request'],
    ['https://a.example/voice.silk', tls, 'any', '*/*', 'not an image request'],
    ['https://a.example/page', tls, 'any', 'text/html,image/*;q=0.5', 'not an image request'],
  ] as const)(
    'applies(%s after %j, expect %s, Accept %s) → %s',
    (url, failures, expect_, accept, expected) => {
      expect(strategy.applies(request(url, [...failures], expect_, accept))).toBe(expected);
    },
  );

  it('onlyImages: false stands in for anything', () => {
    expect(
      new PlaceholderStrategy({ onlyImages: false }).applies(request('https://a.example/v.silk', tls)),
    ).toBe(true);
  });

  it('answers 200, degraded, typed, uncacheable, with the reason in a header', async () => {
    const failures = [...tls, failure('curl', 'timeout', 'CURL_E28')];
    const response = await strategy.attempt(
      request('https://a.example/x.gif', failures),
      new AbortController().signal,
    );
    expect(response).toMatchObject({ status: 200, degraded: true, finalUrl: 'https://a.example/x.gif' });
    expect(response.headers).toEqual({
      'content-type': 'image/gif',
      'content-length': String(TRANSPARENT_GIF.body.length),
      'cache-control': 'no-store',
      [REASON_HEADER]: 'direct: tls-handshake ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE; curl: timeout CURL_E28',
    });
    const chunks: Buffer[] = [];
    response.body.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(response.body, 'end');
    expect(Buffer.concat(chunks)).toEqual(TRANSPARENT_GIF.body);
  });

  it('keeps the reason header-safe', () => {
    expect(describeFailures([failure('x\r\ny', 'unknown', 'é')])).toBe('x??y: unknown ?');
  });

  it('refuses a caller image that is not an image', () => {
    expect(
      () => new PlaceholderStrategy({ image: { body: Buffer.from('<html>'), contentType: 'image/png' } }),
    ).toThrow(/must be the bytes of an image/);
    expect(() => new PlaceholderStrategy({ image: { body: LAB_PNG, contentType: 'text/html' } })).toThrow(
      /image\/… type/,
    );
  });

  it('does not answer after its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      strategy.attempt(request('https://a.example/x.png', tls), controller.signal),
    ).rejects.toThrow();
  });
});

describe('placeholder in the pipeline, against the lab', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  const pipeline = (strategy = new PlaceholderStrategy()) =>
    createPipeline({
      allowPrivateNetwork: true,
      ca: lab.ca,
      use: [strategy],
      strategies: ['direct', 'placeholder'],
    });

  it('stands in when TLS is broken: degraded, the failure kept in the attempts', async () => {
    const p = pipeline();
    const result = await p.fetch(`${lab.downgrade.shared.httpsUrl}/image.png`, { expect: 'image' });
    await p.close();
    expect(result).toMatchObject({
      strategy: 'placeholder',
      degraded: true,
      status: 200,
      contentType: 'image/png',
    });
    expect(result.body.equals(TRANSPARENT_PNG.body)).toBe(true);
    expect(result.attempts.map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
      ['direct', 'failed', 'tls-handshake'],
      ['placeholder', 'ok', undefined],
    ]);
  });

  it('serves the caller’s image', async () => {
    const p = pipeline(new PlaceholderStrategy({ image: { body: LAB_PNG, contentType: 'image/png' } }));
    const result = await p.fetch(`${lab.certOrigins.expired.url}/photo`, { expect: 'image' });
    await p.close();
    expect(result).toMatchObject({ strategy: 'placeholder', degraded: true });
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(result.attempts[0]?.failureClass).toBe('tls-certificate');
  });

  it.each([
    ['/status/404', 'http-status'],
    ['/status/403', 'http-status'],
  ])('never after a terminal failure: %s', async (path, failureClass) => {
    const p = pipeline();
    const error = (await p
      .fetch(`${lab.https.url}${path}`, { expect: 'image' })
      .catch((e) => e)) as DetourError;
    await p.close();
    expect(error.failureClass).toBe(failureClass);
    // Never run: listed as not reached (the whole plan in every trace), with why.
    expect(error.attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['direct', 'failed'],
      ['placeholder', 'skipped'],
    ]);
    expect(error.attempts[1]!.message).toMatch(/^not tried: direct ended the fetch/);
  });

  it('never for a caller abort', async () => {
    const p = pipeline();
    const controller = new AbortController();
    const pending = p.fetch(`${lab.https.url}/stall-after-headers`, {
      expect: 'image',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const error = (await pending.catch((e) => e)) as DetourError;
    await p.close();
    expect(error.failureClass).toBe('aborted');
    expect(error.attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['direct', 'failed'],
      ['placeholder', 'skipped'],
    ]);
    expect(error.attempts[1]!.message).toBe('the fetch was aborted before its turn');
  });

  it('not for a non-image download', async () => {
    const p = pipeline();
    const error = (await p
      .fetch(`${lab.downgrade.shared.httpsUrl}/voice.silk`)
      .catch((e) => e)) as DetourError;
    await p.close();
    expect(error.attempts.at(-1)).toMatchObject({
      strategy: 'placeholder',
      outcome: 'skipped',
      message: 'not an image request',
    });
  });
});
