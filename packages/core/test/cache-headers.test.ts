/**
 * Issue 22 item 1: request headers belong to the cache key, and the origin's `Vary` is honoured,
 * in the memory, disk and Redis tiers. A real origin on loopback answers per header; a real
 * redis-server holds the shared tier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningRedis, startRedis } from '@detour/lab';
import type Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskCacheStore, KeyValueCacheStore, MemoryCacheStore } from '../src/cache/index.js';
import type { CacheStore } from '../src/cache/types.js';
import { createPipeline, type FetchOptions } from '../src/internal.js';
import { KeyvStore } from '../src/store/index.js';
import { connectKeyv } from './helpers/keyv.js';

/** What the origin answers: the body names the header values it saw. */
function answer(req: IncomingMessage): { body: string; headers: Record<string, string> } {
  const url = new URL(req.url ?? '/', 'http://x');
  const cacheable = { 'cache-control': 'max-age=3600' };
  if (url.pathname === '/who') {
    // No Vary: the origin forgets to say the answer depends on the key (the attack in the issue).
    const key = req.headers['x-api-key'];
    return { body: key ? `private picture of ${key}` : 'public picture', headers: cacheable };
  }
  if (url.pathname === '/lang') {
    return {
      body: `picture for ${req.headers['accept-language'] ?? 'nobody'}`,
      headers: { ...cacheable, vary: 'Accept-Encoding, Accept-Language' },
    };
  }
  if (url.pathname === '/star')
    return { body: `star ${Math.random()}`, headers: { ...cacheable, vary: '*' } };
  return { body: 'not found', headers: {} };
}

let origin: Server;
let base: string;
let hits = 0;
let redis: RunningRedis;
const clients: Keyv[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  origin = createServer((req, res) => {
    hits++;
    const { body, headers } = answer(req);
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  redis = await startRedis();
});
afterAll(async () => {
  for (const keyv of clients) await keyv.disconnect();
  await redis?.close();
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh storage for one tier kind, shared by the pipelines (instances) a test builds on it. */
function tierOf(kind: string): CacheStore {
  if (kind === 'memory') return new MemoryCacheStore();
  if (kind === 'disk') {
    const dir = mkdtempSync(join(tmpdir(), 'detour-vary-'));
    dirs.push(dir);
    return new DiskCacheStore(dir);
  }
  const keyv = connectKeyv(redis.url, `detour-vary-${Math.random()}`);
  clients.push(keyv);
  return new KeyValueCacheStore(new KeyvStore(keyv));
}

const instance = (tier: CacheStore, headers: Record<string, string> = {}) =>
  createPipeline({
    allowPrivateNetwork: true,
    proxy: false,
    strategies: ['direct'],
    headers,
    cache: { tiers: [tier] },
  });

async function get(pipeline: ReturnType<typeof instance>, path: string, options: FetchOptions = {}) {
  const before = hits;
  const r = await pipeline.fetch(`${base}${path}`, options);
  return { text: r.body.toString(), fromCache: r.fromCache, asked: hits - before };
}

describe.each(['memory', 'disk', 'redis'])('the %s tier', (kind) => {
  it("a caller's header is part of the key: no answer fetched with X-Api-Key reaches a caller without it", async () => {
    const tier = tierOf(kind);
    const bot = instance(tier);
    expect(await get(bot, '/who', { headers: { 'X-Api-Key': 'alice' } })).toEqual({
      text: 'private picture of alice',
      fromCache: false,
      asked: 1,
    });
    // Another caller, same URL, no header: the origin is asked, Alice's answer is not served.
    expect(await get(bot, '/who')).toEqual({ text: 'public picture', fromCache: false, asked: 1 });
    // Bob's key is another entry; Alice's own repeat is a hit (any spelling of the name).
    expect((await get(bot, '/who', { headers: { 'x-api-key': 'bob' } })).text).toBe('private picture of bob');
    expect(await get(bot, '/who', { headers: { 'x-API-key': 'alice' } })).toEqual({
      text: 'private picture of alice',
      fromCache: true,
      asked: 0,
    });
    expect(await get(bot, '/who')).toEqual({ text: 'public picture', fromCache: true, asked: 0 });
    await bot.close();
  });

  it("the origin's Vary: one entry per value of the varied header, each served only to its own", async () => {
    const tier = tierOf(kind);
    // Two instances on one store, configured with different Accept-Language (not a caller's header).
    const english = instance(tier, { 'accept-language': 'en' });
    const french = instance(tier, { 'accept-language': 'fr' });
    expect(await get(english, '/lang')).toEqual({ text: 'picture for en', fromCache: false, asked: 1 });
    expect(await get(french, '/lang')).toEqual({ text: 'picture for fr', fromCache: false, asked: 1 });
    expect(await get(english, '/lang')).toEqual({ text: 'picture for en', fromCache: true, asked: 0 });
    expect(await get(french, '/lang')).toEqual({ text: 'picture for fr', fromCache: true, asked: 0 });
    await english.close();
    await french.close();
  });

  it('Vary: * is never stored', async () => {
    const bot = instance(tierOf(kind));
    const first = await get(bot, '/star');
    const second = await get(bot, '/star');
    expect([first.fromCache, second.fromCache, second.asked]).toEqual([false, false, 1]);
    expect(second.text).not.toBe(first.text);
    await bot.close();
  });
});
