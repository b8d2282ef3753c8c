import type { Logger } from 'pino';
import type { InjectionToken } from 'tsyringe';
import type { CircuitBreaker } from './adaptive/circuit.js';
import type { RouteMemory } from './adaptive/route-memory.js';
import type { Cache } from './cache/cache.js';
import type { CacheStore } from './cache/types.js';
import type { ClassifierHook } from './classify.js';
import type { EnvironmentProvider } from './environment.js';
import type { Layer } from './layers/layer.js';
import type { ConcurrencyLimiter } from './limiter.js';
import type { ResolvedPipelineOptions } from './options.js';
import type { KeyValueStore } from './store/store-types.js';
import type { Transport } from './transport/transport.js';
import type { Strategy } from './types/index.js';

/** Every strategy is registered under this token (multi-registration, order = registration order). */
export const STRATEGY: InjectionToken<Strategy> = Symbol.for('detour.Strategy');
export const LOGGER: InjectionToken<Logger> = Symbol.for('detour.Logger');
export const TRANSPORT: InjectionToken<Transport> = Symbol.for('detour.Transport');
export const ENVIRONMENT: InjectionToken<EnvironmentProvider> = Symbol.for('detour.Environment');
export const OPTIONS: InjectionToken<ResolvedPipelineOptions> = Symbol.for('detour.Options');
/** Per-origin, per-environment memory of the winning strategy (absent: every fetch runs the plan as is). */
export const ROUTE_MEMORY: InjectionToken<RouteMemory> = Symbol.for('detour.RouteMemory');
/** The cache in front of the pipeline (absent: no cache). */
export const CACHE: InjectionToken<Cache> = Symbol.for('detour.Cache');
/**
 * The cache's storage tiers, in lookup order (default: memory, then `cache.dir`, then
 * `cache.store`). The default `CACHE` is built from them, so a plugin may replace the list or
 * decorate each tier. Registered only while the cache is on; unused when a plugin replaces `CACHE`.
 */
export const CACHE_STORES: InjectionToken<readonly CacheStore[]> = Symbol.for('detour.CacheStores');
/** Global and per-host concurrency limit (absent: no limit). */
export const LIMITER: InjectionToken<ConcurrencyLimiter> = Symbol.for('detour.Limiter');
/** Per-host circuit breaker (absent: never short-circuits). */
export const CIRCUIT: InjectionToken<CircuitBreaker> = Symbol.for('detour.Circuit');
/** Your layers around core's (multi-registration, outermost first): they see every fetch, cache hits included. */
export const LAYER: InjectionToken<Layer> = Symbol.for('detour.Layer');
/**
 * Classifier hooks (multi-registration, asked in registration order): each sees a failed attempt's
 * raw error before `classifyError` and may decide its class, code and terminal verdict.
 */
export const CLASSIFIER_HOOK: InjectionToken<ClassifierHook> = Symbol.for('detour.ClassifierHook');
/**
 * Where what the pipeline learns is kept beyond the process (`state` option: route memory and
 * circuit state by default); saved (`flush()`, when it has one) by `close()`. Absent: in process.
 */
export const STATE: InjectionToken<KeyValueStore> = Symbol.for('detour.State');
