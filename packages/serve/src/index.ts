export { type AppOptions, buildApp, failureBody } from './app.js';
export { bearerCheck, isLoopbackHost } from './auth.js';
export { type ConnectionLimits, GUARD_DEFAULTS, isOwnHost } from './guards.js';
export { ServeMetrics } from './metrics.js';
export {
  EXPECT_KINDS,
  type ExpectParam,
  type FetchRequest,
  fetchBodySchema,
  fetchOptionsFor,
  fetchQuerySchema,
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
