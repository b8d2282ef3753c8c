/**
 * What stands between the network and the routes: the connection cap, header and body deadlines,
 * the bearer token (a refused client is answered and cut off, its body never read), and, without
 * a token, the DNS-rebinding guard (only the service's own address or `localhost` as `Host`; no
 * browser request from a foreign page). Kept apart from the routes (app.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerCheck } from './auth.js';

export const GUARD_DEFAULTS = {
  /** Open client connections at most; more are closed at once (and logged). */
  maxConnections: 512,
  /** The request line and headers must arrive within this (slow-header clients are cut off). */
  headersTimeoutMs: 10_000,
  /** A request body must arrive within this after the headers. */
  bodyTimeoutMs: 30_000,
} as const;

export interface ConnectionLimits {
  maxConnections?: number | undefined;
  headersTimeoutMs?: number | undefined;
  bodyTimeoutMs?: number | undefined;
}

/** How often a warning about the same thing may repeat. */
const WARN_EVERY_MS = 10_000;

/**
 * The HTTP server fastify runs on: Node's own header and request deadlines (checked every
 * second, not every 30 s), and `maxConnections` with one warning per 10 s while it refuses.
 */
export function guardedServerFactory(limits: ConnectionLimits, warn: (line: string) => void) {
  const max = limits.maxConnections ?? GUARD_DEFAULTS.maxConnections;
  const headersTimeout = limits.headersTimeoutMs ?? GUARD_DEFAULTS.headersTimeoutMs;
  const bodyTimeout = limits.bodyTimeoutMs ?? GUARD_DEFAULTS.bodyTimeoutMs;
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer(
      {
        headersTimeout,
        // Node's requestTimeout runs from the first byte of the request to its last.
        requestTimeout: headersTimeout + bodyTimeout,
        connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      },
      handler,
    );
    server.maxConnections = max;
    let lastWarning = 0;
    let dropped = 0;
    server.on('drop', () => {
      dropped++;
      const now = Date.now();
      if (now - lastWarning < WARN_EVERY_MS) return;
      lastWarning = now;
      warn(
        `detour serve: connection cap reached (${max} open, --max-connections): refusing new connections (${dropped} refused so far)`,
      );
    });
    return server;
  };
}

/** Stop after this answer: `Connection: close`, and Node closes the socket without reading more. */
function refuse(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('connection', 'close').send(body);
}

/** `host:port`, `[v6]:port` or `host` → the lower-case name or address, brackets and final dot gone. */
export function hostnameOf(authority: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(authority);
  const name = bracketed ? bracketed[1]! : authority.replace(/:\d*$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

const stripMapped = (address: string) => address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');

/** `Host` names this very service: the address the connection came in on, or `localhost`. */
export function isOwnHost(authority: string | undefined, localAddress: string | undefined): boolean {
  if (authority === undefined) return true; // HTTP/1.0 without Host: no browser sends that
  const name = hostnameOf(authority);
  return name === 'localhost' || (localAddress !== undefined && name === stripMapped(localAddress));
}

/** A browser request from a page of another origin: a foreign `Origin`, or `Sec-Fetch-Site` saying so. */
export function isForeignBrowserRequest(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return true; // `null` (a sandboxed frame, a file: page) or garbage
  }
  return (
    parsed.protocol !== 'http:' ||
    !isOwnHost(parsed.host, request.socket.localAddress) ||
    Number(parsed.port || 80) !== request.socket.localPort
  );
}

type Refusal = (code: string, message: string) => unknown;

/**
 * With a token: every route but `/healthz` needs it; a refusal is a 401 that closes the
 * connection before the body is read. Without one: the DNS-rebinding guard (421 for a foreign
 * `Host`, 403 for a foreign page).
 */
export function installGuards(
  app: FastifyInstance,
  token: string | undefined,
  body: Refusal,
  /** Paths served without the token (the operator page's own files: it asks for the token). */
  isPublic: (url: string) => boolean = () => false,
): void {
  const authorized = token ? bearerCheck(token) : undefined;
  app.addHook('onRequest', async (request, reply) => {
    if (!authorized) {
      if (!isOwnHost(request.headers.host, request.socket.localAddress)) {
        return refuse(
          reply,
          421,
          body(
            'DETOUR_FOREIGN_HOST',
            'Host is not this service (only its own address or localhost without a token: DNS rebinding guard)',
          ),
        );
      }
      if (isForeignBrowserRequest(request)) {
        return refuse(
          reply,
          403,
          body('DETOUR_FOREIGN_ORIGIN', 'a browser request from another origin is refused without a token'),
        );
      }
      return;
    }
    if (request.url === '/healthz' || isPublic(request.url) || authorized(request.headers.authorization))
      return;
    reply.header('www-authenticate', 'Bearer realm="detour"');
    return refuse(
      reply,
      401,
      body('DETOUR_UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer TOKEN)'),
    );
  });
}
