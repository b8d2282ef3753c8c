// tsyringe refuses to load without a Reflect metadata polyfill, even though Detour registers
// everything with explicit tokens and factories (no decorators, no emitDecoratorMetadata needed).
import 'reflect-metadata';
import type { Logger } from 'pino';
import {
  type DependencyContainer,
  type InjectionToken,
  instanceCachingFactory,
  container as rootContainer,
} from 'tsyringe';
import { CircuitBreaker } from './adaptive/circuit.js';
import { StoreRouteMemory } from './adaptive/route-memory.js';
import { Cache, cacheTiers } from './cache/cache.js';
import { type Classifier, classifierWith } from './classify.js';
import { ConcurrencyLimiter } from './limiter.js';
import { createLogger } from './logger.js';
import { type PipelineOptions, type Plugin, resolveOptions } from './options.js';
import { Pipeline, type PipelineDeps, type PipelineExtension } from './pipeline.js';
import { toKeyValueStore } from './store/keyv-store.js';
import { DirectBypassStrategy, DirectStrategy } from './strategies/direct.js';
import {
  CACHE,
  CACHE_STORES,
  CIRCUIT,
  CLASSIFIER_HOOK,
  ENVIRONMENT,
  LAYER,
  LIMITER,
  LOGGER,
  OPTIONS,
  ROUTE_MEMORY,
  STATE,
  STRATEGY,
  TRANSPORT,
} from './tokens.js';
import { Transport } from './transport/transport.js';
import type { Strategy } from './types/index.js';

/**
 * Register core's services into a container with explicit tokens and factories (no decorator
 * metadata needed): options, logger, transport, the `direct` and `direct-bypass` strategies, and the
 * adaptive services (route memory, cache, concurrency limiter, circuit breaker) unless turned off.
 * Services are built lazily (when `resolvePipeline` asks), so a plugin registered after this may
 * replace a token (`container.register(TRANSPORT, …)`) or wrap it (`decorate(container, TRANSPORT,
 * inner => …)`), and services that depend on it (the cache logs through `LOGGER`) get the new one.
 */
export function registerCore(container: DependencyContainer, options: PipelineOptions = {}): void {
  const resolved = resolveOptions(options);
  container.register(OPTIONS, { useValue: resolved });
  const logger: Logger = (options.logger ?? createLogger(options.logLevel ?? 'silent')).child({
    component: 'detour',
  });
  container.register(LOGGER, { useValue: logger });
  container.register(TRANSPORT, {
    useFactory: instanceCachingFactory(
      () => new Transport({ maxSockets: resolved.maxSockets, timeouts: resolved.timeouts }),
    ),
  });
  container.register(STRATEGY, { useValue: new DirectStrategy() });
  container.register(STRATEGY, { useValue: new DirectBypassStrategy() });
  if (options.environment) container.register(ENVIRONMENT, { useValue: options.environment });
  const state = options.state ? toKeyValueStore(options.state) : undefined;
  if (state) container.register(STATE, { useValue: state });
  if (options.routeMemory !== false) {
    const memory = { ...(state ? { store: state } : {}), ...options.routeMemory };
    container.register(ROUTE_MEMORY, { useValue: new StoreRouteMemory(memory) });
  }
  if (options.cache !== false) {
    const cacheOptions = options.cache || {};
    container.register(CACHE_STORES, { useFactory: instanceCachingFactory(() => cacheTiers(cacheOptions)) });
    container.register(CACHE, {
      useFactory: instanceCachingFactory(
        (c) => new Cache({ ...cacheOptions, tiers: c.resolve(CACHE_STORES) }, c.resolve(LOGGER)),
      ),
    });
  }
  container.register(LIMITER, { useValue: new ConcurrencyLimiter(options.concurrency ?? {}) });
  if (options.circuit !== false) {
    const own = state && !options.circuit?.store ? { store: state, persistCounts: true } : {};
    const circuit = { ...own, ...options.circuit };
    container.register(CIRCUIT, { useValue: new CircuitBreaker(circuit) });
  }
  for (const layer of options.layers ?? []) container.register(LAYER, { useValue: layer });
}

/** Build the Pipeline from whatever a container holds. */
export function resolvePipeline(
  container: DependencyContainer,
  derived: Pick<PipelineDeps, 'sharedFrom' | 'inherited'> = {},
): Pipeline {
  const logger = container.resolve(LOGGER);
  const pipeline: Pipeline = new Pipeline({
    ...derived,
    options: container.resolve(OPTIONS),
    logger,
    transport: container.resolve(TRANSPORT),
    strategies: container.isRegistered(STRATEGY, true) ? container.resolveAll(STRATEGY) : [],
    environment: container.isRegistered(ENVIRONMENT, true) ? container.resolve(ENVIRONMENT) : undefined,
    routeMemory: container.isRegistered(ROUTE_MEMORY, true) ? container.resolve(ROUTE_MEMORY) : undefined,
    cache: container.isRegistered(CACHE, true) ? container.resolve(CACHE) : undefined,
    limiter: container.isRegistered(LIMITER, true) ? container.resolve(LIMITER) : undefined,
    circuit: container.isRegistered(CIRCUIT, true) ? container.resolve(CIRCUIT) : undefined,
    layers: container.isRegistered(LAYER, true) ? container.resolveAll(LAYER) : [],
    state: container.isRegistered(STATE, true)
      ? (container.resolve(STATE) as { flush?(): Promise<void> })
      : undefined,
    classify: resolveClassifier(container, logger),
    derive: (extra) => derivePipeline(container, pipeline, extra),
  });
  return pipeline;
}

/**
 * `pipeline.with(extra)`: a child container holding the parent's services as built (one transport,
 * one cache, one route memory, circuit and limiter), its layers and strategies, then `extra`'s.
 */
function derivePipeline(parent: DependencyContainer, from: Pipeline, extra: PipelineExtension): Pipeline {
  const child = parent.createChildContainer();
  for (const token of [
    OPTIONS,
    LOGGER,
    TRANSPORT,
    ENVIRONMENT,
    ROUTE_MEMORY,
    CACHE,
    LIMITER,
    CIRCUIT,
    STATE,
  ]) {
    const t = token as InjectionToken<unknown>;
    if (parent.isRegistered(t, true)) child.register(t, { useValue: parent.resolve(t) });
  }
  const inherited = parent.isRegistered(STRATEGY, true) ? parent.resolveAll(STRATEGY) : [];
  for (const strategy of inherited) child.register(STRATEGY, { useValue: strategy });
  const layers = [
    ...(extra.layers ?? []),
    ...(parent.isRegistered(LAYER, true) ? parent.resolveAll(LAYER) : []),
  ];
  for (const layer of layers) child.register(LAYER, { useValue: layer });
  for (const item of extra.use ?? []) {
    if (isStrategy(item as Strategy)) child.register(STRATEGY, { useValue: item as Strategy });
    else (item as Plugin)(child);
  }
  return resolvePipeline(child, { sharedFrom: from, inherited: new Set(inherited) });
}

/** `classifierWith` the hooks registered under `CLASSIFIER_HOOK` (none: undefined, the built-in classifier). */
function resolveClassifier(container: DependencyContainer, logger: Logger): Classifier | undefined {
  if (!container.isRegistered(CLASSIFIER_HOOK, true)) return undefined;
  return classifierWith(container.resolveAll(CLASSIFIER_HOOK), {
    onHookError: (error, index) =>
      logger.warn({ hook: index, err: (error as Error)?.message }, 'classifier hook threw; ignored'),
  });
}

function isStrategy(item: Strategy | Plugin): item is Strategy {
  return typeof item === 'object' && item !== null && typeof (item as Strategy).attempt === 'function';
}

/**
 * The pipeline for people who never heard of DI: core's strategies, plus whatever `options.use`
 * adds (strategy instances or strategy packages' `register` plugins), in a fresh child container.
 */
export function createPipeline(options: PipelineOptions = {}): Pipeline {
  const container = rootContainer.createChildContainer();
  registerCore(container, options);
  for (const item of options.use ?? []) {
    if (isStrategy(item)) container.register(STRATEGY, { useValue: item });
    else item(container);
  }
  return resolvePipeline(container);
}

/**
 * The strategies `use` adds, as a pipeline built with it would hold them: instances as given, and
 * what each plugin registers under `STRATEGY` (run against a scratch container with core's
 * services, so plugins that decorate a service work too; core's own two are left out).
 */
export function strategiesIn(use: PipelineOptions['use'] = []): Strategy[] {
  const found: Strategy[] = [];
  let container: DependencyContainer | undefined;
  for (const item of use) {
    if (isStrategy(item)) {
      found.push(item);
      continue;
    }
    if (!container) {
      container = rootContainer.createChildContainer();
      registerCore(container, { cache: false, routeMemory: false, circuit: false });
    }
    const before = new Set(container.resolveAll(STRATEGY));
    item(container);
    for (const strategy of container.resolveAll(STRATEGY)) if (!before.has(strategy)) found.push(strategy);
  }
  return found;
}
