export type { HttpDowngradeOptions, PortMap } from './strategy.js';
export { DOWNGRADE_RESCUES, downgradeUrl, HttpDowngradeStrategy, httpDowngrade } from './strategy.js';
