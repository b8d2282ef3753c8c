import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline as pump } from 'node:stream/promises';
import type { Logger } from 'pino';
import { type FileTarget, localIoError, openTarget, releaseTarget } from './atomic-write.js';
import { type Cache, resultFromCache } from './cache/cache.js';
import { defaultCacheKey } from './cache/key.js';
import type { EnvironmentProvider } from './environment.js';
import { DetourError, DetourUsageError } from './errors.js';
import { SingleFlight } from './flight.js';
import { checkHeaders } from './headers.js';
import { CREDENTIAL_HEADERS } from './kit/headers.js';
import type { ConcurrencyLimiter, Release } from './limiter.js';
import { matchesExpect } from './magic.js';
import { type CircuitBreaker, CircuitOpenError, type CircuitTicket } from './memory/circuit.js';
import { originOf, routeKey } from './memory/key.js';
import { type RouteMemory, type RoutePlan, routeWinner } from './memory/route-memory.js';
import { lowerCaseKeys, type ResolvedPipelineOptions } from './options.js';
import {
  type Consume,
  canRescue,
  type OrchestratorContext,
  type Outcome,
  runStrategies,
} from './orchestrator.js';
import { prepareUrl } from './preset.js';
import { readBody } from './read-body.js';
import { recoverUrl } from './recover-url.js';
import { redactUrl, stripCredentials } from './redact.js';
import { routeFromProxyUrl } from './transport/agents.js';
import {
  type AttemptRecord,
  DIRECT,
  type FetchOptions,
  type FetchResult,
  type FetchResultInfo,
  type FileResult,
  type HeaderValue,
  type HttpTransport,
  type Route,
  type Strategy,
  type StrategyInfo,
  type StreamResult,
} from './types.js';
import { parseTargetUrl } from './url.js';

export { canRescue };

const noop = () => {};

/** How a fetch in flight ends when its pipeline is closed. */
export function closedError(cause?: unknown): DetourError {
  return new DetourError('the pipeline was closed', {
    failureClass: 'aborted',
    code: 'DETOUR_CLOSED',
    cause,
  });
}

export interface PipelineDeps {
  options: ResolvedPipelineOptions;
  logger: Logger;
  transport: HttpTransport;
  strategies: Strategy[];
  environment?: EnvironmentProvider | undefined;
  /** Adaptive services (see create.ts); each one absent means "off". */
  routeMemory?: RouteMemory | undefined;
  cache?: Cache | undefined;
  limiter?: ConcurrencyLimiter | undefined;
  circuit?: CircuitBreaker | undefined;
}

/** A finished in-memory download and the headers that decide whether it may be cached. */
interface Downloaded {
  result: FetchResult;
  headers: Readonly<Record<string, HeaderValue>>;
}

/** A fetch after the presets saw its URL: what to request, with which options, under which cache key. */
interface Prepared {
  /** The caller's URL, as results report it. */
  input: URL;
  url: URL;
  options: FetchOptions;
  cacheKey: string | undefined;
}

/** Where a fetch looks in the cache and which in-flight download it may share. */
interface CacheKeys {
  cache: string;
  flight: string;
}

/**
 * Keeps a copy of a streaming body for the cache, up to `limit` bytes (past it the copy is
 * dropped), and hands it to `store` before the stream ends, so a fetch that follows finds it.
 */
class CacheTap extends Transform {
  #chunks: Buffer[] | undefined = [];
  #bytes = 0;
  readonly #limit: number;
  readonly #store: (body: Buffer) => Promise<void>;

  constructor(limit: number, store: (body: Buffer) => Promise<void>) {
    super();
    this.#limit = limit;
    this.#store = store;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#chunks) {
      this.#bytes += chunk.length;
      if (this.#bytes > this.#limit) this.#chunks = undefined;
      else this.#chunks.push(chunk);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const chunks = this.#chunks;
    this.#chunks = undefined;
    if (!chunks) {
      callback();
      return;
    }
    this.#store(Buffer.concat(chunks)).then(
      () => callback(),
      () => callback(),
    );
  }
}

/**
 * The pipeline: input checks, cache, shared downloads, circuit, route memory and concurrency
 * around one run of the orchestrator (orchestrator.ts), which tries the strategies in order.
 */
export class Pipeline {
  readonly #options: ResolvedPipelineOptions;
  readonly #logger: Logger;
  readonly #transport: HttpTransport;
  readonly #strategies: Map<string, Strategy>;
  readonly #environment: EnvironmentProvider | undefined;
  readonly #routeMemory: RouteMemory | undefined;
  readonly #cache: Cache | undefined;
  readonly #limiter: ConcurrencyLimiter | undefined;
  readonly #circuit: CircuitBreaker | undefined;
  /** Concurrent fetches of the same key share one download; each joiner gets its own Buffer. */
  readonly #flight = new SingleFlight<Downloaded>({
    copy: ({ result, headers }) => ({
      result: { ...result, body: Buffer.from(result.body), attempts: result.attempts.map((a) => ({ ...a })) },
      headers,
    }),
  });
  #closed = false;
  /** Aborted by close(): every fetch in flight (queued, joined, downloading, streaming) runs under it. */
  readonly #closing = new AbortController();

  constructor(deps: PipelineDeps) {
    setMaxListeners(0, this.#closing.signal); // one listener per fetch in flight, by design
    this.#options = deps.options;
    this.#logger = deps.logger;
    this.#transport = deps.transport;
    this.#environment = deps.environment;
    this.#routeMemory = deps.routeMemory;
    this.#cache = deps.cache;
    this.#limiter = deps.limiter;
    this.#circuit = deps.circuit;
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

  /** What each registered strategy says about itself (name, stage, reason), in registration order. */
  describeStrategies(): StrategyInfo[] {
    return [...this.#strategies.values()].map(({ name, stage, reason, plaintext }) => ({
      name,
      ...(stage ? { stage } : {}),
      ...(reason ? { reason } : {}),
      ...(plaintext ? { plaintext } : {}),
    }));
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
    const planned = this.#environment?.plan(registered, target, [...this.#strategies.values()]) ?? registered;
    return planned.filter((name) => this.#strategies.has(name));
  }

  /** The route a strict request to `url` takes. */
  routeFor(url: URL): Route {
    const proxy = this.#options.proxy;
    if (typeof proxy === 'string') return routeFromProxyUrl(proxy);
    if (proxy === false || proxy === null) return DIRECT;
    return this.#environment?.routeFor(url) ?? DIRECT;
  }

  /**
   * Download into memory: from the cache when it holds the URL, else by joining a download of the
   * same key already in flight, else through the strategies (and into the cache when allowed).
   */
  async fetch(input: string | URL, caller: FetchOptions = {}): Promise<FetchResult> {
    const { options, dispose } = this.#scope(caller);
    try {
      return await this.#fetch(input, options);
    } catch (error) {
      throw this.#closedInstead(error, caller);
    } finally {
      dispose();
    }
  }

  async #fetch(input: string | URL, fetchOptions: FetchOptions): Promise<FetchResult> {
    const prepared = this.#prepare(input, fetchOptions);
    const { options } = prepared;
    const { hit, keys } = await this.#lookup(prepared);
    if (hit) return hit;
    if (!keys) return (await this.#download(prepared, options)).result;
    const joining = this.#flight.has(keys.flight);
    const { value } = await this.#flight.run(
      keys.flight,
      (signal) => this.#downloadAndStore(prepared, { ...options, signal }, keys.cache),
      // The starter's deadline lives in the download itself; a joiner waits under its own.
      { signal: options.signal, deadline: joining ? this.#deadline(options) : undefined },
    );
    return value.result;
  }

  async #download(prepared: Prepared, options: FetchOptions): Promise<Downloaded> {
    const { consumed, info, headers } = await this.#run(
      prepared,
      options,
      async (response, guard, signal) => {
        const value = await readBody(response.body, guard, signal);
        return { value, bytes: guard.bytes, sha256: guard.sha256 };
      },
    );
    return {
      result: { ...info, bytes: consumed.bytes, sha256: consumed.sha256, body: consumed.value },
      headers,
    };
  }

  /**
   * Download to `path`. Bytes go to a temporary file beside it, renamed only when the body passed
   * every check; a failed download leaves nothing behind.
   */
  async toFile(input: string | URL, path: string, caller: FetchOptions = {}): Promise<FileResult> {
    const { options, dispose } = this.#scope(caller);
    try {
      return await this.#toFile(input, path, options);
    } catch (error) {
      throw this.#closedInstead(error, caller);
    } finally {
      dispose();
    }
  }

  async #toFile(input: string | URL, path: string, fetchOptions: FetchOptions): Promise<FileResult> {
    const prepared = this.#prepare(input, fetchOptions);
    const { options } = prepared;
    // Bad input first (as every fetch does), then the target, both before any network: an empty
    // path, a missing or read-only directory fail here (local-io).
    checkHeaders(options.headers, 'fetch headers');
    const target = await openTarget(path);
    try {
      return await this.#writeTarget(prepared, options, target);
    } catch (error) {
      releaseTarget(target);
      throw error;
    }
  }

  async #writeTarget(prepared: Prepared, options: FetchOptions, target: FileTarget): Promise<FileResult> {
    const { path } = target;
    const { hit, keys } = await this.#lookup(prepared);
    const ready = hit ?? (await this.#joinFlight(keys, options));
    if (ready) {
      const { body, ...info } = ready;
      await target.writeAll(body, options.signal ?? new AbortController().signal).catch((error) => {
        throw Object.assign(localIoError(path, error), { attempts: info.attempts });
      });
      return { ...info, path };
    }
    const { consumed, info, headers } = await this.#run(
      prepared,
      options,
      async (response, guard, signal) => {
        // Who failed first: the download (body, guard) or the file. pump() then destroys the
        // others with the same error, so the error alone does not tell. Listening before the
        // sink is opened also keeps a reset during the open from being an unhandled 'error'.
        let first: 'download' | 'file' | undefined;
        const onDownloadError = () => {
          first ??= 'download';
        };
        response.body.on('error', onDownloadError);
        guard.on('error', onDownloadError);
        try {
          const sink = await target.open(signal);
          sink.once('error', () => {
            first ??= 'file';
          });
          await pump(response.body, guard, sink, { signal });
          return { value: path, bytes: guard.bytes, sha256: guard.sha256 };
        } catch (error) {
          await target.discard();
          // The disk (or the device) failed, not the download: local-io, terminal.
          if (first === 'file' && !signal.aborted) throw localIoError(path, error);
          throw error;
        }
      },
    );
    try {
      await target.commit();
    } catch (error) {
      throw Object.assign(localIoError(path, error), { attempts: info.attempts });
    }
    const result = { ...info, bytes: consumed.bytes, sha256: consumed.sha256 };
    // Read the file back only when a cache exists and would keep a body this size (never a device).
    if (
      target.kind === 'replace' &&
      keys &&
      this.#cache &&
      this.#cache.refuses({ ...result, headers }) === undefined
    ) {
      // Streamed to disk to keep memory flat; read back only because the cache will keep it.
      const body = await readFile(path).catch(() => undefined);
      if (body?.length === result.bytes)
        await this.#store(keys.cache, { result: { ...result, body }, headers });
    }
    return { ...result, path };
  }

  /**
   * Download as a stream. Strategies fail over until one delivers a good start of body (status,
   * declared length, image magic bytes); after that the stream itself errors with a DetourError
   * on a later failure (too large, length mismatch, reset).
   */
  async stream(input: string | URL, caller: FetchOptions = {}): Promise<StreamResult> {
    const { options, dispose } = this.#scope(caller);
    try {
      const result = await this.#stream(input, options);
      // The stream keeps listening to close() until it ends.
      if (result.body.destroyed) dispose();
      else result.body.once('close', dispose);
      return result;
    } catch (error) {
      dispose();
      throw this.#closedInstead(error, caller);
    }
  }

  async #stream(input: string | URL, fetchOptions: FetchOptions): Promise<StreamResult> {
    const prepared = this.#prepare(input, fetchOptions);
    const { options } = prepared;
    const { hit, keys } = await this.#lookup(prepared);
    const ready = hit ?? (await this.#joinFlight(keys, options));
    if (ready) {
      const { body, bytes: _bytes, ...info } = ready;
      const out = new PassThrough();
      out.end(body);
      return { ...info, body: out, expectedBytes: body.length };
    }
    // A body the cache would keep is kept while it streams, and stored before the stream ends.
    let announce!: (
      info: { result: Omit<FetchResultInfo, 'bytes' | 'sha256'>; headers: Downloaded['headers'] } | undefined,
    ) => void;
    const described = new Promise<Parameters<typeof announce>[0]>((resolve) => {
      announce = resolve;
    });
    const cache = keys ? this.#cache : undefined;
    let outcome: Outcome<Readable>;
    try {
      outcome = await this.#run(prepared, options, async (response, guard, signal) => {
        const out = new PassThrough();
        const tap =
          cache && keys && (guard.expectedLength ?? 0) <= cache.maxEntryBytes
            ? new CacheTap(cache.maxEntryBytes, async (body) => {
                const seen = await described;
                if (!seen || body.length !== guard.bytes) return;
                const result = { ...seen.result, body, bytes: body.length, sha256: guard.sha256 };
                await this.#store(keys.cache, { result, headers: seen.headers }).catch(() => {});
              })
            : undefined;
        // Errors after the hand-over reach the caller through `out` (pipeline destroys it with the error).
        const flowing = tap
          ? pump(response.body, guard, tap, out, { signal })
          : pump(response.body, guard, out, { signal });
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
    } catch (error) {
      announce(undefined);
      throw error;
    }
    const { consumed, info, headers } = outcome;
    announce({ result: info, headers });
    const { attempts, ...rest } = info;
    return {
      ...rest,
      attempts,
      body: consumed.value,
      expectedBytes: consumed.expectedBytes ?? null,
    };
  }

  /**
   * Close the pipeline: every fetch in flight settles at once with `aborted` / `DETOUR_CLOSED`
   * (queued ones, shared downloads, running attempts, streams still flowing; toFile leaves no
   * partial file), then strategies (curl children), sockets, memory and cache are freed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(closedError());
    for (const strategy of this.#strategies.values()) await strategy.close?.();
    this.#transport.close();
    await this.#routeMemory?.close?.();
    await this.#cache?.close();
    this.#environment?.close?.();
  }

  /**
   * The adaptive wrapper around one run of the plan: circuit breaker (refuse without network),
   * route memory (remembered winner first), concurrency slot (queue under the caller's signal and
   * deadline), then the outcome is recorded in the memory and the circuit.
   */
  async #run<T>(prepared: Prepared, options: FetchOptions, consume: Consume<T>): Promise<Outcome<T>> {
    const outcome = await recoverUrl({
      url: prepared.url,
      options,
      presets: this.#options.presets,
      refreshUrl: options.refreshUrl ?? this.#options.refreshUrl,
      logger: this.#logger,
      prepare: (url) => this.#prepare(url, options),
      run: (url, runOptions) => this.#runOnce(url, runOptions, consume),
    });
    outcome.info.url = prepared.input.toString();
    return outcome;
  }

  async #runOnce<T>(url: URL, options: FetchOptions, consume: Consume<T>): Promise<Outcome<T>> {
    if (this.#closed) throw closedError(); // closed while this fetch looked in the cache
    const deadline = this.#deadline(options);
    const plan = this.planFor(url, options);
    const fingerprint = this.#fingerprint();
    let ticket: CircuitTicket | undefined;
    try {
      const circuitKey = routeKey(url, fingerprint);
      ticket = this.#circuit?.shared
        ? await this.#circuit.admit(circuitKey)
        : this.#circuit?.enter(circuitKey);
    } catch (error) {
      // An open circuit makes no request; a bot that enabled a last resort (the placeholder) still
      // gets its stand-in (degraded, and the attempts say why) instead of an error.
      const lastResort = plan.filter((name) => this.#strategies.get(name)?.stage === 'last-resort');
      if (!(error instanceof CircuitOpenError) || lastResort.length === 0) throw error;
      return runStrategies(this.#context(lastResort, url), url, options, consume, [
        {
          strategy: 'circuit',
          route: 'none',
          outcome: 'failed',
          failureClass: error.failureClass,
          code: error.code,
          ms: 0,
          message: error.message,
        },
      ]);
    }
    // A per-fetch strategy list is the caller's exact order: memory neither reorders nor learns from it.
    const route =
      options.strategies === undefined ? await this.#orderRoute(url, fingerprint, plan) : undefined;
    let release: Release | undefined;
    const queuedAt = Date.now();
    try {
      release = await this.#limiter?.acquire(originOf(url), { signal: options.signal, deadline });
    } catch (error) {
      if (ticket) this.#circuit?.neutral(ticket);
      throw error;
    }
    // Time spent queued counts against the fetch's total deadline.
    const runOptions =
      Date.now() > queuedAt ? { ...options, timeoutMs: Math.max(1, deadline - Date.now()) } : options;
    try {
      const outcome = await runStrategies(this.#context(route?.order ?? plan, url), url, runOptions, consume);
      await this.#learn(url, fingerprint, route, outcome.info.attempts, outcome.info.degraded);
      if (ticket) {
        // A placeholder means every real strategy failed: the host did not answer.
        if (outcome.info.degraded) this.#circuit?.failure(ticket);
        else this.#circuit?.success(ticket);
        if (this.#circuit?.shared) await this.#circuit.flush(); // other instances see it before we answer
      }
      const held = release;
      if (held && outcome.consumed.holdSignal) {
        outcome.consumed.holdSignal(held); // a stream keeps its slot until it ends
        release = undefined;
      }
      return outcome;
    } catch (error) {
      const attempts = error instanceof DetourError ? error.attempts : [];
      await this.#learn(url, fingerprint, route, attempts, false);
      if (ticket) this.#judge(ticket, error, attempts);
      if (ticket && this.#circuit?.shared) await this.#circuit.flush();
      throw error;
    } finally {
      release?.();
    }
  }

  #context(order: readonly string[], url: URL): OrchestratorContext {
    return {
      options: this.#options,
      logger: this.#logger,
      transport: this.#transport,
      strategies: this.#strategies,
      order,
      route: this.routeFor(url),
    };
  }

  /**
   * The options a public call runs under: its signal also fires on close(). Without a caller
   * signal the pipeline's own is used as is (no allocation on the hot path).
   */
  #scope(options: FetchOptions): { options: FetchOptions; dispose: () => void } {
    const closing = this.#closing.signal;
    const caller = options.signal;
    if (!caller) return { options: { ...options, signal: closing }, dispose: noop };
    if (caller.aborted || closing.aborted) {
      return { options: { ...options, signal: caller.aborted ? caller : closing }, dispose: noop };
    }
    const controller = new AbortController();
    const onCaller = () => controller.abort(caller.reason);
    const onClose = () => controller.abort(closing.reason);
    caller.addEventListener('abort', onCaller, { once: true });
    closing.addEventListener('abort', onClose, { once: true });
    return {
      options: { ...options, signal: controller.signal },
      dispose: () => {
        caller.removeEventListener('abort', onCaller);
        closing.removeEventListener('abort', onClose);
      },
    };
  }

  /** An abort caused by close() (and not by the caller's own signal) is reported as `DETOUR_CLOSED`. */
  #closedInstead(error: unknown, caller: FetchOptions): unknown {
    if (!this.#closing.signal.aborted || caller.signal?.aborted) return error;
    if (!(error instanceof DetourError) || error.failureClass !== 'aborted' || error.code === 'DETOUR_CLOSED')
      return error;
    const closed = closedError(error);
    closed.attempts = error.attempts;
    return closed;
  }

  /** Whether a failed fetch says the host is unreachable (counts toward opening its circuit). */
  #judge(ticket: CircuitTicket, error: unknown, attempts: readonly AttemptRecord[]): void {
    const failureClass = error instanceof DetourError ? error.failureClass : 'unknown';
    const tried = attempts.some((a) => a.outcome === 'failed');
    // An expired link says nothing about whether the host is reachable, nor does our own disk.
    if (
      !tried ||
      failureClass === 'aborted' ||
      failureClass === 'blocked' ||
      failureClass === 'url-expired' ||
      failureClass === 'local-io'
    )
      this.#circuit?.neutral(ticket);
    else if (
      routeWinner(attempts) !== undefined ||
      failureClass === 'too-large' ||
      failureClass === 'content-invalid'
    ) {
      this.#circuit?.success(ticket); // the host answered; the answer was not what we wanted
    } else this.#circuit?.failure(ticket);
  }

  /** Total deadline of a fetch that starts now. */
  #deadline(options: FetchOptions): number {
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new DetourUsageError('timeoutMs must be a positive number');
    }
    return Date.now() + timeoutMs;
  }

  /**
   * The network environment as route memory keys it: an explicit proxy option, else the
   * environment provider's fingerprint (proxy/TUN/fake-IP state), else `none`.
   */
  #fingerprint(): string {
    const proxy = this.#options.proxy;
    if (typeof proxy === 'string') return `proxy=${stripCredentials(proxy)}`;
    if (proxy === false || proxy === null) return 'proxy=none';
    try {
      return this.#environment?.fingerprint() ?? 'none';
    } catch {
      return 'unknown';
    }
  }

  async #orderRoute(url: URL, fingerprint: string, plan: string[]): Promise<RoutePlan | undefined> {
    if (!this.#routeMemory) return undefined;
    try {
      return await this.#routeMemory.order(url, fingerprint, plan);
    } catch (error) {
      this.#logger.warn({ err: (error as Error)?.message }, 'route memory unavailable; using the plan as is');
      return undefined;
    }
  }

  async #learn(
    url: URL,
    fingerprint: string,
    route: RoutePlan | undefined,
    attempts: readonly AttemptRecord[],
    degraded: boolean,
  ): Promise<void> {
    if (!route || !this.#routeMemory) return;
    try {
      await this.#routeMemory.record(url, fingerprint, route, {
        winner: routeWinner(attempts, degraded),
        attempts,
      });
    } catch (error) {
      this.#logger.warn({ err: (error as Error)?.message }, 'route memory could not record the outcome');
    }
  }

  /**
   * The cache and single-flight keys of a fetch, and a cache hit when there is a usable one.
   * `noCache` and personal headers (Authorization, Cookie) skip both. A remembered failure (opt-in
   * negative cache) is thrown as a CachedFailureError.
   */
  async #lookup(prepared: Prepared): Promise<{ hit?: FetchResult; keys?: CacheKeys }> {
    // #prepare refused calls made after close(); closed now means closed while this call was in
    // flight (e.g. toFile opening its target): it settles like every other in-flight fetch.
    if (this.#closed) throw closedError();
    const { url, options } = prepared;
    checkHeaders(options.headers, 'fetch headers');
    const perFetch = lowerCaseKeys(options.headers ?? {});
    if (options.noCache || CREDENTIAL_HEADERS.some((name) => name in perFetch)) return {};
    const cacheKey = prepared.cacheKey ?? (this.#cache ? this.#cache.key(url) : defaultCacheKey(url));
    const flight = JSON.stringify([
      cacheKey,
      options.expect ?? 'any',
      options.expectedBytes ?? null,
      options.maxBytes ?? null,
      options.headersProfile ?? null,
      options.strategies ?? null,
      perFetch,
    ]);
    const keys = { cache: cacheKey, flight };
    if (!this.#cache) return { keys };
    const started = performance.now();
    const hit = await this.#cache.get(cacheKey);
    if (hit) {
      const { body } = hit.entry;
      const fits = body.length <= (options.maxBytes ?? this.#options.maxBytes);
      const kind = matchesExpect(body, options.expect ?? 'any');
      const size = options.expectedBytes === undefined || body.length === options.expectedBytes;
      // An entry this fetch would refuse (too large, not of the expected kind or size) is not
      // served: the fetch runs and fails, or succeeds, on its own terms.
      if (fits && kind && size) {
        const result = resultFromCache(hit, prepared.input, Math.round(performance.now() - started));
        this.#logger.debug({ url: redactUrl(url), tier: hit.tier }, 'served from cache');
        return { hit: result, keys };
      }
    }
    const negative = await this.#cache.getNegative(cacheKey);
    if (negative) throw negative;
    return { keys };
  }

  /** The body of a download of the same key already in flight (started by fetch()), if any. */
  async #joinFlight(keys: CacheKeys | undefined, options: FetchOptions): Promise<FetchResult | undefined> {
    if (!keys) return undefined;
    const joined = this.#flight.join(keys.flight, {
      signal: options.signal,
      deadline: this.#deadline(options),
    });
    return joined ? (await joined).value.result : undefined;
  }

  /** The shared work of a single flight: download, then store (before anyone is answered) or remember the failure. */
  async #downloadAndStore(prepared: Prepared, options: FetchOptions, cacheKey: string): Promise<Downloaded> {
    try {
      const downloaded = await this.#download(prepared, options);
      await this.#store(cacheKey, downloaded);
      return downloaded;
    } catch (error) {
      if (error instanceof DetourError && this.#cache) {
        await this.#cache.setNegative(cacheKey, error).catch(() => false);
      }
      throw error;
    }
  }

  async #store(cacheKey: string, { result, headers }: Downloaded): Promise<void> {
    if (!this.#cache) return;
    const { stored, reason } = await this.#cache.set(
      cacheKey,
      { ...result, url: parseTargetUrl(result.url), headers },
      result.body,
    );
    this.#logger.debug({ url: redactUrl(result.url), stored, reason }, stored ? 'cached' : 'not cached');
  }

  /**
   * What the presets make of a URL before any request (rewrite, cache key, expected size), merged
   * with the caller's options (the caller's `expectedBytes` wins). A preset may refuse the URL.
   */
  #prepare(input: string | URL, options: FetchOptions): Prepared {
    if (this.#closed) throw new DetourUsageError('the pipeline is closed', 'DETOUR_CLOSED');
    const parsed = parseTargetUrl(input);
    const { url, cacheKey, expectedBytes } = prepareUrl(this.#options.presets, parsed);
    const merged =
      expectedBytes !== undefined && options.expectedBytes === undefined
        ? { ...options, expectedBytes }
        : options;
    return { input: parsed, url: url === parsed ? parsed : parseTargetUrl(url), options: merged, cacheKey };
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
}
