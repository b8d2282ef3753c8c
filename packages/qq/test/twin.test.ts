/**
 * The QQ preset against the Tencent twin: real HTTPS servers on loopback reached through the real
 * names (multimedia.nt.qq.com.cn, gchat.qpic.cn, c2cpicdw.qpic.cn) with a lab certificate for
 * them. Name resolution is intercepted in this process: the twin's names answer 127.0.0.1, every
 * other Tencent name fails (fail closed), so no request can leave for the real CDN.
 */
import { createHash, randomBytes } from 'node:crypto';
import dns from 'node:dns';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createPipeline, DetourError, type Pipeline, type PipelineOptions } from '@detour/core';
import {
  HOTLINK_PLACEHOLDER,
  interceptLookup,
  labCerts,
  makePng,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { qqPreset, rkeyProvider } from '../src/index.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const jpeg = (size: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(size - 4)]);
const PICTURE = makePng(64);
const SILK = Buffer.concat([Buffer.from([0x02]), Buffer.from('#!SILK_V3'), randomBytes(2_000)]);
const BIG = jpeg(540 * 1024);

let twin: TencentTwin;
let restoreLookup: () => void;
let dir: string;
const pipelines: Pipeline[] = [];

function pipeline(options: PipelineOptions = {}): Pipeline {
  const p = createPipeline({
    allowPrivateNetwork: true, // the real names resolve to 127.0.0.1 here
    ca: labCerts().ca.cert,
    presets: [qqPreset()],
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

beforeAll(async () => {
  restoreLookup = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startTencentTwin({
    files: {
      picture: { bytes: PICTURE, appid: 1407, contentType: 'application/octet-stream' },
      private: { bytes: jpeg(3_000), appid: 1406 },
      voice: { bytes: SILK, appid: 1402, contentType: 'audio/amr' },
      big: { bytes: BIG, truncate: 'range' },
      bigNoRangeOnce: { bytes: jpeg(200 * 1024), truncate: 'no-range-once' },
      bigNoRange: { bytes: jpeg(200 * 1024), truncate: 'no-range' },
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'detour-qq-'));
});
beforeEach(() => {
  twin.hits.length = 0;
  twin.onebot.calls.length = 0;
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await twin?.close();
  restoreLookup?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('resolution is loopback only (fail closed)', () => {
  it('the twin names answer 127.0.0.1; any other Tencent name does not resolve', async () => {
    for (const name of TENCENT_TWIN_NAMES) {
      expect(await dns.promises.lookup(name, { all: true })).toEqual([{ address: '127.0.0.1', family: 4 }]);
    }
    await expect(dns.promises.lookup('p.qpic.cn')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    const error = await failure(pipeline({ cache: false }).fetch('https://p.qpic.cn/x.jpg'));
    expect(error.failureClass).toBe('dns');
  });
});

describe('expired and invalid rkeys', () => {
  it('an expired rkey: url-expired with retcode -5503007, one request, nothing cached', async () => {
    const url = twin.downloadUrl('picture');
    twin.rotateKeys();
    const p = pipeline({ circuit: { threshold: 1 } });
    for (let i = 1; i <= 2; i++) {
      const error = await failure(p.fetch(url, { expect: 'image' }));
      expect(error).toMatchObject({
        failureClass: 'url-expired',
        code: 'DETOUR_URL_EXPIRED',
        retcode: -5503007,
        retmsg: 'download url has expired',
      });
      expect(twin.hits).toHaveLength(i);
    }
    expect(twin.hits.every((h) => h.host === 'multimedia.nt.qq.com.cn' && h.status === 400)).toBe(true);
  });

  it('with rkeyProvider: one refresh through OneBot (nc_get_rkey), then the file', async () => {
    const url = twin.downloadUrl('picture');
    twin.rotateKeys();
    const { refreshUrl } = rkeyProvider({ endpoint: twin.onebot.url });
    const result = await pipeline({ refreshUrl }).fetch(url, { expect: 'image' });
    expect(result).toMatchObject({ ok: true, format: 'png', bytes: PICTURE.length, sha256: sha256(PICTURE) });
    expect(result.attempts.map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
      ['direct', 'failed', 'url-expired'],
      ['refresh', 'ok', undefined],
      ['direct', 'ok', undefined],
    ]);
    expect(twin.onebot.calls).toEqual(['nc_get_rkey']);
    expect(twin.hits.map((h) => h.status)).toEqual([400, 200]);
    expect(new URL(result.finalUrl).searchParams.get('rkey')).toBe(twin.rkeys.group);
  });

  it('rkeyProvider plugged into the qq preset: its hosts refresh through it, the catch-all is not asked', async () => {
    const url = twin.downloadUrl('picture');
    twin.rotateKeys();
    const catchAll: string[] = [];
    const result = await pipeline({
      presets: [qqPreset({ refreshUrl: rkeyProvider({ endpoint: twin.onebot.url }) })],
      refreshUrl: async (u) => {
        catchAll.push(u);
        return undefined;
      },
    }).fetch(url, { expect: 'image' });
    expect(result).toMatchObject({ ok: true, bytes: PICTURE.length, sha256: sha256(PICTURE) });
    expect(twin.onebot.calls).toEqual(['nc_get_rkey']);
    expect(catchAll).toEqual([]);
    expect(twin.hits.map((h) => h.status)).toEqual([400, 200]);
  });

  it("a link with NapCat's hard-coded fallback rkey: refreshed before any request, the file in one request", async () => {
    const dead = twin.downloadUrl('picture', {
      rkey: 'CAQSKAB6JWENi5LM_xp9vumLbuThJSaYf-yzMrbZsuq7Uz2qffcqm614gds',
    });
    const result = await pipeline({
      cache: false,
      presets: [qqPreset({ refreshUrl: rkeyProvider({ endpoint: twin.onebot.url }) })],
    }).fetch(dead, { expect: 'image' });
    expect(result.sha256).toBe(sha256(PICTURE));
    expect(twin.hits.map((h) => h.status)).toEqual([200]);
    expect(result.attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['qq', 'failed'],
      ['refresh', 'ok'],
      ['direct', 'ok'],
    ]);
    // Without a refresher: url-expired, and still no request.
    const error = await failure(pipeline({ cache: false }).fetch(dead));
    expect(error).toMatchObject({ failureClass: 'url-expired', code: 'DETOUR_URL_EXPIRED' });
    expect(twin.hits).toHaveLength(1);
  });

  it('a refresh that gives another expired URL: url-expired after two origin requests, no loop', async () => {
    const url = twin.downloadUrl('picture');
    twin.rotateKeys();
    const stale = twin.downloadUrl('picture');
    twin.rotateKeys();
    let calls = 0;
    const error = await failure(
      pipeline({ cache: false }).fetch(url, {
        refreshUrl: async () => {
          calls++;
          return stale;
        },
      }),
    );
    expect(error).toMatchObject({ failureClass: 'url-expired', retcode: -5503007 });
    expect(calls).toBe(1);
    expect(twin.hits).toHaveLength(2);
  });

  it('the group key on a private picture: url-expired / DETOUR_URL_INVALID (-5503010); the provider picks the private key', async () => {
    const url = twin.downloadUrl('private', { rkey: twin.rkeys.group });
    const error = await failure(pipeline({ cache: false }).fetch(url));
    expect(error).toMatchObject({
      failureClass: 'url-expired',
      code: 'DETOUR_URL_INVALID',
      retcode: -5503010,
    });
    const { refreshUrl } = rkeyProvider({ endpoint: twin.onebot.url });
    const fixed = await pipeline({ cache: false }).fetch(url, { refreshUrl, expect: 'image' });
    expect(new URL(fixed.finalUrl).searchParams.get('rkey')).toBe(twin.rkeys.private);
  });

  it('rkeyProvider with a token and LLOneBot answers (get_rkey only)', async () => {
    const other = await startTencentTwin({
      files: { picture: { bytes: PICTURE } },
      onebotToken: 'sekrit',
      onebotFlavor: 'llonebot',
    });
    try {
      const denied = rkeyProvider({ endpoint: other.onebot.url });
      await expect(denied.keys()).rejects.toThrow(/OneBot gave no rkey/);
      const provider = rkeyProvider({ endpoint: other.onebot.url, token: 'sekrit' });
      const keys = await provider.keys();
      expect(keys.map((k) => [k.type, k.rkey])).toEqual([
        ['private', other.rkeys.private],
        ['group', other.rkeys.group],
      ]);
      await provider.keys();
      expect(other.onebot.calls).toEqual(['nc_get_rkey', 'get_rkey', 'nc_get_rkey', 'get_rkey']); // cached after
    } finally {
      await other.close();
    }
  });
});

describe('URL forms', () => {
  it('&amp; left in is decoded once; finalUrl shows the decoded URL', async () => {
    const url = twin.downloadUrl('picture', { amp: true });
    expect(url).toContain('&amp;rkey=');
    const result = await pipeline({ cache: false }).fetch(url, { expect: 'image' });
    expect(result.url).toBe(new URL(url).href);
    expect(result.finalUrl).not.toContain('amp;');
    expect(twin.hits.map((h) => [h.status, 'amp;rkey' in h.query])).toEqual([[200, false]]);
    // Without the preset the twin says "invalid rkey": a plain HTTP 400.
    const bare = await failure(pipeline({ cache: false, presets: [] }).fetch(url));
    expect(bare).toMatchObject({ failureClass: 'http-status', code: 'HTTP_400' });
  });

  it('a legacy offpic URL answers 404; one canonical rewrite is tried and recorded', async () => {
    const md5 = twin.files.picture!.md5;
    const legacy = `https://c2cpicdw.qpic.cn:${twin.port}/offpic_new/10001/10001-2222-${md5}/0?term=2`;
    const result = await pipeline({ cache: false }).fetch(legacy, { expect: 'image' });
    expect(result.finalUrl).toBe(`https://gchat.qpic.cn:${twin.port}/gchatpic_new/0/0-0-${md5}/0`);
    expect(result.attempts.map((a) => [a.strategy, a.outcome, a.code])).toEqual([
      ['direct', 'failed', 'HTTP_404'],
      ['rewrite', 'ok', undefined],
      ['direct', 'ok', undefined],
    ]);
    expect(twin.hits.map((h) => [h.host, h.status])).toEqual([
      ['c2cpicdw.qpic.cn', 404],
      ['gchat.qpic.cn', 200],
    ]);
  });

  it('a file past its retention fails fast with DETOUR_URL_GONE, without a request', async () => {
    const url = twin.downloadUrl('picture', { uploadTime: Date.now() - 32 * 24 * 3600 * 1000 });
    const error = await failure(pipeline().fetch(url));
    expect(error).toMatchObject({ failureClass: 'url-expired', code: 'DETOUR_URL_GONE' });
    expect(error.attempts).toEqual([
      expect.objectContaining({ strategy: 'qq', outcome: 'failed', code: 'DETOUR_URL_GONE' }),
    ]);
    expect(twin.hits).toHaveLength(0);
  });
});

describe('sizes, Referer and the cache', () => {
  it('two fileids that differ only in upload time: one origin request, one cache entry', async () => {
    const cacheDir = join(dir, 'cache');
    const p = pipeline({ cache: { dir: cacheDir } });
    const first = await p.fetch(twin.downloadUrl('picture', { uploadTime: Date.now() - 60_000 }));
    const second = await p.fetch(twin.downloadUrl('picture', { uploadTime: Date.now() }));
    expect(first.fromCache).toBe(false);
    expect(second).toMatchObject({ fromCache: true, sha256: sha256(PICTURE) });
    expect(twin.hits).toHaveLength(1);
    const entries = readdirSync(join(cacheDir, 'content-v2'), { recursive: true }).filter((f) =>
      /^[0-9a-f]{60,}$/.test(String(f).split('/').at(-1) ?? ''),
    );
    expect(entries).toHaveLength(1);
  });

  it('a foreign Referer (chrome profile or the caller) never reaches qpic: the real file, not the stand-in', async () => {
    const url = twin.downloadUrl('picture', { host: 'gchat.qpic.cn' });
    const result = await pipeline({ cache: false, headersProfile: 'chrome' }).fetch(url, {
      headers: { Referer: 'https://bot.example/' },
      expect: 'image',
    });
    expect(result.sha256).toBe(sha256(PICTURE));
    expect(twin.hits.map((h) => h.referer)).toEqual([undefined]);
  });

  it('without the preset the stand-in passes expect image, and expectedBytes (file_size) catches it', async () => {
    const url = twin.downloadUrl('picture', { host: 'gchat.qpic.cn' });
    const bare = pipeline({ cache: false, presets: [] });
    const fooled = await bare.fetch(url, { headers: { Referer: 'https://bot.example/' }, expect: 'image' });
    expect(fooled.body.equals(HOTLINK_PLACEHOLDER)).toBe(true);
    const caught = await failure(
      bare.fetch(url, {
        headers: { Referer: 'https://bot.example/' },
        expect: 'image',
        expectedBytes: PICTURE.length,
      }),
    );
    expect(caught).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_SIZE_MISMATCH' });
  });

  it('SILK served as audio/amr: expect audio accepts it as silk, expect image refuses it', async () => {
    const url = twin.downloadUrl('voice', { host: 'grouptalk.c2c.qq.com' });
    const p = pipeline({ cache: false });
    const ok = await p.fetch(url, { expect: 'audio' });
    expect(ok).toMatchObject({ format: 'silk', contentType: 'audio/amr', bytes: SILK.length });
    const refused = await failure(p.fetch(url, { expect: 'image' }));
    expect(refused).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_NOT_AN_IMAGE' });
  });
});

describe('truncated bodies', () => {
  it('cut half-way with Range support: one full GET plus a range request, correct sha256', async () => {
    const result = await pipeline({ cache: false }).fetch(twin.downloadUrl('big'), { expect: 'image' });
    expect(result).toMatchObject({ bytes: BIG.length, sha256: sha256(BIG) });
    expect(result.attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', outcome: 'ok', resumes: 1 }),
    ]);
    const hits = twin.hitsFor('big');
    expect(hits.filter((h) => h.range === undefined)).toHaveLength(1);
    expect(hits.filter((h) => h.range !== undefined).map((h) => [h.range, h.status])).toEqual([
      [`bytes=${BIG.length / 2}-`, 206],
    ]);
  });

  it('without Range support: a clean retry of the whole file, never a spliced one', async () => {
    const file = twin.files.bigNoRangeOnce!;
    const result = await pipeline({ cache: false }).fetch(twin.downloadUrl('bigNoRangeOnce'));
    expect(result.sha256).toBe(sha256(file.bytes));
    expect(result.attempts[0]).toMatchObject({ outcome: 'ok', restarts: 1 });
  });

  it('always cut, no Range: fails, and toFile leaves no partial file', async () => {
    const path = join(dir, 'never.jpg');
    const error = await failure(pipeline({ cache: false }).toFile(twin.downloadUrl('bigNoRange'), path));
    expect(error.failureClass).toBe('connect-reset');
    expect(existsSync(path)).toBe(false);
  });
});

describe('the RSA-only TLS 1.2 edge', () => {
  it('offers only static-RSA AES128-GCM-SHA256: a forward-secret-only client is refused', async () => {
    const error = await new Promise<Error>((resolve) => {
      const socket = connect({
        host: '127.0.0.1',
        port: twin.rsaPort,
        servername: 'multimedia.nt.qq.com.cn',
        ca: labCerts().ca.cert,
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE+AESGCM:!aRSA:ECDHE-RSA-AES128-GCM-SHA256',
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(new Error('connected'));
      });
      socket.once('error', resolve);
    });
    expect(error.message).toMatch(/handshake failure/i);
  });

  it('direct (Node defaults) fetches through it', async () => {
    const url = twin.downloadUrl('picture', { rsaEdge: true });
    const result = await pipeline({ cache: false }).fetch(url, { expect: 'image' });
    expect(result).toMatchObject({ strategy: 'direct', sha256: sha256(PICTURE) });
    expect(twin.hits.map((h) => h.port)).toEqual([twin.rsaPort]);
  });
});
