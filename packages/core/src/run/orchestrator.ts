/**
 * The orchestrator: one run of the plan. Tries the strategies in order, skips those that cannot
 * rescue the failures seen, gives each attempt its deadline and signal, classifies failures,
 * stops on terminal ones, and records every attempt. One attempt itself is attempt.ts.
 */
import type { Logger } from 'pino';
import { DEFAULT_MAX_RESUMES } from '../body/resume.js';
import { type Classification, classifyError } from '../classify.js';
import { abortedError, DetourError } from '../errors.js';
import { type HeaderProfile, IMAGE_ACCEPT, refererFor, resolveProfile } from '../headers.js';
import { headerString } from '../kit/credential-headers.js';
import type { Call, Outcome } from '../layers/layer.js';
import { DEFAULT_USER_AGENT, lowerCaseKeys, type ResolvedPipelineOptions } from '../options.js';
import { presetReferer, presetsFor } from '../preset.js';
import { describeRoute, redactText, redactUrl } from '../redact.js';
import type {
  AttemptRecord,
  AttemptRequest,
  ExpectKind,
  FailureClass,
  FetchOptions,
  HttpTransport,
  Rescues,
  Route,
  Strategy,
} from '../types/index.js';
import { type Attempt, runAttempt, type Won } from './attempt.js';
import { AttemptSignal, markCutByFetchDeadline } from './attempt-signal.js';
import { mostTelling } from './telling.js';
import { type Flags, flagsOf, Witness } from './witness.js';

export type { Consume, Consumed, Outcome } from '../layers/layer.js';

/** What the orchestrator needs from its pipeline for one run. */
export interface OrchestratorContext {
  options: ResolvedPipelineOptions;
  logger: Logger;
  transport: HttpTransport;
  strategies: ReadonlyMap<string, Strategy>;
  /** The route a strict request to a URL takes. */
  routeFor(url: URL): Route;
  /** How a failed attempt's error is classified (default `classifyError`; plugins may add hooks). */
  classify?: ((error: unknown) => Classification) | undefined;
}

/** Whether a strategy is worth trying after the failures seen so far in this fetch. */
export function canRescue(rescues: Rescues, seen: ReadonlySet<FailureClass>): boolean {
  if (seen.size === 0) return true;
  if (rescues === 'first') return false;
  if (rescues === 'any') return true;
  for (const failure of seen) if (rescues.has(failure)) return true;
  return false;
}

/** One run's state: the headers every attempt sends, and what the attempts so far saw. */
interface RunState {
  readonly log: Logger;
  readonly headers: Readonly<Record<string, string>>;
  /** The Referer for one retry after a 403, when the request carries none. */
  readonly referer: string | undefined;
  readonly attempts: AttemptRecord[];
  readonly seen: Set<FailureClass>;
  lastError?: DetourError;
  /** The error of each failed attempt of this run, by its record (the most telling is thrown, D48). */
  readonly errors: Map<AttemptRecord, DetourError>;
  /** A terminal failure ended the run: it is the answer, whatever else failed before. */
  stopped?: boolean;
}

/** Try the call's plan in order until a strategy delivers a body; throws the most telling failure (D48) with every attempt. */
export async function runStrategies<T>(ctx: OrchestratorContext, call: Call<T>): Promise<Outcome<T>> {
  const run = startRun(ctx, call);
  const strict = ctx.routeFor(call.url);
  const { plan } = call;
  for (let i = 0; i < plan.length; i++) {
    const name = plan[i]!;
    const strategy = ctx.strategies.get(name)!;
    const witness = new Witness();
    const req = attemptRequest(ctx, call, run, strict, witness);
    // The route this strategy really takes (direct-bypass: direct), for the attempt record.
    const route = strategy.attemptRoute?.(req) ?? strict;
    const skip = skipReason(strategy, req, run.seen);
    if (skip !== undefined) {
      run.attempts.push({
        strategy: name,
        route: describeRoute(route),
        outcome: 'skipped',
        ms: 0,
        message: skip,
      });
      run.log.debug({ strategy: name, outcome: 'skipped', reason: skip }, 'attempt skipped');
      continue;
    }
    if (Date.now() >= call.deadline || call.options.signal.aborted) {
      notReached(ctx, call, run, i, strict, stopReason(call, run));
      break;
    }
    const tried = await tryStrategy(ctx, call, run, strategy, req, route, witness);
    if (tried === 'terminal') {
      notReached(ctx, call, run, i + 1, strict, stopReason(call, run));
      break;
    }
    if (tried) {
      // The rest of the plan is listed too (D83): a trace names every planned strategy.
      notReached(ctx, call, run, i + 1, strict, `not needed: ${name} succeeded`);
      return tried;
    }
  }
  throw finalError(ctx, call, run);
}

/** Why a failed run reached no further: the caller's abort, a terminal failure, or the deadline. */
function stopReason<T>(call: Call<T>, run: RunState): string {
  const last = run.attempts.at(-1);
  return call.options.signal.aborted
    ? 'the fetch was aborted before its turn'
    : run.stopped && last?.outcome === 'failed'
      ? `not tried: ${last.strategy} ended the fetch (${last.failureClass}${last.code ? ` ${last.code}` : ''})`
      : 'the deadline passed before its turn';
}

/** The planned strategies a run never reached, recorded as skipped with why: the whole plan in every trace. */
function notReached<T>(
  ctx: OrchestratorContext,
  call: Call<T>,
  run: RunState,
  from: number,
  strict: Route,
  reason: string,
): void {
  if (from >= call.plan.length) return;
  // One request serves every row: `attemptRoute` reads only where the request would go.
  let req: AttemptRequest | undefined;
  for (let i = from; i < call.plan.length; i++) {
    const name = call.plan[i]!;
    const strategy = ctx.strategies.get(name)!;
    if (strategy.attemptRoute) req ??= attemptRequest(ctx, call, run, strict, new Witness());
    run.attempts.push({
      strategy: name,
      route: describeRoute((req && strategy.attemptRoute?.(req)) ?? strict),
      outcome: 'skipped',
      ms: 0,
      message: reason,
    });
  }
}

/**
 * The headers a fetch sends (before a 403's Referer retry): the profile's, the pipeline's, the
 * fetch's own, and the presets' Referer rule. The cache reads them for the origin's `Vary`.
 */
export function requestHeaders(
  pipelineOptions: ResolvedPipelineOptions,
  url: URL,
  options: FetchOptions,
): { headers: Record<string, string>; profile: HeaderProfile } {
  const presets = pipelineOptions.presets ?? [];
  const profile = resolveProfile(
    options.headersProfile ?? pipelineOptions.headersProfile,
    pipelineOptions.headerProfiles,
  );
  const base = baseHeaders(pipelineOptions, profile, options.headersProfile, options.expect);
  const presetHosts = presets.length > 0 && presetsFor(presets, url).length > 0;
  // The shared base is frozen; a fetch with headers of its own, or a preset's Referer rule, gets a copy.
  const headers: Record<string, string> =
    options.headers || presetHosts ? { ...base, ...lowerCaseKeys(options.headers ?? {}) } : base;
  // A preset may drop or replace a Referer for its hosts (Tencent's CDN answers a foreign one with a stand-in picture).
  if (presetHosts) {
    const allowed = presetReferer(presets, url, headers.referer);
    if (allowed === undefined) delete headers.referer;
    else headers.referer = allowed;
  }
  return { headers, profile };
}

function startRun<T>(ctx: OrchestratorContext, call: Call<T>): RunState {
  const { url } = call;
  const presets = ctx.options.presets ?? [];
  const { headers, profile } = requestHeaders(ctx.options, url, call.options);
  return {
    // A silent logger (the default) needs no per-fetch child.
    log: ctx.logger.level === 'silent' ? ctx.logger : ctx.logger.child({ url: redactUrl(url) }),
    headers,
    referer:
      headers.referer === undefined ? presetReferer(presets, url, refererFor(profile, url)) : undefined,
    attempts: call.prior.length === 0 ? [] : [...call.prior],
    seen:
      call.prior.length === 0
        ? new Set()
        : new Set(call.prior.flatMap((a) => (a.failureClass ? [a.failureClass] : []))),
    errors: new Map(),
  };
}

/** The headers every fetch of one profile and kind sends, merged once per pipeline (frozen, shared). */
const BASE_HEADERS = new WeakMap<ResolvedPipelineOptions, Map<string, Readonly<Record<string, string>>>>();

function baseHeaders(
  options: ResolvedPipelineOptions,
  profile: HeaderProfile,
  profileName: string | undefined,
  expect: ExpectKind | undefined,
): Readonly<Record<string, string>> {
  let byKind = BASE_HEADERS.get(options);
  if (!byKind) {
    byKind = new Map();
    BASE_HEADERS.set(options, byKind);
  }
  const key = `${profileName ?? ''}\0${expect === 'image' ? 'image' : ''}`;
  let headers = byKind.get(key);
  if (!headers) {
    headers = Object.freeze({
      'user-agent': DEFAULT_USER_AGENT,
      ...(expect === 'image' ? { accept: IMAGE_ACCEPT } : {}),
      ...lowerCaseKeys(profile.headers),
      ...options.headers,
    });
    byKind.set(key, headers);
  }
  return headers;
}

const NO_FAILURES: readonly AttemptRecord[] = Object.freeze([]);

function attemptRequest<T>(
  ctx: OrchestratorContext,
  call: Call<T>,
  run: RunState,
  route: Route,
  witness: Witness,
): AttemptRequest {
  const { options } = ctx;
  return {
    url: call.url,
    headers: run.headers,
    route,
    tls: options.tls,
    limits: {
      maxBytes: call.options.maxBytes,
      maxRedirects: options.maxRedirects,
      maxRetries: options.maxRetries,
      maxRetryAfterMs: options.maxRetryAfterMs,
      maxResumes: options.maxResumes ?? DEFAULT_MAX_RESUMES,
    },
    expect: call.options.expect ?? 'any',
    deadline: Math.min(call.deadline, Date.now() + options.attemptTimeoutMs),
    allowPrivateNetwork: options.allowPrivateNetwork,
    failures: run.attempts.length === 0 ? NO_FAILURES : run.attempts.filter((a) => a.outcome === 'failed'),
    logger: run.log,
    // The flags come from what the clients saw (witness.ts), not from what the strategy says.
    transport: witness.transport(ctx.transport),
    reportHop: witness.report,
    timeouts: options.timeouts,
    pinResolvedAddress: options.pinResolvedAddress,
  };
}

/** Why a strategy is skipped (cannot rescue what failed, or says it does not apply), or undefined. */
function skipReason(
  strategy: Strategy,
  req: AttemptRequest,
  seen: ReadonlySet<FailureClass>,
): string | undefined {
  if (!canRescue(strategy.rescues, seen)) return `cannot rescue ${[...seen].join(', ')}`;
  const applies = strategy.applies?.(req) ?? true;
  return applies === true ? undefined : applies;
}

/** One attempt: its outcome on success, `'terminal'` when nothing may try after it, else undefined. */
async function tryStrategy<T>(
  ctx: OrchestratorContext,
  call: Call<T>,
  run: RunState,
  strategy: Strategy,
  req: AttemptRequest,
  route: Route,
  witness: Witness,
): Promise<Outcome<T> | 'terminal' | undefined> {
  const started = performance.now();
  const attemptSignal = new AttemptSignal(req.deadline, call.options.signal);
  const attempt: Attempt<T> = {
    strategy,
    req,
    signal: attemptSignal.signal,
    log: run.log,
    referer: run.referer,
    presets: ctx.options.presets ?? [],
    options: call.options,
    maxResumes: req.limits.maxResumes ?? DEFAULT_MAX_RESUMES,
    consume: call.sink.consume,
  };
  let held = false;
  try {
    const won = await runAttempt(attempt);
    const flags = flagsOf(call.url, won.response, strategy.stage, witness);
    const outcome = succeeded(call, run, strategy.name, won, flags, Math.round(performance.now() - started));
    if (won.consumed.holdSignal) {
      held = true;
      won.consumed.holdSignal(() => attemptSignal.dispose());
    }
    return outcome;
  } catch (error) {
    attempt.response?.body.destroy();
    const classified = attemptSignal.callerAborted
      ? callerAborted(call.options.signal.reason)
      : attemptSignal.timedOut && !isLocalIo(error)
        ? {
            failureClass: 'timeout' as const,
            code: 'DETOUR_DEADLINE',
            terminal: false,
            message: 'attempt deadline passed',
          }
        : (ctx.classify ?? classifyError)(error);
    failed(run, attempt, route, error, classified, Math.round(performance.now() - started));
    // The caller's own deadline (not the attempt's, nor a transport timeout) ended it: not the origin's fault.
    if (attemptSignal.timedOut && req.deadline >= call.deadline) markCutByFetchDeadline(run.attempts.at(-1)!);
    if (classified.terminal) run.stopped = true;
    return classified.terminal ? 'terminal' : undefined;
  } finally {
    if (!held) attemptSignal.dispose();
  }
}

function succeeded<T>(
  call: Call<T>,
  run: RunState,
  name: string,
  won: Won<T>,
  flags: Flags,
  ms: number,
): Outcome<T> {
  const { response, consumed, resumes, restarts } = won;
  const record: AttemptRecord = {
    strategy: name,
    route: flags.degraded ? 'none' : describeRoute(response.route),
    outcome: 'ok',
    ms,
    status: response.status,
  };
  // Optional fields are set only when they say something (no temporary objects on the hot path).
  if (response.retries) record.retries = response.retries;
  if (resumes) record.resumes = resumes;
  if (restarts) record.restarts = restarts;
  if (flags.insecure) record.insecure = true;
  if (flags.downgraded) record.downgraded = true;
  run.attempts.push(record);
  if (run.log.isLevelEnabled('info')) run.log.info({ ...record, bytes: consumed.bytes }, 'attempt succeeded');
  const info: Outcome<T>['info'] = {
    ok: true,
    url: call.input.href,
    finalUrl: response.finalUrl,
    strategy: name,
    degraded: flags.degraded,
    fromCache: false,
    contentType: headerString(response.headers['content-type']) ?? null,
    attempts: run.attempts,
    plan: [...call.plan],
    insecure: flags.insecure,
    downgraded: flags.downgraded,
    status: response.status,
    format: won.check.format,
  };
  if (flags.degradedReason !== undefined) info.degradedReason = flags.degradedReason;
  return { consumed, info, headers: response.headers };
}

function failed<T>(
  run: RunState,
  attempt: Attempt<T>,
  route: Route,
  error: unknown,
  classified: Omit<Classification, 'terminal'>,
  ms: number,
): void {
  const { response } = attempt;
  // A preset's verdict on the response carries Tencent's retcode/retmsg.
  const verdict = error instanceof DetourError ? error : undefined;
  const record: AttemptRecord = {
    strategy: attempt.strategy.name,
    route: describeRoute(response?.route ?? route),
    outcome: 'failed',
    failureClass: classified.failureClass,
    code: classified.code,
    ms,
    // Records are logged, printed and cached: no URL secret in them.
    message: redactText(classified.message),
    ...(response ? { status: response.status } : {}),
    ...(verdict?.retcode !== undefined ? { retcode: verdict.retcode } : {}),
    ...(verdict?.retmsg !== undefined ? { retmsg: verdict.retmsg } : {}),
  };
  run.attempts.push(record);
  run.seen.add(classified.failureClass);
  run.log.warn(record, 'attempt failed');
  run.lastError = new DetourError(classified.message, {
    failureClass: classified.failureClass,
    code: classified.code,
    status: response?.status,
    cause: error,
    retcode: verdict?.retcode,
    retmsg: verdict?.retmsg,
  });
  run.lastError.strategy = record.strategy;
  run.lastError.route = record.route;
  run.errors.set(record, run.lastError);
}

/**
 * The error a run ends with when no strategy delivered: a terminal failure, else the most telling
 * failure of a strategy that is not a last resort (`mostTelling`, D48), else why none could try.
 */
function finalError<T>(ctx: OrchestratorContext, call: Call<T>, run: RunState): DetourError {
  const { signal, timeoutMs } = call.options;
  const error =
    tellingError(ctx, run) ??
    (signal.aborted
      ? abortedError(signal.reason)
      : Date.now() >= call.deadline
        ? new DetourError(`deadline of ${timeoutMs} ms passed`, {
            failureClass: 'timeout',
            code: 'DETOUR_DEADLINE',
          })
        : new DetourError(`no strategy could try ${redactUrl(call.url)}`, {
            failureClass: 'unavailable',
            code: 'DETOUR_NO_STRATEGY',
          }));
  error.attempts = run.attempts;
  error.plan = [...call.plan];
  run.log.warn({ failureClass: error.failureClass, code: error.code }, 'every strategy failed');
  return error;
}

/** Our own disk or FIFO failed (even while the deadline passed, e.g. nobody reads a FIFO): the error says so. */
function isLocalIo(error: unknown): boolean {
  return error instanceof DetourError && error.failureClass === 'local-io';
}

function tellingError(ctx: OrchestratorContext, run: RunState): DetourError | undefined {
  if (!run.lastError || run.stopped) return run.lastError;
  const pick = mostTelling(run.attempts, {
    ignore: (a) => ctx.strategies.get(a.strategy)?.stage === 'last-resort' || !run.errors.has(a),
  });
  return (pick?.record && run.errors.get(pick.record)) ?? run.lastError;
}

/** How an attempt the caller (or close()) aborted is recorded: the abort's own code and message. */
function callerAborted(reason: unknown): Classification {
  const { code, message } = abortedError(reason);
  return { failureClass: 'aborted', terminal: true, code, message };
}
