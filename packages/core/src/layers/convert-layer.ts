/**
 * Conversion (`convert: 'wav'` or `'mp3'`): outside the cache and the single flight, so the layers below
 * fetch, share and cache the original bytes as any fetch does; this layer converts them and hands
 * the result to the caller's sink. The conversion is cached as an entry of its own, derived from
 * the original's key, target and rate: a second fetch with the same settings skips the decoder.
 */

import { memorySink } from '../body/sinks.js';
import { type Cache, candidateOf, resultFromCache } from '../cache/cache.js';
import {
  CONVERT_CONTENT_TYPES,
  CONVERT_DEFAULTS,
  type ConvertedBody,
  type ConvertSettings,
  conversionOf,
  convertBody,
} from '../convert/index.js';
import { abortedError, DetourError } from '../errors.js';
import type { Call, Layer, Outcome } from './layer.js';

export function convertLayer(cache: Cache | undefined): Layer {
  return (next) =>
    async <T>(call: Call<T>): Promise<Outcome<T>> => {
      const { convert, sampleRate, maxDurationMs } = call.options;
      if (convert === undefined) return next(call);
      const settings: ConvertSettings = {
        to: convert,
        sampleRate: sampleRate ?? CONVERT_DEFAULTS.sampleRate,
        maxDurationMs: maxDurationMs ?? CONVERT_DEFAULTS.maxDurationMs,
      };
      const key =
        cache && call.keys ? `${call.keys.cache}\0convert:${settings.to}@${settings.sampleRate}` : undefined;
      const hit = key ? await derivedHit(cache!, key, call, settings) : undefined;
      if (hit) return call.sink.fromMemory(hit);
      const original = await next({ ...call, sink: memorySink });
      const converted = await underDeadline(call, (signal) =>
        convertBody(original.consumed.value, original.info.format, settings, signal),
      );
      if (!converted) return call.sink.fromMemory(original); // already in the target format
      const outcome = convertedOutcome(original, converted);
      if (key) await keepDerived(cache!, key, call, outcome);
      return call.sink.fromMemory(outcome);
    };
}

function convertedOutcome(original: Outcome<Buffer>, converted: ConvertedBody): Outcome<Buffer> {
  const { to } = converted.converted;
  const info = { ...original.info, format: to, contentType: CONVERT_CONTENT_TYPES[to] };
  info.converted = converted.converted;
  return {
    consumed: { value: converted.body, bytes: converted.body.length, sha256: converted.sha256 },
    info,
    headers: original.headers,
  };
}

/** A conversion made before with the same settings (its WAV header or MP3 frames say which rate). */
async function derivedHit<T>(
  cache: Cache,
  key: string,
  call: Call<T>,
  settings: ConvertSettings,
): Promise<Outcome<Buffer> | undefined> {
  const started = performance.now();
  const hit = await cache.get(key);
  if (!hit) return undefined;
  // Only SILK converts today, so a derived entry is always from SILK.
  const converted = conversionOf(hit.entry.body, 'silk', settings.to);
  if (!converted || converted.sampleRate !== settings.sampleRate) return undefined;
  if (converted.durationMs > settings.maxDurationMs) return undefined; // converting again says why
  const { body, bytes, sha256, ...info } = resultFromCache(
    hit,
    call.input,
    Math.round(performance.now() - started),
  );
  info.converted = converted;
  return { consumed: { value: body, bytes, sha256 }, info, headers: {} };
}

async function keepDerived<T>(
  cache: Cache,
  key: string,
  call: Call<T>,
  outcome: Outcome<Buffer>,
): Promise<void> {
  const { info, headers, consumed } = outcome;
  const candidate = candidateOf(call.input, info, headers, consumed.bytes, consumed.sha256);
  await cache.set(key, candidate, consumed.value).catch(() => undefined);
}

/** Run `work` under the fetch's signal and what is left of its deadline. */
async function underDeadline<T, R>(call: Call<T>, work: (signal: AbortSignal) => Promise<R>): Promise<R> {
  const outer = call.options.signal;
  if (outer.aborted) throw abortedError(outer.reason);
  const controller = new AbortController();
  const expired = new DetourError('the fetch deadline passed while converting', {
    failureClass: 'timeout',
    code: 'DETOUR_DEADLINE',
  });
  const timer = setTimeout(() => controller.abort(expired), Math.max(0, call.deadline - Date.now()));
  const onAbort = () => controller.abort(abortedError(outer.reason));
  outer.addEventListener('abort', onAbort, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onAbort);
  }
}
