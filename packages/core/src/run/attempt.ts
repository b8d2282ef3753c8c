/**
 * One strategy's attempt, from the request to a body handed to the sink: one retry with the
 * profile's Referer after a 403, the presets' verdict on the first bytes, status >= 400 refused,
 * then the body under its rules, finished with range requests when it is cut short.
 */
import type { Logger } from 'pino';
import { BodyCheck, type BodyRules, checkDeclaredLength, declaredLength } from '../body/body.js';
import { BodyRestart, isResumable, rangeValidator, resumableBody } from '../body/resume.js';
import { statusError } from '../classify.js';
import { DetourError } from '../errors.js';
import type { CallOptions, Consume, Consumed } from '../layers/layer.js';
import { classifyResponse, PEEK_BYTES, type Preset, peekBody, presetsFor } from '../preset.js';
import { redactUrl } from '../redact.js';
import type { AttemptRequest, AttemptResponse, Strategy } from '../types/index.js';

/** One attempt in progress. `response` is the latest response seen (the failure record reads it). */
export interface Attempt<T> {
  readonly strategy: Strategy;
  readonly req: AttemptRequest;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The Referer for one retry after a 403 (the profile's), when there is one. */
  readonly referer: string | undefined;
  readonly presets: readonly Preset[];
  readonly options: CallOptions;
  readonly maxResumes: number;
  readonly consume: Consume<T>;
  response?: AttemptResponse;
}

/** A successful attempt: the response whose body was consumed, and how. */
export interface Won<T> {
  response: AttemptResponse;
  consumed: Consumed<T>;
  /** The body rules it passed (its format, figures). */
  check: BodyCheck;
  resumes: number;
  restarts: number;
}

export async function runAttempt<T>(a: Attempt<T>): Promise<Won<T>> {
  const sentHeaders = await respond(a);
  return await readBody(a, sentHeaders);
}

/** Ask the strategy, retry a 403 once with the Referer, let the presets judge; returns the headers sent. */
async function respond<T>(a: Attempt<T>): Promise<Record<string, string>> {
  const { strategy, req, signal } = a;
  a.response = await strategy.attempt(req, signal);
  let sentHeaders = req.headers;
  if (a.response.status === 403 && a.referer !== undefined) {
    // Tencent's CDN and others refuse hot-linking: one retry with the profile's Referer.
    a.response.body.destroy();
    a.log.debug({ strategy: strategy.name }, '403: retrying once with the profile Referer');
    sentHeaders = { ...req.headers, referer: a.referer };
    const retried = await strategy.attempt({ ...req, headers: sentHeaders }, signal);
    a.response = { ...retried, retries: (retried.retries ?? 0) + 1 };
  }
  await judgeByPresets(a);
  const response = a.response;
  if (response.status >= 400) {
    response.body.destroy();
    throw statusError(response.status, redactUrl(response.finalUrl));
  }
  return sentHeaders;
}

/** A preset for the final host may refuse the response by its first bytes (an error page, a stand-in). */
async function judgeByPresets<T>(a: Attempt<T>): Promise<void> {
  const response = a.response!;
  if (response.degraded || a.presets.length === 0) return;
  const finalUrl = new URL(response.finalUrl);
  if (!presetsFor(a.presets, finalUrl).length) return;
  const peeked = await peekBody(response.body, PEEK_BYTES, a.signal);
  a.response = { ...response, body: peeked.body };
  const verdict = classifyResponse(a.presets, { ...a.response, url: finalUrl, head: peeked.head });
  if (!verdict) return;
  a.response.body.destroy();
  throw new DetourError(verdict.message, {
    failureClass: verdict.failureClass,
    code: verdict.code,
    status: response.status,
    retcode: verdict.retcode,
    retmsg: verdict.retmsg,
  });
}

/** Hand the body to the sink; one pass per full body (a range request answered with 200 restarts it). */
async function readBody<T>(a: Attempt<T>, sentHeaders: Record<string, string>): Promise<Won<T>> {
  const { options } = a;
  const rules: BodyRules = {
    maxBytes: options.maxBytes,
    expect: options.expect ?? 'any',
    expectedBytes: options.expectedBytes,
    onBytes: progressReporter(options, a.response!),
  };
  // Built on the first range request only: most bodies arrive whole.
  let rangeReq: AttemptRequest | undefined;
  const ranges = () => {
    rangeReq ??= { ...a.req, url: new URL(a.response!.finalUrl), headers: sentHeaders };
    return rangeReq;
  };
  let resumes = 0;
  let restarts = 0;
  for (;;) {
    const response = a.response!;
    const expectedLength = checkDeclaredLength(response, rules);
    const check = new BodyCheck(rules, expectedLength);
    let handedOver = false;
    const budget = a.maxResumes - resumes - restarts;
    const resumable = isResumable(response, expectedLength, budget)
      ? resumableBody(response.body, {
          total: expectedLength,
          maxResumes: budget,
          validator: rangeValidator(response.headers),
          canRestart: () => !handedOver,
          signal: a.signal,
          fetchRange: (start, validator) => fetchRange(a, ranges(), start, validator),
          fetchWhole: () => a.strategy.attempt(ranges(), a.signal),
        })
      : undefined;
    try {
      const consumed = await a.consume(
        resumable ? { ...response, body: resumable.body } : response,
        check,
        a.signal,
      );
      handedOver = true;
      resumes += resumable?.resumes ?? 0;
      return { response, consumed, check, resumes, restarts };
    } catch (error) {
      if (!(error instanceof BodyRestart)) throw error;
      resumes += resumable?.resumes ?? 0;
      restarts++;
      a.log.debug(
        { strategy: a.strategy.name, restarts },
        'range request answered with the whole file: restarting',
      );
      a.response = error.response;
    }
  }
}

function fetchRange<T>(
  a: Attempt<T>,
  rangeReq: AttemptRequest,
  start: number,
  validator: string | undefined,
): Promise<AttemptResponse> {
  a.log.debug({ strategy: a.strategy.name, start }, 'body cut short: resuming with a range request');
  return a.strategy.attempt(
    {
      ...rangeReq,
      headers: {
        ...rangeReq.headers,
        'accept-encoding': 'identity',
        range: `bytes=${start}-`,
        ...(validator ? { 'if-range': validator } : {}),
      },
    },
    a.signal,
  );
}

/** A throttled `onProgress` for one response, or undefined when the caller did not ask. */
function progressReporter(
  options: CallOptions,
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
