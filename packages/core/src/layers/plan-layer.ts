/**
 * The plan: which strategies run, in which order (the registry's plan for the URL, or exactly the
 * caller's `strategies`), and the network fingerprint route memory and the circuit key on.
 */

import type { FetchOptions } from '../types/index.js';
import type { Layer } from './layer.js';

/** What the plan layer asks of the strategy registry. */
export interface Planner {
  planFor(target: URL, options: Pick<FetchOptions, 'strategies'>): string[];
}

export function planLayer(planner: Planner, fingerprint: () => string): Layer {
  return (next) => (call) =>
    next({
      ...call,
      plan: planner.planFor(call.url, call.options),
      exact: call.options.strategies !== undefined,
      fingerprint: fingerprint(),
    });
}
