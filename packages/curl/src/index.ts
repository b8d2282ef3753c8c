import { asPlugin } from '@detour/core';
import { curl } from './strategy.js';

export type { CurlCall, CurlInvocation } from './args.js';
export { buildCurlInvocation, configString, curlProxyUrl, pinnedRoute, resolvesLocally } from './args.js';
export type { CurlFailure } from './exit-codes.js';
export { CURL_EXIT_CLASSES, curlFailure, curlMessage } from './exit-codes.js';
export type { Lookup } from './guard.js';
export { guardTarget } from './guard.js';
export { parseFinalHead, parseHead } from './headers.js';
export { locateExecutable, SYSTEM_CA_BUNDLES } from './locate.js';
export type { CurlOptions } from './strategy.js';
export { CURL_RESCUES, CurlStrategy, curl } from './strategy.js';

/** @deprecated pass `curl(options)` to `createPipeline({ use })`, or `asPlugin(curl(options))`. */
export const register = asPlugin(curl);
