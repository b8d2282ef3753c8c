import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fanOut, onAbort } from '../src/abort.js';

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

  it('a fanned-out signal keeps one listener of its own however many listen', () => {
    const controller = new AbortController();
    fanOut(controller.signal);
    fanOut(controller.signal); // marking twice changes nothing
    const stops = Array.from({ length: 1000 }, () => onAbort(controller.signal, () => {}));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const stop of stops) stop();
  });
});
