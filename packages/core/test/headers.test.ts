import { type Origin, startHttpOrigin, startHttpsOrigin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AttemptRequest,
  checkHeader,
  checkHeaders,
  createPipeline,
  DetourError,
  DetourUsageError,
  type Strategy,
} from '../src/internal.js';

const SECRET = 'Bearer TOPSECRET';

function refusal(run: () => unknown): DetourUsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DetourUsageError);
    expect(error).toMatchObject({ failureClass: 'blocked', code: 'DETOUR_BAD_HEADER' });
    return error as DetourUsageError;
  }
  throw new Error('not refused');
}

describe('header validation (pure)', () => {
  it.each([
    ['CR LF (request splitting)', `${SECRET}\r\nX-Injected: 1`, 'U+000D'],
    ['a lone LF', `${SECRET}\nx`, 'U+000A'],
    ['NUL', `${SECRET}\u0000`, 'U+0000'],
    ['ESC', `${SECRET}\u001b[31m`, 'U+001B'],
    ['DEL', `${SECRET}\u007f`, 'U+007F'],
    ['a code point above U+00FF', `${SECRET}\u4e2d`, 'U+4E2D'],
  ])(
    'refuses a value with %s, naming the header and the character but never the value',
    (_n, value, char) => {
      const error = refusal(() => checkHeader('authorization', value, '-H'));
      expect(error.message).toContain('authorization');
      expect(error.message).toContain(char);
      expect(error.message).not.toContain('TOPSECRET');
    },
  );

  it('accepts tab, printable ASCII and Latin-1 bytes', () => {
    expect(() => checkHeader('x-a', 'a\tb ~!')).not.toThrow();
    expect(() => checkHeader('x-a', 'caf\u00e9')).not.toThrow();
    expect(() => checkHeader('x-a', '')).not.toThrow();
  });

  it.each([['bad name'], ['x:y'], [''], ['x\r\ny'], ['ünicode']])('refuses the name %j', (name) => {
    refusal(() => checkHeaders({ [name]: 'v' }));
  });

  it('refuses values that are not strings', () => {
    refusal(() => checkHeaders({ 'x-a': undefined as never }));
    refusal(() => checkHeaders({ 'x-a': { toString: () => 'x' } as never }));
  });
});

describe('header validation in the pipeline', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startHttpsOrigin();
  });
  afterAll(async () => {
    await origin?.close();
  });

  it('refuses bad pipeline headers and header profiles when the pipeline is built', () => {
    refusal(() => createPipeline({ headers: { 'x-bot': 'a\r\nb' } }));
    refusal(() => createPipeline({ headers: { 'bad name': 'v' } }));
    refusal(() =>
      createPipeline({ headerProfiles: { mine: { headers: { 'x-a': 'v\n' } } }, headersProfile: 'mine' }),
    );
  });

  it('refuses bad per-fetch headers before any strategy runs, with no request made', async () => {
    const tried: string[] = [];
    // A strategy that records being asked (pure bookkeeping around the real transport).
    const spy: Strategy = {
      name: 'spy',
      rescues: 'any',
      attempt(req: AttemptRequest) {
        tried.push(req.url.href);
        throw new DetourError('not reached', { failureClass: 'unknown' });
      },
    };
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      use: [spy],
      strategies: ['direct', 'spy'],
    });
    const before = origin.routes.hits('/headers');
    for (const run of [
      () => pipeline.fetch(`${origin.url}/headers`, { headers: { 'x-a': 'v\r\nX-Injected: 1' } }),
      () => pipeline.stream(`${origin.url}/headers`, { headers: { 'x-a': '\u0000' } }),
      () => pipeline.toFile(`${origin.url}/headers`, '/nonexistent/never', { headers: { 'x a': 'v' } }),
      () => pipeline.fetch(`${origin.url}/headers`, { headers: { 'x-a': 'v\n' }, noCache: true }),
    ]) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DetourUsageError);
      expect(error).toMatchObject({ code: 'DETOUR_BAD_HEADER', attempts: [] });
    }
    await pipeline.close();
    expect(tried).toEqual([]);
    expect(origin.routes.hits('/headers')).toBe(before);
  });
});

describe('framing, hop-by-hop and Host headers (issue 22 item 5)', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startHttpOrigin();
  });
  afterAll(async () => {
    await origin?.close();
  });

  const FORBIDDEN = [
    'Content-Length',
    'transfer-encoding',
    'Connection',
    'keep-alive',
    'Upgrade',
    'TE',
    'Trailer',
    'Proxy-Authorization',
    'proxy-connection',
    'Proxy-Anything',
    'Host',
  ];

  it.each(FORBIDDEN)('checkHeader refuses %s, naming it', (name) => {
    const error = refusal(() => checkHeader(name, '40', '-H'));
    expect(error.message).toContain(name);
    expect(error.message).toContain('set by the transport');
  });

  it('accepts ordinary headers whose names only look close (x-content-length, proxyish)', () => {
    expect(() => checkHeaders({ 'x-content-length': '1', proxyish: '1', 'x-host': 'a' })).not.toThrow();
  });

  it('a fetch carrying any of them is refused before any request reaches the real origin', async () => {
    const pipeline = createPipeline({ allowPrivateNetwork: true, strategies: ['direct'] });
    const before = origin.routes.hits('/headers');
    for (const name of FORBIDDEN) {
      const error = await pipeline
        .fetch(`${origin.url}/headers`, { headers: { [name]: name === 'Host' ? 'internal.example' : '40' } })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(DetourUsageError);
      expect(error).toMatchObject({ code: 'DETOUR_BAD_HEADER', attempts: [] });
    }
    // The pipeline's own headers too (an operator's mistake would desynchronise every fetch).
    refusal(() => createPipeline({ headers: { 'Transfer-Encoding': 'chunked' } }));
    // A normal fetch on the same pipeline still works: nothing was sent, nothing desynchronised.
    const ok = await pipeline.fetch(`${origin.url}/headers`, { noCache: true });
    expect(ok.status).toBe(200);
    await pipeline.close();
    expect(origin.routes.hits('/headers')).toBe(before + 1);
  });
});
