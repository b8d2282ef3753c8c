import http from 'node:http';
import https from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { DetourError } from '../errors.js';
import type { Route, TlsOptions } from '../types/index.js';
import {
  DeadlineHttpProxyAgent,
  DeadlineHttpsProxyAgent,
  type ProxyConnectSettings,
} from './proxy-agents.js';

type SocksAgentModule = typeof import('./socks-agent.js');
let socksAgent: SocksAgentModule | undefined;
let loadingSocks: Promise<SocksAgentModule> | undefined;

export interface AgentPair {
  http: http.Agent;
  https: https.Agent;
}

export interface AgentPoolOptions {
  /** Sockets per origin, per route. */
  maxSockets: number;
  /** Idle keep-alive sockets kept per origin. */
  maxFreeSockets: number;
}

/** Default proxy settings: a 3 s deadline to open a tunnel; the proxy resolves names where it can. */
export const DEFAULT_PROXY_SETTINGS: ProxyConnectSettings = { timeoutMs: 3_000, pin: false };

const SOCKS_PROTOCOLS = new Set(['socks:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:']);
const HTTP_PROXY_PROTOCOLS = new Set(['http:', 'https:']);

/** Parse a proxy URL into a Route, or throw a usage error naming what is wrong (credentials never echoed). */
export function routeFromProxyUrl(proxy: string): Route {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`);
  } catch {
    throw new DetourError('invalid proxy URL', { failureClass: 'blocked', code: 'DETOUR_BAD_PROXY' });
  }
  if (SOCKS_PROTOCOLS.has(url.protocol)) return { kind: 'socks', url: url.toString() };
  if (HTTP_PROXY_PROTOCOLS.has(url.protocol)) return { kind: 'http-proxy', url: url.toString() };
  throw new DetourError(`unsupported proxy scheme ${url.protocol}`, {
    failureClass: 'blocked',
    code: 'DETOUR_BAD_PROXY',
  });
}

const caIds = new WeakMap<object, number>();
let nextCaId = 1;

/**
 * A short key for the TLS settings that live in a secure context (trusted CAs, ciphers, versions,
 * options), or undefined for Node's default context. The CA list is keyed by identity: options
 * build it once per pipeline.
 */
export function tlsContextKey(tls: Readonly<TlsOptions> | undefined): string | undefined {
  if (!tls || (!tls.ca && !tls.ciphers && !tls.minVersion && !tls.maxVersion && !tls.secureOptions))
    return undefined;
  let caId = 0;
  if (tls.ca) {
    caId = caIds.get(tls.ca) ?? nextCaId++;
    caIds.set(tls.ca, caId);
  }
  return `ca${caId}|${tls.ciphers ?? ''}|${tls.minVersion ?? ''}|${tls.maxVersion ?? ''}|${tls.secureOptions ?? 0}`;
}

function secureContextFor(tls: Readonly<Partial<TlsOptions>>): SecureContext {
  const extra = tls.ca ? addedToRoots(tls.ca) : undefined;
  const context = createSecureContext({
    ...(tls.ca && !extra ? { ca: tls.ca } : {}),
    ...(tls.ciphers ? { ciphers: tls.ciphers } : {}),
    ...(tls.minVersion ? { minVersion: tls.minVersion } : {}),
    ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
    ...(tls.secureOptions ? { secureOptions: tls.secureOptions } : {}),
  });
  // What Node does with each entry of a `ca` option (tls.createSecureContext), on a context that
  // starts from its default roots: the first one copies the roots already parsed (D37).
  for (const pem of extra ?? []) context.context.addCACert(pem);
  return context;
}

/**
 * The CAs `ca` adds to Node's roots when it is Node's roots followed by others (the `ca` option's
 * trust, options.ts), else undefined. Given as a `ca` option, those ~140 roots are parsed again from
 * PEM for each context: ~60 ms of CPU on the first fetch. Started from the default roots, a
 * context reuses the roots Node parsed once per process.
 */
function addedToRoots(ca: NonNullable<TlsOptions['ca']>): (string | Buffer)[] | undefined {
  if (ca.length <= rootCertificates.length) return undefined;
  for (let i = 0; i < rootCertificates.length; i++) if (ca[i] !== rootCertificates[i]) return undefined;
  return ca.slice(rootCertificates.length);
}

/**
 * Keep-alive agents, one pair per route and TLS context, so sockets are reused across requests and strategies
 * and all freed by `destroy()`. The TLS settings are built into one secure context per agent,
 * Node's default trust included: passing the full CA list per request made Node rebuild a context
 * for every connection and key its socket pool by ~200 KB of PEM text (the bench measured 2.5x
 * got's latency), and without a context Node builds one per connection (~0.2 ms, D36).
 */
export class AgentPool {
  readonly #pairs = new Map<string, AgentPair>();
  readonly #options: AgentPoolOptions;

  constructor(options: Partial<AgentPoolOptions> = {}) {
    this.#options = { maxSockets: options.maxSockets ?? 64, maxFreeSockets: options.maxFreeSockets ?? 16 };
  }

  /**
   * Load what `route` needs before `for()` builds its agents: the SOCKS agent is loaded on the
   * first SOCKS route (it is heavy, and most processes never use one). A no-op for other routes.
   */
  async prepare(route: Route): Promise<void> {
    if (route.kind !== 'socks' || socksAgent) return;
    loadingSocks ??= import('./socks-agent.js');
    socksAgent = await loadingSocks;
  }

  /** The agents for `route` and `tls` (a SOCKS route needs `await prepare(route)` once first); `proxy` says how a proxy route treats its proxy. */
  for(
    route: Route,
    tls?: Readonly<TlsOptions>,
    proxy: Readonly<ProxyConnectSettings> = DEFAULT_PROXY_SETTINGS,
  ): AgentPair {
    const tlsKey = tlsContextKey(tls);
    const routeKey =
      route.kind === 'direct' ? 'direct' : `${route.url}|${proxy.timeoutMs}|${proxy.pin ? 'pin' : ''}`;
    const key = `${routeKey}#${tlsKey ?? 'default'}`;
    let pair = this.#pairs.get(key);
    if (!pair) {
      pair = this.#create(route, secureContextFor(tls ?? {}), proxy);
      this.#pairs.set(key, pair);
    }
    return pair;
  }

  #create(route: Route, secureContext: SecureContext, proxy: Readonly<ProxyConnectSettings>): AgentPair {
    const common = {
      keepAlive: true,
      maxSockets: this.#options.maxSockets,
      maxFreeSockets: this.#options.maxFreeSockets,
      scheduling: 'lifo' as const,
      secureContext,
    };
    switch (route.kind) {
      case 'direct':
        return { http: new http.Agent(common), https: new https.Agent(common) };
      case 'http-proxy':
        return {
          http: new DeadlineHttpProxyAgent({ ...common, proxy: route.url }, proxy),
          https: new DeadlineHttpsProxyAgent({ ...common, proxy: route.url }, proxy),
        };
      case 'socks': {
        if (!socksAgent) throw new Error('AgentPool: await prepare(route) before the first SOCKS route');
        const agent = new socksAgent.DeadlineSocksAgent(route.url, common, proxy);
        return { http: agent as unknown as http.Agent, https: agent as unknown as https.Agent };
      }
    }
  }

  /** Open sockets across every agent (in use + idle), for tests and benchmarks. */
  openSockets(): number {
    let count = 0;
    for (const pair of this.#pairs.values()) {
      for (const agent of new Set<http.Agent>([pair.http, pair.https])) {
        for (const list of [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)]) {
          count += list?.length ?? 0;
        }
      }
    }
    return count;
  }

  destroy(): void {
    for (const pair of this.#pairs.values()) {
      pair.http.destroy();
      pair.https.destroy();
    }
    this.#pairs.clear();
  }
}
