import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { pipeline as pump } from 'node:stream/promises';
import type { Logger } from 'pino';
import { AttemptSignal } from './attempt-signal.js';
import { BodyGuard, checkDeclaredLength } from './body.js';
import { classifyError, statusError } from './classify.js';
import type { EnvironmentProvider } from './environment.js';
import { DetourError, DetourUsageError } from './errors.js';
import { IMAGE_ACCEPT, refererFor, resolveProfile } from './headers.js';
import { DEFAULT_USER_AGENT, lowerCaseKeys, type ResolvedPipelineOptions } from './options.js';
import { describeRoute, redactUrl } from './redact.js';
import { routeFromProxyUrl } from './transport/agents.js';
import type { Transport } from './transport/transport.js';
import {
  type AttemptRecord,
  type AttemptRequest,
  type AttemptResponse,
  DIRECT,
  type FailureClass,
  type FetchOptions,
  type FetchResult,
  type FetchResultInfo,
  type FileResult,
  type Rescues,
  type Route,
  type Strategy,
  type StreamResult,
} from './types.js';
import { parseTargetUrl } from './url.js';

export interface PipelineDeps {
  options: ResolvedPipelineOptions;
  logger: Logger;
  transport: Transport;
  strategies: Strategy[];
  environment?: EnvironmentProvider | undefined;
}

/** What one winning attempt leaves for the result: the consumed value and the body's figures. */
interface Consumed<T> {
  value: T;
  bytes: number;
  sha256: string;
  expectedBytes?: number | null;
  /** The attempt's signal must live on (a stream still flowing); `release` is called when it ends. */
  holdSignal?: (release: () => void) => void;
}

type Consume<T> = (response: AttemptResponse, guard: BodyGuard, signal: AbortSignal) => Promise<Consumed<T>>;

interface Outcome<T> {
  consumed: Consumed<T>;
  info: Omit<FetchResultInfo, 'bytes' | 'sha256'>;
}

/** Whether a strategy is worth trying after the failures seen so far in this fetch. */
export function canRescue(rescues: Rescues, seen: ReadonlySet<FailureClass>): boolean {
  if (seen.size === 0) return true;
  if (rescues === 'first') return false;
  if (rescues === 'any') return true;
  for (const failure of seen) if (rescues.has(failure)) return true;
  return false;
}

/**
 * The orchestrator: validates input, asks the environment for a route and a plan, runs the
 * strategies in order, classifies each failure, enforces the body rules, and reports every attempt.
 */
export class Pipeline {
  readonly #options: ResolvedPipelineOptions;
  readonly #logger: Logger;
  readonly #transport: Transport;
  readonly #strategies: Map<string, Strategy>;
  readonly #environment: EnvironmentProvider | undefined;
  #closed = false;

  constructor(deps: PipelineDeps) {
    this.#options = deps.options;
    this.#logger = deps.logger;
    this.#transport = deps.transport;
    this.#environment = deps.environment;
    this.#strategies = new Map();
    for (const strategy of deps.strategies) {
      if (this.#strategies.has(strategy.name)) {
        throw new DetourUsageError(`two strategies are named ${strategy.name}`, 'DETOUR_DUPLICATE_STRATEGY');
      }
      this.#strategies.set(strategy.name, strategy);
    }
    if (this.#options.strategies) this.#checkNames(this.#options.strategies);
  }

  /** Names of the registered strategies, in registration order. */
  get strategyNames(): string[] {
    return [...this.#strategies.keys()];
  }

  /** Sockets held open by the pipeline's agents (idle keep-alive included). */
  openSockets(): number {
    return this.#transport.openSockets();
  }

  /** The strategies that would be tried for `url`, in order. */
  planFor(url: string | URL, options: Pick<FetchOptions, 'strategies'> = {}): string[] {
    const target = parseTargetUrl(url);
    const explicit = options.strategies ?? this.#options.strategies;
    if (explicit) {
      this.#checkNames(explicit);
      return [...explicit];
    }
    const registered = this.strategyNames;
    const planned = this.#environment?.plan(registered, target) ?? registered;
    return planned.filter((name) => this.#strategies.has(name));
  }

  /** The route a strict request to `url` takes. */
  routeFor(url: URL): Route {
    const proxy = this.#options.proxy;
    if (typeof proxy === 'string') return routeFromProxyUrl(proxy);
    if (proxy === false || proxy === null) return DIRECT;
    return this.#environment?.routeFor(url) ?? DIRECT;
  }

  /** Download into memory. */
  async fetch(url: string | URL, options: FetchOptions = {}): Promise<FetchResult> {
    const { consumed, info } = await this.#run(url, options, async (response, guard, signal) => {
      const chunks: Buffer[] = [];
      const collect = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      });
      await pump(response.body, guard, collect, { signal });
      return { value: Buffer.concat(chunks), bytes: guard.bytes, sha256: guard.sha256 };
    });
    return { ...info, bytes: consumed.bytes, sha256: consumed.sha256, body: consumed.value };
  }

  /**
   * Download to `path`. Bytes go to a temporary file beside it, renamed only when the body passed
   * every check; a failed download leaves nothing behind.
   */
  async toFile(url: string | URL, path: string, options: FetchOptions = {}): Promise<FileResult> {
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.detour-part`);
    const { consumed, info } = await this.#run(url, options, async (response, guard, signal) => {
      try {
        await pump(response.body, guard, createWriteStream(temp, { flags: 'w', mode: 0o644 }), { signal });
        return { value: temp, bytes: guard.bytes, sha256: guard.sha256 };
      } catch (error) {
        await unlink(temp).catch(() => {});
        throw error;
      }
    });
    try {
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw new DetourError(`could not move the download to ${path}: ${(error as Error).message}`, {
        failureClass: 'unknown',
        code: (error as NodeJS.ErrnoException).code,
        cause: error,
        attempts: info.attempts,
      });
    }
    return { ...info, bytes: consumed.bytes, sha256: consumed.sha256, path };
  }

  /**
   * Download as a stream. Strategies fail over until one delivers a good start of body (status,
   * declared length, image magic bytes); after that the stream itself errors with a DetourError
   * on a later failure (too large, length mismatch, reset).
   */
  async stream(url: string | URL, options: FetchOptions = {}): Promise<StreamResult> {
    const { consumed, info } = await this.#run(url, options, async (response, guard, signal) => {
      const out = new PassThrough();
      // Errors after the hand-over reach the caller through `out` (pipeline destroys it with the error).
      const flowing = pump(response.body, guard, out, { signal });
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
    });
    const { attempts, ...rest } = info;
    return {
      ...rest,
      attempts,
      body: consumed.value,
      expectedBytes: consumed.expectedBytes ?? null,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const strategy of this.#strategies.values()) await strategy.close?.();
    this.#transport.close();
  }

  #checkNames(names: readonly string[]): void {
    if (names.length === 0) throw new DetourUsageError('the strategy list is empty', 'DETOUR_NO_STRATEGY');
    const unknown = names.filter((n) => !this.#strategies.has(n));
    if (unknown.length) {
      throw new DetourUsageError(
        `unknown strategy ${unknown.join(', ')} (registered: ${this.strategyNames.join(', ')})`,
        'DETOUR_UNKNOWN_STRATEGY',
      );
    }
  }

  async #run<T>(input: string | URL, options: FetchOptions, consume: Consume<T>): Promise<Outcome<T>> {
    if (this.#closed) throw new DetourUsageError('the pipeline is closed', 'DETOUR_CLOSED');
    const url = parseTargetUrl(input);
    const maxBytes = options.maxBytes ?? this.#options.maxBytes;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    for (const [name, value] of [
      ['maxBytes', maxBytes],
      ['timeoutMs', timeoutMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0)
        throw new DetourUsageError(`${name} must be a positive number`);
    }
    const expect = options.expect ?? 'any';
    const order = this.planFor(url, options);
    const route = this.routeFor(url);
    const deadline = Date.now() + timeoutMs;
    const log = this.#logger.child({ url: redactUrl(url) });
    const attempts: AttemptRecord[] = [];
    const seen = new Set<FailureClass>();
    let lastError: DetourError | undefined;
    const profile = resolveProfile(
      options.headersProfile ?? this.#options.headersProfile,
      this.#options.headerProfiles,
    );
    const headers: Record<string, string> = {
      'user-agent': DEFAULT_USER_AGENT,
      ...(expect === 'image' ? { accept: IMAGE_ACCEPT } : {}),
      ...lowerCaseKeys(profile.headers),
      ...this.#options.headers,
      ...lowerCaseKeys(options.headers ?? {}),
    };
    const referer = headers.referer === undefined ? refererFor(profile, url) : undefined;

    for (const name of order) {
      const strategy = this.#strategies.get(name)!;
      const req: AttemptRequest = {
        url,
        headers,
        route,
        tls: this.#options.tls,
        limits: {
          maxBytes,
          maxRedirects: this.#options.maxRedirects,
          maxRetries: this.#options.maxRetries,
          maxRetryAfterMs: this.#options.maxRetryAfterMs,
        },
        expect,
        deadline: Math.min(deadline, Date.now() + this.#options.attemptTimeoutMs),
        allowPrivateNetwork: this.#options.allowPrivateNetwork,
        failures: attempts.filter((a) => a.outcome === 'failed'),
        logger: log,
        transport: this.#transport,
        timeouts: this.#options.timeouts,
      };
      const skip = !canRescue(strategy.rescues, seen)
        ? `cannot rescue ${[...seen].join(', ')}`
        : (() => {
            const applies = strategy.applies?.(req) ?? true;
            return applies === true ? undefined : applies;
          })();
      if (skip !== undefined) {
        attempts.push({
          strategy: name,
          route: describeRoute(route),
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
      let held = false;
      try {
        response = await strategy.attempt(req, attemptSignal.signal);
        if (response.status === 403 && referer !== undefined) {
          // Tencent's CDN and others refuse hot-linking: one retry with the profile's Referer.
          response.body.destroy();
          log.debug({ strategy: name }, '403: retrying once with the profile Referer');
          response = await strategy.attempt(
            { ...req, headers: { ...headers, referer } },
            attemptSignal.signal,
          );
          response = { ...response, retries: (response.retries ?? 0) + 1 };
        }
        if (response.status >= 400) {
          response.body.destroy();
          throw statusError(response.status, redactUrl(response.finalUrl));
        }
        const expectedLength = checkDeclaredLength(response, { maxBytes, expect });
        const guard = new BodyGuard({ maxBytes, expect }, expectedLength);
        const consumed = await consume(response, guard, attemptSignal.signal);
        const record: AttemptRecord = {
          strategy: name,
          route: describeRoute(response.route),
          outcome: 'ok',
          ms: Math.round(performance.now() - started),
          status: response.status,
          ...(response.retries ? { retries: response.retries } : {}),
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
            fromCache: false,
            contentType: headerString(response.headers['content-type']),
            attempts,
            insecure: !!response.insecure,
            downgraded: !!response.downgraded,
            status: response.status,
          },
        };
      } catch (error) {
        response?.body.destroy();
        const classified = attemptSignal.callerAborted
          ? {
              failureClass: 'aborted' as const,
              code: 'ABORT_ERR',
              terminal: true,
              message: 'aborted by the caller',
            }
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
          route: describeRoute(response?.route ?? route),
          outcome: 'failed',
          failureClass: classified.failureClass,
          code: classified.code,
          ms: Math.round(performance.now() - started),
          message: classified.message,
          ...(response ? { status: response.status } : {}),
        };
        attempts.push(record);
        seen.add(classified.failureClass);
        log.warn(record, 'attempt failed');
        lastError = new DetourError(classified.message, {
          failureClass: classified.failureClass,
          code: classified.code,
          status: response?.status,
          cause: error,
        });
        if (classified.terminal) break;
      } finally {
        if (!held) attemptSignal.dispose();
      }
    }

    const error =
      lastError ??
      (options.signal?.aborted
        ? new DetourError('aborted by the caller', { failureClass: 'aborted', code: 'ABORT_ERR' })
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
}

function headerString(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
