/**
 * Core's generic hooks for site presets, against a real HTTP server on loopback: url-expired
 * (terminal, uncached, neutral for the circuit), refreshUrl, expectedBytes, resume with Range,
 * media kinds and `format`, alternate URLs and the Referer policy.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPipeline,
  DetourError,
  type Pipeline,
  type PipelineOptions,
  type Preset,
  sniffFormat,
} from '../src/internal.js';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const SILK = bytes([0x02], '#!SILK_V3', randomBytes(400).toString('latin1'));
const BIG = randomBytes(300 * 1024);
const ETAG = '"big-v1"';

interface Hit {
  path: string;
  range?: string | undefined;
  ifRange?: string | undefined;
  referer?: string | undefined;
}
const hits: Hit[] = [];
let base: string;
let close: () => Promise<void>;

/** Cut the response after `at` bytes of `body` (Content-Length says the whole). */
function cut(res: ServerResponse, body: Buffer, at: number, headers: Record<string, string>): void {
  res.writeHead(200, { 'content-length': String(body.length), ...headers });
  res.write(body.subarray(0, at), () => res.socket?.destroy());
}

function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://x');
  const range = req.headers.range;
  hits.push({
    path: url.pathname,
    range,
    ifRange: req.headers['if-range'] as string | undefined,
    referer: req.headers.referer,
  });
  const send = (status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
    res.writeHead(status, { 'content-length': String(data.length), ...headers });
    res.end(data);
  };
  switch (url.pathname) {
    case '/expired':
      return send(400, '{"retcode":-5503007,"retmsg":"download url has expired","retryflag":0}', {
        'content-type': 'application/json',
      });
    case '/fresh':
      return send(200, SILK, { 'content-type': 'audio/amr' });
    case '/silk':
      return send(200, SILK, { 'content-type': 'audio/amr' });
    case '/chunked': {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(SILK);
      return;
    }
    case '/ranged': {
      // Honours Range; a full GET is cut at a third, a range request at another third.
      const m = /^bytes=(\d+)-$/.exec(range ?? '');
      if (!m) return cut(res, BIG, Math.floor(BIG.length / 3), { 'accept-ranges': 'bytes', etag: ETAG });
      const start = Number(m[1]);
      const rest = BIG.subarray(start);
      res.writeHead(206, {
        'content-length': String(rest.length),
        'content-range': `bytes ${start}-${BIG.length - 1}/${BIG.length}`,
        etag: ETAG,
      });
      if (start < BIG.length / 2)
        res.write(rest.subarray(0, Math.floor(BIG.length / 3)), () => res.socket?.destroy());
      else res.end(rest);
      return;
    }
    case '/no-range-once': {
      // Ignores Range; the first full GET is cut, later ones are whole.
      const full = hits.filter((h) => h.path === url.pathname).length;
      if (full === 1) return cut(res, BIG, 100_000, {});
      return send(200, BIG);
    }
    case '/no-range-always':
      return cut(res, BIG, 100_000, {});
    case '/legacy':
      return send(404, 'not found');
    case '/canonical':
      return send(200, SILK);
    case '/hotlink':
      return req.headers.referer ? send(200, 'stand-in') : send(200, SILK);
    default:
      return send(404, 'no such route');
  }
}

/** A preset for the test server: 400 + retcode JSON → url-expired; /legacy → /canonical; no foreign Referer. */
const testPreset: Preset = {
  name: 'test',
  handles: (url) => url.hostname === '127.0.0.1',
  classifyResponse: ({ status, head }) => {
    if (status !== 400) return undefined;
    const body = JSON.parse(head.toString()) as { retcode: number; retmsg: string };
    return {
      failureClass: 'url-expired',
      code: 'DETOUR_URL_EXPIRED',
      message: body.retmsg,
      retcode: body.retcode,
      retmsg: body.retmsg,
    };
  },
  alternateUrl: (url, error) =>
    url.pathname === '/legacy' && error.status === 404 ? new URL('/canonical', url) : undefined,
  referer: () => undefined,
};

const pipelines: Pipeline[] = [];
function pipeline(options: PipelineOptions = {}): Pipeline {
  const p = createPipeline({
    allowPrivateNetwork: true,
    presets: [testPreset],
    strategies: ['direct'],
    ...options,
  });
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
const count = (path: string) => hits.filter((h) => h.path === path);

let dir: string;
beforeAll(async () => {
  const server = createServer(handle);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  dir = mkdtempSync(join(tmpdir(), 'detour-presets-'));
});
beforeEach(() => {
  hits.length = 0;
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('media kinds', () => {
  it.each([
    ['silk', bytes('#!SILK_V3', [1, 2, 3])],
    ['silk', bytes([0x02], '#!SILK_V3', [1, 2])],
    ['amr', bytes('#!AMR\n', [0x3c])],
    ['amr-wb', bytes('#!AMR-WB\n', [0x04])],
    ['mp3', bytes('ID3', [4, 0, 0, 0])],
    ['mp3', bytes([0xff, 0xfb, 0x90, 0x64])],
    ['ogg', bytes('OggS', [0, 2], Buffer.alloc(22).toString('latin1'), '\x01vorbis')],
    ['opus', bytes('OggS', [0, 2], Buffer.alloc(22).toString('latin1'), 'OpusHead', [1, 2])],
    ['wav', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt ')],
    ['mp4', bytes([0, 0, 0, 0x20], 'ftypisom', [0, 0, 2, 0])],
    ['mp4', bytes([0, 0, 0, 0x18], 'ftypmp42')],
    ['m4a', bytes([0, 0, 0, 0x20], 'ftypM4A ')],
    ['mov', bytes([0, 0, 0, 0x14], 'ftypqt  ')],
    ['png', bytes('\x89PNG\r\n\x1a\n', [0, 0, 0, 13])],
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0])],
    ['avif', bytes([0, 0, 0, 0x1c], 'ftypavif')],
    [null, bytes('{"retcode":-5503007}')],
    [null, bytes('<html>')],
    [null, bytes('')],
  ])('%s', (format, head) => {
    expect(sniffFormat(head)).toBe(format);
  });

  it('expect audio accepts SILK served as audio/amr and reports format silk; image and video refuse it', async () => {
    const p = pipeline({ cache: false });
    const ok = await p.fetch(`${base}/silk`, { expect: 'audio' });
    expect(ok).toMatchObject({ format: 'silk', contentType: 'audio/amr', bytes: SILK.length });
    expect((await p.fetch(`${base}/silk`, { expect: 'media' })).format).toBe('silk');
    expect((await p.fetch(`${base}/silk`)).format).toBe('silk');
    const image = await failure(p.fetch(`${base}/silk`, { expect: 'image' }));
    expect(image).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_NOT_AN_IMAGE' });
    expect(image.message).toContain('silk');
    expect(await failure(p.fetch(`${base}/silk`, { expect: 'video' }))).toMatchObject({
      code: 'DETOUR_NOT_VIDEO',
    });
  });

  it('a cached entry is only served to a fetch that would accept it', async () => {
    const p = pipeline();
    await p.fetch(`${base}/silk`, { expect: 'audio' });
    const again = await p.fetch(`${base}/silk`, { expect: 'audio' });
    expect(again).toMatchObject({ fromCache: true, format: 'silk' });
    await failure(p.fetch(`${base}/silk`, { expect: 'image' }));
    expect(count('/silk')).toHaveLength(2);
  });
});

describe('url-expired', () => {
  it('is terminal: one request, retcode and retmsg on the error and the attempt, nothing cached, circuit untouched', async () => {
    const p = pipeline({
      strategies: undefined,
      circuit: { threshold: 1 },
      cache: { negativeTtlMs: 60_000 },
    });
    for (let i = 1; i <= 2; i++) {
      const error = await failure(p.fetch(`${base}/expired?rkey=abc`));
      expect(error).toMatchObject({
        failureClass: 'url-expired',
        code: 'DETOUR_URL_EXPIRED',
        retcode: -5503007,
        retmsg: 'download url has expired',
        status: 400,
      });
      expect(error.attempts.filter((a) => a.outcome === 'failed')).toEqual([
        expect.objectContaining({
          strategy: 'direct',
          failureClass: 'url-expired',
          retcode: -5503007,
          status: 400,
        }),
      ]);
      expect(count('/expired')).toHaveLength(i); // a second fetch asks again: no negative cache, no open circuit
    }
  });

  it('refreshUrl is called once and the fresh URL is fetched; the trace shows the refresh', async () => {
    const calls: string[] = [];
    const p = pipeline({ cache: false });
    const result = await p.fetch(`${base}/expired?rkey=old`, {
      refreshUrl: async (url, error) => {
        calls.push(url);
        expect(error).toMatchObject({ failureClass: 'url-expired', retcode: -5503007 });
        return `${base}/fresh?rkey=new`;
      },
    });
    expect(calls).toEqual([`${base}/expired?rkey=old`]);
    expect(result).toMatchObject({
      ok: true,
      url: `${base}/expired?rkey=old`,
      finalUrl: `${base}/fresh?rkey=new`,
    });
    expect(result.attempts.map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
      ['direct', 'failed', 'url-expired'],
      ['refresh', 'ok', undefined],
      ['direct', 'ok', undefined],
    ]);
  });

  it('a refresh that gives another expired URL fails after two origin requests, and refreshUrl runs once', async () => {
    let calls = 0;
    const p = pipeline({
      cache: false,
      refreshUrl: async () => {
        calls++;
        return `${base}/expired?rkey=still-old`;
      },
    });
    const error = await failure(p.fetch(`${base}/expired?rkey=old`));
    expect(error.failureClass).toBe('url-expired');
    expect(calls).toBe(1);
    expect(count('/expired')).toHaveLength(2);
    expect(error.attempts.map((a) => a.strategy)).toEqual(['direct', 'refresh', 'direct']);
  });

  it('a refreshUrl that throws or gives nothing: the url-expired error, with the refresh recorded as failed', async () => {
    const p = pipeline({ cache: false });
    const thrown = await failure(
      p.fetch(`${base}/expired`, { refreshUrl: () => Promise.reject(new Error('onebot down')) }),
    );
    expect(thrown.failureClass).toBe('url-expired');
    expect(thrown.attempts.at(-1)).toMatchObject({
      strategy: 'refresh',
      outcome: 'failed',
      message: expect.stringContaining('onebot down'),
    });
    const none = await failure(p.fetch(`${base}/expired`, { refreshUrl: async () => undefined }));
    expect(none.attempts.at(-1)).toMatchObject({ strategy: 'refresh', outcome: 'failed' });
    expect(count('/expired')).toHaveLength(2);
  });
});

describe('expectedBytes', () => {
  it('a Content-Length that disagrees fails before the body is read: content-invalid / DETOUR_SIZE_MISMATCH', async () => {
    const error = await failure(
      pipeline({ cache: false }).fetch(`${base}/silk`, { expectedBytes: SILK.length + 1 }),
    );
    expect(error).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_SIZE_MISMATCH' });
    expect(error.message).toContain('Content-Length');
  });
  it('without Content-Length the bytes received are counted', async () => {
    const p = pipeline({ cache: false });
    expect((await p.fetch(`${base}/chunked`, { expectedBytes: SILK.length })).bytes).toBe(SILK.length);
    const short = await failure(p.fetch(`${base}/chunked`, { expectedBytes: SILK.length + 10 }));
    const long = await failure(p.fetch(`${base}/chunked`, { expectedBytes: SILK.length - 10 }));
    for (const e of [short, long])
      expect(e).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_SIZE_MISMATCH' });
  });
  it('toFile leaves nothing behind on a size mismatch', async () => {
    const path = join(dir, 'mismatch.bin');
    await failure(pipeline({ cache: false }).toFile(`${base}/chunked`, path, { expectedBytes: 3 }));
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('resume with Range', () => {
  it('a body cut short is finished with range requests: one full GET, If-Range with the ETag, sha256 of the whole', async () => {
    const result = await pipeline({ cache: false }).fetch(`${base}/ranged`);
    expect(result.sha256).toBe(sha256(BIG));
    expect(result.body.equals(BIG)).toBe(true);
    const requests = count('/ranged');
    expect(requests.filter((h) => h.range === undefined)).toHaveLength(1);
    expect(requests.filter((h) => h.range !== undefined).map((h) => [h.range, h.ifRange])).toEqual([
      [`bytes=${Math.floor(BIG.length / 3)}-`, ETAG],
      [`bytes=${2 * Math.floor(BIG.length / 3)}-`, ETAG],
    ]);
    expect(result.attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', outcome: 'ok', resumes: 2 }),
    ]);
  });
  it('toFile and stream resume too', async () => {
    const path = join(dir, 'big.bin');
    const p = pipeline({ cache: false });
    const file = await p.toFile(`${base}/ranged`, path);
    expect(readFileSync(path).equals(BIG)).toBe(true);
    expect(file.attempts[0]).toMatchObject({ resumes: 2 });
    rmSync(path);
    const streamed = await p.stream(`${base}/ranged`);
    const chunks: Buffer[] = [];
    for await (const chunk of streamed.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(BIG)).toBe(true);
  });
  it('more cuts than maxResumes: the fetch fails, nothing spliced', async () => {
    const error = await failure(pipeline({ cache: false, maxResumes: 1 }).fetch(`${base}/ranged`));
    expect(error.failureClass).toBe('connect-reset');
    expect(count('/ranged')).toHaveLength(2);
  });
  it('a server that ignores Range answers with the whole file: the download restarts cleanly', async () => {
    const result = await pipeline({ cache: false }).fetch(`${base}/no-range-once`);
    expect(result.sha256).toBe(sha256(BIG));
    expect(result.attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', outcome: 'ok', restarts: 1 }),
    ]);
    expect(count('/no-range-once')).toHaveLength(2);
  });
  it('a server that always cuts and ignores Range: a clean failure after maxResumes, no partial file', async () => {
    const path = join(dir, 'never.bin');
    const error = await failure(pipeline({ cache: false }).toFile(`${base}/no-range-always`, path));
    expect(error.failureClass).toBe('connect-reset');
    expect(count('/no-range-always')).toHaveLength(4); // the first GET and three that answered 200 to a range
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('preset hooks', () => {
  it('an alternate URL is tried once after the failure the preset names, recorded as a rewrite', async () => {
    const result = await pipeline({ cache: false }).fetch(`${base}/legacy`);
    expect(result).toMatchObject({ url: `${base}/legacy`, finalUrl: `${base}/canonical`, format: 'silk' });
    expect(result.attempts.map((a) => [a.strategy, a.outcome, a.code])).toEqual([
      ['direct', 'failed', 'HTTP_404'],
      ['rewrite', 'ok', undefined],
      ['direct', 'ok', undefined],
    ]);
  });
  it('the Referer policy wins over the header profile and the caller', async () => {
    const p = pipeline({ cache: false, headersProfile: 'chrome' });
    const result = await p.fetch(`${base}/hotlink`, { headers: { Referer: 'https://evil.example/' } });
    expect(result.body.equals(SILK)).toBe(true);
    expect(count('/hotlink').map((h) => h.referer)).toEqual([undefined]);
  });
});
