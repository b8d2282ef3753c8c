/** Pure logic of the QQ preset: fileid decoding, error JSON, URL forms, hosts, rkey answers. */
import { randomBytes } from 'node:crypto';
import { encodeFileId } from '@detour/lab';
import { describe, expect, it } from 'vitest';
import {
  canonicalPictureUrl,
  classifyTencentResponse,
  decodeFileId,
  isQqReferer,
  isTencentMediaHost,
  normalizeTencentUrl,
  parseRkeyAnswer,
  qqPreset,
  readTencentError,
  rkeyTypeFor,
} from '../src/index.js';

const digest = randomBytes(20);
const uploaded = Date.UTC(2026, 10, 1, 12, 0, 0);
const sample = (overrides: Partial<Parameters<typeof encodeFileId>[0]> = {}) =>
  encodeFileId({
    digest,
    size: 383_495,
    appid: 1407,
    uploadTimeMicros: uploaded * 1000 + 123,
    retentionSeconds: 2_678_400,
    ...overrides,
  });

describe('decodeFileId', () => {
  it('reads digest, size, appid, upload time and retention', () => {
    expect(decodeFileId(sample())).toEqual({
      digest: digest.toString('hex'),
      size: 383_495,
      appid: 1407,
      uploadTime: new Date(uploaded),
      retentionSeconds: 2_678_400,
    });
  });
  it('two messages with the same picture: only the upload time differs', () => {
    const a = decodeFileId(sample({ uploadTimeMicros: uploaded * 1000 }))!;
    const b = decodeFileId(sample({ uploadTimeMicros: (uploaded + 60_000) * 1000 }))!;
    expect([a.digest, a.size]).toEqual([b.digest, b.size]);
    expect(a.uploadTime).not.toEqual(b.uploadTime);
  });
  it.each([
    ['empty', ''],
    ['not base64', 'not a fileid!!'],
    ['random bytes', randomBytes(30).toString('base64url')],
    ['a truncated message', sample().slice(0, 20)],
    [
      'a digest of the wrong length',
      encodeFileId({ digest: randomBytes(16), size: 1, appid: 1, uploadTimeMicros: 1, retentionSeconds: 1 }),
    ],
  ])('undefined for %s', (_name, value) => {
    expect(decodeFileId(value)).toBeUndefined();
  });
});

describe('Tencent error JSON', () => {
  const head = (s: string) => Buffer.from(s);
  it('expired and invalid rkeys map to url-expired with retcode and retmsg', () => {
    const expired = classifyTencentResponse({
      url: new URL('https://multimedia.nt.qq.com.cn/download'),
      status: 400,
      headers: {},
      head: head('{"retcode":-5503007,"retmsg":"download url has expired","retryflag":0}'),
    });
    expect(expired).toMatchObject({
      failureClass: 'url-expired',
      code: 'DETOUR_URL_EXPIRED',
      retcode: -5503007,
      retmsg: 'download url has expired',
    });
    const invalid = classifyTencentResponse({
      url: new URL('https://gchat.qpic.cn/download'),
      status: 400,
      headers: {},
      head: head('{"retcode":-5503010,"retmsg":"invalid rkey","retryflag":1}'),
    });
    expect(invalid).toMatchObject({
      failureClass: 'url-expired',
      code: 'DETOUR_URL_INVALID',
      retcode: -5503010,
    });
  });
  it('other answers are left to core', () => {
    const url = new URL('https://gchat.qpic.cn/download');
    expect(
      classifyTencentResponse({ url, status: 200, headers: {}, head: head('{"retcode":-5503007}') }),
    ).toBeUndefined();
    expect(
      classifyTencentResponse({ url, status: 400, headers: {}, head: head('<html>400</html>') }),
    ).toBeUndefined();
    expect(
      classifyTencentResponse({ url, status: 404, headers: {}, head: head('{"retcode":-5503002}') }),
    ).toBeUndefined();
  });
  it('reads a cut JSON by pattern', () => {
    expect(
      readTencentError(head('{"retcode": -5503007, "retmsg":"download url has expired", "x":"')),
    ).toEqual({
      retcode: -5503007,
      retmsg: 'download url has expired',
    });
  });
});

describe('URL forms', () => {
  it('decodes &amp; once and collapses // in the path', () => {
    const url = new URL(
      'https://multimedia.nt.qq.com.cn//download?appid=1407&amp;fileid=abc&amp;rkey=K&amp;amp;x=1',
    );
    expect(normalizeTencentUrl(url).href).toBe(
      'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=abc&rkey=K&amp;x=1',
    );
    const clean = new URL('https://gchat.qpic.cn/download?rkey=K');
    expect(normalizeTencentUrl(clean)).toBe(clean);
  });
  it.each([
    [
      'https://c2cpicdw.qpic.cn/offpic_new/12345/12345-678-0123456789abcdef0123456789ABCDEF/0?term=2',
      'https://gchat.qpic.cn/gchatpic_new/0/0-0-0123456789ABCDEF0123456789ABCDEF/0',
    ],
    [
      'https://gchat.qpic.cn/gchatpic_new/12345/6789-1111-0123456789ABCDEF0123456789ABCDEF/720',
      'https://gchat.qpic.cn/gchatpic_new/0/0-0-0123456789ABCDEF0123456789ABCDEF/0',
    ],
    ['https://gchat.qpic.cn/gchatpic_new/0/0-0-0123456789ABCDEF0123456789ABCDEF/0', undefined],
    ['https://gchat.qpic.cn/download?fileid=x', undefined],
  ])('canonical form of %s', (input, canonical) => {
    expect(canonicalPictureUrl(new URL(input))?.href).toBe(canonical);
  });
});

describe('hosts and Referer', () => {
  it.each([
    ['multimedia.nt.qq.com.cn', true],
    ['gchat.qpic.cn', true],
    ['c2cpicdw.qpic.cn', true],
    ['a1.photo.store.qq.com', true],
    ['grouptalk.c2c.qq.com', true],
    ['q.qlogo.cn', true],
    ['qq.com', false],
    ['example.com', false],
    ['qpic.cn.evil.example', false],
  ])('%s → %s', (host, expected) => {
    expect(isTencentMediaHost(host)).toBe(expected);
  });
  it('a Referer on qq.com passes; a foreign one never does', () => {
    const preset = qqPreset();
    const url = new URL('https://gchat.qpic.cn/download');
    expect(preset.referer!(url, 'https://qzone.qq.com/')).toBe('https://qzone.qq.com/');
    expect(preset.referer!(url, 'https://gchat.qpic.cn/')).toBeUndefined();
    expect(preset.referer!(url, 'https://evil.example/')).toBeUndefined();
    expect(preset.referer!(url, undefined)).toBeUndefined();
    expect(isQqReferer('https://qq.com.evil.example/')).toBe(false);
  });
});

describe('preset cache key: the rkey goes, on Tencent hosts only', () => {
  it.each([
    [
      'https://multimedia.nt.qq.com.cn/download?appid=1407&rkey=R&fileid=F#x',
      'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=F',
    ],
    ['https://gchat.qpic.cn/x?n=1&rkey=R', 'https://gchat.qpic.cn/x?n=1'],
    ['https://q1.qlogo.cn/g?b=qq&rkey=R', 'https://q1.qlogo.cn/g?b=qq'],
  ])('%s → %s', (input, key) => {
    expect(qqPreset().cacheKey!(new URL(input))).toBe(key);
  });

  it.each([
    'https://a.example/x?rkey=R',
    'https://qq.com.evil.example/x?rkey=R',
    'https://evilqq.com/x?rkey=R',
  ])('%s is not a Tencent host: the preset does not handle it', (input) => {
    expect(qqPreset().handles(new URL(input))).toBe(false);
  });

  it('a plain-http link keys by itself (never the https entry)', () => {
    expect(qqPreset().cacheKey!(new URL('http://gchat.qpic.cn/x?rkey=R'))).toBeUndefined();
  });
});

describe('preset', () => {
  it('keys a link without a fileid by its URL without rkey (any case) or fragment; other hosts are not its own', () => {
    const preset = qqPreset();
    const key = (href: string) => preset.cacheKey!(new URL(href));
    expect(key('https://gchat.qpic.cn/gchatpic_new/0/0-0-AB/0?term=2&RKEY=x#f')).toBe(
      'https://gchat.qpic.cn/gchatpic_new/0/0-0-AB/0?term=2',
    );
    expect(key('https://gchat.qpic.cn/download?appid=1407&rkey=one')).toBe(
      key('https://gchat.qpic.cn/download?appid=1407&rkey=two'),
    );
    expect(preset.handles(new URL('https://notqq.com.cn.evil.example/x?rkey=kept'))).toBe(false);
  });

  it('size becomes expectedBytes, digest+size the cache key; past retention is url-expired/DETOUR_URL_GONE', () => {
    const now = uploaded + 1000;
    const preset = qqPreset({ now: () => now });
    const url = new URL(`https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=${sample()}&rkey=K`);
    expect(preset.expectedBytes!(url)).toBe(383_495);
    expect(preset.cacheKey!(url)).toBe(`qq:file:${digest.toString('hex')}:383495`);
    expect(preset.cacheKey!(url)).not.toContain('K');
    const late = qqPreset({ now: () => uploaded + 2_678_401_000 });
    expect(() => late.rewriteUrl!(url)).toThrow(
      expect.objectContaining({ failureClass: 'url-expired', code: 'DETOUR_URL_GONE' }),
    );
  });
});

describe('rkey answers', () => {
  const now = 1_700_000_000_000;
  it.each([
    [
      'NapCat nc_get_rkey',
      [
        { rkey: '&rkey=P', ttl: '3420', time: 1_700_000_000, type: 10 },
        { rkey: '&rkey=G', ttl: '3420', time: 1_700_000_000, type: 20 },
      ],
    ],
    [
      'NapCat get_rkey',
      [
        { type: 'private', rkey: '&rkey=P', created_at: 1_700_000_000, ttl: '3420' },
        { type: 'group', rkey: '&rkey=G', created_at: 1_700_000_000, ttl: '3420' },
      ],
    ],
    [
      'Lagrange get_rkey',
      {
        rkeys: [
          { type: 'private', rkey: 'P', created_at: 1_700_000_000, ttl: 3420 },
          { type: 'group', rkey: 'G', created_at: 1_700_000_000, ttl: 3420 },
        ],
      },
    ],
    [
      'LLOneBot get_rkey',
      {
        private_key: '&rkey=P',
        group_key: '&rkey=G',
        expired_time: 1_700_003_420,
        updated_time: 1_700_000_000,
      },
    ],
  ])('%s', (_name, data) => {
    expect(parseRkeyAnswer(data, now)).toEqual([
      { type: 'private', rkey: 'P', expiresAt: now + 3_420_000 },
      { type: 'group', rkey: 'G', expiresAt: now + 3_420_000 },
    ]);
  });
  it('appid → key type', () => {
    expect(rkeyTypeFor(1406)).toBe('private');
    expect(rkeyTypeFor(1407)).toBe('group');
    expect(rkeyTypeFor(undefined)).toBe('group');
  });
});
