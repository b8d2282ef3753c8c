import { type RunningRedis, startRedis } from '@detour/lab';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreRouteMemory } from '../src/adaptive/index.js';
import { Cache, hashKey } from '../src/cache/index.js';
import { KeyvStore } from '../src/store/index.js';
import { candidate } from './helpers/cache.js';
import { connectKeyv } from './helpers/keyv.js';

describe('shared store: Keyv + @keyv/redis against a real redis-server', () => {
  let redis: RunningRedis;
  const clients: Keyv[] = [];
  /** One Keyv client per "bot instance", like separate processes would have. */
  const connect = () => {
    const keyv = new Keyv(new KeyvRedis(redis.url), { namespace: 'detour-test' });
    clients.push(keyv);
    return keyv;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const keyv of clients) await keyv.disconnect();
    await redis?.close();
  });

  it('two caches on two connections share entries; binary bodies round-trip exactly', async () => {
    const body = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x80, 0x7f]);
    const a = new Cache({ memory: false, store: connect() });
    const b = new Cache({ memory: false, store: connect() });
    expect(await a.set('https://a.example/x.png', candidate(body), body)).toEqual({ stored: true });
    const hit = await b.get('https://a.example/x.png');
    expect(hit?.tier).toBe('shared');
    expect(hit?.entry.body.equals(body)).toBe(true);
    expect(hit?.entry.meta.strategy).toBe('tls-relaxed');
  });

  it('Redis expires the entry itself (PX)', async () => {
    const keyv = connect();
    const store = new KeyvStore(keyv);
    await store.set('ttl-probe', 'v', 60_000);
    const client = (keyv.store as KeyvRedis<string>).client as unknown as {
      pTTL(key: string): Promise<number>;
      keys(pattern: string): Promise<string[]>;
    };
    const [key] = await client.keys('*detour:ttl-probe'); // Keyv and the adapter both add the namespace
    const ttl = await client.pTTL(key!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a damaged entry in Redis is a miss and is deleted', async () => {
    const keyv = connect();
    const cache = new Cache({ memory: false, store: keyv });
    const body = Buffer.from('genuine');
    await cache.set('k-bad', candidate(body), body);
    const key = `detour:cache:v1:${hashKey('k-bad')}`;
    const stored = JSON.parse((await keyv.get(key)) as string) as { body: string };
    await keyv.set(key, JSON.stringify({ ...stored, body: Buffer.from('forgery').toString('base64') }));
    expect(await cache.get('k-bad')).toBeUndefined();
    expect(await keyv.get(key)).toBeUndefined();
  });

  it('two route memories on two connections share what they learned', async () => {
    const url = new URL('https://legacy.example/a.png');
    const plan = ['direct', 'tls-relaxed', 'curl'];
    const first = new StoreRouteMemory({ store: connect() });
    const second = new StoreRouteMemory({ store: connect() });
    await first.record(url, 'fp', await first.order(url, 'fp', plan), {
      winner: 'tls-relaxed',
      attempts: [
        { strategy: 'direct', route: 'direct', outcome: 'failed', failureClass: 'tls-handshake', ms: 1 },
      ],
    });
    expect(await second.order(new URL('https://legacy.example/b.png'), 'fp', plan)).toMatchObject({
      order: ['tls-relaxed', 'direct', 'curl'],
      source: 'remembered',
    });
    expect((await second.order(url, 'other-network', plan)).source).toBe('plan');
  });

  it('a Redis that goes away costs a bounded wait and reads as a miss, never an error', async () => {
    const doomed = await startRedis();
    const keyv = connectKeyv(doomed.url, 'doomed');
    const errors: unknown[] = [];
    keyv.on('error', (error: unknown) => errors.push(error));
    const store = new KeyvStore(keyv, { timeoutMs: 300 });
    const cache = new Cache({ memory: false, store });
    const body = Buffer.from('before the outage');
    expect(await cache.set('k', candidate(body), body)).toEqual({ stored: true });
    await doomed.close();
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.set('k2', candidate(body), body)).toMatchObject({ stored: false });
    const memory = new StoreRouteMemory({ store });
    await expect(memory.order(new URL('https://a.example/'), 'fp', ['direct'])).rejects.toThrow();
    // `quit` would wait for a server that is gone: force the client closed (stops reconnecting).
    await (keyv.store as KeyvRedis<string>).disconnect(true).catch(() => {});
    expect(errors.length).toBeGreaterThan(0); // the outage was reported on the Keyv, not thrown at us
  });
});
