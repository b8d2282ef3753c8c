/**
 * How close() reaches every fetch in flight: each public call runs under a signal that also fires
 * on close(), and an abort close() caused is reported as `aborted` / `DETOUR_CLOSED`.
 */
import { fanOut, OwnedAbortController, onAbort } from './abort.js';
import { DetourError } from './errors.js';
import type { FetchOptions } from './types/index.js';

const noop = () => {};

/** How a fetch in flight ends when its pipeline is closed. */
export function closedError(cause?: unknown): DetourError {
  return new DetourError('the pipeline was closed', {
    failureClass: 'aborted',
    code: 'DETOUR_CLOSED',
    cause,
  });
}

export class Closing {
  readonly #controller = new AbortController();

  constructor() {
    fanOut(this.#controller.signal); // heard by every fetch in flight
  }

  /** Fires on close(): the signal of every call made without a signal of its own. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#controller.signal.aborted;
  }

  close(): void {
    this.#controller.abort(closedError());
  }

  /**
   * The signal a public call runs under: the caller's, and also close(). Without a caller signal
   * the pipeline's own is used as is (no allocation on the hot path).
   */
  scope(options: FetchOptions): { signal: AbortSignal; dispose: () => void } {
    const closing = this.#controller.signal;
    const caller = options.signal;
    if (!caller) return { signal: closing, dispose: noop };
    if (caller.aborted || closing.aborted)
      return { signal: caller.aborted ? caller : closing, dispose: noop };
    const controller = new OwnedAbortController();
    const stopCaller = onAbort(caller, () => controller.abort(caller.reason));
    const stopClose = onAbort(closing, () => controller.abort(closing.reason));
    return {
      signal: controller.signal,
      dispose: () => {
        stopCaller();
        stopClose();
      },
    };
  }

  /** An abort caused by close() (and not by the caller's own signal) is reported as `DETOUR_CLOSED`. */
  closedInstead(error: unknown, caller: FetchOptions): unknown {
    if (!this.closed || caller.signal?.aborted) return error;
    if (!(error instanceof DetourError) || error.failureClass !== 'aborted' || error.code === 'DETOUR_CLOSED')
      return error;
    const closed = closedError(error);
    closed.attempts = error.attempts;
    return closed;
  }
}
