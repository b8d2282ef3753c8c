/**
 * The three ways a call takes its body (see `Sink` in layers/layer.ts): into memory (`fetch`), into
 * a file (`toFile`), as a stream (`stream`). Each says how to read a winning response, how to serve a
 * body already in memory (a cache hit, a shared download), and how to hand its body to the cache.
 */
import { readFile } from 'node:fs/promises';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline as pump } from 'node:stream/promises';
import type { Outcome, Sink, Store } from '../layers/layer.js';
import { type FileTarget, localIoError } from './atomic-write.js';
import { BodyGuard } from './body.js';
import { readBody } from './read-body.js';

/** `fetch()`: the body in memory; the only sink whose download others may join. */
export const memorySink: Sink<Buffer> = {
  consume: async (response, check, signal) => {
    const value = await readBody(response.body, check, signal);
    return { value, bytes: check.bytes, sha256: check.sha256 };
  },
  fromMemory: async (ready) => ready,
  toMemory: (outcome) => outcome,
  keep: async (outcome, store) => {
    await store?.(outcome.consumed.value, outcome.consumed.sha256);
  },
};

/**
 * `toFile()`: bytes stream to the target (a temp file renamed into place, or a device written
 * into); the rename is part of the attempt, so a file that cannot be put in place is `local-io`.
 */
export function fileSink(target: FileTarget, signal: AbortSignal): Sink<string> {
  const { path } = target;
  return {
    judgeFirst: true,
    consume: async (response, check, attemptSignal) => {
      const guard = new BodyGuard(check);
      // Who failed first: the download (body, guard) or the file. pump() then destroys the
      // others with the same error, so the error alone does not tell. Listening before the
      // sink is opened also keeps a reset during the open from being an unhandled 'error'.
      let first: 'download' | 'file' | undefined;
      const onDownloadError = () => {
        first ??= 'download';
      };
      response.body.on('error', onDownloadError);
      guard.on('error', onDownloadError);
      try {
        const sink = await target.open(attemptSignal);
        sink.once('error', () => {
          first ??= 'file';
        });
        await pump(response.body, guard, sink, { signal: attemptSignal });
      } catch (error) {
        await target.discard();
        // The disk (or the device) failed, not the download: local-io, terminal.
        if (first === 'file' && !attemptSignal.aborted) throw localIoError(path, error);
        throw error;
      }
      await target.commit().catch((error) => {
        throw localIoError(path, error);
      });
      return { value: path, bytes: guard.bytes, sha256: guard.sha256 };
    },
    fromMemory: async (ready) => {
      await target.writeAll(ready.consumed.value, signal).catch((error) => {
        throw Object.assign(localIoError(path, error), { attempts: ready.info.attempts });
      });
      return { ...ready, consumed: { ...ready.consumed, value: path } };
    },
    keep: async (outcome, store) => {
      // Streamed to disk to keep memory flat; read back only because the cache will keep it (never a device).
      if (!store || target.kind !== 'replace') return;
      const body = await readFile(path).catch(() => undefined);
      if (body?.length === outcome.consumed.bytes) await store(body, outcome.consumed.sha256);
    },
  };
}

/**
 * `stream()`: the body is handed over once its start passed the checks (status, length, magic
 * bytes); later failures reach the caller through the stream. A body the cache would keep (up to
 * `tapLimit` bytes; 0: none) is kept while it streams and stored before the stream ends.
 */
export function streamSink(tapLimit: number): Sink<Readable> {
  let decide!: (store: Store | undefined) => void;
  const decided = new Promise<Store | undefined>((resolve) => {
    decide = resolve;
  });
  return {
    consume: async (response, check, signal) => {
      const guard = new BodyGuard(check);
      const out = new PassThrough();
      const tap =
        tapLimit > 0 && (guard.expectedLength ?? 0) <= tapLimit
          ? new CacheTap(tapLimit, async (body) => {
              const store = await decided;
              if (store && body.length === guard.bytes) await store(body, guard.sha256).catch(() => {});
            })
          : undefined;
      // Errors after the hand-over reach the caller through `out` (pipeline destroys it with the error).
      const flowing = tap
        ? pump(response.body, guard, tap, out, { signal })
        : pump(response.body, guard, out, { signal });
      flowing.catch(() => {});
      await Promise.race([guard.verdict, flowing]);
      return {
        value: out as Readable,
        bytes: 0,
        sha256: '',
        expectedBytes: guard.expectedLength,
        holdSignal: (release) => {
          flowing.then(release, release);
        },
      };
    },
    fromMemory: async (ready): Promise<Outcome<Readable>> => {
      const body = ready.consumed.value;
      const out = new PassThrough();
      out.end(body);
      return { ...ready, consumed: { ...ready.consumed, value: out, expectedBytes: body.length } };
    },
    keep: async (_outcome, store) => {
      decide(store);
    },
  };
}

/**
 * Keeps a copy of a streaming body for the cache, up to `limit` bytes (past it the copy is
 * dropped), and hands it to `store` before the stream ends, so a fetch that follows finds it.
 */
class CacheTap extends Transform {
  #chunks: Buffer[] | undefined = [];
  #bytes = 0;
  readonly #limit: number;
  readonly #store: (body: Buffer) => Promise<void>;

  constructor(limit: number, store: (body: Buffer) => Promise<void>) {
    super();
    this.#limit = limit;
    this.#store = store;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#chunks) {
      this.#bytes += chunk.length;
      if (this.#bytes > this.#limit) this.#chunks = undefined;
      else this.#chunks.push(chunk);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const chunks = this.#chunks;
    this.#chunks = undefined;
    if (!chunks) {
      callback();
      return;
    }
    this.#store(Buffer.concat(chunks)).then(
      () => callback(),
      () => callback(),
    );
  }
}
