/**
 * A second chance with another URL, at most once per kind per fetch:
 * - `refreshUrl(url, error)` after `url-expired` (a signed link whose signature expired), called
 *   once; the fresh URL is fetched and the trace shows `{ strategy: 'refresh', … }` between the runs;
 * - a preset's `alternateUrl` (a canonical form after a 404 on a legacy one), tried once and
 *   recorded as `{ strategy: 'rewrite', … }`.
 * A refresh that yields another expired link fails with `url-expired`: never a loop.
 */
import type { Logger } from 'pino';
import { DetourError } from './errors.js';
import type { Outcome } from './orchestrator.js';
import { alternateUrl, type Preset } from './preset.js';
import { redactUrl } from './redact.js';
import type { AttemptRecord, FetchOptions, RefreshUrl } from './types.js';

export interface RecoverUrlOptions<T> {
  url: URL;
  options: FetchOptions;
  presets: readonly Preset[];
  refreshUrl: RefreshUrl | undefined;
  logger: Logger;
  /** What the presets make of a new URL (rewrite, expected size); may refuse it. */
  prepare(url: string): { url: URL; options: FetchOptions };
  /** One run of the plan for `url` (a fresh run: earlier failures do not decide which strategies may try). */
  run(url: URL, options: FetchOptions): Promise<Outcome<T>>;
}

/** Codes of `url-expired` that a fresh signature cannot help (the file itself is past its retention). */
const BEYOND_REFRESH = new Set(['DETOUR_URL_GONE']);

export async function recoverUrl<T>(o: RecoverUrlOptions<T>): Promise<Outcome<T>> {
  let url = o.url;
  let options = o.options;
  let prior: AttemptRecord[] = [];
  let refreshed = false;
  let rewritten = false;
  for (;;) {
    try {
      const outcome = await o.run(url, options);
      if (prior.length) outcome.info.attempts = [...prior, ...outcome.info.attempts];
      return outcome;
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      const attempts = [...prior, ...error.attempts];
      error.attempts = attempts;
      if (
        !refreshed &&
        o.refreshUrl &&
        error.failureClass === 'url-expired' &&
        !BEYOND_REFRESH.has(error.code)
      ) {
        refreshed = true;
        const next = await refresh(o.refreshUrl, url, error, o.logger);
        error.attempts = [...attempts, next.record];
        if (next.url === undefined) throw error;
        const prepared = o.prepare(next.url);
        ({ url, options } = prepared);
        prior = error.attempts;
        continue;
      }
      const alternate = rewritten ? undefined : alternateUrl(o.presets, url, error);
      if (alternate) {
        rewritten = true;
        const record: AttemptRecord = {
          strategy: 'rewrite',
          route: 'none',
          outcome: 'ok',
          ms: 0,
          message: `${error.code}: trying ${redactUrl(alternate)} instead`,
        };
        o.logger.debug(
          { from: redactUrl(url), to: redactUrl(alternate) },
          'trying the alternate URL a preset offers',
        );
        prior = [...attempts, record];
        ({ url, options } = o.prepare(alternate.toString()));
        continue;
      }
      throw error;
    }
  }
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
