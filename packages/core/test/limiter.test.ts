import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../src/limiter.js';

/** Lets queued promise callbacks run. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimiter', () => {
  it('grants up to the per-host limit, queues the rest FIFO', async () => {
    const limiter = new ConcurrencyLimiter({ global: 10, perHost: 2 });
    const order: number[] = [];
    const releases = await Promise.all([limiter.acquire('a'), limiter.acquire('a')]);
    const queued = [3, 4, 5].map(async (n) => {
      const release = await limiter.acquire('a');
      order.push(n);
      return release;
    });
    await tick();
    expect(limiter.activeFor('a')).toBe(2);
    expect(limiter.queued).toBe(3);
    releases[0]!();
    await tick();
    expect(order).toEqual([3]);
    releases[1]!();
    releases[1]!(); // twice: no effect
    await tick();
    expect(order).toEqual([3, 4]);
    expect(limiter.activeFor('a')).toBe(2);
    (await queued[0]!)();
    await tick();
    expect(order).toEqual([3, 4, 5]);
    for (const release of await Promise.all(queued)) release();
    expect(limiter.active).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('a full host does not block other hosts queued behind it; the global limit holds', async () => {
    const limiter = new ConcurrencyLimiter({ global: 2, perHost: 1 });
    const a1 = await limiter.acquire('a');
    const waitingA = limiter.acquire('a');
    const b1 = await limiter.acquire('b'); // runs at once: its host is free and global has room
    expect(limiter.active).toBe(2);
    let c1Granted = false;
    const c1 = limiter.acquire('c').then((release) => {
      c1Granted = true;
      return release;
    });
    await tick();
    expect(c1Granted).toBe(false); // global full
    b1();
    await tick();
    expect(c1Granted).toBe(true); // a is still full, so c (behind a) goes first
    a1();
    (await waitingA)();
    (await c1)();
    expect(limiter.active).toBe(0);
  });

  it('an aborted waiter leaves the queue at once and its turn passes on', async () => {
    const limiter = new ConcurrencyLimiter({ global: 1 });
    const held = await limiter.acquire('a');
    const controller = new AbortController();
    const aborted = limiter.acquire('a', { signal: controller.signal });
    const next = limiter.acquire('b');
    expect(limiter.queued).toBe(2);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ failureClass: 'aborted', code: 'ABORT_ERR' });
    expect(limiter.queued).toBe(1);
    held();
    (await next)();
    expect(limiter.active).toBe(0);
  });

  it('refuses at once when already aborted or past the deadline', async () => {
    const limiter = new ConcurrencyLimiter({ global: 1 });
    const held = await limiter.acquire('a');
    await expect(limiter.acquire('a', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
    await expect(limiter.acquire('a', { deadline: Date.now() - 1 })).rejects.toMatchObject({
      failureClass: 'timeout',
      code: 'DETOUR_QUEUE_TIMEOUT',
    });
    expect(limiter.queued).toBe(0);
    held();
  });

  it('a queued waiter whose deadline passes leaves the queue with a timeout', async () => {
    const limiter = new ConcurrencyLimiter({ global: 1 });
    const held = await limiter.acquire('a');
    const late = limiter.acquire('a', { deadline: Date.now() + 20 });
    await expect(late).rejects.toMatchObject({ failureClass: 'timeout', code: 'DETOUR_QUEUE_TIMEOUT' });
    expect(limiter.queued).toBe(0);
    held();
    expect(limiter.active).toBe(0);
  });

  it('a granted waiter leaves no timer behind', async () => {
    const limiter = new ConcurrencyLimiter({ global: 1 });
    const held = await limiter.acquire('a');
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const waiting = limiter.acquire('a', {
      deadline: Date.now() + 60_000,
      signal: new AbortController().signal,
    });
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before + 1);
    held();
    (await waiting)();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  it('rejects nonsense limits', () => {
    expect(() => new ConcurrencyLimiter({ global: 0 })).toThrow(/global must be at least 1/);
    expect(() => new ConcurrencyLimiter({ perHost: Number.NaN })).toThrow(/perHost/);
    expect(new ConcurrencyLimiter({ perHost: Number.POSITIVE_INFINITY }).perHost).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
