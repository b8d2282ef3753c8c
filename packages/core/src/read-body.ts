import type { Readable } from 'node:stream';
import type { BodyGuard } from './body.js';

/**
 * Read a whole body through its guard into one Buffer. Equivalent to `pipeline(body, guard,
 * collector, { signal })`, without the per-call AbortController and DOMException that
 * `stream.pipeline` creates (a measurable share of a small fetch). Every way out destroys both
 * streams and removes every listener.
 */
const ignore = () => {};

export function readBody(body: Readable, guard: BodyGuard, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const cleanup = () => {
      signal.removeEventListener('abort', onAbort);
      body.off('error', fail);
      body.off('close', onClose);
      guard.off('error', fail);
      guard.off('data', onData);
      guard.off('end', onEnd);
    };
    const fail = (error: unknown) => {
      cleanup();
      // Streams torn down may still emit (got reports its own abort): swallow, the caller has the cause.
      body.on('error', ignore);
      guard.on('error', ignore);
      body.destroy();
      guard.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal.reason);
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    // A body that closes before it ended (and without an error of its own) is cut short.
    const onClose = () => {
      if (!body.readableEnded)
        fail(
          Object.assign(new Error('the response closed before its end'), {
            code: 'ERR_STREAM_PREMATURE_CLOSE',
          }),
        );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    body.once('error', fail);
    body.once('close', onClose);
    guard.once('error', fail);
    guard.on('data', onData);
    guard.once('end', onEnd);
    body.pipe(guard);
  });
}
