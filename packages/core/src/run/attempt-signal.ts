import { OwnedAbortController, onAbort } from '../abort.js';
import { DetourError } from '../errors.js';

/**
 * Attempt records of attempts the fetch's own deadline cut short (the caller's `timeoutMs`, not the
 * attempt's deadline nor a transport timeout): they say nothing about the origin, so the circuit
 * does not count them. A WeakSet: the records stay plain objects in every output.
 */
const cutByFetchDeadline = new WeakSet<object>();

export function markCutByFetchDeadline(record: object): void {
  cutByFetchDeadline.add(record);
}

/** Whether this failed attempt ended only because the fetch's own deadline passed. */
export function wasCutByFetchDeadline(record: object): boolean {
  return cutByFetchDeadline.has(record);
}

/**
 * The signal one attempt runs under: the caller's signal plus the attempt's deadline. `dispose()`
 * clears the timer, so no timer outlives its attempt. Only this class aborts the signal, so the
 * pipeline's own listeners (`onAbort`) are a Set it calls, not EventTarget listeners (abort.ts).
 */
export class AttemptSignal {
  readonly signal: AbortSignal;
  readonly #controller = new OwnedAbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal | undefined;
  readonly #stopListening: (() => void) | undefined;

  constructor(deadline: number, caller?: AbortSignal) {
    this.#caller = caller;
    this.signal = this.#controller.signal;
    const ms = Math.max(0, deadline - Date.now());
    this.#timer = setTimeout(() => {
      this.#controller.abort(
        new DetourError(`attempt deadline of ${ms} ms passed`, {
          failureClass: 'timeout',
          code: 'DETOUR_DEADLINE',
        }),
      );
    }, ms);
    if (caller?.aborted) this.#controller.abort(caller.reason);
    else if (caller) this.#stopListening = onAbort(caller, () => this.#controller.abort(caller.reason));
  }

  /** Whether the deadline (not the caller) ended the attempt. */
  get timedOut(): boolean {
    return this.signal.aborted && !this.#caller?.aborted;
  }

  get callerAborted(): boolean {
    return !!this.#caller?.aborted;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#stopListening?.();
  }
}
