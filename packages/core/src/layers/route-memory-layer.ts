/**
 * Route memory: the strategy that last won for this origin in this network environment is tried
 * first; the outcome is learned. An exact plan (the caller's list, the circuit's last resort) is
 * neither reordered nor learned from. A failing memory store costs only the memory, never the fetch.
 */
import type { Logger } from 'pino';
import { type RouteMemory, type RoutePlan, routeWinner } from '../adaptive/route-memory.js';
import { DetourError } from '../errors.js';
import type { AttemptRecord } from '../types/index.js';
import type { Call, Layer, Outcome } from './layer.js';

export function routeMemoryLayer(memory: RouteMemory, logger: Logger): Layer {
  return (next) =>
    async <T>(call: Call<T>): Promise<Outcome<T>> => {
      if (call.exact) return next(call);
      let route: RoutePlan;
      try {
        route = await memory.order(call.url, call.fingerprint, call.plan);
      } catch (error) {
        logger.warn({ err: (error as Error)?.message }, 'route memory unavailable; using the plan as is');
        return next(call);
      }
      // Nothing remembered (the order is the plan as it was): the call as it is.
      const ordered = sameOrder(route.order, call.plan) ? call : { ...call, plan: route.order };
      let outcome: Outcome<T>;
      try {
        outcome = await next(ordered);
      } catch (error) {
        const attempts = error instanceof DetourError ? error.attempts : [];
        await learn(memory, call, route, attempts, false, logger);
        throw error;
      }
      await learn(memory, call, route, outcome.info.attempts, outcome.info.degraded, logger);
      return outcome;
    };
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

async function learn<T>(
  memory: RouteMemory,
  call: Call<T>,
  route: RoutePlan,
  attempts: readonly AttemptRecord[],
  degraded: boolean,
  logger: Logger,
): Promise<void> {
  try {
    await memory.record(call.url, call.fingerprint, route, {
      winner: routeWinner(attempts, degraded),
      attempts,
    });
  } catch (error) {
    logger.warn({ err: (error as Error)?.message }, 'route memory could not record the outcome');
  }
}
