/**
 * The progress line of `detour fetch` on a terminal: bytes, total, rate and ETA (a spinner when the
 * length is unknown), on stderr, redrawn in place, shown only once a download takes longer than
 * `delayMs`, and erased before the report is printed.
 */
import type { DownloadProgress } from '@detour/core';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line of progress text (without the carriage return). */
export function progressText(p: DownloadProgress, elapsedMs: number, frame: number): string {
  const rate = elapsedMs > 0 ? (p.received * 1000) / elapsedMs : 0;
  const speed = `${formatBytes(Math.round(rate))}/s`;
  if (p.total === null || p.total <= 0) {
    return `${SPINNER[frame % SPINNER.length]} ${formatBytes(p.received)}  ${speed}`;
  }
  const pct = Math.min(100, Math.floor((p.received / p.total) * 100));
  const eta = rate > 0 ? formatDuration((p.total - p.received) / rate) : '?';
  return `${String(pct).padStart(3)}%  ${formatBytes(p.received)} / ${formatBytes(p.total)}  ${speed}  ETA ${eta}`;
}

interface TtyStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

export function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as TtyStream).isTTY === true;
}

export class ProgressLine {
  readonly #stream: TtyStream;
  readonly #delayMs: number;
  #started = performance.now();
  #last: DownloadProgress = { received: 0, total: null };
  #frame = 0;
  #shown = false;
  #timer: NodeJS.Timeout;

  constructor(stream: NodeJS.WritableStream, delayMs = 1_000) {
    this.#stream = stream as TtyStream;
    this.#delayMs = delayMs;
    // Redraw while no bytes arrive too (the rate falls, the spinner turns).
    this.#timer = setInterval(() => this.#draw(), 250);
    this.#timer.unref();
  }

  /** The `onProgress` callback. A new attempt (received going back) restarts the clock. */
  readonly update = (p: DownloadProgress): void => {
    if (p.received < this.#last.received) this.#started = performance.now();
    this.#last = p;
    this.#draw();
  };

  #draw(): void {
    const elapsed = performance.now() - this.#started;
    if (!this.#shown && elapsed < this.#delayMs) return;
    this.#shown = true;
    const width = Math.max(20, (this.#stream.columns || 80) - 1);
    this.#stream.write(`\r\x1b[2K${progressText(this.#last, elapsed, this.#frame++).slice(0, width)}`);
  }

  /** Stop and erase the line. */
  done(): void {
    clearInterval(this.#timer);
    if (this.#shown) this.#stream.write('\r\x1b[2K');
  }
}
