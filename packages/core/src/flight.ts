import { OwnedAbortController, onAbort } from './abort.js';
import { abortedError, DetourError } from './errors.js';

export interface FlightWaitOptions {
  /** This caller's signal: aborting it ends this caller's wait only. */
  signal?: AbortSignal | undefined;
  /** This caller's deadline (ms since the epoch): passing it ends this caller's wait only. */
  deadline?: number | undefined;
}

export interface FlightResult<T> {
  value: T;
  /** True when this caller joined a download another caller started. */
  shared: boolean;
}

interface Flight<T> {
  /** Aborts the work once every waiter gave up; none when the work runs under the `closing` signal. */
  readonly controller: OwnedAbortController | undefined;
  readonly promise: Promise<T>;
  waiters: number;
}

export interface SingleFlightOptions<T> {
  /** Gives each joining caller its own copy of the value (e.g. `Buffer.from`); the starter gets the original. */
  copy?: (value: T) => T;
  /**
   * A signal that ends every caller at once (a pipeline's close()). A starter that waits under it
   * alone, without a deadline, can only give up when it fires, and then every other caller gives up
   * too: its work runs under this signal itself, and the flight makes no controller of its own
   * and does not listen for that starter (the work's own end settles it).
   */
  closing?: AbortSignal;
}

function sharedDeadlineError(): DetourError {
  return new DetourError('deadline passed while waiting for a shared download', {
    failureClass: 'timeout',
    code: 'DETOUR_DEADLINE',
  });
}

/**
 * Single-flight: concurrent callers with the same key share one run of `work`. Each caller waits
 * under its own signal and deadline; one caller giving up does not disturb the others, and the
 * shared work is aborted (its signal fires) only when every caller has given up. A key whose work
 * is being aborted is no longer joinable: the next caller starts afresh.
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();
  readonly #copy: ((value: T) => T) | undefined;
  readonly #closing: AbortSignal | undefined;

  constructor(options: SingleFlightOptions<T> = {}) {
    this.#copy = options.copy;
    this.#closing = options.closing;
  }

  /** Keys with work in flight. */
  get size(): number {
    return this.#flights.size;
  }

  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** Callers waiting on `key` now (0 when nothing is in flight). */
  waiters(key: string): number {
    return this.#flights.get(key)?.waiters ?? 0;
  }

  run(
    key: string,
    work: (signal: AbortSignal) => Promise<T>,
    options: FlightWaitOptions = {},
  ): Promise<FlightResult<T>> {
    if (options.signal?.aborted) return Promise.reject(abortedError(options.signal.reason));
    const flight = this.#flights.get(key);
    if (flight) return this.#wait(key, flight, true, options);
    const lends =
      options.signal !== undefined && options.signal === this.#closing && options.deadline === undefined;
    const started = this.#start(key, work, lends ? options.signal : undefined);
    // A starter lending its signal waits for the work alone: the work ends when that signal fires.
    return this.#wait(key, started, false, lends ? {} : options);
  }

  /** Join the work in flight for `key`; undefined when there is none (nothing is started then). */
  join(key: string, options: FlightWaitOptions = {}): Promise<FlightResult<T>> | undefined {
    const flight = this.#flights.get(key);
    if (!flight) return undefined;
    if (options.signal?.aborted) return Promise.reject(abortedError(options.signal.reason));
    return this.#wait(key, flight, true, options);
  }

  #wait(
    key: string,
    joined: Flight<T>,
    shared: boolean,
    options: FlightWaitOptions,
  ): Promise<FlightResult<T>> {
    const { signal, deadline } = options;
    joined.waiters++;
    // Nothing can end this wait early (no signal, no deadline: a starter lending close()'s signal):
    // it is the work's own end, without the bookkeeping of a wait that may give up.
    if (!signal && deadline === undefined) return this.#follow(joined, shared);

    return new Promise<FlightResult<T>>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let stopListening: (() => void) | undefined;
      const finish = (leave: boolean, done: () => void, reason?: unknown) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        stopListening?.();
        joined.waiters--;
        if (leave) this.#leave(key, joined, reason);
        done();
      };
      const onAborted = () => {
        const own = abortedError(signal?.reason);
        // The last one out aborts the work and reports how it ended (its own error, with the
        // attempts made so far), not a bare abort; the work listens to its signal, so this is prompt.
        const last = joined.waiters === 1 && !settled;
        const settle = () => (last ? joined.promise.then(() => reject(own), reject) : reject(own));
        finish(true, settle, signal?.reason);
      };
      if (signal) stopListening = onAbort(signal, onAborted);
      if (deadline !== undefined) {
        const ms = Math.max(0, deadline - Date.now());
        timer = setTimeout(() => finish(true, () => reject(sharedDeadlineError())), ms);
      }
      joined.promise.then(
        (value) =>
          finish(false, () => resolve({ value: shared && this.#copy ? this.#copy(value) : value, shared })),
        (error: unknown) => finish(false, () => reject(error)),
      );
    });
  }

  /** A wait that only the work's end settles. */
  #follow(joined: Flight<T>, shared: boolean): Promise<FlightResult<T>> {
    return joined.promise.then(
      (value) => {
        joined.waiters--;
        return { value: shared && this.#copy ? this.#copy(value) : value, shared };
      },
      (error: unknown) => {
        joined.waiters--;
        throw error;
      },
    );
  }

  /** A waiter gave up: when it was the last one, the key is freed and the shared work aborted. */
  #leave(key: string, joined: Flight<T>, reason: unknown): void {
    if (joined.waiters !== 0) return;
    if (this.#flights.get(key) === joined) this.#flights.delete(key);
    joined.controller?.abort(
      reason instanceof DetourError && reason.failureClass === 'aborted'
        ? reason
        : abortedError('every waiter gave up'),
    );
  }

  #start(key: string, work: (signal: AbortSignal) => Promise<T>, lent: AbortSignal | undefined): Flight<T> {
    const controller = lent ? undefined : new OwnedAbortController();
    const signal = lent ?? controller!.signal;
    const promise = Promise.resolve().then(() => work(signal));
    const flight: Flight<T> = { controller, promise, waiters: 0 };
    this.#flights.set(key, flight);
    const forget = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    promise.then(forget, forget);
    return flight;
  }
}
