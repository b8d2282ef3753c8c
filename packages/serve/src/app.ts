import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CircuitOpenError, DetourError, type Pipeline, type StreamResult } from '@detour/core';
import type { DetectedEnvironment } from '@detour/detect';
import { type DetourOptions, detectAnswer } from 'detour';
import { type FailureJson, FrontEndUsageError, failureJson, maskedAttempts } from 'detour/front-end';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type DoctorRunner, isPublicPath, registerConsole } from './console.js';
import { type ConnectionLimits, guardedServerFactory, installGuards } from './guards.js';
import type { ServeMetrics } from './metrics.js';
import { RecentFetches } from './recent.js';
import {
  type FetchRequest,
  fetchBodySchema,
  fetchOptionsFor,
  fetchQuerySchema,
  type RawFetchRequest,
  requestFrom,
  type ServiceLimits,
} from './request.js';
import { statusFor } from './status.js';

export interface AppOptions {
  pipeline: Pipeline;
  environment: DetectedEnvironment;
  metrics: ServeMetrics;
  limits: ServiceLimits;
  /** Bearer token every route but `/healthz` needs; none: no auth (loopback only). */
  token?: string | undefined;
  /** Aborted when the server gives up waiting for in-flight fetches at shutdown. */
  shutdown: AbortSignal;
  /** The options the pipeline was built with: `/v1/detect` plans with them (as `detour detect` does). */
  detour?: DetourOptions | undefined;
  /** Connection cap, header and body deadlines (guards.ts `GUARD_DEFAULTS`). */
  connections?: ConnectionLimits;
  /** Where operator warnings go (the connection cap reached); default stderr. */
  warn?: (line: string) => void;
  /** Recent fetches for `/ui` and `/v1/recent` (default: a new ring of 100). */
  recent?: RecentFetches | undefined;
  /** What `POST /v1/doctor` runs (none: 501). */
  doctor?: DoctorRunner | undefined;
}

const warnOnStderr = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/**
 * The failure JSON: the front-end kit's `failureJson`, the same function `detour fetch --json`
 * prints a failure with, masked as every other output is (URL credentials, secret query values).
 */
export function failureBody(url: string | null, error: DetourError): FailureJson {
  return failureJson(error, url);
}

function usageBody(url: string | null, code: string, message: string) {
  return failureBody(url, new DetourError(message, { failureClass: 'blocked', code }));
}

/** Counts and hashes the bytes on their way out (the `X-Detour-Sha256` trailer). */
class Digest extends Transform {
  readonly #hash = createHash('sha256');
  bytes = 0;
  #hex: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  get hex(): string {
    this.#hex ??= this.#hash.digest('hex');
    return this.#hex;
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid';
  }
}

/** Header values must be Latin-1 without control characters: JSON of attempts can hold anything. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Errors fastify caught: 400 for validation and client errors, 500 otherwise, in the usage body. */
function errorReply(
  error: Error & { validation?: unknown; statusCode?: number },
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const url =
    (request.query as { url?: unknown } | undefined)?.url ?? (request.body as { url?: unknown })?.url;
  const given = typeof url === 'string' ? url : null;
  if (error.validation || (error.statusCode !== undefined && error.statusCode < 500)) {
    const message = error.validation ? validationMessage(error) : error.message;
    const status = error.validation ? 400 : (error.statusCode ?? 400);
    return reply.code(status).send(usageBody(given, 'DETOUR_BAD_REQUEST', message));
  }
  return reply.code(500).send(usageBody(given, 'DETOUR_INTERNAL', error.message));
}

/** A schema refusal in words: an unknown field is named (ajv's own text says only "additional properties"). */
function validationMessage(error: Error & { validation?: unknown; validationContext?: string }): string {
  const issues = Array.isArray(error.validation) ? error.validation : [];
  const extra = issues.find(
    (v: { keyword?: string; params?: { additionalProperty?: unknown } }) =>
      v?.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string',
  ) as { params: { additionalProperty: string } } | undefined;
  if (!extra) return `invalid request: ${error.message}`;
  const where = error.validationContext === 'querystring' ? 'query parameter' : 'field';
  const name = JSON.stringify(extra.params.additionalProperty.slice(0, 64));
  return `invalid request: unknown ${where} ${name}`;
}

/** What a fetch route needs from the app. */
interface FetchDeps {
  pipeline: Pipeline;
  metrics: ServeMetrics;
  limits: ServiceLimits;
  shutdown: AbortSignal;
  recent: RecentFetches;
}

/** One fetch: streamed to the client through a digest, with the result's flags as headers. */
async function serveOne(deps: FetchDeps, request: FetchRequest, reply: FastifyReply) {
  const { pipeline, metrics, limits, shutdown, recent } = deps;
  const abort = new AbortController();
  const onShutdown = () =>
    abort.abort(
      new DetourError('the service is shutting down', { failureClass: 'aborted', code: 'DETOUR_SHUTDOWN' }),
    );
  shutdown.addEventListener('abort', onShutdown, { once: true });
  const origin = originOf(request.url);
  const finish = metrics.started();
  reply.raw.once('close', () => {
    shutdown.removeEventListener('abort', onShutdown);
    if (!reply.raw.writableFinished) abort.abort(); // the bot hung up: stop downloading
    finish();
  });
  let result: StreamResult;
  try {
    result = await pipeline.stream(request.url, fetchOptionsFor(request, limits, abort.signal));
  } catch (error) {
    if (!(error instanceof DetourError)) throw error;
    const seconds = finish();
    metrics.failed(
      origin,
      error.failureClass,
      error.code,
      seconds,
      error instanceof CircuitOpenError ? error.retryAt : undefined,
    );
    recent.failed(request.url, error, seconds);
    return reply.code(statusFor(error)).send(failureBody(request.url, error));
  }
  const digest = recordedDigest(deps, request.url, origin, result, finish);
  result.body.pipe(digest);
  resultHeaders(reply, result, digest);
  return reply.send(digest);
}

/** The digest the body streams through; the fetch is recorded (metrics, recent) when it ends. */
function recordedDigest(
  deps: FetchDeps,
  url: string,
  origin: string,
  result: StreamResult,
  finish: () => number,
): Digest {
  const { metrics, recent } = deps;
  const digest = new Digest();
  result.body.once('error', (error) => digest.destroy(error));
  digest.once('end', () => {
    const seconds = finish();
    metrics.succeeded(origin, result, seconds);
    recent.succeeded(url, result, digest.bytes, seconds);
  });
  digest.once('error', (error) => {
    const failure = error instanceof DetourError ? error : undefined;
    const seconds = finish();
    metrics.failed(origin, failure?.failureClass ?? 'unknown', failure?.code ?? 'unknown', seconds);
    if (failure) recent.failed(url, failure, seconds, result);
  });
  return digest;
}

/** The 200 head: content type, the `x-detour-*` flags, length or a sha256 trailer. */
function resultHeaders(reply: FastifyReply, result: StreamResult, digest: Digest): void {
  const format = result.format;
  reply
    .code(200)
    .header('content-type', result.contentType ?? 'application/octet-stream')
    .header('x-detour-strategy', result.strategy)
    .header('x-detour-degraded', String(result.degraded))
    .header('x-detour-insecure', String(result.insecure))
    .header('x-detour-downgraded', String(result.downgraded))
    .header('x-detour-from-cache', String(result.fromCache))
    .header('x-detour-attempts', headerSafe(JSON.stringify(maskedAttempts(result.attempts))));
  if (format) reply.header('x-detour-format', format);
  if (result.converted) reply.header('x-detour-converted', JSON.stringify(result.converted));
  if (result.sha256) reply.header('x-detour-sha256', result.sha256);
  if (result.expectedBytes !== null) reply.header('content-length', result.expectedBytes);
  else if (!result.sha256) reply.trailer('x-detour-sha256', async () => digest.hex);
}

/** The fastify app: routes, auth, validation. Policy stays in the pipeline (docs/architecture.md: services are thin). */
export function buildApp(options: AppOptions): FastifyInstance {
  const { pipeline, environment, metrics, limits, shutdown } = options;
  const recent = options.recent ?? new RecentFetches();
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    serverFactory: guardedServerFactory(options.connections ?? {}, options.warn ?? warnOnStderr),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  installGuards(app, options.token, (code, message) => usageBody(null, code, message), isPublicPath);

  app.setErrorHandler(errorReply);
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(usageBody(null, 'DETOUR_BAD_REQUEST', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.get('/healthz', async () => ({ ok: true }));

  // The same function as `detour detect --json`, so the two cannot drift apart.
  app.get('/v1/detect', async () => detectAnswer(environment, options.detour));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.text();
  });

  const deps: FetchDeps = { pipeline, metrics, limits, shutdown, recent };
  // The kit checks the options' values (the same message as `detour fetch`); a problem is a 400.
  const serveChecked = (raw: RawFetchRequest, reply: FastifyReply) => {
    let request: FetchRequest;
    try {
      request = requestFrom(raw);
    } catch (error) {
      if (!(error instanceof FrontEndUsageError)) throw error;
      return reply.code(400).send(usageBody(raw.url, 'DETOUR_BAD_REQUEST', error.message));
    }
    return serveOne(deps, request, reply);
  };

  app.get<{ Querystring: RawFetchRequest }>(
    '/v1/fetch',
    { schema: { querystring: fetchQuerySchema } },
    (request, reply) => serveChecked(request.query, reply),
  );
  app.post<{ Body: RawFetchRequest }>('/v1/fetch', { schema: { body: fetchBodySchema } }, (request, reply) =>
    serveChecked(request.body, reply),
  );

  registerConsole(app, { pipeline, recent, doctor: options.doctor, shutdown });

  return app;
}
