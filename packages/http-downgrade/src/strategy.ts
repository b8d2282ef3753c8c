import {
  type AttemptRequest,
  type AttemptResponse,
  DetourUsageError,
  type FailureClass,
  hostMatches,
  type Strategy,
  strictAttempt,
  withoutCredentials,
} from '@detour/core/internal';

/**
 * Failures plain HTTP can get around: the TLS layer broken by something in the way (handshake
 * alerts, protocol refusals, resets and stalls during the handshake). Certificate failures are left
 * out on purpose (README: a certificate failure is evidence of interception; plaintext would hand
 * the interceptor the content without even needing a certificate).
 */
export const DOWNGRADE_RESCUES: ReadonlySet<FailureClass> = new Set<FailureClass>([
  'tls-handshake',
  'tls-protocol',
  'connect-reset',
  'timeout',
]);

/**
 * Which http: port to use for an https: URL. Keys are `host:port` (`host` may be a pattern like
 * `*.qpic.cn`; `port` is the https port, 443 when the URL has none); or a function returning the
 * port, or undefined to keep the default rule.
 */
export type PortMap = Readonly<Record<string, number>> | ((url: URL) => number | undefined);

export interface HttpDowngradeOptions {
  /** Hosts allowed to be fetched over plain HTTP (`multimedia.nt.qq.com.cn`, `*.qpic.cn`). Required. */
  hosts: readonly string[];
  /**
   * Port mapping. Default rule: an https: URL without a port goes to port 80; an explicit port is
   * kept (`https://h:8443/` → `http://h:8443/`), unless this map says otherwise.
   */
  ports?: PortMap;
  /** Send `Authorization`/`Cookie` headers over plain HTTP too (default false: they are dropped). */
  sendCredentials?: boolean;
}

/** The http: URL tried for an https: one: same host, path and query; port by the rule above. */
export function downgradeUrl(url: URL, ports?: PortMap): URL {
  const httpsPort = url.port === '' ? 443 : Number(url.port);
  const mapped =
    typeof ports === 'function' ? ports(url) : ports ? lookupPort(ports, url.hostname, httpsPort) : undefined;
  const next = new URL(url.toString());
  next.protocol = 'http:';
  // Changing the scheme keeps an explicit port and leaves a default one default (443 → 80).
  if (mapped !== undefined) next.port = String(mapped);
  return next;
}

function lookupPort(
  ports: Readonly<Record<string, number>>,
  host: string,
  httpsPort: number,
): number | undefined {
  const exact = ports[`${host}:${httpsPort}`];
  if (exact !== undefined) return exact;
  for (const [key, port] of Object.entries(ports)) {
    const colon = key.lastIndexOf(':');
    if (colon <= 0) continue;
    if (Number(key.slice(colon + 1)) === httpsPort && hostMatches(host, [key.slice(0, colon)])) return port;
  }
  return undefined;
}

/**
 * `http-downgrade`: for hosts the caller opted in, the same request over plain `http://` through
 * the same route. The response is marked `downgraded`. Redirects (also back to https:) are followed
 * by the transport as for any request.
 */
export class HttpDowngradeStrategy implements Strategy {
  readonly name = 'http-downgrade';
  readonly stage = 'fallback' as const;
  readonly reason = 'plain HTTP, only for the hosts the caller opted in';
  readonly plaintext = true;
  readonly rescues = DOWNGRADE_RESCUES;
  readonly #options: HttpDowngradeOptions;

  constructor(options: HttpDowngradeOptions) {
    if (!options || !Array.isArray(options.hosts)) {
      throw new DetourUsageError('http-downgrade needs a `hosts` list (the hosts allowed over plain HTTP)');
    }
    for (const [key, port] of typeof options.ports === 'object' ? Object.entries(options.ports) : []) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new DetourUsageError(`http-downgrade: port for ${key} must be 1..65535, got ${port}`);
      }
    }
    this.#options = { ...options, hosts: [...options.hosts] };
  }

  applies(req: AttemptRequest): true | string {
    if (req.url.protocol !== 'https:') return 'already plain http:';
    if (!hostMatches(req.url.hostname, this.#options.hosts))
      return `${req.url.hostname} is not opted in to downgrade`;
    return true;
  }

  async attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    const url = downgradeUrl(req.url, this.#options.ports);
    const port = url.port === '' ? 80 : Number(url.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new DetourUsageError(`http-downgrade: port mapping gave ${port} for ${req.url.host}`);
    }
    // Credentials (core's CREDENTIAL_HEADERS) are never sent in plaintext unless asked.
    const headers = this.#options.sendCredentials ? req.headers : withoutCredentials(req.headers);
    const response = await strictAttempt({ ...req, headers }, signal, { url });
    return { ...response, downgraded: true };
  }
}

/** The `http-downgrade` strategy for the opted-in `hosts`: `createPipeline({ use: [httpDowngrade({ hosts })] })`. */
export function httpDowngrade(options: HttpDowngradeOptions): Strategy {
  return new HttpDowngradeStrategy(options);
}
