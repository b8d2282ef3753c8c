import { onAbort } from './abort.js';
import { abortedError, DetourError, DetourUsageError } from './errors.js';

export interface ConcurrencyOptions {
  /** Fetches running at once in this pipeline (default 64; `Infinity` = no limit). */
  global?: number;
  /** Fetches running at once per host:port (default 8; `Infinity` = no limit). */
  perHost?: number;
  /**
   * Global slots kept for hosts that have not shown they answer (default a quarter of `global`
   * when `global` is finite, else 0). A host takes one of the last `reserve` free slots only when
   * it runs no fetch yet, or when it finished one lately and none of its running fetches is older
   * than `stallMs`. Hosts that hang can then hold at most `global - reserve` slots (plus one each),
   * and a fetch to any other host starts at once; healthy hosts still use every slot.
   */
  reserve?: number;
  /** A running fetch older than this marks its host as stalling (default 2000 ms). */
  stallMs?: number;
}

export const CONCURRENCY_DEFAULTS = { global: 64, perHost: 8, stallMs: 2000 } as const;

export interface AcquireOptions {
  signal?: AbortSignal | undefined;
  /** Give up waiting at this time (ms since the epoch). */
  deadline?: number | undefined;
}

/** Frees the slot (`ok`: the fetch succeeded, the host answers). Calling it again does nothing. */
export type Release = (ok?: boolean) => void;

/** One host's running fetches: their start times, oldest first, and whether one finished well lately. */
interface HostSlots {
  started: number[];
  answered: boolean;
}

interface Waiter {
  readonly host: string;
  readonly grant: () => void;
}

/**
 * A global and a per-host concurrency limit with one FIFO queue. A request runs at once when both
 * limits allow it; otherwise it waits its turn. A waiter whose host is still full does not block
 * waiters for other hosts behind it. The last `reserve` global slots go only to hosts with no
 * fetch running, so hosts that hang cannot starve the others. Queued requests leave the queue when their signal aborts or
 * their deadline passes (and clear their timer); no timer outlives its wait.
 */
export class ConcurrencyLimiter {
  readonly global: number;
  readonly perHost: number;
  readonly reserve: number;
  readonly stallMs: number;
  readonly #queue: Waiter[] = [];
  readonly #hosts = new Map<string, HostSlots>();
  #active = 0;

  constructor(options: ConcurrencyOptions = {}) {
    this.global = checked('global', options.global ?? CONCURRENCY_DEFAULTS.global);
    this.perHost = checked('perHost', options.perHost ?? CONCURRENCY_DEFAULTS.perHost);
    const reserve = options.reserve ?? (Number.isFinite(this.global) ? Math.floor(this.global / 4) : 0);
    if (!(reserve >= 0 && (reserve < this.global || reserve === 0))) {
      throw new DetourUsageError(`concurrency.reserve must be 0 or more and below global, got ${reserve}`);
    }
    this.reserve = reserve;
    this.stallMs = options.stallMs ?? CONCURRENCY_DEFAULTS.stallMs;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  activeFor(host: string): number {
    return this.#hosts.get(host)?.started.length ?? 0;
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
    const slots = this.#hosts.get(host);
    const running = slots?.started.length ?? 0;
    if (running >= this.perHost || this.#active >= this.global) return false;
    if (running === 0 || this.#active < this.global - this.reserve) return true;
    // The reserved slots: only for a host that answers (finished a fetch lately, none stalling).
    return slots!.answered && Date.now() - slots!.started[0]! < this.stallMs;
  }

  #take(host: string): Release {
    this.#active++;
    let slots = this.#hosts.get(host);
    if (!slots) {
      slots = { started: [], answered: false };
      this.#hosts.set(host, slots);
    }
    const started = Date.now();
    slots.started.push(started);
    let released = false;
    return (ok) => {
      if (released) return;
      released = true;
      this.#active--;
      const held = this.#hosts.get(host)!;
      held.started.splice(held.started.indexOf(started), 1);
      if (ok) held.answered = true;
      if (held.started.length === 0) this.#hosts.delete(host);
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
