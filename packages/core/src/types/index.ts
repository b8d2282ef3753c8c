/**
 * The shared types of core, split by concern: failure classes, routes and the transport's
 * exchange, strategies and their attempts, fetch options, and results. Import from here.
 */
export * from './failure.js';
export * from './options.js';
export * from './result.js';
export * from './strategy.js';
export * from './transport.js';
