/**
 * The cache: a fresh entry this fetch would accept answers at once (`fromCache`); a remembered
 * failure (opt-in negative cache) is thrown; otherwise the run goes on and its body is stored
 * when the rules allow (see cache/cache.ts), before the fetch is answered.
 */
import type { Logger } from 'pino';
import { type Cache, candidateOf, resultFromCache } from '../cache/cache.js';
import { DetourError } from '../errors.js';
import { matchesExpect } from '../magic.js';
import { redactUrl } from '../redact.js';
import type { Call, Layer, Outcome, Store } from './layer.js';

/** The request headers a call sends (for the origin's `Vary`). */
export type HeadersOf = (call: Call<unknown>) => Readonly<Record<string, string>>;

export function cacheLayer(cache: Cache, logger: Logger, headersOf: HeadersOf = () => ({})): Layer {
  return (next) =>
    async <T>(call: Call<T>): Promise<Outcome<T>> => {
      const { keys } = call;
      if (!keys) return next(call);
      const hit = await lookup(cache, call, logger, headersOf);
      if (hit) return await call.sink.fromMemory(hit);
      let outcome: Outcome<T>;
      try {
        outcome = await next(call);
      } catch (error) {
        if (error instanceof DetourError) await cache.setNegative(keys.cache, error).catch(() => false);
        throw error;
      }
      await keep(cache, call, outcome, logger, headersOf);
      return outcome;
    };
}

/** A usable entry as an outcome; an entry this fetch would refuse (size, kind) is not served. */
async function lookup<T>(
  cache: Cache,
  call: Call<T>,
  logger: Logger,
  headersOf: HeadersOf,
): Promise<Outcome<Buffer> | undefined> {
  const key = call.keys!.cache;
  const started = performance.now();
  const hit = await cache.get(key, () => headersOf(call as Call<unknown>));
  if (hit) {
    const { body } = hit.entry;
    const { maxBytes, expect, expectedBytes } = call.options;
    if (
      body.length <= maxBytes &&
      matchesExpect(body, expect ?? 'any') &&
      (expectedBytes === undefined || body.length === expectedBytes)
    ) {
      const {
        body: _,
        bytes,
        sha256,
        ...info
      } = resultFromCache(hit, call.input, Math.round(performance.now() - started));
      if (logger.isLevelEnabled('debug'))
        logger.debug({ url: redactUrl(call.url), tier: hit.tier }, 'served from cache');
      return { consumed: { value: body, bytes, sha256 }, info, headers: {} };
    }
  }
  if (cache.negativeTtlMs === 0) return undefined; // failures are not remembered (the default)
  const negative = await cache.getNegative(key);
  if (negative) throw negative;
  return undefined;
}

/** Offer the body to the cache through the sink (which always hears whether the cache keeps it). */
async function keep<T>(
  cache: Cache,
  call: Call<T>,
  outcome: Outcome<T>,
  logger: Logger,
  headersOf: HeadersOf,
): Promise<void> {
  const { sink, keys } = call;
  if (!sink.keep || !keys) return;
  const { info, headers, consumed } = outcome;
  const debug = logger.isLevelEnabled('debug');
  const url = debug ? redactUrl(call.input) : '';
  // cache.set judges the response itself; judging first saves a file sink's read-back.
  const refused = sink.judgeFirst ? cache.refuses({ ...info, bytes: consumed.bytes, headers }) : undefined;
  if (refused !== undefined && debug) logger.debug({ url, stored: false, reason: refused }, 'not cached');
  const store: Store | undefined =
    refused === undefined
      ? async (body, sha256) => {
          const unproved = keys.checkCached?.(body);
          if (unproved !== undefined) {
            if (debug) logger.debug({ url, stored: false, reason: unproved }, 'not cached');
            return;
          }
          const candidate = candidateOf(call.input, info, headers, body.length, sha256);
          const sent = headers.vary === undefined ? undefined : headersOf(call as Call<unknown>);
          const { stored, reason } = await cache.set(keys.cache, candidate, body, sent);
          if (debug) logger.debug({ url, stored, reason }, stored ? 'cached' : 'not cached');
        }
      : undefined;
  await sink.keep(outcome, store);
}
