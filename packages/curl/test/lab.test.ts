/** The curl strategy running the real curl binary against the lab's servers and proxies on 127.0.0.1. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPipeline, type DetourError, type Pipeline, type PipelineOptions } from '@detour/core';
import {
  type BrokenTlsServer,
  LAB_PNG,
  LAB_PROXY_AUTH,
  type Lab,
  startBrokenTlsServer,
  startLab,
} from '@detour/lab';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CurlOptions, CurlStrategy, SYSTEM_CA_BUNDLES } from '../src/index.js';
import { findHashedCaDir } from '../src/locate.js';

let lab: Lab;
let silent: BrokenTlsServer;
const opened: { pipeline: Pipeline; strategy: CurlStrategy }[] = [];
/** The strategies' temp dirs go here, so that "nothing left behind" is checked on ours alone. */
const scratch = mkdtempSync(join(tmpdir(), 'detour-curl-test-'));

beforeAll(async () => {
  [lab, silent] = await Promise.all([startLab(), startBrokenTlsServer('silent')]);
});
afterEach(async () => {
  for (const { pipeline, strategy } of opened.splice(0)) {
    await pipeline.close();
    expect(strategy.pids).toEqual([]);
  }
  expect(curlTempDirs()).toEqual([]);
});
afterAll(async () => {
  await Promise.all([lab?.close(), silent?.close()]);
  rmSync(scratch, { recursive: true, force: true });
});

function curlTempDirs(): string[] {
  return readdirSync(scratch);
}

function make(curl: CurlOptions = {}, options: PipelineOptions = {}) {
  const strategy = new CurlStrategy({ killGraceMs: 300, tmpDir: scratch, ...curl });
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    ca: lab.ca,
    use: [strategy],
    strategies: ['curl'],
    ...options,
  });
  opened.push({ pipeline, strategy });
  return { strategy, pipeline };
}

async function fetchVia(url: string, curl: CurlOptions = {}, options: PipelineOptions = {}) {
  const { pipeline } = make(curl, options);
  return pipeline.fetch(url).catch((error: DetourError) => error);
}

function ok<T>(result: T | DetourError): T {
  if (result instanceof Error) throw result;
  return result;
}

/** The first curl child the strategy starts. */
async function firstPid(strategy: CurlStrategy): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const [pid] = strategy.pids;
    if (pid !== undefined) return pid;
    await sleep(10);
  }
  throw new Error('curl never started');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
  return !alive(pid);
}

describe('curl really runs', () => {
  it('finds the binary', () => {
    expect(new CurlStrategy().curlPath).toMatch(/\/curl$/);
  });

  it('direct, HTTPS with the lab CA (system bundle + extra CA in a 0600 temp file)', async () => {
    const result = ok(await fetchVia(`${lab.https.url}/image.png`));
    expect(result).toMatchObject({
      strategy: 'curl',
      status: 200,
      contentType: 'image/png',
      insecure: false,
    });
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(result.attempts).toEqual([
      expect.objectContaining({ strategy: 'curl', route: 'direct', outcome: 'ok', status: 200 }),
    ]);
  });

  it('extra CAs: a file of those alone beside the hashed system directory; with caBundle, one combined file', async () => {
    const systemDir = findHashedCaDir();
    const bundle = SYSTEM_CA_BUNDLES.find((path) => existsSync(path));
    if (!systemDir || !bundle) return void console.warn('skipped: no hashed system CA dir or bundle here');
    const certs = (pem: string) => pem.split('BEGIN CERTIFICATE').length - 1;
    const caFiles = () =>
      curlTempDirs().flatMap((dir) =>
        readdirSync(join(scratch, dir))
          .filter((name) => name.startsWith('ca-'))
          .map((name) => readFileSync(join(scratch, dir, name), 'utf8')),
      );
    for (const [curl, expected] of [
      [{}, certs(lab.ca)],
      [{ caBundle: bundle }, certs(readFileSync(bundle, 'utf8')) + certs(lab.ca)],
    ] as const) {
      // env: {}: no NODE_EXTRA_CA_CERTS of this machine's in the extra CAs, only the lab's.
      const { pipeline } = make(curl, { env: {} });
      ok(await pipeline.fetch(`${lab.https.url}/image.png`));
      expect(caFiles().map(certs)).toEqual([expected]);
      await pipeline.close();
      opened.splice(0);
    }
  });

  it('without the lab CA the certificate is refused (CURL_E60)', async () => {
    const result = (await fetchVia(`${lab.https.url}/image.png`, {}, { ca: undefined })) as DetourError;
    expect(result).toMatchObject({ failureClass: 'tls-certificate', code: 'CURL_E60' });
  });

  it('through an authenticating HTTP proxy (tinyproxy), credentials only on stdin', async () => {
    const result = ok(
      await fetchVia(`${lab.https.url}/image.png`, {}, { proxy: lab.proxies.httpAuth.authUrl }),
    );
    expect(result.attempts[0]).toMatchObject({
      strategy: 'curl',
      route: lab.proxies.httpAuth.url,
      outcome: 'ok',
    });
    expect(result.body.equals(LAB_PNG)).toBe(true);
  });

  it('the password and the URL’s secrets never appear in the child’s argv', async () => {
    const { strategy, pipeline } = make({}, { proxy: lab.proxies.httpAuth.authUrl });
    const streamed = await pipeline.stream(`${lab.https.url}/slow-drip?ms=100&bytes=1000&rkey=TOPSECRET`);
    const [pid] = strategy.pids;
    const argv = (await import('node:fs')).readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    streamed.body.destroy();
    expect(argv[0]).toMatch(/curl$/);
    expect(argv).toContain('--proxy');
    expect(argv.join(' ')).not.toContain(LAB_PROXY_AUTH.pass);
    expect(argv.join(' ')).not.toContain('TOPSECRET');
  });

  it('a wrong proxy password is a proxy failure', async () => {
    const url = lab.proxies.httpAuth.url.replace('//', '//detour:wrong@');
    const result = (await fetchVia(`${lab.https.url}/image.png`, {}, { proxy: url })) as DetourError;
    expect(result).toMatchObject({ failureClass: 'proxy', code: 'CURL_E56' });
  });

  it('through an authenticating SOCKS5 proxy (microsocks), remote and local DNS', async () => {
    for (const scheme of ['socks5h:', 'socks5:']) {
      const proxy = lab.proxies.socksAuth.authUrl.replace('socks5:', scheme);
      const result = ok(await fetchVia(`${lab.https.url}/image.png`, {}, { proxy }));
      expect(result.attempts[0]?.route).toBe(lab.proxies.socksAuth.url.replace('socks5:', scheme));
      expect(result.body.equals(LAB_PNG)).toBe(true);
    }
  });

  it('a broken accelerator breaks curl too when curl goes through it (same route)', async () => {
    const result = (await fetchVia(
      `${lab.https.url}/image.png`,
      {},
      { proxy: lab.proxies.accelerator.url },
    )) as DetourError;
    expect(result).toMatchObject({ failureClass: 'tls-handshake', code: 'CURL_E35' });
  });

  it('sends the pipeline’s headers exactly (quoted config), and decodes what it asked to be compressed', async () => {
    const { pipeline } = make();
    const result = await pipeline.fetch(`${lab.https.url}/headers`, {
      headers: { 'x-quote': 'a "b" \\c', referer: 'https://qq.com/' },
    });
    const seen = JSON.parse(result.body.toString());
    expect(seen).toMatchObject({
      'x-quote': 'a "b" \\c',
      referer: 'https://qq.com/',
      'user-agent': 'detour/0.1',
    });
    expect(seen['accept-encoding']).toMatch(/gzip/);
  });
});

describe('redirects, retries, statuses', () => {
  it('follows redirects itself, hop by hop', async () => {
    const result = ok(await fetchVia(`${lab.https.url}/redirect/3`));
    expect(result).toMatchObject({ finalUrl: `${lab.https.url}/image.png`, status: 200 });
  });

  it('stops a redirect loop at maxRedirects', async () => {
    const result = (await fetchVia(`${lab.https.url}/redirect-loop`, {}, { maxRedirects: 2 })) as DetourError;
    expect(result).toMatchObject({ failureClass: 'http-status', code: 'ERR_TOO_MANY_REDIRECTS' });
  });

  it('refuses a redirect to another scheme', async () => {
    const target = encodeURIComponent('file:///etc/passwd');
    const result = (await fetchVia(`${lab.https.url}/redirect-to?url=${target}`)) as DetourError;
    expect(result).toMatchObject({ failureClass: 'blocked', code: 'ERR_UNSUPPORTED_PROTOCOL' });
  });

  it('retries a 503 with Retry-After, like the Node transport', async () => {
    const result = ok(await fetchVia(`${lab.https.url}/retry-after?fail=1&after=0&key=curl`));
    expect(result.attempts[0]).toMatchObject({ outcome: 'ok', retries: 1 });
  });

  it('a 404 is a 404 (status from the header dump, not --fail)', async () => {
    const result = (await fetchVia(`${lab.https.url}/status/404`)) as DetourError;
    expect(result).toMatchObject({ failureClass: 'http-status', code: 'HTTP_404', status: 404 });
  });
});

describe('exit codes from real failures', () => {
  it.each([
    ['connection refused', () => 'http://127.0.0.1:1/x', {}, 'connect-refused', 'CURL_E7'],
    ['handshake alert', () => `${lab.downgrade.httpsUrl}/x`, {}, 'tls-handshake', 'CURL_E35'],
    ['TLS 1.0 only server', () => `${lab.legacy.tls10.url}/image.png`, {}, 'tls-handshake', 'CURL_E35'],
    [
      'expired certificate',
      () => `${lab.certOrigins.expired.url}/image.png`,
      {},
      'tls-certificate',
      'CURL_E60',
    ],
    ['wrong host', () => `${lab.certOrigins.wrongHost.url}/image.png`, {}, 'tls-certificate', 'CURL_E60'],
    ['lying Content-Length', () => `${lab.https.url}/lying-length`, {}, 'content-invalid', 'CURL_E18'],
    [
      'stall after headers',
      () => `${lab.https.url}/stall-after-headers`,
      { timeouts: { socket: 1000 } },
      'timeout',
      'CURL_E28',
    ],
    [
      'declared size over the limit',
      () => `${lab.https.url}/big?bytes=100000`,
      { maxBytes: 1000 },
      'too-large',
      'CURL_E63',
    ],
    [
      'streamed size over the limit',
      () => `${lab.https.url}/big?bytes=100000&chunked=1`,
      { maxBytes: 1000 },
      'too-large',
      'DETOUR_TOO_LARGE',
    ],
    [
      'HTML instead of an image',
      () => `${lab.https.url}/fake-image`,
      {},
      'content-invalid',
      'DETOUR_NOT_AN_IMAGE',
    ],
  ] as const)('%s → %s (%s)', async (_name, url, options, failureClass, code) => {
    const { pipeline } = make({}, options);
    const error = (await pipeline.fetch(url(), { expect: 'image' }).catch((e) => e)) as DetourError;
    expect(error).toMatchObject({ failureClass, code });
  });

  it('reset mid-body', async () => {
    const error = (await fetchVia(`${lab.https.url}/reset-mid-body`)) as DetourError;
    expect(['connect-reset', 'content-invalid']).toContain(error.failureClass);
    expect(error.code).toMatch(/^CURL_E(56|18)$/);
  });
});

describe('TLS rules: relaxed only when asked, unchecked only for insecureHosts', () => {
  it.each(['tls10', 'tls10Rsa', 'sha1Signatures', 'legacyCipher'] as const)(
    'relaxTls rescues the %s server',
    async (name) => {
      const result = ok(await fetchVia(`${lab.legacy[name].url}/image.png`, { relaxTls: true }));
      expect(result).toMatchObject({ strategy: 'curl', insecure: false });
      expect(result.body.equals(LAB_PNG)).toBe(true);
    },
  );

  it('measured: curl’s DEFAULT@SECLEVEL=0 leaves the Camellia-only server out', async () => {
    const result = (await fetchVia(`${lab.legacy.legacyCipher.url}/image.png`, {
      relaxTls: true,
      ciphers: 'DEFAULT@SECLEVEL=0',
    })) as DetourError;
    expect(result).toMatchObject({ failureClass: 'tls-handshake', code: 'CURL_E35' });
  });

  it('relaxTls does not accept a bad certificate', async () => {
    const result = (await fetchVia(`${lab.certOrigins.selfSigned.url}/image.png`, {
      relaxTls: true,
    })) as DetourError;
    expect(result).toMatchObject({ failureClass: 'tls-certificate', code: 'CURL_E60' });
  });

  it.each(['expired', 'selfSigned', 'wrongHost'] as const)(
    '%s is accepted for an insecure host, marked insecure',
    async (name) => {
      const result = ok(
        await fetchVia(`${lab.certOrigins[name].url}/image.png`, { insecureHosts: ['localhost'] }),
      );
      expect(result).toMatchObject({ strategy: 'curl', insecure: true });
      expect(result.attempts[0]).toMatchObject({ outcome: 'ok', insecure: true });
    },
  );

  it('after Node’s certificate failure it tries once more against the system store, and also refuses', async () => {
    const strategy = new CurlStrategy({ tmpDir: scratch });
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      ca: lab.ca,
      use: [strategy],
      strategies: ['direct', 'curl'],
    });
    opened.push({ pipeline, strategy });
    const error = (await pipeline
      .fetch(`${lab.certOrigins.expired.url}/image.png`)
      .catch((e) => e)) as DetourError;
    expect(error.attempts.map((a) => [a.strategy, a.failureClass, a.code])).toEqual([
      ['direct', 'tls-certificate', 'CERT_HAS_EXPIRED'],
      ['curl', 'tls-certificate', 'CURL_E60'],
    ]);
  });
});

describe('the child process', () => {
  it('abort before the response head: rejected only once curl is gone', async () => {
    const { strategy, pipeline } = make();
    const controller = new AbortController();
    const pending = pipeline.fetch(`${silent.url}/x`, { signal: controller.signal }).catch((e) => e);
    const pid = await firstPid(strategy);
    expect(alive(pid)).toBe(true);
    controller.abort();
    const error = (await pending) as DetourError;
    expect(error.failureClass).toBe('aborted');
    expect(alive(pid)).toBe(false);
  });

  it('abort while the body streams: the body errors, curl is killed and reaped', async () => {
    const { strategy, pipeline } = make();
    const controller = new AbortController();
    const streamed = await pipeline.stream(`${lab.https.url}/slow-drip?ms=50&bytes=400`, {
      signal: controller.signal,
    });
    const [pid] = strategy.pids;
    expect(pid).toBeDefined();
    const errored = new Promise((resolve) => streamed.body.once('error', resolve));
    streamed.body.resume();
    controller.abort();
    expect(await errored).toBeDefined();
    expect(await gone(pid!)).toBe(true);
  });

  it('the attempt deadline kills curl (signal first, --max-time as a backstop)', async () => {
    const { strategy, pipeline } = make({}, { attemptTimeoutMs: 700 });
    const pending = pipeline.fetch(`${silent.url}/x`).catch((e) => e);
    const pid = await firstPid(strategy);
    const error = (await pending) as DetourError;
    expect(error.failureClass).toBe('timeout');
    expect(alive(pid)).toBe(false);
  });

  it('a consumer that drops the body ends curl', async () => {
    const { strategy, pipeline } = make();
    const streamed = await pipeline.stream(`${lab.https.url}/slow-drip?ms=50&bytes=400`);
    const [pid] = strategy.pids;
    streamed.body.destroy();
    expect(await gone(pid!)).toBe(true);
  });

  it('pipeline.close() kills live children and waits for them', async () => {
    const { strategy, pipeline } = make();
    const streamed = await pipeline.stream(`${lab.https.url}/slow-drip?ms=100&bytes=1000`);
    streamed.body.on('error', () => {});
    const [pid] = strategy.pids;
    expect(alive(pid!)).toBe(true);
    await pipeline.close();
    expect(strategy.pids).toEqual([]);
    expect(alive(pid!)).toBe(false);
  });

  it('many downloads in parallel leave no child and no temp dir behind', async () => {
    const { strategy, pipeline } = make();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => pipeline.fetch(`${lab.https.url}/image.png?n=${i}`)),
    );
    expect(results.every((r) => r.body.equals(LAB_PNG))).toBe(true);
    expect(strategy.pids).toEqual([]);
  });
});

describe('private-network guard', () => {
  it.each([
    ['http://127.0.0.1:1/x', 'DETOUR_PRIVATE_ADDRESS'],
    ['https://localhost:1/x', 'DETOUR_PRIVATE_ADDRESS'],
  ])('refuses %s unless allowed', async (url, code) => {
    const strategy = new CurlStrategy();
    const pipeline = createPipeline({ use: [strategy], strategies: ['curl'] });
    opened.push({ pipeline, strategy });
    const error = (await pipeline.fetch(url).catch((e) => e)) as DetourError;
    expect(error.attempts.at(-1)).toMatchObject({ strategy: 'curl', failureClass: 'blocked', code });
  });

  it('checks every redirect hop', async () => {
    const strategy = new CurlStrategy({ lookup: async () => [{ address: '127.0.0.1', family: 4 }] });
    // allowPrivateNetwork is off, but the first hop goes by a public-looking name resolved by the fake lookup
    // to 127.0.0.1: refused before curl ever runs.
    const pipeline = createPipeline({ use: [strategy], strategies: ['curl'] });
    opened.push({ pipeline, strategy });
    const error = (await pipeline.fetch('https://cdn.example/x').catch((e) => e)) as DetourError;
    expect(error.attempts[0]).toMatchObject({ failureClass: 'blocked', code: 'DETOUR_PRIVATE_ADDRESS' });
  });
});

describe('a missing curl', () => {
  it('makes the strategy skip with a reason, reported once in the log, never a crash', async () => {
    const lines: string[] = [];
    const record = (_fields: unknown, message: string) => lines.push(message);
    const logger = {
      child: () => logger,
      warn: record,
      info: record,
      debug: record,
      error: record,
      trace: record,
    };
    const strategy = new CurlStrategy({ curlPath: '/nonexistent/bin/curl' });
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      ca: lab.ca,
      logger: logger as unknown as PipelineOptions['logger'],
      use: [strategy],
      strategies: ['direct', 'curl'],
    });
    opened.push({ pipeline, strategy });
    for (let i = 0; i < 3; i++) {
      const error = (await pipeline.fetch(`${lab.downgrade.httpsUrl}/x`).catch((e) => e)) as DetourError;
      expect(error.attempts.at(-1)).toMatchObject({
        strategy: 'curl',
        outcome: 'skipped',
        message: 'curl not found at /nonexistent/bin/curl',
      });
    }
    expect(lines.filter((l) => l.includes('curl strategy unavailable'))).toHaveLength(1);
  });
});
