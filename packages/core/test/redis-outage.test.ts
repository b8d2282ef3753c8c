/**
 * Issue 22 item 7: Redis going away costs almost nothing. A real redis-server holds the shared
 * cache tier, route memory and circuit state; it is killed (SIGKILL) mid-run and restarted on the
 * same port. Fetches keep working from the local tiers, within a tight deadline, and the shared
 * tier is used again once Redis is back. Entries are bound to the key they were stored under.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LAB_PNG } from '@detour/lab';
import type KeyvRedis from '@keyv/redis';
import type Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache, hashKey } from '../src/cache/index.js';
import { createPipeline, type Pipeline } from '../src/internal.js';
import { KeyvStore } from '../src/store/index.js';
import { candidate } from './helpers/cache.js';
import { connectKeyv } from './helpers/keyv.js';

let port: number;
let redis: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'detour-redis-outage-'));

/** redis-server on 127.0.0.1:`port`, no persistence; resolves once it accepts connections. */
async function startRedisOn(at: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(at, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

let origin: Server;
let base: string;
let hits = 0;
const keyvs: Keyv[] = [];
const pipelines: Pipeline[] = [];

beforeAll(async () => {
  port = await freePort();
  redis = await startRedisOn(port);
  origin = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' });
    res.end(LAB_PNG);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const p of pipelines) await p.close();
  for (const keyv of keyvs) await (keyv.store as KeyvRedis<string>).disconnect(true).catch(() => {});
  await kill(redis);
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** One bot instance: memory tier + Redis for the cache, route memory and circuit, as `detour serve --redis`. */
function instance(memory = true): { pipeline: Pipeline; store: KeyvStore } {
  const keyv = connectKeyv(`redis://127.0.0.1:${port}`, 'outage');
  keyv.on('error', () => {});
  keyvs.push(keyv);
  const store = new KeyvStore(keyv);
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    proxy: false,
    strategies: ['direct'],
    cache: memory ? { store } : { memory: false, store },
    routeMemory: { store },
    circuit: { store },
  });
  pipelines.push(pipeline);
  return { pipeline, store };
}

describe('Redis killed and restarted mid-run (issue 22 item 7)', () => {
  it('fetches keep their deadline, the local tier answers, the shared tier comes back', async () => {
    const { pipeline, store } = instance();
    const before = await pipeline.fetch(`${base}/a.png`);
    expect(before.fromCache).toBe(false);

    await kill(redis); // Redis goes away mid-run

    // A new URL with a 1.5 s deadline: the origin is tried and answers (no time lost to the store).
    const asked = hits;
    const started = performance.now();
    const fresh = await pipeline.fetch(`${base}/b.png`, { timeoutMs: 1500 });
    const firstMs = performance.now() - started;
    expect(fresh.attempts.map((a) => [a.strategy, a.outcome])).toEqual([['direct', 'ok']]);
    expect(hits).toBe(asked + 1); // the origin was asked
    expect(store.backingOff).toBe(true);
    // The next ones do not ask Redis at all while it backs off: the memory tier serves a.png.
    const t2 = performance.now();
    const cached = await pipeline.fetch(`${base}/a.png`, { timeoutMs: 1500 });
    const cachedMs = performance.now() - t2;
    expect(cached.fromCache).toBe(true);
    expect(cached.attempts[0]).toMatchObject({ strategy: 'cache', route: 'memory' });
    const t3 = performance.now();
    const other = await pipeline.fetch(`${base}/c.png`, { timeoutMs: 1500 });
    const otherMs = performance.now() - t3;
    expect(other.ok).toBe(true);
    console.log(
      `redis down: first fetch ${firstMs.toFixed(0)} ms (one bounded store wait), a memory hit ${cachedMs.toFixed(1)} ms, a new download ${otherMs.toFixed(1)} ms`,
    );

    redis = await startRedisOn(port); // Redis is back on the same port
    // Once the back-off has passed, writes reach Redis again: another instance without a memory
    // tier is served from the shared tier.
    let shared = false;
    for (let i = 0; i < 60 && !shared; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await pipeline.fetch(`${base}/d.png?try=${i}`, { timeoutMs: 1500 });
      const reader = new Cache({ memory: false, store: new KeyvStore(keyvs[0]!) });
      shared = (await reader.get(`${base}/d.png?try=${i}`)) !== undefined;
    }
    expect(shared).toBe(true);
    const second = instance(false).pipeline;
    const again = await second.fetch(`${base}/a.png`);
    expect(again.fromCache).toBe(false); // a.png was stored before the outage… and Redis lost it (no persistence)
    const d = await second.fetch(`${base}/b.png`);
    expect(d.ok).toBe(true);
  }, 60_000);

  it('an entry is bound to its key: the same bytes moved under another key are a miss', async () => {
    const keyv = connectKeyv(`redis://127.0.0.1:${port}`, 'bound');
    keyv.on('error', () => {});
    keyvs.push(keyv);
    const store = new KeyvStore(keyv);
    const cache = new Cache({ memory: false, store });
    const body = Buffer.from('alice only');
    expect(await cache.set('https://a.example/alice', candidate(body), body)).toEqual({ stored: true });
    expect((await cache.get('https://a.example/alice'))?.entry.body.toString()).toBe('alice only');
    // Copy Alice's stored entry, byte for byte, to where Bob's key lives (a store that mixed keys up).
    const raw = await store.get(`cache:v1:${hashKey('https://a.example/alice')}`);
    expect(raw).toBeDefined();
    await store.set(`cache:v1:${hashKey('https://a.example/bob')}`, raw!, 60_000);
    expect(await cache.get('https://a.example/bob')).toBeUndefined();
  });
});
