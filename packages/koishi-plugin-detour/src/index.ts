/**
 * koishi-plugin-detour: a `detour` service for Koishi. Other plugins declare `inject: ['detour']`
 * and call `ctx.detour.fetch(url)`; each result says how the file was obtained.
 */
import type { Context } from 'koishi';
import type { Config } from './config.js';
import { DetourService } from './service.js';

export type {
  AttemptRecord,
  FailureClass,
  FetchOptions,
  FetchResult,
  FileResult,
  StreamResult,
} from '@detour/core';
export { DetourError, DetourUsageError, isDetourError } from '@detour/core';
export { type FailureJson, FrontEndUsageError, failureJson } from 'detour/front-end';
export { Config, detourOptions } from './config.js';
export { forwardLine, type KoishiLogger } from './logger.js';
export { DetourService } from './service.js';

export const name = 'detour';

/** Register the `detour` service on `ctx`; it is closed when the plugin is disposed. */
export function apply(ctx: Context, config: Config): void {
  ctx.plugin(DetourService, config);
}
