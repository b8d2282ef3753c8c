/**
 * The kit's typed options in the pipeline's terms: `createDetour`'s `DetourOptions` and a fetch's
 * `FetchOptions`. Only what was given is set (the pipeline's defaults apply to the rest).
 */
import type { FetchOptions } from '@detour/core';
import type { BuiltinPresetName, DetourOptions } from '../index.js';
import type { ValidOptions } from './definitions.js';

/** `createDetour` options: proxy (or none), strategies, deadlines, limits, hosts, profile, presets, log level. */
export function detourOptionsOf(valid: ValidOptions): DetourOptions {
  const v = valid;
  const presets = v.presets?.filter((name) => !v.noPresets?.includes(name));
  return {
    ...(v.proxy !== undefined ? { proxy: v.proxy } : v.noProxy ? { proxy: false } : {}),
    ...(v.strategies?.length ? { strategies: v.strategies } : {}),
    ...(v.timeoutMs !== undefined ? { timeoutMs: v.timeoutMs } : {}),
    ...(v.attemptTimeoutMs !== undefined ? { pipeline: { attemptTimeoutMs: v.attemptTimeoutMs } } : {}),
    ...(v.maxBytes !== undefined ? { maxBytes: v.maxBytes } : {}),
    ...(v.logLevel !== undefined ? { logLevel: v.logLevel } : {}),
    ...(v.insecureHosts !== undefined ? { insecureHosts: v.insecureHosts } : {}),
    ...(v.allowDowngrade !== undefined ? { allowDowngrade: v.allowDowngrade } : {}),
    ...(v.downgradePorts !== undefined ? { downgradePorts: v.downgradePorts } : {}),
    ...(v.headersProfile !== undefined ? { headersProfile: v.headersProfile } : {}),
    ...(presets !== undefined ? { presets: presets as BuiltinPresetName[] } : {}),
  };
}

/** One fetch's options: expect, expected size, conversion, headers, and the per-fetch deadline and limit. */
export function fetchOptionsOf(valid: ValidOptions): FetchOptions {
  const v = valid;
  return {
    ...(v.expect !== undefined ? { expect: v.expect } : {}),
    ...(v.expectBytes !== undefined ? { expectedBytes: v.expectBytes } : {}),
    ...(v.convert !== undefined ? { convert: v.convert } : {}),
    ...(v.sampleRate !== undefined ? { sampleRate: v.sampleRate } : {}),
    ...(v.headers !== undefined ? { headers: v.headers } : {}),
    ...(v.timeoutMs !== undefined ? { timeoutMs: v.timeoutMs } : {}),
    ...(v.maxBytes !== undefined ? { maxBytes: v.maxBytes } : {}),
    ...(v.strategies?.length ? { strategies: v.strategies } : {}),
  };
}
