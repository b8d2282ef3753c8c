/**
 * SILK decoding off the event loop: a small pool of worker threads, each with its own instance of
 * the WASM decoder (`silk-wasm`). A worker converts one clip at a time and hands back the whole WAV
 * or MP3 file and its SHA-256, so the main thread only copies bytes (MP3: Mediabunny's LAME
 * encoder, WASM, which runs in a thread of its own started by the worker for each clip). A worker
 * whose decoder failed, or whose job was aborted or ran past its deadline, is terminated (a WASM
 * instance that trapped is not trusted again, and terminating is the only way to stop one
 * mid-clip; the encoder's thread ends with it); the next job starts a fresh one. Idle workers do
 * not keep the process alive and exit after a while.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, evaluated as CommonJS: it loads the decoder (and, for MP3, Mediabunny and its
 * LAME encoder) from the URLs it is given, and builds the whole output file.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let codec;
let mp3;
function wavOf(pcm, header) {
  const wav = new Uint8Array(new ArrayBuffer(44 + pcm.length));
  wav.set(header.subarray(0, 44), 0);
  const view = new DataView(wav.buffer);
  view.setUint32(4, 36 + pcm.length, true);
  view.setUint32(40, pcm.length, true);
  wav.set(pcm, 44);
  return wav;
}
async function mp3Of(pcm, sampleRate, encoder) {
  if (!mp3) {
    const mediabunny = await import(encoder.mediabunnyUrl);
    (await import(encoder.encoderUrl)).registerMp3Encoder();
    mp3 = mediabunny;
  }
  const output = new mp3.Output({ format: new mp3.Mp3OutputFormat(), target: new mp3.BufferTarget() });
  const source = new mp3.AudioSampleSource({ codec: 'mp3', bitrate: encoder.bitrate });
  output.addAudioTrack(source);
  await output.start();
  const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
  const sample = new mp3.AudioSample({ data: samples, format: 's16', numberOfChannels: 1, sampleRate, timestamp: 0 });
  await source.add(sample);
  sample.close();
  await output.finalize();
  return new Uint8Array(output.target.buffer);
}
parentPort.on('message', async (job) => {
  try {
    codec ??= await import(workerData.codecUrl);
    const decoded = await codec.decode(job.silk, job.sampleRate);
    const pcm = decoded.data;
    const out = job.to === 'mp3' ? await mp3Of(pcm, job.sampleRate, job.encoder) : wavOf(pcm, job.header);
    const sha256 = createHash('sha256').update(out).digest('hex');
    const body = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer : out.slice().buffer;
    parentPort.postMessage({ id: job.id, body, sha256, samples: pcm.length / 2 }, [body]);
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error).slice(0, 200) });
  }
});
`;

/** What one job gives back: the whole output file (WAV or MP3), its SHA-256, the samples decoded. */
export interface DecodedWav {
  body: Buffer;
  sha256: string;
  samples: number;
}

/** Where the worker finds the MP3 encoder, and the bitrate to encode at. */
export interface Mp3EncoderSpec {
  encoderUrl: string;
  mediabunnyUrl: string;
  bitrate: number;
}

export interface DecodeJob {
  /** The clip in Tencent's form (`0x02#!SILK_V3…`), which the decoder reads. */
  silk: Uint8Array;
  sampleRate: number;
  /** The output: `wav` (the default) or `mp3`. */
  to?: 'wav' | 'mp3';
  /** With `wav`: a 44-byte WAV header for the rate (its two lengths are filled in by the worker). */
  header?: Uint8Array;
  /** With `mp3`: the encoder to load (see `mp3Encoder()`). */
  encoder?: Mp3EncoderSpec;
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

let mp3Urls: Omit<Mp3EncoderSpec, 'bitrate'> | undefined;
/**
 * Where the MP3 encoder (`@mediabunny/mp3-encoder`) and the Mediabunny it registers into are,
 * resolved from this package on the first MP3 conversion. The encoder imports Mediabunny as an ES
 * module and registers into that module's own registry: the worker must load the very same file,
 * so the URL is that of Mediabunny's ES entry as seen from the encoder (its package's `exports`),
 * not its CommonJS build.
 */
export function mp3Encoder(bitrate: number): Mp3EncoderSpec {
  if (!mp3Urls) {
    const encoderPath = createRequire(import.meta.url).resolve('@mediabunny/mp3-encoder');
    let dir = dirname(createRequire(encoderPath).resolve('mediabunny'));
    while (!isMediabunnyRoot(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as MediabunnyManifest;
    const entry = manifest.exports?.['.'];
    const esm = entry?.node?.import ?? entry?.import ?? entry?.default ?? 'dist/modules/src/index.js';
    mp3Urls = {
      encoderUrl: pathToFileURL(encoderPath).href,
      mediabunnyUrl: pathToFileURL(join(dir, esm)).href,
    };
  }
  return { ...mp3Urls, bitrate };
}

interface MediabunnyManifest {
  name?: string;
  exports?: { '.'?: { node?: { import?: string }; import?: string; default?: string } };
}

function isMediabunnyRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  return (
    existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as MediabunnyManifest).name === 'mediabunny'
  );
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
      pooled.worker.postMessage({ ...pending.job, id: pending.id });
    }
  }

  #spawn(): PooledWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { codecUrl: resolveCodec() } });
    const pooled: PooledWorker = { worker };
    this.#workers.add(pooled);
    worker.on(
      'message',
      (message: { id: number; body?: ArrayBuffer; sha256?: string; samples?: number; error?: string }) => {
        const pending = pooled.job;
        if (!pending || pending.id !== message.id) return;
        if (message.error !== undefined || !message.body) {
          // A decoder that failed is not trusted with the next clip.
          this.#drop(pooled, new DecodeFailure(message.error ?? 'no output'));
          return;
        }
        this.#settle(pooled, pending);
        pending.resolve({
          body: Buffer.from(message.body),
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
