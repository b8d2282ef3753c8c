/**
 * The operator's page (`/ui`) and the API behind it: `/v1/events` (Server-Sent Events),
 * `/v1/recent`, `/v1/hosts`, `DELETE /v1/hosts/:host`, `/v1/cache`, `POST /v1/doctor`. Every
 * `/v1/*` route takes the service's bearer token (the auth hook in app.ts); the page's own files
 * are public (they hold no data) and are served under a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import { type ExpectKind, type Pipeline, redactText, redactUrl } from '@detour/core';
import { EXPECT_KINDS } from 'detour/front-end';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RecentFetch, RecentFetches } from './recent.js';

/** What `POST /v1/doctor` runs: `detour doctor URL --json` (the CLI hands its implementation in). */
export type DoctorRunner = (
  request: { url: string; expect: ExpectKind },
  signal: AbortSignal,
) => Promise<DoctorReport>;

/** The `detour doctor --json` object (its field names are the CLI's contract). */
export interface DoctorReport {
  url: string;
  verdict: string;
  suggestions: Array<{ kind: string; text: string }>;
  /** Each strategy tried alone. */
  results: Array<{
    strategy: string;
    route: string;
    outcome: string;
    failureClass: string | null;
    code: string | null;
    ms: number;
  }>;
  /** The environment report with the URL's `route` and `plan`. */
  environment?: Record<string, unknown>;
}

export interface ConsoleOptions {
  pipeline: Pipeline;
  recent: RecentFetches;
  doctor?: DoctorRunner | undefined;
  /** Aborted at shutdown: event streams end, a doctor run gives up. */
  shutdown: AbortSignal;
}

/** The page's files: public, because they hold no data (everything comes from `/v1/*` with the token). */
const FILES: Record<string, { name: string; type: string }> = {
  '/ui': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { name: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { name: 'app.css', type: 'text/css; charset=utf-8' },
};

/** Paths the bearer token is not asked for (besides `/healthz`). */
export function isPublicPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path in FILES || path === '/ui/';
}

/** Nothing from elsewhere, no inline script or style, no framing, no form posts, no plugins. */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Read once: next to `src/` and `dist/` alike (the package ships `ui/`). */
function loadFiles(): Map<string, Buffer> {
  const dir = new URL('../ui/', import.meta.url);
  const loaded = new Map<string, Buffer>();
  for (const [path, { name }] of Object.entries(FILES)) loaded.set(path, readFileSync(new URL(name, dir)));
  return loaded;
}

/** The failure shape every route of the service answers with (`ok: false`, `error: {…}`). */
function errorBody(failureClass: string, code: string, message: string) {
  return {
    ok: false as const,
    url: null,
    strategy: null,
    degraded: false,
    fromCache: false,
    attempts: [],
    error: { failureClass, code, message },
  };
}

const HOST_PARAM = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/;

/** The origins `DELETE /v1/hosts/:host` acts on: those seen with this host, else https and http. */
function originsFor(host: string, recent: RecentFetches): string[] {
  const seen = recent
    .origins()
    .filter((o) => o.host === host)
    .map((o) => o.origin);
  return seen.length ? seen : [`https://${host}`, `http://${host}`];
}

/** Most bytes an event stream may have waiting for a slow reader before it is closed. */
const EVENT_BACKLOG = 1024 * 1024;

function serveEvents(reply: FastifyReply, recent: RecentFetches, streams: Set<() => void>): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
  });
  res.write('retry: 2000\n: detour events\n\n');
  const send = (fetch: RecentFetch) => {
    if (res.writableLength > EVENT_BACKLOG) return end(); // a reader that stopped reading
    res.write(`id: ${fetch.id}\nevent: fetch\ndata: ${JSON.stringify(fetch)}\n\n`);
  };
  const unsubscribe = recent.subscribe(send);
  const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  beat.unref();
  const end = () => {
    if (!streams.delete(end)) return;
    clearInterval(beat);
    unsubscribe();
    res.end();
  };
  streams.add(end);
  res.once('close', end);
}

/** Register the page and its API on the app (before it listens). */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions): void {
  const { pipeline, recent, shutdown } = options;
  const files = loadFiles();
  const streams = new Set<() => void>();
  const endStreams = () => {
    for (const end of [...streams]) end();
  };
  // Event streams never end by themselves: end them, so a graceful close does not wait for them.
  app.addHook('preClose', async () => endStreams());
  shutdown.addEventListener('abort', endStreams, { once: true });

  for (const [path, { type }] of Object.entries(FILES)) {
    app.get(path, async (_request, reply) =>
      reply
        .header('content-type', type)
        .header('content-security-policy', UI_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .send(files.get(path)),
    );
  }
  app.get('/ui/', async (_request, reply) => reply.redirect('../ui', 301));

  app.get('/v1/events', (_request, reply) => serveEvents(reply, recent, streams));

  app.get('/v1/recent', async () => ({ size: recent.size, fetches: recent.list(), totals: recent.totals }));

  registerHosts(app, pipeline, recent);

  app.get('/v1/cache', async () => {
    const t = recent.totals;
    return {
      hits: t.fromCache,
      misses: t.fetches - t.fromCache,
      bytesFromCache: t.cacheBytes,
      hitsByTier: t.cacheHitsByTier,
      tiers: pipeline.cacheTiers(),
    };
  });

  registerDoctor(app, options);
}

/** `GET /v1/hosts` and `DELETE /v1/hosts/:host`: per origin seen, its learned route and circuit; forget. */
function registerHosts(app: FastifyInstance, pipeline: Pipeline, recent: RecentFetches): void {
  app.get('/v1/hosts', async () => {
    const hosts = await Promise.all(
      recent.origins().map(async ({ origin, host, lastSeen }) => {
        const state = await pipeline.inspectOrigin(origin).catch(() => undefined);
        return {
          host,
          origin,
          lastSeen: new Date(lastSeen).toISOString(),
          route: state?.route
            ? {
                winner: state.route.winner,
                failed: state.route.failed,
                learnedAt: new Date(state.route.learnedAt).toISOString(),
                expiresAt: new Date(state.route.expiresAt).toISOString(),
              }
            : null,
          circuit: state?.circuit
            ? {
                state: state.circuit.state,
                failures: state.circuit.failures,
                retryAt:
                  state.circuit.retryAt === undefined ? null : new Date(state.circuit.retryAt).toISOString(),
              }
            : null,
        };
      }),
    );
    return { hosts };
  });

  app.delete<{ Params: { host: string } }>('/v1/hosts/:host', async (request, reply) => {
    const host = request.params.host.toLowerCase();
    if (host.length > 300 || !HOST_PARAM.test(host)) {
      return reply
        .code(400)
        .send(
          errorBody(
            'blocked',
            'DETOUR_BAD_REQUEST',
            `not a host name: ${JSON.stringify(redactText(host.slice(0, 100)))}`,
          ),
        );
    }
    const origins = originsFor(host, recent);
    for (const origin of origins) await pipeline.forgetOrigin(origin);
    return { ok: true, host, forgotten: origins };
  });
}

const DOCTOR_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 8192 },
    expect: { type: 'string', enum: [...EXPECT_KINDS] },
  },
};

/** The URL when it parses and is http(s), else undefined. */
function httpUrl(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function registerDoctor(app: FastifyInstance, options: ConsoleOptions): void {
  const { doctor, shutdown } = options;
  let running = false;
  app.post<{ Body: { url: string; expect?: ExpectKind } }>(
    '/v1/doctor',
    { schema: { body: DOCTOR_BODY_SCHEMA } },
    async (request, reply) => {
      const { url, expect = 'any' } = request.body;
      const parsed = httpUrl(url);
      if (!parsed) {
        return reply
          .code(400)
          .send(
            errorBody('blocked', 'DETOUR_BAD_URL', `not an http(s) URL: ${JSON.stringify(redactUrl(url))}`),
          );
      }
      if (!doctor) {
        return reply
          .code(501)
          .send(
            errorBody(
              'unknown',
              'DETOUR_NO_DOCTOR',
              'this service was started without a doctor (detour serve has one)',
            ),
          );
      }
      // One at a time: a doctor run tries every strategy at once, alone, with nothing cached.
      if (running) {
        return reply
          .code(429)
          .send(
            errorBody('unavailable', 'DETOUR_BUSY', 'a doctor run is in progress; try again when it ends'),
          );
      }
      running = true;
      const abort = new AbortController();
      const onShutdown = () => abort.abort();
      shutdown.addEventListener('abort', onShutdown, { once: true });
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      try {
        const report = await doctor({ url: parsed.toString(), expect }, abort.signal);
        return { ...report, url: redactUrl(report.url) };
      } finally {
        running = false;
        shutdown.removeEventListener('abort', onShutdown);
      }
    },
  );
}
