export type { TlsRelaxedOptions } from './strategy.js';
export { relaxTls, TLS_RELAXABLE, TlsRelaxedStrategy, tlsRelaxed } from './strategy.js';
