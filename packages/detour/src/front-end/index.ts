/**
 * `detour/front-end`: the kit every front-end (the CLI's `fetch` and `serve`, `@detour/serve`, the
 * Koishi plugin) builds on, so that they take the same options with the same checks and report a
 * failure with the same JSON. See the package README, "The front-end kit".
 */
export {
  CONVERT_TARGETS,
  EXPECT_KINDS,
  FrontEndUsageError,
  LOG_LEVELS,
  type LogLevel,
  listOf,
  MAX_TIMEOUT_MS,
  OPTIONS,
  type OptionDefinition,
  type OptionName,
  optionLabel,
  parseSizeText,
  type RawOptions,
  type RawValue,
  SAMPLE_RATES,
  type ValidOptions,
  validateOptions,
} from './definitions.js';
export {
  adviceFor,
  type Failure,
  type FailureJson,
  failureJson,
  MASK_SECRETS,
  maskedAttempts,
  mostTelling,
  type SecretPolicy,
  SHOW_SECRETS,
  STRATEGY_FLAGS,
} from './failure.js';
export { detourOptionsOf, fetchOptionsOf } from './to-options.js';
