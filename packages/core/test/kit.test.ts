import { describe, expect, it } from 'vitest';
import {
  acceptsEncoding,
  CREDENTIAL_HEADERS,
  DetourError,
  DIRECT,
  type FollowOptions,
  followWithRetries,
  type Hop,
  headerString,
  type ResponseHead,
  routeFromProxyUrl,
  withoutCredentials,
} from '../src/internal.js';

/** A scripted client: each call to send() takes the next step (a response or an error). */
function scripted(steps: Array<ResponseHead | Error>, route = DIRECT, limits = {}) {
  const hops: Hop[] = [];
  let discarded = 0;
  const options: FollowOptions<ResponseHead> = {
    url: new URL('https://a.example/start'),
    headers: { authorization: 'Bearer x', cookie: 'c=1', accept: '*/*' },
    route,
    limits: { maxRedirects: 3, maxRetries: 2, maxRetryAfterMs: 5_000, ...limits },
    send: async (hop) => {
      hops.push(hop);
      const step = steps.shift();
      if (!step) throw new Error('script ran out');
      if (step instanceof Error) throw step;
      return step;
    },
    discard: () => {
      discarded++;
    },
  };
  return { options, hops, discarded: () => discarded };
}

const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const redirect = (location: string, status = 302): ResponseHead => ({ status, headers: { location } });
const ok: ResponseHead = { status: 200, headers: {} };

describe('followWithRetries (the one redirect-and-retry loop of core and curl)', () => {
  it('follows redirects hop by hop, dropping credentials when the origin changes', async () => {
    const s = scripted([redirect('/same'), redirect('https://b.example/other', 301), ok]);
    const followed = await followWithRetries(s.options, new AbortController().signal);
    expect(followed.url.toString()).toBe('https://b.example/other');
    expect(s.hops.map((h) => h.url.toString())).toEqual([
      'https://a.example/start',
      'https://a.example/same',
      'https://b.example/other',
    ]);
    expect(s.hops[1]!.headers.authorization).toBe('Bearer x');
    expect(s.hops[2]!.headers).toEqual({ accept: '*/*' });
    expect(s.discarded()).toBe(2);
  });

  it('stops past maxRedirects (terminal ERR_TOO_MANY_REDIRECTS) and refuses non-http(s) targets', async () => {
    const loop = scripted([redirect('/1'), redirect('/2'), redirect('/3'), redirect('/4'), ok]);
    await expect(followWithRetries(loop.options, new AbortController().signal)).rejects.toMatchObject({
      failureClass: 'http-status',
      code: 'ERR_TOO_MANY_REDIRECTS',
    });
    const file = scripted([redirect('file:///etc/passwd')]);
    await expect(followWithRetries(file.options, new AbortController().signal)).rejects.toMatchObject({
      failureClass: 'blocked',
      code: 'ERR_UNSUPPORTED_PROTOCOL',
    });
  });

  it('retries 5xx and honours Retry-After up to maxRetryAfterMs', async () => {
    const s = scripted([{ status: 503, headers: { 'retry-after': '0' } }, { status: 502, headers: {} }, ok]);
    const followed = await followWithRetries(s.options, new AbortController().signal);
    expect(followed).toMatchObject({ retries: 2, response: ok });
    const long = scripted([{ status: 503, headers: { 'retry-after': '3600' } }, ok]);
    const answered = await followWithRetries(long.options, new AbortController().signal);
    expect(answered.response.status).toBe(503); // too long a wait: the attempt fails on its status
    expect(long.hops).toHaveLength(1);
  });

  it('retries a reset on a direct route, never through a proxy (D11)', async () => {
    const direct = scripted([reset(), ok]);
    expect((await followWithRetries(direct.options, new AbortController().signal)).retries).toBe(1);
    const proxied = scripted([reset(), ok], routeFromProxyUrl('http://127.0.0.1:7890'));
    await expect(followWithRetries(proxied.options, new AbortController().signal)).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(proxied.hops).toHaveLength(1);
  });

  it('gives up at maxRetries and never retries after an abort', async () => {
    const s = scripted([reset(), reset(), reset(), ok]);
    await expect(followWithRetries(s.options, new AbortController().signal)).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(s.hops).toHaveLength(3);
    const controller = new AbortController();
    controller.abort(new DetourError('stop', { failureClass: 'aborted', code: 'ABORT_ERR' }));
    const aborted = scripted([ok]);
    await expect(followWithRetries(aborted.options, controller.signal)).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
    expect(aborted.hops).toHaveLength(0);
  });
});

describe('header helpers', () => {
  it('one credential list, one header reader', () => {
    expect(CREDENTIAL_HEADERS).toEqual(['authorization', 'cookie', 'proxy-authorization']);
    expect(withoutCredentials({ Authorization: 'a', 'proxy-authorization': 'b', accept: 'x' })).toEqual({
      accept: 'x',
    });
    expect(headerString(['a', 'b'])).toBe('a');
    expect(headerString('a')).toBe('a');
    expect(headerString(undefined)).toBeUndefined();
    expect(acceptsEncoding({ 'Accept-Encoding': 'gzip' })).toBe(true);
    expect(acceptsEncoding({ 'accept-encoding': ' identity ' })).toBe(false);
    expect(acceptsEncoding({})).toBe(false);
  });
});
