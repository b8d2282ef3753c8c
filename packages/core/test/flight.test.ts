import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../src/flight.js';

/** A work function the test resolves by hand, counting its runs and watching its signal. */
function gate<T>() {
  const state = {
    runs: 0,
    signal: undefined as AbortSignal | undefined,
    resolve: (_value: T) => {},
    reject: (_error: unknown) => {},
  };
  const work = (signal: AbortSignal) => {
    state.runs++;
    state.signal = signal;
    return new Promise<T>((resolve, reject) => {
      state.resolve = resolve;
      state.reject = reject;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  };
  return { state, work };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SingleFlight', () => {
  it('50 concurrent callers share one run; each gets the full value, joiners their own copy', async () => {
    const flight = new SingleFlight<Buffer>({ copy: (b) => Buffer.from(b) });
    const { state, work } = gate<Buffer>();
    const calls = Array.from({ length: 50 }, () => flight.run('k', work));
    await tick();
    expect(flight.waiters('k')).toBe(50);
    state.resolve(Buffer.from('hello'));
    const results = await Promise.all(calls);
    expect(state.runs).toBe(1);
    expect(results.filter((r) => !r.shared)).toHaveLength(1);
    for (const r of results) expect(r.value.toString()).toBe('hello');
    results[1]!.value[0] = 0x4a; // a joiner mutating its copy does not touch the others
    expect(results[0]!.value.toString()).toBe('hello');
    expect(results[2]!.value.toString()).toBe('hello');
    expect(flight.size).toBe(0);
  });

  it('different keys run separately; a finished key runs again', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    const work = async () => ++runs;
    const [a, b] = await Promise.all([flight.run('a', work), flight.run('b', work)]);
    expect([a.value, b.value].sort()).toEqual([1, 2]);
    expect((await flight.run('a', work)).value).toBe(3);
  });

  it('one caller aborting does not abort the download for the others', async () => {
    const flight = new SingleFlight<string>();
    const { state, work } = gate<string>();
    const quitter = new AbortController();
    const first = flight.run('k', work, { signal: quitter.signal });
    const second = flight.run('k', work);
    await tick();
    quitter.abort();
    await expect(first).rejects.toMatchObject({ failureClass: 'aborted', code: 'ABORT_ERR' });
    expect(state.signal?.aborted).toBe(false);
    state.resolve('body');
    await expect(second).resolves.toEqual({ value: 'body', shared: true });
  });

  it('aborts the shared work only when every waiter gave up, and then starts afresh', async () => {
    const flight = new SingleFlight<string>();
    const { state, work } = gate<string>();
    const a = new AbortController();
    const b = new AbortController();
    const pa = flight.run('k', work, { signal: a.signal });
    const pb = flight.run('k', work, { signal: b.signal });
    await tick();
    a.abort();
    await expect(pa).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(state.signal?.aborted).toBe(false);
    b.abort();
    await expect(pb).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(state.signal?.aborted).toBe(true);
    expect(flight.has('k')).toBe(false);
    const fresh = gate<string>();
    const pc = flight.run('k', fresh.work);
    await tick();
    fresh.state.resolve('again');
    await expect(pc).resolves.toEqual({ value: 'again', shared: false });
  });

  it('join() shares work in flight and starts nothing when there is none', async () => {
    const flight = new SingleFlight<string>({ copy: (v) => `${v} (copy)` });
    expect(flight.join('k')).toBeUndefined();
    const { state, work } = gate<string>();
    const started = flight.run('k', work);
    const joined = flight.join('k');
    await tick();
    state.resolve('body');
    await expect(started).resolves.toEqual({ value: 'body', shared: false });
    await expect(joined).resolves.toEqual({ value: 'body (copy)', shared: true });
    expect(state.runs).toBe(1);
  });

  it('the last caller to abort gets the work’s own ending (its error), not a bare abort', async () => {
    const flight = new SingleFlight<string>();
    const caller = new AbortController();
    const work = (signal: AbortSignal) =>
      new Promise<string>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted after 2 attempts')), { once: true });
      });
    const call = flight.run('k', work, { signal: caller.signal });
    await tick();
    caller.abort();
    await expect(call).rejects.toThrow('aborted after 2 attempts');
  });

  it('the last caller to abort is still refused if the work happens to succeed', async () => {
    const flight = new SingleFlight<string>();
    const caller = new AbortController();
    const { state, work } = gate<string>();
    const call = flight.run(
      'k',
      (signal) => {
        const done = work(new AbortController().signal); // this work ignores the abort
        void signal;
        return done;
      },
      { signal: caller.signal },
    );
    await tick();
    caller.abort();
    state.resolve('too late');
    await expect(call).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('a caller past its own deadline leaves; the others still get the body', async () => {
    const flight = new SingleFlight<string>();
    const { state, work } = gate<string>();
    const patient = flight.run('k', work);
    const hasty = flight.run('k', work, { deadline: Date.now() + 10 });
    await expect(hasty).rejects.toMatchObject({ failureClass: 'timeout', code: 'DETOUR_DEADLINE' });
    expect(state.signal?.aborted).toBe(false);
    state.resolve('late');
    await expect(patient).resolves.toMatchObject({ value: 'late' });
  });

  it('every waiter sees the failure of the shared work', async () => {
    const flight = new SingleFlight<string>();
    const { state, work } = gate<string>();
    const calls = [flight.run('k', work), flight.run('k', work)];
    await tick();
    state.reject(new Error('boom'));
    for (const call of calls) await expect(call).rejects.toThrow('boom');
    expect(flight.size).toBe(0);
  });

  it('an already aborted caller never starts the work; a throwing work rejects', async () => {
    const flight = new SingleFlight<string>();
    let runs = 0;
    await expect(
      flight.run('k', async () => String(++runs), { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(runs).toBe(0);
    await expect(
      flight.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
  });

  it('leaves no timer behind once settled', async () => {
    const flight = new SingleFlight<string>();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const { state, work } = gate<string>();
    const call = flight.run('k', work, {
      deadline: Date.now() + 60_000,
      signal: new AbortController().signal,
    });
    expect(timers()).toBe(before + 1);
    await tick();
    state.resolve('x');
    await call;
    expect(timers()).toBe(before);
  });

  it('a starter under the closing signal alone lends it to the work; a joiner leaving does not abort it', async () => {
    const closing = new AbortController();
    const flight = new SingleFlight<string>({ closing: closing.signal });
    const { state, work } = gate<string>();
    const starter = flight.run('k', work, { signal: closing.signal });
    await tick();
    expect(state.signal).toBe(closing.signal); // no controller of the flight's own
    const own = new AbortController();
    const joiner = flight.run('k', work, { signal: own.signal });
    own.abort();
    await expect(joiner).rejects.toMatchObject({ failureClass: 'aborted' });
    expect(state.signal!.aborted).toBe(false);
    expect(flight.waiters('k')).toBe(1);
    state.resolve('body');
    expect(await starter).toEqual({ value: 'body', shared: false });
    expect(flight.waiters('k')).toBe(0);
  });

  it('a lending starter sees the failure of its work, and leaves no waiter behind', async () => {
    const closing = new AbortController();
    const flight = new SingleFlight<string>({ closing: closing.signal });
    const { state, work } = gate<string>();
    const starter = flight.run('k', work, { signal: closing.signal });
    await tick();
    expect(flight.waiters('k')).toBe(1);
    state.reject(new Error('reset'));
    await expect(starter).rejects.toThrow('reset');
    expect(flight.waiters('k')).toBe(0);
    expect(flight.size).toBe(0);
  });

  it('close ends a lent work and every caller: the starter with the work’s own error', async () => {
    const closing = new AbortController();
    const flight = new SingleFlight<string>({ closing: closing.signal });
    const { state, work } = gate<string>();
    const starter = flight.run('k', work, { signal: closing.signal });
    const joiner = flight.run('k', work, { signal: closing.signal, deadline: Date.now() + 60_000 });
    await tick();
    closing.abort(new Error('closed'));
    await expect(starter).rejects.toThrow('closed');
    await expect(joiner).rejects.toMatchObject({ failureClass: 'aborted' });
    expect(flight.size).toBe(0);
    expect(state.runs).toBe(1);
  });

  it('a starter with its own signal or a deadline still gets a controller of the flight’s own', async () => {
    const closing = new AbortController();
    const flight = new SingleFlight<string>({ closing: closing.signal });
    const { state, work } = gate<string>();
    const own = new AbortController();
    const starter = flight.run('k', work, { signal: own.signal });
    await tick();
    expect(state.signal).not.toBe(closing.signal);
    own.abort();
    await expect(starter).rejects.toMatchObject({ failureClass: 'aborted' });
    expect(state.signal!.aborted).toBe(true);
    const again = gate<string>();
    const timed = flight.run('k2', again.work, { signal: closing.signal, deadline: Date.now() + 20 });
    await expect(timed).rejects.toMatchObject({ code: 'DETOUR_DEADLINE' });
    expect(again.state.signal!.aborted).toBe(true);
    expect(closing.signal.aborted).toBe(false);
  });
});
