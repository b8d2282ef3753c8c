import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  CircuitOpenError,
  originOf,
  routeKey,
  routeWinner,
  StoreRouteMemory,
} from '../src/adaptive/index.js';
import type { AttemptRecord } from '../src/internal.js';
import { MemoryStore } from '../src/store/index.js';

const PLAN = ['direct', 'direct-bypass', 'tls-relaxed', 'curl', 'placeholder'];
const url = new URL('https://legacy.example/a.png');
const other = new URL('https://legacy.example:8443/b.png');

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const failed = (
  strategy: string,
  failureClass: AttemptRecord['failureClass'] = 'tls-handshake',
): AttemptRecord => ({
  strategy,
  route: 'direct',
  outcome: 'failed',
  failureClass,
  code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  ms: 1,
});
const ok = (strategy: string): AttemptRecord => ({
  strategy,
  route: 'direct',
  outcome: 'ok',
  ms: 1,
  status: 200,
});

describe('originOf / routeKey', () => {
  it.each([
    ['https://a.example/x?y=1', 'https://a.example:443'],
    ['http://A.Example/x', 'http://a.example:80'],
    ['https://a.example:8443/', 'https://a.example:8443'],
    ['http://[::1]:8080/', 'http://[::1]:8080'],
  ])('%s → %s', (input, origin) => {
    expect(originOf(new URL(input))).toBe(origin);
  });
  it('puts the environment fingerprint in the key', () => {
    expect(routeKey(url, 'proxy=on')).not.toBe(routeKey(url, 'proxy=off'));
  });
});

describe('routeWinner', () => {
  it.each([
    [[], false, undefined],
    [[failed('direct'), ok('tls-relaxed')], false, 'tls-relaxed'],
    [[failed('direct'), ok('placeholder')], true, undefined],
    [[failed('direct'), { ...failed('tls-relaxed', 'http-status'), status: 404 }], false, 'tls-relaxed'],
    [[{ ...failed('direct', 'http-status'), status: 503 }], false, undefined],
    [[{ ...failed('direct', 'http-status'), status: 429 }], false, undefined],
    [[failed('direct'), failed('tls-relaxed', 'timeout')], false, undefined],
  ] as const)('%o (degraded %s) → %s', (attempts, degraded, winner) => {
    expect(routeWinner(attempts as unknown as AttemptRecord[], degraded)).toBe(winner);
  });
});

describe('StoreRouteMemory', () => {
  it('starts at the winner after one rescue, for every path on that origin', async () => {
    const memory = new StoreRouteMemory();
    const first = await memory.order(url, 'fp', PLAN);
    expect(first).toMatchObject({ order: PLAN, source: 'plan' });
    await memory.record(url, 'fp', first, {
      winner: 'tls-relaxed',
      attempts: [failed('direct'), ok('tls-relaxed')],
    });
    const next = await memory.order(new URL('https://legacy.example/other.png'), 'fp', PLAN);
    expect(next.order).toEqual(['tls-relaxed', 'direct', 'direct-bypass', 'curl', 'placeholder']);
    expect(next.source).toBe('remembered');
    expect(await memory.inspect(url, 'fp')).toMatchObject({
      winner: 'tls-relaxed',
      failed: [{ strategy: 'direct', failureClass: 'tls-handshake' }],
    });
    // another port is another origin; another fingerprint is another environment
    expect((await memory.order(other, 'fp', PLAN)).source).toBe('plan');
    expect((await memory.order(url, 'fp2', PLAN)).source).toBe('plan');
  });

  it('writes nothing when the strictest strategy wins, and forgets when it wins again', async () => {
    const store = new MemoryStore();
    const memory = new StoreRouteMemory({ store });
    await memory.record(url, 'fp', await memory.order(url, 'fp', PLAN), {
      winner: 'direct',
      attempts: [ok('direct')],
    });
    expect(store.size).toBe(0);
    await memory.record(url, 'fp', await memory.order(url, 'fp', PLAN), {
      winner: 'curl',
      attempts: [failed('direct'), ok('curl')],
    });
    expect(store.size).toBe(1);
    const plan = await memory.order(url, 'fp', PLAN);
    await memory.record(url, 'fp', plan, { winner: 'direct', attempts: [ok('direct')] });
    expect(await memory.inspect(url, 'fp')).toBeUndefined();
  });

  it('ignores a winner the plan does not contain (another instance with other strategies)', async () => {
    const memory = new StoreRouteMemory();
    await memory.record(url, 'fp', await memory.order(url, 'fp', PLAN), {
      winner: 'tls-relaxed',
      attempts: [failed('direct'), ok('tls-relaxed')],
    });
    expect(await memory.order(url, 'fp', ['direct', 'curl'])).toMatchObject({
      order: ['direct', 'curl'],
      source: 'plan',
    });
  });

  it('learns nothing from a total failure or a degraded result', async () => {
    const memory = new StoreRouteMemory();
    const plan = await memory.order(url, 'fp', PLAN);
    await memory.record(url, 'fp', plan, {
      winner: undefined,
      attempts: [failed('direct'), failed('curl', 'timeout')],
    });
    await memory.record(url, 'fp', plan, {
      winner: routeWinner([failed('direct'), ok('placeholder')], true),
      attempts: [],
    });
    expect(await memory.inspect(url, 'fp')).toBeUndefined();
  });

  it('expires after ttlMs and plans strict again', async () => {
    const c = clock();
    const memory = new StoreRouteMemory({ ttlMs: 60_000, reprobeAfterMs: 0, now: c.now });
    await memory.record(url, 'fp', await memory.order(url, 'fp', PLAN), {
      winner: 'tls-relaxed',
      attempts: [failed('direct'), ok('tls-relaxed')],
    });
    c.t += 59_999;
    expect((await memory.order(url, 'fp', PLAN)).source).toBe('remembered');
    c.t += 1;
    expect(await memory.order(url, 'fp', PLAN)).toMatchObject({ order: PLAN, source: 'plan' });
  });

  it('re-probes the whole plan once reprobeAfterMs has passed, one request at a time', async () => {
    const c = clock();
    const memory = new StoreRouteMemory({ ttlMs: 3_600_000, reprobeAfterMs: 600_000, now: c.now });
    await memory.record(url, 'fp', await memory.order(url, 'fp', PLAN), {
      winner: 'tls-relaxed',
      attempts: [failed('direct'), ok('tls-relaxed')],
    });
    c.t += 600_000;
    const probe = await memory.order(url, 'fp', PLAN);
    expect(probe).toMatchObject({ order: PLAN, source: 'reprobe', winner: 'tls-relaxed' });
    // while that probe runs, the others keep starting at the winner
    expect((await memory.order(url, 'fp', PLAN)).order[0]).toBe('tls-relaxed');
    // the probe finds strict still broken: winner kept, probe clock restarted
    await memory.record(url, 'fp', probe, {
      winner: 'tls-relaxed',
      attempts: [failed('direct'), ok('tls-relaxed')],
    });
    expect(await memory.inspect(url, 'fp')).toMatchObject({ winner: 'tls-relaxed', probedAt: c.t });
    c.t += 600_000;
    const again = await memory.order(url, 'fp', PLAN);
    expect(again.source).toBe('reprobe');
    // the host was fixed: strict wins and the memory forgets it
    await memory.record(url, 'fp', again, { winner: 'direct', attempts: [ok('direct')] });
    expect(await memory.order(url, 'fp', PLAN)).toMatchObject({ order: PLAN, source: 'plan' });
  });

  it('re-probes every N-th request with reprobeEvery', async () => {
    const memory = new StoreRouteMemory({ reprobeAfterMs: 0, reprobeEvery: 4 });
    await memory.record(url, 'fp', await memory.order(url, 'fp', PLAN), {
      winner: 'curl',
      attempts: [failed('direct'), ok('curl')],
    });
    const sources: string[] = [];
    for (let i = 0; i < 8; i++) sources.push((await memory.order(url, 'fp', PLAN)).source);
    expect(sources).toEqual([
      'remembered',
      'remembered',
      'remembered',
      'reprobe',
      'remembered',
      'remembered',
      'remembered',
      'reprobe',
    ]);
  });

  it('learns a new winner when the remembered one stops working', async () => {
    const memory = new StoreRouteMemory();
    await memory.record(url, 'fp', await memory.order(url, 'fp', PLAN), {
      winner: 'tls-relaxed',
      attempts: [failed('direct'), ok('tls-relaxed')],
    });
    const plan = await memory.order(url, 'fp', PLAN);
    await memory.record(url, 'fp', plan, {
      winner: 'curl',
      attempts: [failed('tls-relaxed', 'timeout'), ok('curl')],
    });
    expect((await memory.order(url, 'fp', PLAN)).order[0]).toBe('curl');
  });

  it('drops an entry it cannot read', async () => {
    const store = new MemoryStore();
    const memory = new StoreRouteMemory({ store });
    await store.set(`route:v1:${routeKey(url, 'fp')}`, '{not json', 0);
    expect((await memory.order(url, 'fp', PLAN)).source).toBe('plan');
    expect(store.size).toBe(0);
  });
});

describe('CircuitBreaker', () => {
  it('opens after `threshold` failed fetches in a row, then lets exactly one probe through', () => {
    const c = clock();
    const breaker = new CircuitBreaker({ threshold: 3, cooldownMs: 30_000, now: c.now });
    const key = routeKey(url, 'fp');
    for (let i = 0; i < 3; i++) breaker.failure(breaker.enter(key));
    expect(breaker.state(key)).toBe('open');
    let refused: unknown;
    try {
      breaker.enter(key);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toMatchObject({ code: 'DETOUR_CIRCUIT_OPEN', failureClass: 'unavailable', attempts: [] });
    expect((refused as CircuitOpenError).retryAt).toBe(c.t + 30_000);
    expect((refused as Error).message).toContain('legacy.example:443');

    c.t += 30_000;
    expect(breaker.state(key)).toBe('half-open');
    const probe = breaker.enter(key);
    expect(probe.probe).toBe(true);
    expect(() => breaker.enter(key)).toThrow(/probe request is in flight/);
    breaker.failure(probe); // probe failed: open again for a full cool-down
    expect(breaker.state(key)).toBe('open');
    c.t += 30_000;
    const second = breaker.enter(key);
    breaker.success(second);
    expect(breaker.state(key)).toBe('closed');
    expect(breaker.enter(key).probe).toBe(false);
  });

  it('a success resets the count; other hosts are not affected', () => {
    const breaker = new CircuitBreaker({ threshold: 2 });
    const key = routeKey(url, 'fp');
    breaker.failure(breaker.enter(key));
    breaker.success(breaker.enter(key));
    breaker.failure(breaker.enter(key));
    expect(breaker.state(key)).toBe('closed');
    breaker.failure(breaker.enter(key));
    expect(breaker.state(key)).toBe('open');
    expect(breaker.state(routeKey(other, 'fp'))).toBe('closed');
  });

  it('a neutral probe (caller aborted) frees the half-open slot without closing or reopening', () => {
    const c = clock();
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 1000, now: c.now });
    const key = 'k';
    breaker.failure(breaker.enter(key));
    c.t += 1000;
    breaker.neutral(breaker.enter(key));
    expect(breaker.state(key)).toBe('half-open');
    expect(breaker.enter(key).probe).toBe(true);
  });

  it('inspect tells state, failures and retryAt; reset closes the circuit here and in the shared store', async () => {
    const c = clock();
    const store = new MemoryStore({ now: c.now });
    const one = new CircuitBreaker({ threshold: 2, cooldownMs: 5000, store, now: c.now });
    const two = new CircuitBreaker({ threshold: 2, cooldownMs: 5000, store, now: c.now });
    const key = routeKey(url, 'fp');
    expect(one.inspect(key)).toEqual({ state: 'closed', failures: 0 });
    one.failure(one.enter(key));
    expect(one.inspect(key)).toEqual({ state: 'closed', failures: 1 });
    one.failure(one.enter(key));
    await one.flush();
    expect(one.inspect(key)).toEqual({ state: 'open', failures: 2, retryAt: c.t + 5000 });
    await expect(two.admit(key)).rejects.toBeInstanceOf(CircuitOpenError); // shared: open there too

    one.reset(key);
    await one.flush();
    expect(one.inspect(key)).toEqual({ state: 'closed', failures: 0 });
    expect((await one.admit(key)).probe).toBe(false);
    expect((await new CircuitBreaker({ store, now: c.now }).admit(key)).probe).toBe(false);
    // What `two` took from the store is its own copy until its cool-down ends (as after a success
    // elsewhere); an instance that had not picked it up (the fresh one above) never will.
    await expect(two.admit(key)).rejects.toBeInstanceOf(CircuitOpenError);
    two.reset(key);
    expect((await two.admit(key)).probe).toBe(false);
  });

  it('does not count stale failures of requests let in before it opened', () => {
    const c = clock();
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 1000, now: c.now });
    const early = breaker.enter('k');
    breaker.failure(breaker.enter('k'));
    c.t += 999;
    breaker.failure(early);
    c.t += 1;
    expect(breaker.state('k')).toBe('half-open');
  });
});
