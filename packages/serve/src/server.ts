import type { AddressInfo } from 'node:net';
import { type KeyValueStore, KeyvStore, type Pipeline } from '@detour/core';
import type { DetectedEnvironment } from '@detour/detect';
import { createDetour, type DetourOptions, detectEnvironment } from 'detour';
import type { FastifyInstance } from 'fastify';
import type Keyv from 'keyv';
import { buildApp } from './app.js';
import { isLoopbackHost } from './auth.js';
import type { DoctorRunner } from './console.js';
import { ServeMetrics } from './metrics.js';

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 7070,
  /** Re-detect the environment this often (a proxy or TUN switched on or off). */
  redetectMs: 60_000,
  /** How long in-flight fetches may run on after SIGTERM/SIGINT. */
  graceMs: 10_000,
  timeoutMs: 60_000,
  maxBytes: 50 * 1024 * 1024,
} as const;

export interface ServeOptions {
  /** Address to bind (default 127.0.0.1). A non-loopback address needs a `token`. */
  host?: string;
  /** Port (default 7070; 0 picks a free one). */
  port?: number;
  /** Bearer token required on every route but `/healthz`. */
  token?: string | undefined;
  /** `redis://…`: cache, route memory and circuit state shared with every instance on it. */
  redis?: string | undefined;
  /** How the pipeline is built (the composition root's options; `detour serve`'s pipeline flags). */
  detour?: DetourOptions;
  /** Re-detect the environment this often in ms (default 60 s; 0: only on `redetect()`). */
  redetectMs?: number;
  /** Open client connections at most (default 512); more are closed at once, with a warning. */
  maxConnections?: number | undefined;
  /** The request headers must arrive within this many ms (default 10 s). */
  headersTimeoutMs?: number | undefined;
  /** A request body must arrive within this many ms after the headers (default 30 s). */
  bodyTimeoutMs?: number | undefined;
  /** Where operator warnings go (the connection cap reached); default stderr. */
  warn?: (line: string) => void;
  /** What `POST /v1/doctor` runs (`detour serve` passes `detour doctor`'s; none: that route answers 501). */
  doctor?: DoctorRunner | undefined;
}

/** A running service. */
export interface DetourServer {
  /** `http://HOST:PORT` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Detect the environment again now (what SIGHUP does); route memory is kept per fingerprint. */
  redetect(): Promise<void>;
  /**
   * Stop accepting, let in-flight fetches finish for up to `graceMs` (default 10 s; then they are
   * aborted), close the pipeline (sockets, curl children, timers) and the Redis connection.
   */
  close(graceMs?: number): Promise<void>;
}

/** Refused before anything starts: a bad combination of options. */
export class ServeUsageError extends Error {
  override readonly name = 'ServeUsageError';
}

/** The store every shared part uses (one Redis connection per process). Loaded only when asked (RSS). */
async function connectRedis(url: string): Promise<{ store: KeyValueStore; keyv: Keyv }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ServeUsageError(`--redis takes a redis:// URL, got ${JSON.stringify(url)}`);
  }
  if (!['redis:', 'rediss:'].includes(parsed.protocol)) {
    throw new ServeUsageError(`--redis takes a redis:// or rediss:// URL, got ${parsed.protocol}`);
  }
  const [{ default: KeyvRedis }, { default: KeyvClass }] = await Promise.all([
    import('@keyv/redis'),
    import('keyv'),
  ]);
  const keyv = new KeyvClass(new KeyvRedis(url), { namespace: 'detour' });
  keyv.on('error', () => {}); // an outage is a bounded miss (KeyvStore's timeout), never a crash
  return { store: new KeyvStore(keyv), keyv };
}

/** Refuses a bad combination before anything starts. */
function checkServeOptions(options: ServeOptions, host: string, port: number): void {
  if (!options.token && !isLoopbackHost(host)) {
    throw new ServeUsageError(
      `refusing to listen on ${host} without a token: anyone who can reach it could download through this machine (give --token or DETOUR_TOKEN, or bind 127.0.0.1)`,
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ServeUsageError(`--port takes 0-65535, got ${port}`);
  }
  for (const [flag, value] of [
    ['--max-connections', options.maxConnections],
    ['--header-timeout', options.headersTimeoutMs],
    ['--body-timeout', options.bodyTimeoutMs],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new ServeUsageError(`${flag} takes a positive whole number, got ${value}`);
    }
  }
}

type SharedStore = { store: KeyValueStore; keyv: Keyv };

/** The pipeline's options: the caller's, on the detected environment, with Redis shared state when given. */
function sharedDetourOptions(
  base: DetourOptions,
  environment: DetectedEnvironment,
  shared: SharedStore | undefined,
): DetourOptions {
  const cacheOption = base.cache === false ? false : { ...base.cache };
  return {
    ...base,
    environment,
    cache: cacheOption === false ? false : { ...cacheOption, ...(shared ? { store: shared.store } : {}) },
    pipeline: {
      ...base.pipeline,
      ...(shared
        ? {
            routeMemory: { ...(base.pipeline?.routeMemory || {}), store: shared.store },
            circuit: { ...(base.pipeline?.circuit || {}), store: shared.store },
          }
        : {}),
    },
  };
}

/** The listening server's handle: its address, re-detection, and a graceful close. */
function serverHandle(
  app: FastifyInstance,
  pipeline: Pipeline,
  env: DetectedEnvironment,
  shutdown: AbortController,
  shared: SharedStore | undefined,
): DetourServer {
  const address = app.server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    host: address.address,
    port: address.port,
    redetect: async () => {
      await env.refresh();
    },
    close(graceMs = SERVE_DEFAULTS.graceMs) {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            shutdown.abort(); // in-flight fetches give up; their responses end
            app.server.closeAllConnections();
            resolve();
          }, graceMs);
        });
        await Promise.race([app.close(), late]);
        clearTimeout(timer);
        await app.close().catch(() => {});
        await pipeline.close();
        await shared?.keyv.disconnect().catch(() => {});
      })();
      return closing;
    },
  };
}

/**
 * Start `detour serve`: detect the environment, build one pipeline with `createDetour()`, listen.
 * With `redis`, the cache, route memory and circuit state are shared through it.
 */
export async function startServer(options: ServeOptions = {}): Promise<DetourServer> {
  const host = options.host ?? SERVE_DEFAULTS.host;
  const port = options.port ?? SERVE_DEFAULTS.port;
  checkServeOptions(options, host, port);
  const base = options.detour ?? {};
  const shared = options.redis ? await connectRedis(options.redis) : undefined;
  const redetectMs = options.redetectMs ?? SERVE_DEFAULTS.redetectMs;
  let environment: DetectedEnvironment | undefined;
  try {
    environment = await detectEnvironment({
      ...base,
      detect: { ...base.detect, ...(redetectMs > 0 ? { refreshMs: redetectMs } : {}) },
    });
    const pipeline = await createDetour(sharedDetourOptions(base, environment, shared));
    const shutdown = new AbortController();
    const app = buildApp({
      pipeline,
      environment,
      metrics: new ServeMetrics(),
      limits: {
        timeoutMs: base.timeoutMs ?? SERVE_DEFAULTS.timeoutMs,
        maxBytes: base.maxBytes ?? SERVE_DEFAULTS.maxBytes,
      },
      token: options.token,
      shutdown: shutdown.signal,
      detour: base,
      connections: {
        maxConnections: options.maxConnections,
        headersTimeoutMs: options.headersTimeoutMs,
        bodyTimeoutMs: options.bodyTimeoutMs,
      },
      ...(options.warn ? { warn: options.warn } : {}),
      doctor: options.doctor,
    });
    try {
      await app.listen({ host, port });
    } catch (error) {
      await app.close().catch(() => {});
      await pipeline.close();
      throw error;
    }
    return serverHandle(app, pipeline, environment, shutdown, shared);
  } catch (error) {
    environment?.close();
    await shared?.keyv.disconnect().catch(() => {});
    throw error;
  }
}
