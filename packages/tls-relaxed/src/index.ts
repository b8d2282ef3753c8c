import { asPlugin } from '@detour/core';
import { tlsRelaxed } from './strategy.js';

export type { TlsRelaxedOptions } from './strategy.js';
export { relaxTls, TLS_RELAXABLE, TlsRelaxedStrategy, tlsRelaxed } from './strategy.js';

/** @deprecated pass `tlsRelaxed(options)` to `createPipeline({ use })`, or `asPlugin(tlsRelaxed(options))`. */
export const register = asPlugin(tlsRelaxed);
