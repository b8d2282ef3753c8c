import type { ConvertTarget, ExpectKind, FetchOptions } from '@detour/core';
import { EXPECT_KINDS, validateOptions } from 'detour/front-end';

/** What a bot may ask for: core's kinds, through the front-end kit (one list, never copied). */
export { EXPECT_KINDS };
export type ExpectParam = ExpectKind;

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
  /** `wav` or `mp3`: a SILK voice clip is delivered as WAV or MP3 (see core's `convert`; targets are core's). */
  convert?: ConvertTarget;
  /** With `convert`: the output's sample rate (default 24000). */
  sampleRate?: number;
}

// The schemas check the shape (names, JSON types, lengths); the values of the options the
// front-end kit defines (expect, expectBytes, convert, sampleRate, timeoutMs, maxBytes) are
// checked by the kit (`requestFrom`), with the same message as `detour fetch` gives.
const url = { type: 'string', minLength: 1, maxLength: 16_384 } as const;
const short = { type: 'string', maxLength: 64 } as const;

/** `GET /v1/fetch?url=…&expect=…&expectBytes=…`: query values are strings. */
export const fetchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: { url, expect: short, expectBytes: short, convert: short, sampleRate: short },
} as const;

/** `POST /v1/fetch` JSON. */
export const fetchBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url,
    expect: short,
    expectBytes: { type: 'integer' },
    convert: short,
    sampleRate: { type: 'integer' },
    headers: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$" },
      additionalProperties: { type: 'string', maxLength: 8192 },
    },
    timeoutMs: { type: 'integer' },
    maxBytes: { type: 'integer' },
    strategies: {
      type: 'array',
      minItems: 1,
      maxItems: 32,
      items: { type: 'string', minLength: 1, maxLength: 64 },
    },
  },
} as const;

/** What the schemas let through: the kit's options still raw (query strings, JSON numbers). */
export interface RawFetchRequest {
  url: string;
  expect?: string;
  expectBytes?: string | number;
  convert?: string;
  sampleRate?: string | number;
  timeoutMs?: number;
  maxBytes?: number;
  headers?: Record<string, string>;
  strategies?: string[];
}

/**
 * A request whose shape the schema checked → the typed request: the kit's options validated by the
 * kit (a `FrontEndUsageError` with the kit's message otherwise: the route answers 400).
 */
export function requestFrom(raw: RawFetchRequest): FetchRequest {
  const { url, headers, strategies, expect, expectBytes, convert, sampleRate, timeoutMs, maxBytes } = raw;
  const valid = validateOptions({ expect, expectBytes, convert, sampleRate, timeoutMs, maxBytes });
  return {
    url,
    ...(headers ? { headers } : {}),
    ...(strategies ? { strategies } : {}),
    ...(valid.expect !== undefined ? { expect: valid.expect } : {}),
    ...(valid.expectBytes !== undefined ? { expectBytes: valid.expectBytes } : {}),
    ...(valid.convert !== undefined ? { convert: valid.convert } : {}),
    ...(valid.sampleRate !== undefined ? { sampleRate: valid.sampleRate } : {}),
    ...(valid.timeoutMs !== undefined ? { timeoutMs: valid.timeoutMs } : {}),
    ...(valid.maxBytes !== undefined ? { maxBytes: valid.maxBytes } : {}),
  };
}

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
