import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { Plugin } from './options.js';
import { STRATEGY } from './tokens.js';
import type { Strategy } from './types/index.js';

/** A strategy factory (`tlsRelaxed(options)`) turned into the old `register(container, options)` shape. */
export type Registrar<F extends (...args: never[]) => Strategy> = (
  container: DependencyContainer,
  ...args: Parameters<F>
) => void;

/**
 * The one bridge from a strategy to the container. `asPlugin(strategy)` is a Plugin registering
 * that instance under `STRATEGY` (`createPipeline({ use: [...] })` takes the strategy itself too);
 * `asPlugin(factory)` is a `register(container, options)` function for DI users.
 */
export function asPlugin(strategy: Strategy): Plugin;
export function asPlugin<F extends (...args: never[]) => Strategy>(make: F): Registrar<F>;
export function asPlugin(item: Strategy | ((...args: never[]) => Strategy)): Plugin | Registrar<never> {
  if (typeof item === 'function') {
    return (container: DependencyContainer, ...args: never[]) => {
      container.register(STRATEGY, { useValue: item(...args) });
    };
  }
  return (container: DependencyContainer) => {
    container.register(STRATEGY, { useValue: item });
  };
}

/**
 * Wrap the service a container holds under `token` (core's `TRANSPORT`, `LOGGER`, `ENVIRONMENT`,
 * `CACHE`, …) from a plugin: `wrap` gets the current one and returns its replacement, e.g. a
 * transport that counts requests and delegates. Run it in a plugin (`createPipeline({ use })`),
 * after core registered its services and before the pipeline is built.
 */
export function decorate<T>(
  container: DependencyContainer,
  token: InjectionToken<T>,
  wrap: (inner: T) => T,
): void {
  const inner = container.resolve(token);
  container.register(token, { useValue: wrap(inner) });
}
