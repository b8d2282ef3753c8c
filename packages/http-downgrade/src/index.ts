import { asPlugin } from '@detour/core';
import { httpDowngrade } from './strategy.js';

export type { HttpDowngradeOptions, PortMap } from './strategy.js';
export { DOWNGRADE_RESCUES, downgradeUrl, HttpDowngradeStrategy, httpDowngrade } from './strategy.js';

/** @deprecated pass `httpDowngrade(options)` to `createPipeline({ use })`, or `asPlugin(httpDowngrade(options))`. */
export const register = asPlugin(httpDowngrade);
