/**
 * A second chance with another URL, at most once per kind per fetch:
 * - `refreshUrl(url, error)` after `url-expired` (a signed link whose signature expired), called
 *   once; the fresh URL is fetched and the trace shows `{ strategy: 'refresh', … }` between the runs;
 * - a preset's `alternateUrl` (a canonical form after a 404 on a legacy one), tried once and
 *   recorded as `{ strategy: 'rewrite', … }`.
 * A refresh that yields another expired link fails with `url-expired`: never a loop.
 * The refresher is the fetch's own `refreshUrl`, else the handling preset's, else the pipeline's.
 * A link a preset reads as past its expiry (`expiresAt`) is refreshed before any request: the dead
 * URL is never requested (without a refresher it fails `url-expired` without a request).
 */
import type { Logger } from 'pino';
import { DetourError, refusalRecord } from '../errors.js';
import { alternateUrl, expiryOf, type Preset, refresherFor } from '../preset.js';
import { redactUrl } from '../redact.js';
import type { AttemptRecord, RefreshUrl } from '../types/index.js';
import type { Call, Layer, Outcome, Run } from './layer.js';

export interface RecoverUrlOptions {
  presets: readonly Preset[];
  /** The pipeline's `refreshUrl`: the catch-all (a fetch's own wins, then the handling preset's). */
  refreshUrl: RefreshUrl | undefined;
  /** Clock for `expiresAt` (default `Date.now`). */
  now?: (() => number) | undefined;
  logger: Logger;
  /** The call for another URL: what the presets make of it (rewrite, expected size); may refuse it. */
  retarget<T>(call: Call<T>, url: string): Call<T>;
}

/** Codes of `url-expired` that a fresh signature cannot help (the file itself is past its retention). */
const BEYOND_REFRESH = new Set(['DETOUR_URL_GONE']);

export function recoverUrl(o: RecoverUrlOptions): Layer {
  return (next) => (call) => recover(o, next, call);
}

/** Each run is a fresh run of the plan: earlier failures do not decide which strategies may try. */
async function recover<T>(o: RecoverUrlOptions, next: Run, first: Call<T>): Promise<Outcome<T>> {
  const refresherOf = (url: URL) => first.options.refreshUrl ?? refresherFor(o.presets, url, o.refreshUrl);
  let call = first;
  let prior: AttemptRecord[] = [];
  let refreshed = false;
  let rewritten = false;
  for (;;) {
    try {
      const expired = expiredLink(o, call.url);
      if (expired) throw expired;
      const outcome = await next(call);
      if (prior.length) outcome.info.attempts = [...prior, ...outcome.info.attempts];
      return outcome;
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      const attempts = [...prior, ...error.attempts];
      error.attempts = attempts;
      const refreshUrl = refresherOf(call.url);
      if (
        !refreshed &&
        refreshUrl &&
        error.failureClass === 'url-expired' &&
        !BEYOND_REFRESH.has(error.code)
      ) {
        refreshed = true;
        const fresh = await refresh(refreshUrl, call.url, error, o.logger);
        error.attempts = [...attempts, fresh.record];
        if (fresh.url === undefined) throw error;
        call = o.retarget(call, fresh.url);
        prior = error.attempts;
        continue;
      }
      const alternate = rewritten ? undefined : alternateUrl(o.presets, call.url, error);
      if (!alternate) throw error;
      rewritten = true;
      const record: AttemptRecord = {
        strategy: 'rewrite',
        route: 'none',
        outcome: 'ok',
        ms: 0,
        message: `${error.code}: trying ${redactUrl(alternate)} instead`,
      };
      o.logger.debug(
        { from: redactUrl(call.url), to: redactUrl(alternate) },
        'trying the alternate URL a preset offers',
      );
      prior = [...attempts, record];
      call = o.retarget(call, alternate.toString());
    }
  }
}

/** `url-expired` without a request, when a handling preset reads the link as past its expiry. */
function expiredLink(o: RecoverUrlOptions, url: URL): DetourError | undefined {
  const expiry = o.presets.length ? expiryOf(o.presets, url) : undefined;
  if (!expiry || expiry.at > (o.now ?? Date.now)()) return undefined;
  const message = `the link expired at ${new Date(expiry.at).toISOString()} (read from the URL): not requested`;
  o.logger.debug({ url: redactUrl(url), preset: expiry.preset }, 'link past its expiry');
  const error = new DetourError(message, { failureClass: 'url-expired', code: 'DETOUR_URL_EXPIRED' });
  error.attempts = [refusalRecord(expiry.preset, error)];
  return error;
}

async function refresh(
  refreshUrl: RefreshUrl,
  url: URL,
  error: DetourError,
  logger: Logger,
): Promise<{ url: string | undefined; record: AttemptRecord }> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const failed = (message: string): AttemptRecord => ({
    strategy: 'refresh',
    route: 'none',
    outcome: 'failed',
    failureClass: 'url-expired',
    code: error.code,
    ms: ms(),
    message,
  });
  let next: string | undefined;
  try {
    next = await refreshUrl(url.toString(), error);
  } catch (cause) {
    logger.warn({ err: (cause as Error)?.message }, 'refreshUrl failed');
    return {
      url: undefined,
      record: failed(`refreshUrl failed: ${(cause as Error)?.message ?? String(cause)}`),
    };
  }
  if (typeof next !== 'string' || next === '') {
    return { url: undefined, record: failed('refreshUrl gave no fresh URL') };
  }
  logger.debug({ url: redactUrl(next) }, 'refreshed an expired URL');
  return {
    url: next,
    record: {
      strategy: 'refresh',
      route: 'none',
      outcome: 'ok',
      ms: ms(),
      message: `fresh URL ${redactUrl(next)}`,
    },
  };
}
