import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import got, { type OptionsInit } from 'got';
import { DetourError } from '../errors.js';
import { describeRoute } from '../redact.js';
import type { AttemptResponse, HeaderValue, Route, TlsOptions } from '../types.js';
import { AgentPool, type AgentPoolOptions } from './agents.js';
import { assertPublicHost, assertPublicName, guardedLookup } from './lookup.js';

/** Per-phase timeouts in ms (got's names). The attempt deadline bounds them all. */
export interface PhaseTimeouts {
  lookup: number;
  connect: number;
  secureConnect: number;
  /** Until the response headers arrive. */
  response: number;
  /** Longest silence on the socket while the body streams. */
  socket: number;
  /**
   * Connecting to a proxy and getting its tunnel answer (HTTP CONNECT, SOCKS handshake): a proxy
   * that accepts and never answers fails with `proxy` / `DETOUR_PROXY_TIMEOUT` after this long.
   */
  proxy: number;
}

export const DEFAULT_TIMEOUTS: PhaseTimeouts = {
  lookup: 5_000,
  connect: 10_000,
  secureConnect: 10_000,
  response: 20_000,
  socket: 20_000,
  proxy: 3_000,
};

export interface TransportRequest {
  url: URL;
  headers: Readonly<Record<string, string>>;
  route: Route;
  tls: Readonly<TlsOptions>;
  maxRedirects: number;
  allowPrivateNetwork: boolean;
  timeouts?: Partial<PhaseTimeouts> | undefined;
  /** Decode gzip/deflate/br bodies (default true). */
  decompress?: boolean;
  /**
   * Through a proxy that resolves names (HTTP CONNECT, `socks5h://`), resolve the name here,
   * check it, and send the checked address instead (default false: the proxy gets the name).
   */
  pinResolvedAddress?: boolean | undefined;
}

export interface TransportOptions extends Partial<AgentPoolOptions> {
  timeouts?: Partial<PhaseTimeouts>;
}

/**
 * The one HTTP client of Detour: got over pooled keep-alive agents for every route. It returns as
 * soon as headers arrive; the body is a stream the orchestrator reads (and limits).
 */
export class Transport {
  readonly #agents: AgentPool;
  readonly #timeouts: PhaseTimeouts;

  constructor(options: TransportOptions = {}) {
    this.#agents = new AgentPool(options);
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  async request(req: TransportRequest, signal: AbortSignal): Promise<AttemptResponse> {
    signal.throwIfAborted();
    const resolvesHere = resolvesLocally(req);
    if (!req.allowPrivateNetwork) {
      // Where the name is resolved here, the guarded lookup checks it at connect time (and the
      // agent connects to that checked address); only IP literals need a check up front.
      if (resolvesHere) assertPublicHost(req.url);
      else await assertPublicName(req.url);
    }
    const timeouts = { ...this.#timeouts, ...req.timeouts };
    const agents = this.#agents.for(req.route, req.tls, {
      timeoutMs: timeouts.proxy,
      pin: !!req.pinResolvedAddress,
    });
    const options: OptionsInit = {
      method: 'GET',
      headers: { ...req.headers },
      agent: { http: agents.http, https: agents.https },
      // CAs, ciphers, versions and options live in the agent's secure context (agents.ts).
      https: { rejectUnauthorized: req.tls.rejectUnauthorized },
      followRedirect: true,
      maxRedirects: req.maxRedirects,
      throwHttpErrors: false,
      retry: { limit: 0 },
      decompress: req.decompress ?? true,
      signal,
      timeout: {
        lookup: timeouts.lookup,
        connect: timeouts.connect,
        secureConnect: timeouts.secureConnect,
        response: timeouts.response,
        socket: timeouts.socket,
      },
      ...(resolvesHere && !req.allowPrivateNetwork ? { dnsLookup: guardedLookup } : {}),
      hooks: {
        beforeRedirect: [(next: { url?: unknown }) => checkRedirect(next, req)],
      },
    };
    const stream = got.stream(req.url, options as never);
    // A stream that errors before anyone listens must not become an unhandled 'error'.
    const response = await (once(stream, 'response') as Promise<[IncomingMessage & { url?: string }]>).catch(
      (error: unknown) => {
        stream.destroy();
        throw proxyFailure(error, req.route) ?? error;
      },
    );
    const res = response[0];
    return {
      status: res.statusCode ?? 0,
      headers: res.headers as Record<string, HeaderValue>,
      body: stream,
      finalUrl: res.url ?? req.url.toString(),
      route: req.route,
      decoded: (req.decompress ?? true) && !!res.headers['content-encoding'],
    };
  }

  openSockets(): number {
    return this.#agents.openSockets();
  }

  close(): void {
    this.#agents.destroy();
  }
}

/**
 * A connection error while talking to the proxy itself (refused, reset, unreachable) is a `proxy`
 * failure, not the origin's: it is what `direct-bypass` rescues.
 */
function proxyFailure(error: unknown, route: Route): DetourError | undefined {
  if (route.kind === 'direct') return undefined;
  const proxy = new URL(route.url);
  const port = Number(
    proxy.port || (proxy.protocol === 'https:' ? 443 : proxy.protocol === 'http:' ? 80 : 1080),
  );
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  for (
    let e = error as { cause?: unknown; port?: unknown; address?: unknown; code?: unknown } | undefined;
    e;
  ) {
    if (e.port === port && (e.address === undefined || e.address === host || host === 'localhost')) {
      const code = typeof e.code === 'string' ? e.code : 'EPROXY';
      return new DetourError(`proxy ${describeRoute(route)} failed: ${code}`, {
        failureClass: 'proxy',
        code,
        cause: error,
      });
    }
    e = e.cause as typeof e;
  }
  return undefined;
}

async function checkRedirect(next: { url?: unknown }, req: TransportRequest): Promise<void> {
  const url = next.url instanceof URL ? next.url : new URL(String(next.url));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DetourError(`redirect to ${url.protocol} refused`, {
      failureClass: 'blocked',
      code: 'ERR_UNSUPPORTED_PROTOCOL',
    });
  }
  if (req.allowPrivateNetwork) return;
  if (resolvesLocally(req)) assertPublicHost(url);
  else await assertPublicName(url);
}

/** SOCKS routes whose client resolves names (`socks4://`, `socks5://`), as curl and socks-proxy-agent do. */
const LOCAL_LOOKUP_SOCKS = new Set(['socks4:', 'socks5:']);

/**
 * Whether the name is resolved in this process (and so pinned to the guarded lookup's answer):
 * direct, SOCKS with local lookup, or any proxy with `pinResolvedAddress`.
 */
export function resolvesLocally(req: Pick<TransportRequest, 'route' | 'pinResolvedAddress'>): boolean {
  if (req.route.kind === 'direct' || req.pinResolvedAddress) return true;
  return req.route.kind === 'socks' && LOCAL_LOOKUP_SOCKS.has(new URL(req.route.url).protocol);
}
