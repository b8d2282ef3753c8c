/**
 * The strategy kit: what a strategy package needs from core to fetch the way core does, so that no
 * strategy re-implements (and drifts from) core's rules, and `requestJson`, a preset's call to its
 * platform's API. `strictAttempt` and `requestJson` are public ('@detour/core'); the rest is for
 * Detour's own strategy packages ('@detour/core/internal').
 */

export { RELAXED_CIPHERS } from './ciphers.js';
export {
  acceptsEncoding,
  CREDENTIAL_HEADERS,
  headerString,
  withoutCredentials,
} from './credential-headers.js';
export {
  type Followed,
  type FollowOptions,
  followWithRetries,
  type Hop,
  RETRYABLE_STATUS,
  type ResponseHead,
  retryDelay,
} from './follow.js';
export { type JsonRequestOptions, type JsonResponse, requestJson } from './request-json.js';
export { requestWithRetry, strictAttempt } from './strict-attempt.js';
