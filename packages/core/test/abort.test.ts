import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fanOut, OwnedAbortController, onAbort } from '../src/abort.js';
import { Closing } from '../src/closing.js';
import { AttemptSignal } from '../src/run/attempt-signal.js';

describe('onAbort', () => {
  for (const shared of [false, true]) {
    it(`${shared ? 'a fanned-out' : 'a plain'} signal: each listener once, in order; removed ones never`, () => {
      const controller = new AbortController();
      if (shared) fanOut(controller.signal);
      const heard: string[] = [];
      onAbort(controller.signal, () => heard.push('a'));
      const stopB = onAbort(controller.signal, () => heard.push('b'));
      onAbort(controller.signal, () => heard.push('c'));
      stopB();
      controller.abort();
      controller.abort();
      expect(heard).toEqual(['a', 'c']);
      onAbort(controller.signal, () => heard.push('late')); // like addEventListener: never called
      expect(heard).toEqual(['a', 'c']);
    });
  }

  it("a caller's signal gets one EventTarget listener while any listen, and none after", () => {
    const controller = new AbortController();
    const stops = Array.from({ length: 100 }, () => onAbort(controller.signal, () => {}));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const stop of stops.slice(1)) stop();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    stops[0]!();
    stops[0]!(); // twice changes nothing
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    let heard = 0;
    onAbort(controller.signal, () => heard++); // listening again after everyone left
    controller.abort();
    expect(heard).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a fanned-out signal keeps one listener of its own however many listen', () => {
    const controller = new AbortController();
    fanOut(controller.signal);
    fanOut(controller.signal); // marking twice changes nothing
    const stops = Array.from({ length: 1000 }, () => onAbort(controller.signal, () => {}));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const stop of stops) stop();
  });
});

describe('AttemptSignal', () => {
  it('what onAbort adds hears the caller abort, after the EventTarget listeners, with no EventTarget listener of its own', () => {
    const caller = new AbortController();
    const attempt = new AttemptSignal(Date.now() + 60_000, caller.signal);
    const heard: string[] = [];
    attempt.signal.addEventListener('abort', () => heard.push('event'));
    onAbort(attempt.signal, () => heard.push(`set:${String(attempt.signal.reason)}`));
    expect(getEventListeners(attempt.signal, 'abort')).toHaveLength(1); // only the test's own
    caller.abort('bye');
    expect(heard).toEqual(['event', 'set:bye']);
    expect(attempt.callerAborted).toBe(true);
    attempt.dispose();
  });

  it('what onAbort adds hears the deadline, with the deadline error', async () => {
    const attempt = new AttemptSignal(Date.now() + 20);
    const reason = await new Promise((resolve) =>
      onAbort(attempt.signal, () => resolve(attempt.signal.reason)),
    );
    expect(reason).toMatchObject({ code: 'DETOUR_DEADLINE', failureClass: 'timeout' });
    expect(attempt.timedOut).toBe(true);
    attempt.dispose();
  });

  it('an already aborted caller aborts it at once; dispose() leaves nothing on the caller', () => {
    const caller = new AbortController();
    const live = new AttemptSignal(Date.now() + 60_000, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    live.dispose();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    caller.abort('gone');
    const late = new AttemptSignal(Date.now() + 60_000, caller.signal);
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe('gone');
    late.dispose();
  });
});

describe('OwnedAbortController', () => {
  it('aborts once: EventTarget listeners, then what onAbort added (which adds no EventTarget listener)', () => {
    const owned = new OwnedAbortController();
    const heard: unknown[] = [];
    owned.signal.addEventListener('abort', () => heard.push('event'));
    onAbort(owned.signal, () => heard.push(owned.signal.reason));
    expect(getEventListeners(owned.signal, 'abort')).toHaveLength(1);
    owned.abort('first');
    owned.abort('second');
    expect(heard).toEqual(['event', 'first']);
    expect(owned.signal.reason).toBe('first');
  });

  it("without a reason, the signal's reason is the usual AbortError", () => {
    const owned = new OwnedAbortController();
    owned.abort();
    expect(owned.signal.reason).toMatchObject({ name: 'AbortError' });
  });
});

describe("Closing.scope: a call's own signal under close()", () => {
  it('the caller and close() both reach what onAbort added, with no EventTarget listener on the scope', () => {
    for (const by of ['caller', 'close'] as const) {
      const closing = new Closing();
      const caller = new AbortController();
      const scope = closing.scope({ signal: caller.signal });
      let reason: unknown;
      onAbort(scope.signal, () => {
        reason = scope.signal.reason;
      });
      expect(getEventListeners(scope.signal, 'abort')).toHaveLength(0);
      if (by === 'caller') caller.abort('mine');
      else closing.close();
      expect(reason).toEqual(by === 'caller' ? 'mine' : expect.objectContaining({ code: 'DETOUR_CLOSED' }));
      scope.dispose();
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    }
  });
});
