import { STRATEGY } from '@detour/core';
import type { DependencyContainer } from 'tsyringe';
import { type TlsRelaxedOptions, TlsRelaxedStrategy } from './strategy.js';

export type { TlsRelaxedOptions } from './strategy.js';
export { DEFAULT_RELAXED_CIPHERS, relaxTls, TLS_RELAXABLE, TlsRelaxedStrategy } from './strategy.js';

/** Register `tls-relaxed` into a Detour container (`createPipeline({ use: [c => register(c, opts)] })`). */
export function register(container: DependencyContainer, options: TlsRelaxedOptions = {}): void {
  container.register(STRATEGY, { useValue: new TlsRelaxedStrategy(options) });
}
