import { CONVERT_TARGETS, type ConvertTarget, type FetchOptions, SAMPLE_RATES } from '@detour/core';

/** What a bot may ask for. `audio`, `video`, `media` pass through to core's `expect`. */
export const EXPECT_KINDS = ['image', 'any', 'audio', 'video', 'media'] as const;
export type ExpectParam = (typeof EXPECT_KINDS)[number];

/** One fetch as the API receives it (GET query or POST body, after validation). */
export interface FetchRequest {
  url: string;
  expect?: ExpectParam;
  /** The size the caller knows the file has (e.g. OneBot's `file_size`). */
  expectBytes?: number;
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxBytes?: number;
  strategies?: string[];
  /** `wav` or `mp3`: a SILK voice clip is delivered as WAV or MP3 (see core's `convert`). */
  convert?: ConvertTarget;
  /** With `convert`: the output's sample rate (default 24000). */
  sampleRate?: number;
}

const url = { type: 'string', minLength: 1, maxLength: 16_384 } as const;
const expect = { type: 'string', enum: EXPECT_KINDS } as const;
const convert = { type: 'string', enum: CONVERT_TARGETS } as const;

/** `GET /v1/fetch?url=…&expect=…&expectBytes=…`: query values are strings, so numbers are digits. */
export const fetchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url,
    expect,
    expectBytes: { type: 'string', pattern: '^[0-9]{1,15}$' },
    convert,
    sampleRate: { type: 'string', enum: SAMPLE_RATES.map(String) },
  },
} as const;

/** `POST /v1/fetch` JSON. */
export const fetchBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url,
    expect,
    expectBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    convert,
    sampleRate: { type: 'integer', enum: SAMPLE_RATES },
    headers: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$" },
      additionalProperties: { type: 'string', maxLength: 8192 },
    },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    maxBytes: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    strategies: {
      type: 'array',
      minItems: 1,
      maxItems: 32,
      items: { type: 'string', minLength: 1, maxLength: 64 },
    },
  },
} as const;

/** Limits of the service: a request may tighten them, never loosen them. */
export interface ServiceLimits {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * Core's fetch options for a request. `timeoutMs` and `maxBytes` are capped by the service's own
 * (`--timeout`, `--max-bytes`): a bot can ask for less, not more. `expectBytes` reaches core as
 * `expectedBytes` (checked against Content-Length and the bytes received where core supports it).
 */
export function fetchOptionsFor(
  request: FetchRequest,
  limits: ServiceLimits,
  signal: AbortSignal,
): FetchOptions {
  const options: FetchOptions = {
    signal,
    expect: request.expect ?? 'any',
    timeoutMs: Math.min(request.timeoutMs ?? limits.timeoutMs, limits.timeoutMs),
    maxBytes: Math.min(request.maxBytes ?? limits.maxBytes, limits.maxBytes),
  };
  if (request.headers && Object.keys(request.headers).length) options.headers = request.headers;
  if (request.strategies) options.strategies = request.strategies;
  if (request.expectBytes !== undefined) options.expectedBytes = request.expectBytes;
  if (request.convert !== undefined) options.convert = request.convert;
  if (request.sampleRate !== undefined) options.sampleRate = request.sampleRate;
  return options;
}
