import type { Route } from './types.js';

/** The strategy names shipped with Detour. Custom strategies may use any other name. */
export const STRATEGY_NAMES = [
  'direct',
  'direct-bypass',
  'tls-relaxed',
  'curl',
  'http-downgrade',
  'placeholder',
] as const;
export type BuiltinStrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * What the pipeline needs to know about the network it runs in. `@detour/detect` implements it
 * from an EnvironmentReport; without one the pipeline goes direct (or through `options.proxy`)
 * and tries strategies in registration order.
 */
export interface EnvironmentProvider {
  /** The route a strict request to `url` should take: the proxy in the way, or direct. */
  routeFor(url: URL): Route;
  /** The order in which to try the registered strategies for `url`. Names not registered are dropped by the pipeline. */
  plan(registered: readonly string[], url: URL): string[];
  /** A short stable string for the proxy/TUN/fake-IP state; route memory is kept per fingerprint. */
  fingerprint(): string;
  /** Stop background work (re-detection timers); `pipeline.close()` calls it. */
  close?(): void;
}
