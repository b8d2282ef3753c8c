import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_PNG, type Lab, type Origin, startHttpsOrigin, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, DetourError, type Pipeline, type PipelineOptions } from '../src/internal.js';

let lab: Lab;
const extra: Origin[] = [];
const pipelines: Pipeline[] = [];
let dir: string;

beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'detour-core-'));
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await Promise.all(extra.map((o) => o.close()));
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

function pipeline(options: PipelineOptions = {}): Pipeline {
  const p = createPipeline({ allowPrivateNetwork: true, ca: lab.ca, ...options });
  pipelines.push(p);
  return p;
}

async function failure(promise: Promise<unknown>): Promise<DetourError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DetourError);
  return error as DetourError;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('routes', () => {
  it('fetches directly over HTTPS with strict TLS', async () => {
    const result = await pipeline().fetch(`${lab.https.url}/image.png`, { expect: 'image' });
    expect(result).toMatchObject({ ok: true, strategy: 'direct', degraded: false, fromCache: false });
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(result.bytes).toBe(LAB_PNG.length);
    expect(result.sha256).toBe(sha256(LAB_PNG));
    expect(result.contentType).toBe('image/png');
    // The whole plan is in the trace (D83): direct-bypass, planned after the winner, is listed as skipped.
    expect(result.plan).toEqual(['direct', 'direct-bypass']);
    expect(result.attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', route: 'direct', outcome: 'ok' }),
      {
        strategy: 'direct-bypass',
        route: 'direct',
        outcome: 'skipped',
        ms: 0,
        message: 'not needed: direct succeeded',
      },
    ]);
  });

  it.each([
    ['HTTP CONNECT proxy (tinyproxy)', () => lab.proxies.http.url, () => lab.proxies.http.url],
    ['HTTP proxy with Basic auth', () => lab.proxies.httpAuth.authUrl, () => lab.proxies.httpAuth.url],
    ['SOCKS5 proxy (microsocks)', () => lab.proxies.socks.url, () => lab.proxies.socks.url],
    ['SOCKS5 proxy with auth', () => lab.proxies.socksAuth.authUrl, () => lab.proxies.socksAuth.url],
  ])('fetches through a real %s; the route is recorded without credentials', async (_name, proxy, shown) => {
    const before = lab.https.routes.hits('/image.png');
    const result = await pipeline({ proxy: proxy() }).fetch(`${lab.https.url}/image.png`, {
      expect: 'image',
    });
    expect(result.strategy).toBe('direct');
    expect(result.attempts[0]!.route).toBe(shown());
    expect(result.attempts[0]!.route).not.toContain('lab-secret');
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(lab.https.routes.hits('/image.png')).toBe(before + 1);
  });

  it.each([
    ['HTTP proxy without credentials (407)', () => lab.proxies.httpAuth.url],
    ['HTTP proxy with a wrong password', () => lab.proxies.httpAuth.url.replace('//', '//detour:wrong@')],
    ['SOCKS5 proxy with a wrong password', () => lab.proxies.socksAuth.url.replace('//', '//detour:wrong@')],
    ['proxy port with nothing listening', () => 'http://127.0.0.1:9'],
  ])('classifies a refusing %s as `proxy`, then direct-bypass rescues it', async (_name, proxy) => {
    const result = await pipeline({ proxy: proxy(), maxRetries: 0 }).fetch(`${lab.https.url}/image.png`);
    expect(result.strategy).toBe('direct-bypass');
    expect(result.attempts.map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
      ['direct', 'failed', 'proxy'],
      ['direct-bypass', 'ok', undefined],
    ]);
    expect(result.attempts[1]!.route).toBe('direct');
  });
});

describe('TLS failures', () => {
  it('a server refusing every cipher Node offers fails with a handshake alert: tls-handshake', async () => {
    // Camellia is outside Node 20's default cipher list (!CAMELLIA); the server sends a handshake_failure alert.
    const legacy = await startHttpsOrigin({
      cert: lab.certs.localhostRsa,
      maxVersion: 'TLSv1.2',
      ciphers: 'CAMELLIA128-SHA:@SECLEVEL=0',
    });
    extra.push(legacy);
    const error = await failure(pipeline().fetch(`${legacy.url}/image.png`));
    expect(error.failureClass).toBe('tls-handshake');
    expect(error.code).toMatch(/HANDSHAKE_FAILURE/);
    expect(error.attempts.filter((a) => a.outcome === 'failed')).toHaveLength(1);
  });

  it('a TLS 1.0-only server is refused by the strict client: tls-protocol', async () => {
    const legacy = await startHttpsOrigin({
      cert: lab.certs.localhostRsa,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    extra.push(legacy);
    const error = await failure(pipeline().fetch(`${legacy.url}/image.png`));
    expect(error.failureClass).toBe('tls-protocol');
    expect(error.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it.each([
    ['expired', 'CERT_HAS_EXPIRED'],
    ['selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['wrongHost', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ] as const)('a %s certificate is tls-certificate (%s) and is not retried', async (which, code) => {
    const origin = await startHttpsOrigin({ cert: lab.certs[which] });
    extra.push(origin);
    const error = await failure(pipeline({ proxy: lab.proxies.http.url }).fetch(`${origin.url}/image.png`));
    expect(error.failureClass).toBe('tls-certificate');
    expect(error.code).toBe(code);
    const failed = error.attempts.filter((a) => a.outcome === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.retries).toBeUndefined();
    // direct-bypass cannot rescue a certificate failure: skipped, not tried.
    expect(error.attempts.find((a) => a.strategy === 'direct-bypass')?.outcome).toBe('skipped');
  });

  it('an untrusted root (no lab CA given) is tls-certificate', async () => {
    const error = await failure(
      createPipeline({ allowPrivateNetwork: true }).fetch(`${lab.https.url}/image.png`),
    );
    expect(error.failureClass).toBe('tls-certificate');
    expect(error.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });
});

describe('HTTP status, redirects, retries', () => {
  it('404 stops at once: no other strategy is tried', async () => {
    const error = await failure(
      pipeline({ proxy: lab.proxies.http.url }).fetch(`${lab.https.url}/status/404`),
    );
    expect(error.failureClass).toBe('http-status');
    expect(error.code).toBe('HTTP_404');
    expect(error.status).toBe(404);
    // Tried: direct alone; the rest of the plan is listed as not reached, with why.
    expect(error.plan).toEqual(['direct', 'direct-bypass']);
    expect(error.attempts.map((a) => [a.strategy, a.outcome, a.message?.replace(/ from .*/, '')])).toEqual([
      ['direct', 'failed', 'HTTP 404'],
      ['direct-bypass', 'skipped', 'not tried: direct ended the fetch (http-status HTTP_404)'],
    ]);
  });

  it('follows redirects up to the limit, and no further', async () => {
    const ok = await pipeline({ maxRedirects: 3 }).fetch(`${lab.https.url}/redirect/3`, { expect: 'image' });
    expect(ok.finalUrl).toBe(`${lab.https.url}/image.png`);
    const error = await failure(pipeline({ maxRedirects: 3 }).fetch(`${lab.https.url}/redirect/4`));
    expect(error.code).toBe('ERR_TOO_MANY_REDIRECTS');
    const loop = await failure(pipeline().fetch(`${lab.https.url}/redirect-loop`));
    expect(loop.code).toBe('ERR_TOO_MANY_REDIRECTS');
  });

  it('never follows a redirect to a non-http(s) scheme', async () => {
    const error = await failure(
      pipeline().fetch(`${lab.https.url}/redirect-to?url=${encodeURIComponent('file:///etc/passwd')}`),
    );
    expect(error.failureClass).toBe('blocked');
  });

  it('retries 503 with Retry-After inside the strategy, bounded', async () => {
    const key = `k${Date.now()}`;
    const result = await pipeline({ maxRetries: 2 }).fetch(`${lab.https.url}/retry-after?fail=2&key=${key}`);
    expect(result.attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', outcome: 'ok', retries: 2 }),
      expect.objectContaining({ strategy: 'direct-bypass', outcome: 'skipped' }),
    ]);
    const error = await failure(
      pipeline({ maxRetries: 1 }).fetch(`${lab.https.url}/retry-after?fail=5&key=${key}x`),
    );
    expect(error.code).toBe('HTTP_503');
    expect(lab.https.routes.hits('/retry-after')).toBe(3 + 2);
  });
});

describe('header profiles', () => {
  it('a 403 is retried once with the profile Referer (chrome), and stays 403 without one (detour)', async () => {
    const before = lab.https.routes.hits('/needs-referer');
    const ok = await pipeline().fetch(`${lab.https.url}/needs-referer`, {
      expect: 'image',
      headersProfile: 'chrome',
    });
    expect(ok.attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', outcome: 'ok', retries: 1 }),
      expect.objectContaining({ strategy: 'direct-bypass', outcome: 'skipped' }),
    ]);
    expect(lab.https.routes.hits('/needs-referer')).toBe(before + 2);
    const error = await failure(
      pipeline().fetch(`${lab.https.url}/needs-referer`, { headersProfile: 'detour' }),
    );
    expect(error.code).toBe('HTTP_403');
  });

  it('sends the profile headers, and decodes a gzip body for real', async () => {
    const seen = await pipeline({ headersProfile: 'chrome' }).fetch(`${lab.https.url}/headers`);
    const headers = JSON.parse(seen.body.toString()) as Record<string, string>;
    expect(headers['user-agent']).toMatch(/Chrome\//);
    expect(headers['accept-encoding']).toMatch(/gzip/);
    const gz = await pipeline({ headersProfile: 'chrome' }).fetch(`${lab.https.url}/gzip`, {
      expect: 'image',
    });
    expect(gz.body.equals(LAB_PNG)).toBe(true);
  });

  it('refuses an unknown profile with a typed error', () => {
    expect(() => createPipeline({ headersProfile: 'netscape' })).toThrow(/unknown headers profile/);
  });
});

describe('body rules', () => {
  it('refuses HTML when an image is expected: content-invalid', async () => {
    for (const path of ['/html', '/fake-image']) {
      const error = await failure(pipeline().fetch(`${lab.https.url}${path}`, { expect: 'image' }));
      expect(error.failureClass).toBe('content-invalid');
      expect(error.code).toBe('DETOUR_NOT_AN_IMAGE');
    }
    const any = await pipeline().fetch(`${lab.https.url}/html`, { expect: 'any' });
    expect(any.contentType).toMatch(/text\/html/);
  });

  it('enforces the size limit on the declared length and while streaming', async () => {
    const declared = await failure(
      pipeline().fetch(`${lab.https.url}/big?bytes=200000`, { maxBytes: 100_000 }),
    );
    expect(declared.failureClass).toBe('too-large');
    const streamed = await failure(
      pipeline().fetch(`${lab.https.url}/big?bytes=200000&chunked=1`, { maxBytes: 100_000 }),
    );
    expect(streamed.failureClass).toBe('too-large');
    expect(streamed.message).toMatch(/body exceeds/);
  });

  it('detects a body shorter than its Content-Length', async () => {
    // The server promises 10x the bytes it sends, then closes: got reports the premature end.
    const error = await failure(pipeline({ maxRetries: 0 }).fetch(`${lab.https.url}/lying-length`));
    expect(error.failureClass).toBe('connect-reset');
    expect(error.message).toMatch(/aborted pending request/);
  });

  it('a reset mid-body fails the attempt', async () => {
    const error = await failure(pipeline({ maxRetries: 0 }).fetch(`${lab.https.url}/reset-mid-body`));
    expect(error.failureClass).toBe('connect-reset');
  });

  it('a stall after headers hits the idle timeout', async () => {
    const error = await failure(
      pipeline({ timeouts: { socket: 300 } }).fetch(`${lab.https.url}/stall-after-headers`),
    );
    expect(error.failureClass).toBe('timeout');
  });
});

describe('private-network guard', () => {
  it('refuses loopback targets by default, in every spelling, without touching the origin', async () => {
    const strict = createPipeline({ ca: lab.ca });
    pipelines.push(strict);
    const before = lab.https.routes.hits('/image.png');
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]', '2130706433', '0x7f.1']) {
      const error = await failure(strict.fetch(`https://${host}:${lab.https.port}/image.png`));
      expect(error.failureClass).toBe('blocked');
    }
    expect(lab.https.routes.hits('/image.png')).toBe(before);
  });

  it('refuses a private target through a proxy too (the proxy itself may be local)', async () => {
    const strict = createPipeline({ ca: lab.ca, proxy: lab.proxies.http.url });
    pipelines.push(strict);
    const error = await failure(strict.fetch(`${lab.https.url}/image.png`));
    expect(error.failureClass).toBe('blocked');
  });

  it('rejects non-http(s) URLs and garbage with a typed error', async () => {
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'not a url', 'javascript:alert(1)']) {
      const error = await failure(pipeline().fetch(url));
      expect(error.failureClass).toBe('blocked');
      expect(error.code).toMatch(/^DETOUR_BAD_/);
    }
  });
});

describe('files and streams', () => {
  it('toFile writes atomically and leaves nothing behind on failure', async () => {
    const target = join(dir, 'ok.png');
    const result = await pipeline().toFile(`${lab.https.url}/image.png`, target, { expect: 'image' });
    expect(readFileSync(target).equals(LAB_PNG)).toBe(true);
    expect(result.path).toBe(target);
    const failed = join(dir, 'fail.png');
    await failure(pipeline().toFile(`${lab.https.url}/html`, failed, { expect: 'image' }));
    expect(readdirSync(dir)).toEqual(['ok.png']);
  });

  it('an abort mid-download rejects as aborted and leaves no file', async () => {
    const controller = new AbortController();
    const target = join(dir, 'aborted.png');
    const promise = pipeline().toFile(`${lab.https.url}/slow-drip?ms=20&bytes=400`, target, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const error = await failure(promise);
    expect(error.failureClass).toBe('aborted');
    expect(readdirSync(dir)).toEqual(['ok.png']);
  });

  it('the total deadline ends a slow download as timeout', async () => {
    const error = await failure(
      pipeline().fetch(`${lab.https.url}/slow-drip?ms=50&bytes=400`, { timeoutMs: 300 }),
    );
    expect(error.failureClass).toBe('timeout');
  });

  it('stream() hands over a readable body after the head was checked', async () => {
    const result = await pipeline().stream(`${lab.https.url}/image.png`, { expect: 'image' });
    const chunks: Buffer[] = [];
    for await (const chunk of result.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(LAB_PNG)).toBe(true);
    expect(result.expectedBytes).toBe(LAB_PNG.length);
    const error = await failure(pipeline().stream(`${lab.https.url}/html`, { expect: 'image' }));
    expect(error.failureClass).toBe('content-invalid');
  });
});

describe('pipeline lifecycle', () => {
  it('close() frees every socket', async () => {
    const p = createPipeline({ allowPrivateNetwork: true, ca: lab.ca });
    await p.fetch(`${lab.https.url}/image.png`);
    expect(p.openSockets()).toBeGreaterThan(0);
    await p.close();
    expect(p.openSockets()).toBe(0);
    await expect(p.fetch(`${lab.https.url}/image.png`)).rejects.toThrow(/closed/);
  });

  it('refuses unknown strategy names with a typed error', () => {
    expect(() => createPipeline({ strategies: ['direct', 'teleport'] })).toThrow(DetourError);
  });
});
