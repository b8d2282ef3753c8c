import { STRATEGY } from '@detour/core';
import type { DependencyContainer } from 'tsyringe';
import { type PlaceholderOptions, PlaceholderStrategy } from './strategy.js';

export type { PlaceholderImage } from './images.js';
export { pickImage, TRANSPARENT_GIF, TRANSPARENT_PNG, TRANSPARENT_WEBP } from './images.js';
export type { PlaceholderOptions } from './strategy.js';
export { describeFailures, PlaceholderStrategy, REASON_HEADER } from './strategy.js';

/** Register (and so enable) the `placeholder` last resort in a Detour container. */
export function register(container: DependencyContainer, options: PlaceholderOptions = {}): void {
  container.register(STRATEGY, { useValue: new PlaceholderStrategy(options) });
}
