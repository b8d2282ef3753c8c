/**
 * Single flight: concurrent fetches of the same key share one download. Only an in-memory call
 * (`fetch`) starts one; a file or a stream joins one already in flight and else runs on its own.
 * Each caller waits under its own signal and deadline; the shared download stops only when every
 * caller gave up. Each joiner gets its own copy of the body.
 */
import { SingleFlight } from '../flight.js';
import type { Layer, Outcome } from './layer.js';

export function singleFlight(flight: SingleFlight<Outcome<Buffer>> = sharedDownloads()): Layer {
  return (next) => async (call) => {
    const { keys, sink } = call;
    if (!keys) return next(call);
    const { signal } = call.options;
    const toMemory = sink.toMemory;
    if (!toMemory) {
      const joined = flight.join(keys.flight, { signal, deadline: call.deadline });
      return joined ? sink.fromMemory((await joined).value) : next(call);
    }
    const joining = flight.has(keys.flight);
    const { value } = await flight.run(
      keys.flight,
      async (shared) =>
        // A starter under close()'s signal alone lends it to the download: the call stays as it is.
        toMemory(
          await next(shared === signal ? call : { ...call, options: { ...call.options, signal: shared } }),
        ),
      // The starter's deadline lives in the download itself; a joiner waits under its own.
      { signal, deadline: joining ? call.deadline : undefined },
    );
    return await sink.fromMemory(value);
  };
}

/**
 * A single-flight table whose joiners each get their own Buffer and attempt records. `closing`:
 * the pipeline's close() signal, which a starter without a signal of its own lends to its download.
 */
export function sharedDownloads(closing?: AbortSignal): SingleFlight<Outcome<Buffer>> {
  return new SingleFlight<Outcome<Buffer>>({
    closing,
    copy: (outcome) => ({
      ...outcome,
      consumed: { ...outcome.consumed, value: Buffer.from(outcome.consumed.value) },
      info: { ...outcome.info, attempts: outcome.info.attempts.map((a) => ({ ...a })) },
    }),
  });
}
