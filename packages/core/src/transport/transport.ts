import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import got, { AbortError, type Got, type NormalizedOptions, type OptionsInit, TimeoutError } from 'got';
import { onAbort } from '../abort.js';
import { classifyError } from '../classify.js';
import { DetourError } from '../errors.js';
import { describeRoute } from '../redact.js';
import type {
  AttemptResponse,
  HeaderValue,
  HttpTransport,
  PhaseTimeouts,
  Route,
  TransportRequest,
} from '../types/index.js';
import { type AgentPair, AgentPool, type AgentPoolOptions } from './agents.js';
import { assertPublicHost, assertPublicName, guardedLookup } from './lookup.js';

export type { PhaseTimeouts, TransportRequest } from '../types/index.js';

export const DEFAULT_TIMEOUTS: PhaseTimeouts = {
  lookup: 5_000,
  connect: 10_000,
  secureConnect: 10_000,
  response: 20_000,
  socket: 20_000,
  proxy: 3_000,
};

export interface TransportOptions extends Partial<AgentPoolOptions> {
  timeouts?: Partial<PhaseTimeouts>;
}

/**
 * The one HTTP client of Detour: got over pooled keep-alive agents for every route. It returns as
 * soon as headers arrive; the body is a stream the orchestrator reads (and limits). It follows no
 * redirect: `followWithRetries` (kit) does, hop by hop, for every client alike.
 */
export class Transport implements HttpTransport {
  readonly #agents: AgentPool;
  readonly #timeouts: PhaseTimeouts;
  /** got instances with the per-route settings built in, per agent pair and settings key. */
  readonly #clients = new WeakMap<AgentPair, Map<string, Got>>();
  /**
   * The got instance of the last request and the settings objects it was chosen for: the fetches
   * of one pipeline hand the same route, TLS and timeout objects every time, so the lookup (two
   * keys built from a dozen fields) is skipped while they stay the same objects.
   */
  #last: { req: Pick<TransportRequest, 'route' | 'tls' | 'timeouts'> & Settings; client: Got } | undefined;

  constructor(options: TransportOptions = {}) {
    this.#agents = new AgentPool(options);
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  async request(req: TransportRequest, signal: AbortSignal): Promise<AttemptResponse> {
    signal.throwIfAborted();
    assertHttpScheme(req.url);
    const resolvesHere = resolvesLocally(req);
    if (!req.allowPrivateNetwork) {
      // Where the name is resolved here, the guarded lookup checks it at connect time (and the
      // agent connects to that checked address); only IP literals need a check up front.
      if (resolvesHere) assertPublicHost(req.url);
      else await assertPublicName(req.url);
    }
    if (req.route.kind === 'socks') await this.#agents.prepare(req.route);
    const client = this.#clientFor(req, resolvesHere && !req.allowPrivateNetwork);
    for (let resent = 0; ; resent++) {
      const sent = await exchange(client, req, signal);
      if ('response' in sent) return sent.response;
      // The keep-alive race (D38): a pooled connection the server closed just as this request went
      // out on it. Not a failure of the route: nothing was received, and a GET may go out again, on
      // another connection. Anything else (a new connection's failure) is the caller's to judge.
      const stale =
        sent.reused && !signal.aborted && classifyError(sent.error).failureClass === 'connect-reset';
      if (!stale || resent >= STALE_CONNECTION_RESENDS)
        throw proxyFailure(sent.error, req.route) ?? sent.error;
    }
  }

  /** The got instance for this request's route, TLS and settings (the last one when they are the same). */
  #clientFor(req: TransportRequest, guarded: boolean): Got {
    const decompress = req.decompress ?? true;
    const pin = !!req.pinResolvedAddress;
    const last = this.#last;
    if (
      last &&
      last.req.route === req.route &&
      last.req.tls === req.tls &&
      last.req.timeouts === req.timeouts &&
      last.req.decompress === decompress &&
      last.req.pin === pin &&
      last.req.guarded === guarded
    )
      return last.client;
    const agents = this.#agents.for(req.route, req.tls, {
      timeoutMs: req.timeouts?.proxy ?? this.#timeouts.proxy,
      pin,
    });
    const client = this.#client(agents, req, guarded);
    this.#last = {
      req: { route: req.route, tls: req.tls, timeouts: req.timeouts, decompress, pin, guarded },
      client,
    };
    return client;
  }

  /**
   * The got instance for these agents and settings (TLS verification, phase timeouts,
   * decompression, guarded lookup), made once and reused: a per-request options object of a dozen
   * keys cost got ~20 µs of merging per fetch.
   */
  #client(agents: AgentPair, req: TransportRequest, guarded: boolean): Got {
    const timeouts = req.timeouts ? { ...this.#timeouts, ...req.timeouts } : this.#timeouts;
    const decompress = req.decompress ?? true;
    const key = `${req.tls.rejectUnauthorized}|${decompress}|${guarded}|${timeouts.lookup}|${timeouts.connect}|${timeouts.secureConnect}|${timeouts.response}|${timeouts.socket}`;
    let byKey = this.#clients.get(agents);
    if (!byKey) {
      byKey = new Map();
      this.#clients.set(agents, byKey);
    }
    let client = byKey.get(key);
    if (!client) {
      client = got.extend({
        method: 'GET',
        agent: { http: agents.http, https: agents.https },
        // CAs, ciphers, versions and options live in the agent's secure context (agents.ts).
        https: { rejectUnauthorized: req.tls.rejectUnauthorized },
        followRedirect: false,
        throwHttpErrors: false,
        retry: { limit: 0 },
        hooks: { beforeRequest: [emptyCacheOptions] },
        decompress,
        timeout: {
          lookup: timeouts.lookup,
          connect: timeouts.connect,
          secureConnect: timeouts.secureConnect,
          response: timeouts.response,
          socket: timeouts.socket,
        },
        ...(guarded ? { dnsLookup: guardedLookup } : {}),
      });
      byKey.set(key, client);
    }
    return client;
  }

  openSockets(): number {
    return this.#agents.openSockets();
  }

  close(): void {
    this.#last = undefined;
    this.#agents.destroy();
  }
}

/**
 * How many times one request is sent again after a kept-alive connection turned out closed (D38).
 * A few cover the race; a pool of dead connections is a server that restarted, whose closes
 * normally reach the pool first.
 */
export const STALE_CONNECTION_RESENDS = 3;

/** One exchange on whichever connection the agent hands out: the response head, or the error and whether the connection was a reused one. */
async function exchange(
  client: Got,
  req: TransportRequest,
  signal: AbortSignal,
): Promise<{ response: AttemptResponse } | { error: unknown; reused: boolean }> {
  // Only what changes per request is merged here: got's option merging is a measurable share
  // of a small fetch (bench figure 1), the rest lives in the cached instance.
  // `isStream` here, not `client.stream()`: that spreads the options into a copy with the key added.
  // The signal is not got's `signal` option: got would add an EventTarget listener (~4 µs with
  // its removal on Node 20); `onAbort` on an attempt's signal is a Set add (abort.ts). The
  // stream is destroyed with the error got's option gives.
  const options: OptionsInit & { isStream: true } = { headers: req.headers, isStream: true };
  const stream = client(req.url, options as never) as unknown as ReturnType<Got['stream']>;
  const abort = () => stream.destroy(abortError(signal, stream));
  if (signal.aborted) abort();
  else stream.once('close', onAbort(signal, abort));
  let res: IncomingMessage & { url?: string };
  try {
    // A stream that errors before anyone listens must not become an unhandled 'error'.
    [res] = (await once(stream, 'response')) as [IncomingMessage & { url?: string }];
  } catch (error) {
    const reused = stream.reusedSocket === true;
    stream.destroy();
    return { error, reused };
  }
  return {
    response: {
      status: res.statusCode ?? 0,
      headers: res.headers as Record<string, HeaderValue>,
      body: stream,
      finalUrl: res.url ?? req.url.toString(),
      route: req.route,
      decoded: (req.decompress ?? true) && !!res.headers['content-encoding'],
    },
  };
}

/** What got's `signal` option destroys a request with: a TimeoutError for a timeout's reason, else an AbortError. */
function abortError(signal: AbortSignal, stream: ReturnType<Got['stream']>): Error {
  const reason = signal.reason as { name?: unknown } | undefined;
  return reason?.name === 'TimeoutError'
    ? new TimeoutError(
        reason as ConstructorParameters<typeof TimeoutError>[0],
        stream.timings as NonNullable<typeof stream.timings>,
        stream,
      )
    : new AbortError(stream);
}

/** What else chooses a request's got instance besides its route, TLS and timeouts. */
interface Settings {
  decompress: boolean;
  pin: boolean;
  guarded: boolean;
}

/**
 * got 14 builds each request's options for Node as `{ ...cacheOptions, ...unixOptions, <30 keys> }`
 * (createNativeRequestOptions). Its default `cacheOptions` holds four keys, all undefined, and on
 * Node 20 adding keys after spreading a non-empty object takes V8's slow path: ~45 µs per request,
 * the largest single cost of a small fetch. An empty `cacheOptions` means the same (they only
 * matter with got's own HTTP cache, which Detour never sets) and takes ~3 µs. Set per request,
 * before got builds those options (D35).
 */
export function emptyCacheOptions(options: NormalizedOptions): void {
  options.cacheOptions = {};
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

/** Only http: and https: ever leave the process (a redirect to file: or ftp: is refused). */
export function assertHttpScheme(url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DetourError(`${url.protocol} URLs are refused (http: and https: only)`, {
      failureClass: 'blocked',
      code: 'ERR_UNSUPPORTED_PROTOCOL',
    });
  }
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
