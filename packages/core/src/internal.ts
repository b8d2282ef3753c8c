/**
 * Everything core exports, for Detour's own packages (`@detour/core/internal`): the public entry
 * (index.ts) re-exports a small part of it. Not a stable API: it changes with the packages using it.
 */
export * from './adaptive/index.js';
export { ANIMATABLE, animatedOf, gifFrames, isImageFormat } from './animated.js';
export { BodyCheck, BodyGuard } from './body/body.js';
export { BodyRestart, DEFAULT_MAX_RESUMES, RESUME_MIN_BYTES } from './body/resume.js';
export * from './cache/index.js';
export type {
  Classification,
  Classifier,
  ClassifierHook,
  ClassifierVerdict,
  ClassifierWithOptions,
} from './classify.js';
export { classifierWith, classifyError, isTerminal } from './classify.js';
export {
  CONVERT_CONTENT_TYPES,
  CONVERT_DEFAULTS,
  CONVERT_TARGETS,
  type ConversionInfo,
  type ConvertTarget,
  convertBody,
  DecoderPool,
  type DecoderPoolOptions,
  decoderPool,
  MP3_BITRATE,
  type Mp3Info,
  mp3Info,
  SAMPLE_RATES,
  silkLayout,
  wavInfo,
} from './convert/index.js';
export { createPipeline, registerCore, resolvePipeline, strategiesIn } from './create.js';
export type { EnvironmentProvider } from './environment.js';
export type { DetourErrorOptions } from './errors.js';
export { DetourError, DetourUsageError, isDetourError } from './errors.js';
export {
  type FlightResult,
  type FlightWaitOptions,
  SingleFlight,
  type SingleFlightOptions,
} from './flight.js';
export type { HeaderProfile } from './headers.js';
export { checkHeader, checkHeaders, HEADER_PROFILES } from './headers.js';
export { hostMatches } from './host-pattern.js';
export * from './kit/index.js';
export type {
  CacheKeys,
  Call,
  CallOptions,
  Consume,
  Consumed,
  Layer,
  Outcome,
  Run,
  Sink,
  Store,
} from './layers/layer.js';
export { compose } from './layers/layer.js';
export {
  type AcquireOptions,
  CONCURRENCY_DEFAULTS,
  ConcurrencyLimiter,
  type ConcurrencyOptions,
  type Release,
} from './limiter.js';
export { createLogger } from './logger.js';
export type { AudioFormat, ImageFormat, MediaFormat, MediaKind, VideoFormat } from './magic.js';
export {
  EXPECT_KINDS,
  matchesExpect,
  SNIFF_BYTES,
  sniffAudio,
  sniffFormat,
  sniffImage,
  sniffVideo,
} from './magic.js';
export type { PipelineOptions, Plugin, ResolvedPipelineOptions } from './options.js';
export { DEFAULTS, resolveOptions } from './options.js';
export { type CacheTierInfo, canRescue, type OriginState, Pipeline } from './pipeline.js';
export { asPlugin, decorate, type Registrar } from './plugin.js';
export type { PreparedUrl, Preset, ResponseSample, ResponseVerdict } from './preset.js';
export { PEEK_BYTES } from './preset.js';
export {
  describeRoute,
  redactText,
  redactUrl,
  registerSecrets,
  SECRET_QUERY_PARAMS,
  type SecretDeclaration,
  type SecretPathSegments,
  stripCredentials,
} from './redact.js';
export { type Failure, mostTelling, TELLING, type TellingPick, tellingRank } from './run/telling.js';
export { isPrivateAddress } from './ssrf.js';
export * from './store/index.js';
export { DirectBypassStrategy, DirectStrategy, direct, directBypass } from './strategies/direct.js';
export {
  CACHE,
  CACHE_STORES,
  CIRCUIT,
  CLASSIFIER_HOOK,
  ENVIRONMENT,
  LAYER,
  LIMITER,
  LOGGER,
  OPTIONS,
  ROUTE_MEMORY,
  STATE,
  STRATEGY,
  TRANSPORT,
} from './tokens.js';
export { AgentPool, routeFromProxyUrl } from './transport/agents.js';
export type { TransportOptions } from './transport/transport.js';
export { DEFAULT_TIMEOUTS, Transport } from './transport/transport.js';
export type * from './types/index.js';
export { DIRECT, FAILURE_CLASSES, STAGES } from './types/index.js';
export { parseTargetUrl } from './url.js';
