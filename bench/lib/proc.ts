/** Process figures read from /proc (Linux); `NaN` where /proc is not there. */
import { readdirSync, readFileSync } from 'node:fs';

function statusField(pid: number | 'self', field: string): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size of a process so far (VmHWM), in bytes. */
export function peakRss(pid: number | 'self' = 'self'): number {
  return statusField(pid, 'VmHWM');
}

/** Current resident set size of a process (VmRSS), in bytes. */
export function currentRss(pid: number | 'self' = 'self'): number {
  return statusField(pid, 'VmRSS');
}

/** Open file descriptors of this process (sockets included). */
export function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return Number.NaN;
  }
}

/** Samples `rss()` every `intervalMs` and keeps the highest value (an unref'd timer). */
export class RssSampler {
  #peak = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly rss: () => number = () => process.memoryUsage.rss(),
    readonly intervalMs = 20,
  ) {}

  start(): this {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#timer.unref();
    return this;
  }

  sample(): void {
    const value = this.rss();
    if (Number.isFinite(value) && value > this.#peak) this.#peak = value;
  }

  stop(): number {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
    return this.#peak;
  }
}

export const collectGarbage = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};
