/**
 * The concurrency limiter: a run waits for a global and a per-origin slot, under the fetch's signal
 * and deadline (time queued counts against the deadline). A stream keeps its slot until it ends.
 */

import { originOf } from '../adaptive/origin-key.js';
import type { ConcurrencyLimiter, Release } from '../limiter.js';
import type { Layer } from './layer.js';

export function limiterLayer(limiter: ConcurrencyLimiter): Layer {
  return (next) => async (call) => {
    let release: Release | undefined = await limiter.acquire(originOf(call.url), {
      signal: call.options.signal,
      deadline: call.deadline,
    });
    let ok = false;
    try {
      const outcome = await next(call);
      ok = true; // the host answered: it may use the limiter's reserved slots (see ConcurrencyLimiter)
      const hold = outcome.consumed.holdSignal;
      if (hold) {
        const held = release;
        hold(() => held(true));
        release = undefined;
      }
      return outcome;
    } finally {
      release?.(ok);
    }
  };
}
