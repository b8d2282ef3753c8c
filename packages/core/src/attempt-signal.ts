import { onAbort, ownFan } from './abort.js';
import { DetourError } from './errors.js';

/**
 * The signal one attempt runs under: the caller's signal plus the attempt's deadline. `dispose()`
 * clears the timer, so no timer outlives its attempt. Only this class aborts the signal, so the
 * pipeline's own listeners (`onAbort`) are a Set it calls, not EventTarget listeners (abort.ts).
 */
export class AttemptSignal {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal | undefined;
  readonly #stopListening: (() => void) | undefined;
  readonly #fire: () => void;

  constructor(deadline: number, caller?: AbortSignal) {
    this.#caller = caller;
    this.signal = this.#controller.signal;
    this.#fire = ownFan(this.signal);
    const ms = Math.max(0, deadline - Date.now());
    this.#timer = setTimeout(() => {
      this.#abort(
        new DetourError(`attempt deadline of ${ms} ms passed`, {
          failureClass: 'timeout',
          code: 'DETOUR_DEADLINE',
        }),
      );
    }, ms);
    if (caller?.aborted) this.#abort(caller.reason);
    else if (caller) this.#stopListening = onAbort(caller, () => this.#abort(caller.reason));
  }

  /** Aborts the signal: its EventTarget listeners, then those `onAbort` added (abort.ts). */
  #abort(reason: unknown): void {
    if (this.signal.aborted) return;
    this.#controller.abort(reason);
    this.#fire();
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
