export { type AppOptions, buildApp, failureBody } from './app.js';
export { bearerCheck, isLoopbackHost } from './auth.js';
export {
  type ConsoleOptions,
  type DoctorReport,
  type DoctorRunner,
  isPublicPath,
  registerConsole,
  UI_CSP,
} from './console.js';
export { type ConnectionLimits, GUARD_DEFAULTS, isOwnHost } from './guards.js';
export { ServeMetrics } from './metrics.js';
export {
  RECENT_DEFAULTS,
  type RecentAttempt,
  type RecentFetch,
  RecentFetches,
  type RecentListener,
  type RecentTotals,
} from './recent.js';
export {
  EXPECT_KINDS,
  type ExpectParam,
  type FetchRequest,
  fetchBodySchema,
  fetchOptionsFor,
  fetchQuerySchema,
  type RawFetchRequest,
  requestFrom,
  type ServiceLimits,
} from './request.js';
export {
  type DetourServer,
  SERVE_DEFAULTS,
  type ServeOptions,
  ServeUsageError,
  startServer,
} from './server.js';
export { STATUS_BY_CLASS, statusFor } from './status.js';
