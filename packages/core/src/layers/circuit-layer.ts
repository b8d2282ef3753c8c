/**
 * The circuit breaker: a host that keeps failing is refused without network for a while. An open
 * circuit still gives a bot that enabled a last resort (the placeholder) its stand-in, flagged
 * `degraded`, with a `circuit` record saying why. Outcomes are counted per origin and environment.
 */

import { type CircuitBreaker, CircuitOpenError, type CircuitTicket } from '../adaptive/circuit.js';
import { routeKey } from '../adaptive/origin-key.js';
import { routeWinner } from '../adaptive/route-memory.js';
import { blamesNotTheOrigin, DetourError, refusalRecord } from '../errors.js';
import { wasCutByFetchDeadline } from '../run/attempt-signal.js';
import type { Stage } from '../types/index.js';
import type { Call, Layer, Outcome } from './layer.js';

export function circuitLayer(
  circuit: CircuitBreaker,
  stageOf: (strategy: string) => Stage | undefined,
): Layer {
  return (next) =>
    async <T>(call: Call<T>): Promise<Outcome<T>> => {
      const key = routeKey(call.url, call.fingerprint);
      let ticket: CircuitTicket;
      try {
        ticket = circuit.shared ? await circuit.admit(key) : circuit.enter(key);
      } catch (error) {
        const lastResort = call.plan.filter((name) => stageOf(name) === 'last-resort');
        if (!(error instanceof CircuitOpenError) || lastResort.length === 0) throw error;
        return next({
          ...call,
          plan: lastResort,
          exact: true,
          prior: [...call.prior, refusalRecord('circuit', error)],
        });
      }
      let outcome: Outcome<T>;
      try {
        outcome = await next(call);
      } catch (error) {
        judge(circuit, ticket, error);
        if (circuit.shared) await circuit.flush();
        throw error;
      }
      // A placeholder means every real strategy failed: the host did not answer.
      if (outcome.info.degraded) circuit.failure(ticket);
      else circuit.success(ticket);
      if (circuit.shared) await circuit.flush(); // other instances see it before we answer
      return outcome;
    };
}

/** Whether a failed fetch says the host is unreachable (counts toward opening its circuit). */
function judge(circuit: CircuitBreaker, ticket: CircuitTicket, error: unknown): void {
  const attempts = error instanceof DetourError ? error.attempts : [];
  const failureClass = error instanceof DetourError ? error.failureClass : 'unknown';
  // An attempt the caller's own deadline cut short says nothing about the origin (a slow but
  // healthy origin asked with `timeoutMs: 50` must not be refused to every other caller).
  const tried = attempts.some((a) => a.outcome === 'failed' && !wasCutByFetchDeadline(a));
  // An expired link says nothing about whether the host is reachable, nor does our own disk.
  if (!tried || blamesNotTheOrigin(failureClass)) circuit.neutral(ticket);
  else if (
    routeWinner(attempts) !== undefined ||
    failureClass === 'too-large' ||
    failureClass === 'content-invalid'
  )
    circuit.success(ticket); // the host answered; the answer was not what we wanted
  else circuit.failure(ticket);
}
