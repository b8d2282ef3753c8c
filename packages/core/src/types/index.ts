/**
 * The shared types of core, split by concern: failure classes, routes and the transport's
 * exchange, strategies and their attempts, fetch options, and results. Import from here.
 */

export * from './exchange.js';
export * from './failure.js';
export * from './fetch-options.js';
export * from './fetch-result.js';
export * from './strategy.js';
