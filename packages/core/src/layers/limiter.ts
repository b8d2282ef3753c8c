/**
 * The concurrency limiter: a run waits for a global and a per-origin slot, under the fetch's signal
 * and deadline (time queued counts against the deadline). A stream keeps its slot until it ends.
 */
import type { ConcurrencyLimiter, Release } from '../limiter.js';
import { originOf } from '../memory/key.js';
import type { Layer } from './types.js';

export function limiterLayer(limiter: ConcurrencyLimiter): Layer {
  return (next) => async (call) => {
    let release: Release | undefined = await limiter.acquire(originOf(call.url), {
      signal: call.options.signal,
      deadline: call.deadline,
    });
    try {
      const outcome = await next(call);
      const hold = outcome.consumed.holdSignal;
      if (hold) {
        hold(release);
        release = undefined;
      }
      return outcome;
    } finally {
      release?.();
    }
  };
}
