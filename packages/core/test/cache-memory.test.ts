import { describe, expect, it } from 'vitest';
import {
  Cache,
  type CacheCandidate,
  CachedFailureError,
  type CacheEntry,
  cachePolicy,
  defaultCacheKey,
  dropQueryParams,
  hashKey,
  MemoryCacheStore,
  resultFromCache,
} from '../src/cache/index.js';
import { DetourError } from '../src/errors.js';
import { candidate as baseCandidate, sha } from './helpers/cache.js';

function entry(body: string, expiresAt = Number.MAX_SAFE_INTEGER): CacheEntry {
  const buf = Buffer.from(body);
  return {
    body: buf,
    meta: {
      v: 1,
      url: 'https://a.example/x',
      strategy: 'direct',
      status: 200,
      contentType: 'image/png',
      bytes: buf.length,
      sha256: sha(buf),
      insecure: false,
      downgraded: false,
      storedAt: 0,
      expiresAt,
    },
  };
}

/** A candidate whose URL carries a secret `rkey`: stored metadata must never show it. */
const candidate = (body: Buffer, over: Partial<CacheCandidate> = {}): CacheCandidate =>
  baseCandidate(body, {
    url: new URL('https://a.example/x.png?rkey=SECRET'),
    finalUrl: 'https://a.example/x.png?rkey=SECRET',
    ...over,
  });

/** Sample data for `dropQueryParams` scoped to hosts (core knows no site; the qq preset keys its own). */
const tencentCacheKey = dropQueryParams(['rkey'], {
  hosts: ['qq.com.cn', '*.qq.com.cn', 'qpic.cn', '*.qpic.cn'],
});

describe('cache keys', () => {
  it.each([
    [defaultCacheKey, 'https://a.example/x.png?a=1#frag', 'https://a.example/x.png?a=1'],
    [
      tencentCacheKey,
      'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=ABC&rkey=CAQSKAB6',
      'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=ABC',
    ],
    [
      tencentCacheKey,
      'https://gchat.qpic.cn/gchatpic_new/0/0-0-AB/0?term=2&RKEY=x',
      'https://gchat.qpic.cn/gchatpic_new/0/0-0-AB/0?term=2',
    ],
    [tencentCacheKey, 'https://example.com/x?rkey=kept', 'https://example.com/x?rkey=kept'],
    [
      tencentCacheKey,
      'https://notqq.com.cn.evil.example/x?rkey=kept',
      'https://notqq.com.cn.evil.example/x?rkey=kept',
    ],
    [dropQueryParams(['token', 'sig']), 'https://b.example/f?sig=1&id=2&token=3', 'https://b.example/f?id=2'],
  ])('%#: %s', (fn, input, key) => {
    expect(fn(new URL(input))).toBe(key);
  });
  it('two rkeys for the same Tencent file give one key', () => {
    const a = tencentCacheKey(new URL('https://multimedia.nt.qq.com.cn/download?fileid=F&rkey=one'));
    const b = tencentCacheKey(new URL('https://multimedia.nt.qq.com.cn/download?fileid=F&rkey=two'));
    expect(a).toBe(b);
  });
  it('stores see a hash, never the URL', () => {
    expect(hashKey('https://a.example/?token=SECRET')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('cachePolicy', () => {
  const ttlMs = 3_600_000;
  it.each([
    [{}, 'http', { store: true, private: false, ttlMs }],
    [{ 'cache-control': 'no-store' }, 'http', { store: false }],
    [{ 'cache-control': 'public, no-store' }, 'ttl', { store: false }],
    [{ 'cache-control': 'no-cache' }, 'http', { store: false }],
    [{ 'cache-control': 'no-cache' }, 'ttl', { store: true }],
    [{ 'cache-control': 'max-age=0' }, 'http', { store: false }],
    [{ 'cache-control': 'max-age=60' }, 'http', { store: true, ttlMs: 60_000 }],
    [{ 'cache-control': 'max-age=60' }, 'ttl', { store: true, ttlMs }],
    [{ 'cache-control': 'max-age=999999999' }, 'http', { store: true, ttlMs }],
    [{ 'cache-control': 'private, max-age=120' }, 'http', { store: true, private: true, ttlMs: 120_000 }],
    [{ 'cache-control': ['public', 'Max-Age="30"'] }, 'http', { store: true, ttlMs: 30_000 }],
    [
      { expires: 'Thu, 01 Jan 2026 00:10:00 GMT', date: 'Thu, 01 Jan 2026 00:00:00 GMT' },
      'http',
      { store: true, ttlMs: 600_000 },
    ],
    [{ expires: '0' }, 'http', { store: false }],
    [
      { expires: 'Thu, 01 Jan 1970 00:00:00 GMT', 'cache-control': 'max-age=10' },
      'http',
      { store: true, ttlMs: 10_000 },
    ],
  ] as const)('%o (%s) → %o', (headers, mode, expected) => {
    expect(cachePolicy(headers as never, { ttlMs, mode })).toMatchObject(expected);
  });
});

describe('MemoryCacheStore', () => {
  it('evicts the least recently used entry when over the entry bound', async () => {
    const store = new MemoryCacheStore({ maxEntries: 2, maxBytes: 1000 });
    await store.set('a', entry('a'));
    await store.set('b', entry('b'));
    await store.get('a'); // a is now the most recent
    await store.set('c', entry('c'));
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.body.toString()).toBe('a');
    expect(store.size).toBe(2);
  });

  it('evicts by bytes and refuses a body larger than maxEntryBytes', async () => {
    const store = new MemoryCacheStore({ maxBytes: 10, maxEntries: 100, maxEntryBytes: 6 });
    await store.set('a', entry('aaaa'));
    await store.set('b', entry('bbbb'));
    expect(store.bytes).toBe(8);
    await store.set('c', entry('cccc'));
    expect(store.bytes).toBe(8);
    expect(await store.get('a')).toBeUndefined();
    await store.set('big', entry('0123456'));
    expect(await store.get('big')).toBeUndefined();
    expect(store.bytes).toBe(8);
  });

  it('expires on read, with no timer', async () => {
    let now = 1000;
    const store = new MemoryCacheStore({ now: () => now });
    await store.set('a', entry('a', 2000));
    expect(await store.get('a')).toBeDefined();
    now = 2000;
    expect(await store.get('a')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('hands out copies: a caller mutating its Buffer does not corrupt the cache', async () => {
    const store = new MemoryCacheStore();
    const original = entry('hello');
    await store.set('a', original);
    original.body[0] = 0x4a;
    const got = await store.get('a');
    got!.body[1] = 0x4a;
    expect((await store.get('a'))?.body.toString()).toBe('hello');
  });
});

describe('Cache', () => {
  it('stores a success and answers with fromCache, the original strategy and one cache record', async () => {
    const cache = new Cache();
    const body = Buffer.from('PNGDATA');
    const url = new URL('https://a.example/x.png?rkey=SECRET');
    expect(await cache.set(cache.key(url), candidate(body), body)).toEqual({ stored: true });
    const hit = await cache.get(cache.key(url));
    expect(hit?.tier).toBe('memory');
    expect(hit?.entry.meta.url).not.toContain('SECRET'); // metadata is redacted
    const result = resultFromCache(hit!, url, 0);
    expect(result).toMatchObject({
      fromCache: true,
      strategy: 'tls-relaxed',
      degraded: false,
      bytes: body.length,
      sha256: sha(body),
      url: url.toString(),
      finalUrl: url.toString(),
      attempts: [{ strategy: 'cache', route: 'memory', outcome: 'ok' }],
    });
    expect(result.body.equals(body)).toBe(true);
  });

  it.each([
    ['degraded', { degraded: true }, /never cached/],
    ['status 203', { status: 203 }, /status 203/],
    ['no-store', { headers: { 'cache-control': 'no-store' } }, /no-store/],
  ] as const)('never stores %s', async (_name, over, reason) => {
    const cache = new Cache();
    const body = Buffer.from('x');
    const result = await cache.set('k', candidate(body, over), body);
    expect(result.stored).toBe(false);
    expect(result.reason).toMatch(reason);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('with no tiers stores nothing', async () => {
    const cache = new Cache({ memory: false });
    const body = Buffer.from('x');
    expect(await cache.set('k', candidate(body), body)).toMatchObject({ stored: false });
  });

  it('caps the TTL by max-age and expires', async () => {
    let now = 0;
    const cache = new Cache({ now: () => now });
    const body = Buffer.from('x');
    await cache.set('k', candidate(body, { headers: { 'cache-control': 'max-age=10' } }), body);
    now = 9_999;
    expect(await cache.get('k')).toBeDefined();
    now = 10_000;
    expect(await cache.get('k')).toBeUndefined();
  });

  it('a store that throws reads as a miss and never fails the caller', async () => {
    const broken = {
      shared: true,
      get: async () => {
        throw new Error('ECONNREFUSED');
      },
      set: async () => {
        throw new Error('ECONNREFUSED');
      },
      delete: async () => {
        throw new Error('ECONNREFUSED');
      },
    };
    const cache = new Cache({ memory: false, store: broken });
    const body = Buffer.from('x');
    expect(await cache.set('k', candidate(body), body)).toMatchObject({ stored: false });
    expect(await cache.get('k')).toBeUndefined();
    await cache.delete('k');
  });

  it('a shared tier never receives Cache-Control: private; the memory tier does', async () => {
    const seen: string[] = [];
    const spy = {
      shared: true,
      get: async () => undefined,
      set: async (key: string) => {
        seen.push(key);
      },
      delete: async () => {},
    };
    const cache = new Cache({ store: spy });
    const body = Buffer.from('x');
    expect(await cache.set('k', candidate(body, { headers: { 'cache-control': 'private' } }), body)).toEqual({
      stored: true,
    });
    expect(seen).toEqual([]);
    await cache.set('k2', candidate(body), body);
    expect(seen).toHaveLength(1);
  });

  it('the in-process memory tier takes the key as it is; a tier that may leave the process sees only its hash', async () => {
    const seen: string[] = [];
    const spy = {
      name: 'spy',
      shared: true,
      get: async (key: string) => {
        seen.push(`get ${key}`);
        return undefined;
      },
      set: async (key: string) => {
        seen.push(`set ${key}`);
      },
      delete: async (key: string) => {
        seen.push(`delete ${key}`);
      },
    };
    const memory = new MemoryCacheStore();
    const cache = new Cache({ tiers: [memory, spy] });
    const key = 'https://a.example/x?token=SECRET';
    const body = Buffer.from('x');
    expect(await cache.get(key)).toBeUndefined();
    await cache.set(key, candidate(body), body);
    expect((await memory.get(key))?.body).toEqual(body);
    expect(await memory.get(hashKey(key))).toBeUndefined();
    await cache.delete(key);
    expect(await memory.get(key)).toBeUndefined();
    expect(seen).toEqual([`get ${hashKey(key)}`, `set ${hashKey(key)}`, `delete ${hashKey(key)}`]);
    expect(seen.join()).not.toContain('SECRET');
  });

  describe('negative cache', () => {
    it('is off by default', async () => {
      const cache = new Cache();
      expect(
        await cache.setNegative('k', new DetourError('gone', { failureClass: 'http-status', status: 404 })),
      ).toBe(false);
      expect(await cache.getNegative('k')).toBeUndefined();
    });

    it('remembers a failure briefly and says so', async () => {
      let now = 0;
      const cache = new Cache({ negativeTtlMs: 5_000, now: () => now });
      const failure = new DetourError('HTTP 404 from https://a.example/x', {
        failureClass: 'http-status',
        code: 'DETOUR_HTTP_404',
        status: 404,
      });
      expect(await cache.setNegative('k', failure)).toBe(true);
      now = 2_000;
      const cached = await cache.getNegative('k');
      expect(cached).toBeInstanceOf(CachedFailureError);
      expect(cached).toMatchObject({
        fromCache: true,
        failureClass: 'http-status',
        code: 'DETOUR_HTTP_404',
        status: 404,
        attempts: [{ strategy: 'cache', route: 'negative', outcome: 'failed', failureClass: 'http-status' }],
      });
      expect(cached?.message).toMatch(/negative cache 2 s ago; no request was made/);
      now = 5_000;
      expect(await cache.getNegative('k')).toBeUndefined();
    });

    it.each([
      new DetourError('aborted by the caller', { failureClass: 'aborted', code: 'ABORT_ERR' }),
      new DetourError('private address', { failureClass: 'blocked' }),
      new DetourError('circuit open', { failureClass: 'unavailable', code: 'DETOUR_CIRCUIT_OPEN' }),
    ])('does not remember %s', async (failure) => {
      const cache = new Cache({ negativeTtlMs: 5_000 });
      expect(await cache.setNegative('k', failure)).toBe(false);
    });
  });
});

describe('Cache size bound', () => {
  it('refuses a body larger than any tier keeps, so toFile never reads it back to be refused', () => {
    const memoryOnly = new Cache({ memory: { maxBytes: 1024 * 1024 } });
    const big = Buffer.alloc(512 * 1024);
    expect(memoryOnly.maxEntryBytes).toBe(256 * 1024);
    expect(memoryOnly.refuses(candidate(big))).toMatch(/larger than any tier keeps/);
    expect(memoryOnly.refuses(candidate(Buffer.alloc(1024)))).toBeUndefined();
    const capped = new Cache({ memory: false, dir: '/nonexistent-never-written', maxEntryBytes: 1000 });
    expect(capped.refuses(candidate(Buffer.alloc(1001)))).toMatch(/larger than any tier keeps/);
  });
});
