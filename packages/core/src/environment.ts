import type { Route, StrategyInfo } from './types/index.js';

/**
 * What the pipeline needs to know about the network it runs in. `@detour/detect` implements it
 * from an EnvironmentReport; without one the pipeline goes direct (or through `options.proxy`)
 * and tries strategies in registration order (a plan by stage needs an environment: `@detour/detect`).
 */
export interface EnvironmentProvider {
  /** The route a strict request to `url` should take: the proxy in the way, or direct. */
  routeFor(url: URL): Route;
  /**
   * The order in which to try the registered strategies for `url`. Names not registered are dropped
   * by the pipeline. `described` is the same list with what each strategy says about itself
   * (`stage`, `reason`, `plaintext`): plan by that, never by name.
   */
  plan(registered: readonly string[], url: URL, described?: readonly StrategyInfo[]): string[];
  /** A short stable string for the proxy/TUN/fake-IP state; route memory is kept per fingerprint. */
  fingerprint(): string;
  /** Stop background work (re-detection timers); `pipeline.close()` calls it. */
  close?(): void;
}
