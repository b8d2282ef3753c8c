import { onAbort } from './abort.js';
import { abortedError, DetourError, DetourUsageError } from './errors.js';

export interface ConcurrencyOptions {
  /** Fetches running at once in this pipeline (default 64; `Infinity` = no limit). */
  global?: number;
  /** Fetches running at once per host:port (default 8; `Infinity` = no limit). */
  perHost?: number;
}

export const CONCURRENCY_DEFAULTS = { global: 64, perHost: 8 } as const;

export interface AcquireOptions {
  signal?: AbortSignal | undefined;
  /** Give up waiting at this time (ms since the epoch). */
  deadline?: number | undefined;
}

/** Frees the slot. Calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  readonly host: string;
  readonly grant: () => void;
}

/**
 * A global and a per-host concurrency limit with one FIFO queue. A request runs at once when both
 * limits allow it; otherwise it waits its turn. A waiter whose host is still full does not block
 * waiters for other hosts behind it. Queued requests leave the queue when their signal aborts or
 * their deadline passes (and clear their timer); no timer outlives its wait.
 */
export class ConcurrencyLimiter {
  readonly global: number;
  readonly perHost: number;
  readonly #queue: Waiter[] = [];
  readonly #hosts = new Map<string, number>();
  #active = 0;

  constructor(options: ConcurrencyOptions = {}) {
    this.global = checked('global', options.global ?? CONCURRENCY_DEFAULTS.global);
    this.perHost = checked('perHost', options.perHost ?? CONCURRENCY_DEFAULTS.perHost);
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  activeFor(host: string): number {
    return this.#hosts.get(host) ?? 0;
  }

  acquire(host: string, options: AcquireOptions = {}): Promise<Release> {
    const { signal, deadline } = options;
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
    if (this.#canRun(host)) return Promise.resolve(this.#take(host));
    if (deadline !== undefined && deadline <= Date.now())
      return Promise.reject(queueTimeout(this.#queue.length));

    return new Promise<Release>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let stopListening: (() => void) | undefined;
      const ahead = this.#queue.length;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        stopListening?.();
      };
      const leave = (error: DetourError) => {
        const index = this.#queue.indexOf(waiter);
        if (index < 0) return;
        this.#queue.splice(index, 1);
        cleanup();
        reject(error);
      };
      const waiter: Waiter = {
        host,
        grant: () => {
          cleanup();
          resolve(this.#take(host));
        },
      };
      this.#queue.push(waiter);
      if (signal) stopListening = onAbort(signal, () => leave(abortedError(signal.reason)));
      if (deadline !== undefined) timer = setTimeout(() => leave(queueTimeout(ahead)), deadline - Date.now());
    });
  }

  #canRun(host: string): boolean {
    return this.#active < this.global && (this.#hosts.get(host) ?? 0) < this.perHost;
  }

  #take(host: string): Release {
    this.#active++;
    this.#hosts.set(host, (this.#hosts.get(host) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      const left = (this.#hosts.get(host) ?? 1) - 1;
      if (left > 0) this.#hosts.set(host, left);
      else this.#hosts.delete(host);
      this.#drain();
    };
  }

  #drain(): void {
    for (let i = 0; i < this.#queue.length && this.#active < this.global; ) {
      const waiter = this.#queue[i]!;
      if (this.#canRun(waiter.host)) {
        this.#queue.splice(i, 1);
        waiter.grant();
      } else {
        i++;
      }
    }
  }
}

function checked(name: string, value: number): number {
  if (!(value >= 1)) throw new DetourUsageError(`concurrency.${name} must be at least 1, got ${value}`);
  return value;
}

function queueTimeout(ahead: number): DetourError {
  return new DetourError(`deadline passed while queued for a concurrency slot (${ahead} ahead)`, {
    failureClass: 'timeout',
    code: 'DETOUR_QUEUE_TIMEOUT',
  });
}
