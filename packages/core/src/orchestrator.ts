/**
 * The orchestrator: one run of the plan. Tries the strategies in order, skips those that cannot
 * rescue the failures seen, gives each attempt its deadline and signal, classifies failures,
 * stops on terminal ones, enforces the body rules, and records every attempt.
 */
import type { Logger } from 'pino';
import { AttemptSignal } from './attempt-signal.js';
import { BodyGuard, checkDeclaredLength, declaredLength } from './body.js';
import { classifyError, statusError } from './classify.js';
import { DetourError, DetourUsageError } from './errors.js';
import { checkHeaders, IMAGE_ACCEPT, refererFor, resolveProfile } from './headers.js';
import { headerString } from './kit/headers.js';
import { DEFAULT_USER_AGENT, lowerCaseKeys, type ResolvedPipelineOptions } from './options.js';
import {
  classifyResponse,
  PEEK_BYTES,
  peekBody,
  presetReferer,
  presetsFor,
  type ResponseVerdict,
} from './preset.js';
import { describeRoute, redactText, redactUrl } from './redact.js';
import { BodyRestart, DEFAULT_MAX_RESUMES, isResumable, rangeValidator, resumableBody } from './resume.js';
import type {
  AttemptRecord,
  AttemptRequest,
  AttemptResponse,
  FailureClass,
  FetchOptions,
  FetchResultInfo,
  HeaderValue,
  HttpTransport,
  Rescues,
  Route,
  Strategy,
} from './types.js';
import { parseTargetUrl } from './url.js';

/** What the orchestrator needs from its pipeline for one run. */
export interface OrchestratorContext {
  options: ResolvedPipelineOptions;
  logger: Logger;
  transport: HttpTransport;
  strategies: ReadonlyMap<string, Strategy>;
  /** Strategy names in the order to try them (all registered). */
  order: readonly string[];
  /** The route a strict request takes. */
  route: Route;
}

/** What one winning attempt leaves for the result: the consumed value and the body's figures. */
export interface Consumed<T> {
  value: T;
  bytes: number;
  sha256: string;
  expectedBytes?: number | null;
  /** The attempt's signal must live on (a stream still flowing); `release` is called when it ends. */
  holdSignal?: (release: () => void) => void;
}

export type Consume<T> = (
  response: AttemptResponse,
  guard: BodyGuard,
  signal: AbortSignal,
) => Promise<Consumed<T>>;

export interface Outcome<T> {
  consumed: Consumed<T>;
  info: Omit<FetchResultInfo, 'bytes' | 'sha256'>;
  /** The winning response's headers (Cache-Control decides what the cache may keep). */
  headers: Readonly<Record<string, HeaderValue>>;
}

/** Whether a strategy is worth trying after the failures seen so far in this fetch. */
export function canRescue(rescues: Rescues, seen: ReadonlySet<FailureClass>): boolean {
  if (seen.size === 0) return true;
  if (rescues === 'first') return false;
  if (rescues === 'any') return true;
  for (const failure of seen) if (rescues.has(failure)) return true;
  return false;
}

export async function runStrategies<T>(
  ctx: OrchestratorContext,
  input: string | URL,
  options: FetchOptions,
  consume: Consume<T>,
  /** Failures recorded before this run (e.g. an open circuit), which later strategies may rescue. */
  prior: readonly AttemptRecord[] = [],
): Promise<Outcome<T>> {
  const url = parseTargetUrl(input);
  checkHeaders(options.headers, 'fetch headers');
  const maxBytes = options.maxBytes ?? ctx.options.maxBytes;
  const timeoutMs = options.timeoutMs ?? ctx.options.timeoutMs;
  for (const [name, value] of [
    ['maxBytes', maxBytes],
    ['timeoutMs', timeoutMs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0)
      throw new DetourUsageError(`${name} must be a positive number`);
  }
  const { expectedBytes } = options;
  if (expectedBytes !== undefined && !(Number.isSafeInteger(expectedBytes) && expectedBytes >= 0)) {
    throw new DetourUsageError(`expectedBytes must be a whole number of bytes, got ${expectedBytes}`);
  }
  if (expectedBytes !== undefined && expectedBytes > maxBytes) {
    throw new DetourError(`the expected ${expectedBytes} bytes exceed the limit of ${maxBytes} bytes`, {
      failureClass: 'too-large',
      code: 'DETOUR_TOO_LARGE',
      attempts: [...prior],
    });
  }
  const maxResumes = ctx.options.maxResumes ?? DEFAULT_MAX_RESUMES;
  const presets = ctx.options.presets ?? [];
  const expect = options.expect ?? 'any';
  const { order, route } = ctx;
  const deadline = Date.now() + timeoutMs;
  const log = ctx.logger.child({ url: redactUrl(url) });
  const attempts: AttemptRecord[] = [...prior];
  const seen = new Set<FailureClass>(prior.flatMap((a) => (a.failureClass ? [a.failureClass] : [])));
  let lastError: DetourError | undefined;
  const profile = resolveProfile(
    options.headersProfile ?? ctx.options.headersProfile,
    ctx.options.headerProfiles,
  );
  const headers: Record<string, string> = {
    'user-agent': DEFAULT_USER_AGENT,
    ...(expect === 'image' ? { accept: IMAGE_ACCEPT } : {}),
    ...lowerCaseKeys(profile.headers),
    ...ctx.options.headers,
    ...lowerCaseKeys(options.headers ?? {}),
  };
  // A preset may drop or replace a Referer for its hosts (Tencent's CDN answers a foreign one with a stand-in picture).
  if (presetsFor(presets, url).length) {
    const allowed = presetReferer(presets, url, headers.referer);
    if (allowed === undefined) delete headers.referer;
    else headers.referer = allowed;
  }
  const referer =
    headers.referer === undefined ? presetReferer(presets, url, refererFor(profile, url)) : undefined;

  for (const name of order) {
    const strategy = ctx.strategies.get(name)!;
    const req: AttemptRequest = {
      url,
      headers,
      route,
      tls: ctx.options.tls,
      limits: {
        maxBytes,
        maxRedirects: ctx.options.maxRedirects,
        maxRetries: ctx.options.maxRetries,
        maxRetryAfterMs: ctx.options.maxRetryAfterMs,
        maxResumes,
      },
      expect,
      deadline: Math.min(deadline, Date.now() + ctx.options.attemptTimeoutMs),
      allowPrivateNetwork: ctx.options.allowPrivateNetwork,
      failures: attempts.filter((a) => a.outcome === 'failed'),
      logger: log,
      transport: ctx.transport,
      timeouts: ctx.options.timeouts,
      pinResolvedAddress: ctx.options.pinResolvedAddress,
    };
    // The route this strategy really takes (direct-bypass: direct), for the attempt record.
    const attemptRoute = strategy.attemptRoute?.(req) ?? route;
    const skip = !canRescue(strategy.rescues, seen)
      ? `cannot rescue ${[...seen].join(', ')}`
      : (() => {
          const applies = strategy.applies?.(req) ?? true;
          return applies === true ? undefined : applies;
        })();
    if (skip !== undefined) {
      attempts.push({
        strategy: name,
        route: describeRoute(attemptRoute),
        outcome: 'skipped',
        ms: 0,
        message: skip,
      });
      log.debug({ strategy: name, outcome: 'skipped', reason: skip }, 'attempt skipped');
      continue;
    }
    if (Date.now() >= deadline || options.signal?.aborted) break;

    const started = performance.now();
    const attemptSignal = new AttemptSignal(req.deadline, options.signal);
    let response: AttemptResponse | undefined;
    let verdict: ResponseVerdict | undefined;
    let held = false;
    try {
      response = await strategy.attempt(req, attemptSignal.signal);
      let sentHeaders = headers;
      if (response.status === 403 && referer !== undefined) {
        // Tencent's CDN and others refuse hot-linking: one retry with the profile's Referer.
        response.body.destroy();
        log.debug({ strategy: name }, '403: retrying once with the profile Referer');
        sentHeaders = { ...headers, referer };
        response = await strategy.attempt({ ...req, headers: sentHeaders }, attemptSignal.signal);
        response = { ...response, retries: (response.retries ?? 0) + 1 };
      }
      if (!response.degraded && presets.length) {
        const finalUrl = new URL(response.finalUrl);
        if (presetsFor(presets, finalUrl).length) {
          const peeked = await peekBody(response.body, PEEK_BYTES, attemptSignal.signal);
          response = { ...response, body: peeked.body };
          verdict = classifyResponse(presets, { ...response, url: finalUrl, head: peeked.head });
          if (verdict) {
            response.body.destroy();
            throw new DetourError(verdict.message, {
              failureClass: verdict.failureClass,
              code: verdict.code,
              status: response.status,
              retcode: verdict.retcode,
              retmsg: verdict.retmsg,
            });
          }
        }
      }
      if (response.status >= 400) {
        response.body.destroy();
        throw statusError(response.status, redactUrl(response.finalUrl));
      }
      const rules = { maxBytes, expect, expectedBytes, onBytes: progressReporter(options, response) };
      const rangeReq: AttemptRequest = { ...req, url: new URL(response.finalUrl), headers: sentHeaders };
      let resumes = 0;
      let restarts = 0;
      let consumed: Consumed<T> | undefined;
      let guard!: BodyGuard;
      // One pass per full body: a range request answered with 200 restarts it (BodyRestart).
      while (!consumed) {
        const expectedLength = checkDeclaredLength(response, rules);
        guard = new BodyGuard(rules, expectedLength);
        let handedOver = false;
        const budget = maxResumes - resumes - restarts;
        const resumable = isResumable(response, expectedLength, budget)
          ? resumableBody(response.body, {
              total: expectedLength,
              maxResumes: budget,
              validator: rangeValidator(response.headers),
              canRestart: () => !handedOver,
              signal: attemptSignal.signal,
              fetchRange: (start, validator) => {
                log.debug({ strategy: name, start }, 'body cut short: resuming with a range request');
                return strategy.attempt(
                  {
                    ...rangeReq,
                    headers: {
                      ...sentHeaders,
                      'accept-encoding': 'identity',
                      range: `bytes=${start}-`,
                      ...(validator ? { 'if-range': validator } : {}),
                    },
                  },
                  attemptSignal.signal,
                );
              },
            })
          : undefined;
        try {
          consumed = await consume(
            resumable ? { ...response, body: resumable.body } : response,
            guard,
            attemptSignal.signal,
          );
          handedOver = true;
          resumes += resumable?.resumes ?? 0;
        } catch (error) {
          if (!(error instanceof BodyRestart)) throw error;
          resumes += resumable?.resumes ?? 0;
          restarts++;
          log.debug({ strategy: name, restarts }, 'range request answered with the whole file: restarting');
          response = error.response;
        }
      }
      const record: AttemptRecord = {
        strategy: name,
        route: response.degraded ? 'none' : describeRoute(response.route),
        outcome: 'ok',
        ms: Math.round(performance.now() - started),
        status: response.status,
        ...(response.retries ? { retries: response.retries } : {}),
        ...(resumes ? { resumes } : {}),
        ...(restarts ? { restarts } : {}),
        ...(response.insecure ? { insecure: true } : {}),
        ...(response.downgraded ? { downgraded: true } : {}),
      };
      attempts.push(record);
      log.info({ ...record, bytes: consumed.bytes }, 'attempt succeeded');
      if (consumed.holdSignal) {
        held = true;
        consumed.holdSignal(() => attemptSignal.dispose());
      }
      return {
        consumed,
        info: {
          ok: true,
          url: url.toString(),
          finalUrl: response.finalUrl,
          strategy: name,
          degraded: !!response.degraded,
          ...(response.degraded ? { degradedReason: response.degradedReason ?? 'not the real file' } : {}),
          fromCache: false,
          contentType: headerString(response.headers['content-type']) ?? null,
          attempts,
          insecure: !!response.insecure,
          downgraded: !!response.downgraded,
          status: response.status,
          format: guard.format,
        },
        headers: response.headers,
      };
    } catch (error) {
      response?.body.destroy();
      const classified = attemptSignal.callerAborted
        ? { failureClass: 'aborted' as const, terminal: true, ...abortedBy(options.signal?.reason) }
        : attemptSignal.timedOut
          ? {
              failureClass: 'timeout' as const,
              code: 'DETOUR_DEADLINE',
              terminal: false,
              message: 'attempt deadline passed',
            }
          : classifyError(error);
      const record: AttemptRecord = {
        strategy: name,
        route: describeRoute(response?.route ?? attemptRoute),
        outcome: 'failed',
        failureClass: classified.failureClass,
        code: classified.code,
        ms: Math.round(performance.now() - started),
        // Records are logged, printed and cached: no URL secret in them.
        message: redactText(classified.message),
        ...(response ? { status: response.status } : {}),
        ...(verdict?.retcode !== undefined ? { retcode: verdict.retcode } : {}),
        ...(verdict?.retmsg !== undefined ? { retmsg: verdict.retmsg } : {}),
      };
      attempts.push(record);
      seen.add(classified.failureClass);
      log.warn(record, 'attempt failed');
      lastError = new DetourError(classified.message, {
        failureClass: classified.failureClass,
        code: classified.code,
        status: response?.status,
        cause: error,
        retcode: verdict?.retcode,
        retmsg: verdict?.retmsg,
      });
      if (classified.terminal) break;
    } finally {
      if (!held) attemptSignal.dispose();
    }
  }

  const error =
    lastError ??
    (options.signal?.aborted
      ? (({ code, message }) => new DetourError(message, { failureClass: 'aborted', code }))(
          abortedBy(options.signal.reason),
        )
      : Date.now() >= deadline
        ? new DetourError(`deadline of ${timeoutMs} ms passed`, {
            failureClass: 'timeout',
            code: 'DETOUR_DEADLINE',
          })
        : new DetourError(`no strategy could try ${redactUrl(url)}`, {
            failureClass: 'unavailable',
            code: 'DETOUR_NO_STRATEGY',
          }));
  error.attempts = attempts;
  log.warn({ failureClass: error.failureClass, code: error.code }, 'every strategy failed');
  throw error;
}

/** Code and message of an abort: the reason's when it is one of ours (close() gives `DETOUR_CLOSED`). */
function abortedBy(reason: unknown): { code: string; message: string } {
  if (reason instanceof DetourError && reason.failureClass === 'aborted') {
    return { code: reason.code, message: reason.message };
  }
  return { code: 'ABORT_ERR', message: 'aborted by the caller' };
}

/** A throttled `onProgress` for one response, or undefined when the caller did not ask. */
function progressReporter(
  options: FetchOptions,
  response: AttemptResponse,
): ((received: number, done: boolean) => void) | undefined {
  const onProgress = options.onProgress;
  if (!onProgress) return undefined;
  const interval = options.progressIntervalMs ?? 100;
  const total = declaredLength(response) ?? options.expectedBytes ?? null;
  let last = 0;
  return (received, done) => {
    const now = performance.now();
    if (!done && now - last < interval) return;
    last = now;
    try {
      onProgress({ received, total });
    } catch {
      // a progress display must never break a download
    }
  };
}
