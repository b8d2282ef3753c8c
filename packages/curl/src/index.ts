import { STRATEGY } from '@detour/core';
import type { DependencyContainer } from 'tsyringe';
import { type CurlOptions, CurlStrategy } from './strategy.js';

export type { CurlCall, CurlInvocation } from './args.js';
export { buildCurlInvocation, configString, curlProxyUrl, resolvesLocally } from './args.js';
export type { CurlFailure } from './exit-codes.js';
export { CURL_EXIT_CLASSES, curlFailure, curlMessage } from './exit-codes.js';
export type { Lookup } from './guard.js';
export { guardTarget } from './guard.js';
export { parseFinalHead, parseHead } from './headers.js';
export { locateExecutable, SYSTEM_CA_BUNDLES } from './locate.js';
export type { CurlOptions } from './strategy.js';
export { CURL_RELAXED_CIPHERS, CurlStrategy } from './strategy.js';

/** Register the `curl` strategy into a Detour container. A missing curl makes it skip, never crash. */
export function register(container: DependencyContainer, options: CurlOptions = {}): void {
  container.register(STRATEGY, { useValue: new CurlStrategy(options) });
}
