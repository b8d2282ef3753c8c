import type { DependencyContainer } from 'tsyringe';
import type { Plugin } from './options.js';
import { STRATEGY } from './tokens.js';
import type { Strategy } from './types.js';

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
