import { STRATEGY } from '@detour/core';
import type { DependencyContainer } from 'tsyringe';
import { type HttpDowngradeOptions, HttpDowngradeStrategy } from './strategy.js';

export type { HttpDowngradeOptions, PortMap } from './strategy.js';
export { CREDENTIAL_HEADERS, DOWNGRADE_RESCUES, downgradeUrl, HttpDowngradeStrategy } from './strategy.js';

/** Register `http-downgrade` (for the hosts in `options.hosts` only) into a Detour container. */
export function register(container: DependencyContainer, options: HttpDowngradeOptions): void {
  container.register(STRATEGY, { useValue: new HttpDowngradeStrategy(options) });
}
