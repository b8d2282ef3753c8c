/**
 * The pipeline: a fetch is checked once (call.ts), then runs through one list of layers (below, in
 * `#compose`) around the orchestrator, which tries the strategies in order (run/orchestrator.ts).
 */
import type { Logger } from 'pino';
import type { CircuitBreaker, CircuitInfo } from './adaptive/circuit.js';
import { originOf, routeKey } from './adaptive/origin-key.js';
import type { RouteEntry, RouteMemory } from './adaptive/route-memory.js';
import { type FileTarget, openTarget, releaseTarget } from './body/atomic-write.js';
import { fileSink, memorySink, streamSink } from './body/sinks.js';
import type { Cache } from './cache/cache.js';
import { fingerprintOf, type PreparedCall, prepareCall, retargetCall } from './call.js';
import type { Classification } from './classify.js';
import { Closing, closedError } from './closing.js';
import type { EnvironmentProvider } from './environment.js';
import { DetourUsageError } from './errors.js';
import { cacheLayer } from './layers/cache-layer.js';
import { circuitLayer } from './layers/circuit-layer.js';
import { convertLayer } from './layers/convert-layer.js';
import { compose, type Layer, type Outcome, type Run, type Sink } from './layers/layer.js';
import { limiterLayer } from './layers/limiter-layer.js';
import { planLayer } from './layers/plan-layer.js';
import { recoverUrl } from './layers/recover-url-layer.js';
import { routeMemoryLayer } from './layers/route-memory-layer.js';
import { sharedDownloads, singleFlight } from './layers/single-flight-layer.js';
import type { ConcurrencyLimiter } from './limiter.js';
import type { ResolvedPipelineOptions } from './options.js';
import { markAnimated, markFileAnimated, resultOf } from './result.js';
import { canRescue, requestHeaders, runStrategies } from './run/orchestrator.js';
import { StrategyRegistry } from './run/registry.js';
import { routeFromProxyUrl } from './transport/agents.js';
import {
  DIRECT,
  type FetchOptions,
  type FetchResult,
  type FileResult,
  type HttpTransport,
  type Route,
  type Strategy,
  type StrategyInfo,
  type StreamResult,
} from './types/index.js';
import { parseTargetUrl } from './url.js';

export { canRescue, closedError };

/** `Pipeline.inspectOrigin`: what is remembered about one origin in the current environment. */
export interface OriginState {
  /** `https://host:443` */
  origin: string;
  /** The network environment the memory is keyed by. */
  fingerprint: string;
  route: RouteEntry | null;
  circuit: CircuitInfo | null;
}

/** `Pipeline.cacheTiers`: one tier; `entries`/`bytes` null when the tier does not count them (disk, Redis). */
export interface CacheTierInfo {
  name: string;
  shared: boolean;
  entries: number | null;
  bytes: number | null;
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
  /** Your layers, outermost first, around core's: they see every fetch (cache hits included). */
  layers?: readonly Layer[] | undefined;
  /** Where learning is kept beyond the process (`state` option): saved by close(). */
  state?: { flush?(): Promise<void> } | undefined;
  /** How a failed attempt's error is classified (default `classifyError`). */
  classify?: ((error: unknown) => Classification) | undefined;
  /** Builds `with()`'s pipeline (create.ts: a child container of this pipeline's). */
  derive?: ((extra: PipelineExtension) => Pipeline) | undefined;
  /**
   * A derived pipeline (`with()`): the transport, cache, route memory, circuit, limiter and state
   * belong to the pipeline it came from; close() leaves them open and closes only its own strategies.
   */
  sharedFrom?: Pipeline | undefined;
  /** The strategies a derived pipeline shares with its parent (close() leaves them to it). */
  inherited?: ReadonlySet<Strategy> | undefined;
}

/** What `pipeline.with()` adds: layers around the parent's, and strategies or plugins. */
export interface PipelineExtension {
  /** More layers, outermost first, around the parent's own layers. */
  layers?: readonly Layer[] | undefined;
  /** More strategies or plugins, as `createPipeline({ use })` takes them. */
  use?: readonly (Strategy | ((container: never) => void))[] | undefined;
}

export class Pipeline {
  readonly #deps: PipelineDeps;
  readonly #options: ResolvedPipelineOptions;
  readonly #strategies: StrategyRegistry;
  readonly #run: Run;
  /** Fired by close(): every fetch in flight (queued, joined, downloading, streaming) runs under it. */
  readonly #closing = new Closing();

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.#options = deps.options;
    this.#strategies = new StrategyRegistry(deps.strategies, deps.options.strategies, deps.environment);
    this.#run = this.#compose();
  }

  /** The layers, outermost first, around one run of the strategies. Each absent service is left out. */
  #compose(): Run {
    const { cache, circuit, routeMemory, limiter, logger } = this.#deps;
    const context = {
      ...this.#deps,
      strategies: this.#strategies.map,
      routeFor: (url: URL) => this.routeFor(url),
    };
    return compose(
      [
        ...(this.#deps.layers ?? []),
        convertLayer(cache), // convert: 'wav': the layers below fetch (and cache) the original
        singleFlight(sharedDownloads(this.#closing.signal)), // concurrent fetches of one key share a download
        // answer from the cache, store what may be kept (the origin's Vary read against the headers sent)
        cache &&
          cacheLayer(cache, logger, (call) => requestHeaders(this.#options, call.url, call.options).headers),
        recoverUrl({
          // an expired link refreshed, a legacy one rewritten: the layers below run again
          presets: this.#options.presets,
          refreshUrl: this.#options.refreshUrl,
          logger,
          retarget: (call, url) => retargetCall(call, url, this.#options),
        }),
        // which strategies, in which order, under which network fingerprint
        planLayer(this.#strategies, () => fingerprintOf(this.#options.proxy, this.#deps.environment)),
        circuit && circuitLayer(circuit, (name) => this.#strategies.stageOf(name)), // refuse a dead host
        routeMemory && routeMemoryLayer(routeMemory, logger), // last winner first
        limiter && limiterLayer(limiter), // a global and a per-origin slot
      ],
      (call) => (this.#closing.closed ? Promise.reject(closedError()) : runStrategies(context, call)),
    );
  }

  /** Names of the registered strategies, in registration order. */
  get strategyNames(): string[] {
    return this.#strategies.names;
  }

  /** What each registered strategy says about itself (name, stage, reason), in registration order. */
  describeStrategies(): StrategyInfo[] {
    return this.#strategies.describe();
  }

  /** Sockets held open by the pipeline's agents (idle keep-alive included). */
  openSockets(): number {
    return this.#deps.transport.openSockets();
  }

  /** The strategies that would be tried for `url`, in order. */
  planFor(url: string | URL, options: Pick<FetchOptions, 'strategies'> = {}): string[] {
    return this.#strategies.planFor(parseTargetUrl(url), options);
  }

  /**
   * What the pipeline remembers about `url`'s origin in the current network environment: the
   * learned route (route memory's entry, or null) and the circuit (null when either is off).
   */
  async inspectOrigin(url: string | URL): Promise<OriginState> {
    const target = parseTargetUrl(url);
    const fingerprint = fingerprintOf(this.#options.proxy, this.#deps.environment);
    const { routeMemory, circuit } = this.#deps;
    const route = routeMemory ? ((await routeMemory.inspect(target, fingerprint)) ?? null) : null;
    return {
      origin: originOf(target),
      fingerprint,
      route,
      circuit: circuit ? circuit.inspect(routeKey(target, fingerprint)) : null,
    };
  }

  /** Forget `url`'s origin in the current environment: its learned route, and close its circuit. */
  async forgetOrigin(url: string | URL): Promise<void> {
    const target = parseTargetUrl(url);
    const fingerprint = fingerprintOf(this.#options.proxy, this.#deps.environment);
    await this.#deps.routeMemory?.forget(target, fingerprint);
    this.#deps.circuit?.reset(routeKey(target, fingerprint));
    await this.#deps.circuit?.flush();
  }

  /** The cache's tiers (`memory`, `disk`, `shared`, …) with the entries and bytes a tier can count; [] without a cache. */
  cacheTiers(): CacheTierInfo[] {
    return (this.#deps.cache?.tiers ?? []).map((tier) => {
      const counted = tier as { size?: unknown; bytes?: unknown };
      return {
        name: tier.name,
        shared: tier.shared,
        entries: typeof counted.size === 'number' ? counted.size : null,
        bytes: typeof counted.bytes === 'number' ? counted.bytes : null,
      };
    });
  }

  /** The route a strict request to `url` takes. */
  routeFor(url: URL): Route {
    const proxy = this.#options.proxy;
    if (typeof proxy === 'string') return routeFromProxyUrl(proxy);
    if (proxy === false || proxy === null) return DIRECT;
    return this.#deps.environment?.routeFor(url) ?? DIRECT;
  }

  /**
   * Download into memory: from the cache when it holds the URL, else by joining a download of the
   * same key already in flight, else through the strategies (and into the cache when allowed).
   */
  async fetch(input: string | URL, options: FetchOptions = {}): Promise<FetchResult> {
    const { consumed, info } = await this.#execute(input, options, () => memorySink);
    const result = resultOf(info) as FetchResult;
    result.bytes = consumed.bytes;
    result.sha256 = consumed.sha256;
    result.body = consumed.value;
    markAnimated(result, consumed.value);
    return result;
  }

  /**
   * Download to `path`. Bytes go to a temporary file beside it, renamed only when the body passed
   * every check; a failed download leaves nothing behind. A device or FIFO is written into.
   */
  async toFile(input: string | URL, path: string, options: FetchOptions = {}): Promise<FileResult> {
    const opened: { target?: FileTarget } = {};
    try {
      const { consumed, info } = await this.#execute(input, options, async (call) => {
        // After the input's checks, before any network: an empty path, a missing or read-only
        // directory fail here (local-io).
        opened.target = await openTarget(path);
        return fileSink(opened.target, call.options.signal);
      });
      const result = resultOf(info) as FileResult;
      result.bytes = consumed.bytes;
      result.sha256 = consumed.sha256;
      result.path = consumed.value;
      // Read back only a file of our own (a device or a FIFO is never read).
      await markFileAnimated(result, consumed.value, opened.target?.kind === 'replace');
      return result;
    } catch (error) {
      if (opened.target) releaseTarget(opened.target);
      throw error;
    }
  }

  /**
   * Download as a stream. Strategies fail over until one delivers a good start of body (status,
   * declared length, image magic bytes); after that the stream itself errors with a DetourError
   * on a later failure (too large, length mismatch, reset).
   */
  async stream(input: string | URL, options: FetchOptions = {}): Promise<StreamResult> {
    const cache = this.#deps.cache;
    const { consumed, info } = await this.#execute(input, options, (call) =>
      streamSink(call.keys && cache ? cache.maxEntryBytes : 0),
    );
    const result = resultOf(info) as StreamResult;
    result.body = consumed.value;
    result.expectedBytes = consumed.expectedBytes ?? null;
    // Known before the body streams only when it came from memory (the cache, a shared download).
    if (consumed.sha256) result.sha256 = consumed.sha256;
    return result;
  }

  /**
   * Close the pipeline: every fetch in flight settles at once with `aborted` / `DETOUR_CLOSED`
   * (queued ones, shared downloads, running attempts, streams still flowing; toFile leaves no
   * partial file), then strategies (curl children), sockets, memory and cache are freed.
   */
  /**
   * A pipeline with more layers or strategies that shares this one's transport (its pooled
   * sockets), cache, route memory, circuit and limiter, as `got.extend` does. Close it when done
   * with it (its own strategies); this pipeline still owns, and closes, what they share.
   */
  with(extra: PipelineExtension): Pipeline {
    if (this.#closing.closed) throw new DetourUsageError('the pipeline is closed', 'DETOUR_CLOSED');
    if (!this.#deps.derive)
      throw new DetourUsageError('this pipeline was not built by createPipeline', 'DETOUR_USAGE');
    return this.#deps.derive(extra);
  }

  async close(): Promise<void> {
    if (this.#closing.closed) return;
    this.#closing.close();
    for (const strategy of this.#strategies.map.values()) {
      if (!this.#deps.inherited?.has(strategy)) await strategy.close?.();
    }
    if (this.#deps.sharedFrom) return;
    this.#deps.transport.close();
    await this.#deps.routeMemory?.close?.();
    await this.#deps.circuit?.flush();
    await this.#deps.state?.flush?.();
    await this.#deps.cache?.close();
    this.#deps.environment?.close?.();
  }

  /** One public call: checked input, a sink for its body, the layers, and close() heard throughout. */
  async #execute<T>(
    input: string | URL,
    caller: FetchOptions,
    sinkFor: (call: PreparedCall) => Sink<T> | Promise<Sink<T>>,
  ): Promise<Outcome<T>> {
    if (this.#closing.closed) throw new DetourUsageError('the pipeline is closed', 'DETOUR_CLOSED');
    const { signal, dispose } = this.#closing.scope(caller);
    let held = false;
    try {
      const prepared = prepareCall(input, caller, signal, this.#options, this.#deps.cache);
      const made = sinkFor(prepared);
      const sink = made instanceof Promise ? await made : made; // fetch's sink is there at once
      // Closed while this call was in flight (e.g. toFile opening its target): settles like the others.
      if (this.#closing.closed) throw closedError();
      const outcome = await this.#run({ ...prepared, sink });
      // A stream listens to close() until its body ends.
      if (outcome.consumed.holdSignal) {
        outcome.consumed.holdSignal(dispose);
        held = true;
      }
      return outcome;
    } catch (error) {
      throw this.#closing.closedInstead(error, caller);
    } finally {
      if (!held) dispose();
    }
  }
}
