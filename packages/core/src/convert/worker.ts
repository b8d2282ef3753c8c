/**
 * SILK decoding off the event loop: a small pool of worker threads, each with its own instance of
 * the WASM decoder (`silk-wasm`). A worker decodes one clip at a time and hands back the whole WAV
 * file and its SHA-256, so the main thread only copies bytes. A worker whose decoder failed, or
 * whose job was aborted or ran past its deadline, is terminated (a WASM instance that trapped is
 * not trusted again, and terminating is the only way to stop one mid-clip); the next job starts a
 * fresh one. Idle workers do not keep the process alive and exit after a while.
 */

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The worker's code, evaluated as CommonJS: it loads the decoder from the URL it is given. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let codec;
parentPort.on('message', async (job) => {
  try {
    codec ??= await import(workerData.codecUrl);
    const decoded = await codec.decode(job.silk, job.sampleRate);
    const pcm = decoded.data;
    const wav = new Uint8Array(new ArrayBuffer(44 + pcm.length));
    wav.set(job.header.subarray(0, 44), 0);
    const view = new DataView(wav.buffer);
    view.setUint32(4, 36 + pcm.length, true);
    view.setUint32(40, pcm.length, true);
    wav.set(pcm, 44);
    const sha256 = createHash('sha256').update(wav).digest('hex');
    parentPort.postMessage({ id: job.id, wav: wav.buffer, sha256, samples: pcm.length / 2 }, [wav.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error).slice(0, 200) });
  }
});
`;

/** What one decode gives back: a whole WAV file (header and samples) and its SHA-256. */
export interface DecodedWav {
  wav: Buffer;
  sha256: string;
  samples: number;
}

export interface DecodeJob {
  /** The clip in Tencent's form (`0x02#!SILK_V3…`), which the decoder reads. */
  silk: Uint8Array;
  sampleRate: number;
  /** A 44-byte WAV header for the rate (its two lengths are filled in by the worker). */
  header: Uint8Array;
}

/** Why a decode did not finish: the decoder's own failure, or the job was stopped from outside. */
export class DecodeFailure extends Error {}

interface Pending {
  id: number;
  job: DecodeJob;
  resolve: (decoded: DecodedWav) => void;
  reject: (error: unknown) => void;
  worker?: PooledWorker;
  stop?: () => void;
}

interface PooledWorker {
  worker: Worker;
  job?: Pending;
  idleTimer?: NodeJS.Timeout;
}

let codecUrl: string | undefined;
/** The decoder's module, resolved from this package (works from sources, from dist and when bundled). */
function resolveCodec(): string {
  codecUrl ??= pathToFileURL(createRequire(import.meta.url).resolve('silk-wasm')).href;
  return codecUrl;
}

export interface DecoderPoolOptions {
  /** Workers at most (default: one core fewer than the machine has, 1 to 2: a core is left to the event loop). */
  size?: number;
  /** An idle worker exits after this long (default 30 s). */
  idleMs?: number;
}

/** A few worker threads that decode SILK clips; jobs beyond them wait in order. */
export class DecoderPool {
  readonly size: number;
  readonly #idleMs: number;
  readonly #workers = new Set<PooledWorker>();
  readonly #queue: Pending[] = [];
  #nextId = 1;

  constructor(options: DecoderPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? Math.min(2, availableParallelism() - 1));
    this.#idleMs = options.idleMs ?? 30_000;
  }

  /** Workers running now (busy or idle). */
  get workers(): number {
    return this.#workers.size;
  }

  /** Decode one clip; `signal` stops it (queued: dropped; running: its worker is terminated). */
  decode(job: DecodeJob, signal: AbortSignal): Promise<DecodedWav> {
    return new Promise<DecodedWav>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const pending: Pending = { id: this.#nextId++, job, resolve, reject };
      const onAbort = () => this.#cancel(pending, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      pending.stop = () => signal.removeEventListener('abort', onAbort);
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  /** Terminate every worker (jobs running fail). */
  async close(): Promise<void> {
    const all = [...this.#workers];
    this.#workers.clear();
    await Promise.all(all.map((w) => w.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let pooled = [...this.#workers].find((w) => !w.job);
      if (!pooled && this.#workers.size < this.size) pooled = this.#spawn();
      if (!pooled) return;
      const pending = this.#queue.shift()!;
      if (pooled.idleTimer) clearTimeout(pooled.idleTimer);
      pooled.job = pending;
      pending.worker = pooled;
      pooled.worker.ref();
      const { silk, sampleRate, header } = pending.job;
      pooled.worker.postMessage({ id: pending.id, silk, sampleRate, header });
    }
  }

  #spawn(): PooledWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { codecUrl: resolveCodec() } });
    const pooled: PooledWorker = { worker };
    this.#workers.add(pooled);
    worker.on(
      'message',
      (message: { id: number; wav?: ArrayBuffer; sha256?: string; samples?: number; error?: string }) => {
        const pending = pooled.job;
        if (!pending || pending.id !== message.id) return;
        if (message.error !== undefined || !message.wav) {
          // A decoder that failed is not trusted with the next clip.
          this.#drop(pooled, new DecodeFailure(message.error ?? 'no output'));
          return;
        }
        this.#settle(pooled, pending);
        pending.resolve({
          wav: Buffer.from(message.wav),
          sha256: message.sha256!,
          samples: message.samples!,
        });
      },
    );
    // The decoder can also fail outside the call (an exception thrown later, a trap): the worker dies.
    worker.on('error', (error) => this.#drop(pooled, new DecodeFailure(error.message)));
    worker.on('exit', () => this.#drop(pooled, new DecodeFailure('the decoder exited')));
    return pooled;
  }

  /** The job is done: the worker goes idle (unreferenced, exiting after idleMs). */
  #settle(pooled: PooledWorker, pending: Pending): void {
    pending.stop?.();
    pooled.job = undefined;
    pooled.worker.unref();
    pooled.idleTimer = setTimeout(() => this.#drop(pooled, undefined), this.#idleMs);
    pooled.idleTimer.unref();
    this.#dispatch();
  }

  /** Terminate a worker; its job (if any) fails with `error`. */
  #drop(pooled: PooledWorker, error: unknown): void {
    if (!this.#workers.delete(pooled)) return;
    if (pooled.idleTimer) clearTimeout(pooled.idleTimer);
    const pending = pooled.job;
    pooled.job = undefined;
    void pooled.worker.terminate();
    if (pending) {
      pending.stop?.();
      pending.reject(error);
    }
    this.#dispatch();
  }

  #cancel(pending: Pending, reason: unknown): void {
    const queued = this.#queue.indexOf(pending);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      pending.stop?.();
      pending.reject(reason);
    } else if (pending.worker?.job === pending) {
      this.#drop(pending.worker, reason);
    }
  }
}
