import { acceptsEncoding, DetourError, type Route } from '@detour/core/internal';

/** Everything one curl run needs, decided by the strategy. */
export interface CurlCall {
  url: URL;
  headers: Readonly<Record<string, string>>;
  route: Route;
  /** Where curl dumps the response headers (a plain file in the strategy's temp dir, read by the strategy). */
  headerFile: string;
  maxBytes: number;
  /** Seconds until the attempt's deadline. */
  maxTimeSec: number;
  connectTimeoutSec: number;
  /** Seconds without a byte before curl gives up (stalled body). */
  stallSec: number;
  /** CA file: the caller's extra CAs (with `caPath`), or the system roots + them in one bundle. */
  caFile?: string | undefined;
  /** The system's hashed CA directory, searched by curl for the roots a chain needs (`--capath`). */
  caPath?: string | undefined;
  /** Certificate checks off: only for hosts in `insecureHosts`. */
  insecure?: boolean | undefined;
  /** Legacy TLS allowed: TLS 1.0+ with this cipher list. */
  relaxedCiphers?: string | undefined;
  /** `host:port:addr[,addr]`: connect only to these (already checked) addresses. */
  resolve?: string | undefined;
}

export interface CurlInvocation {
  /** argv after the program name: fixed flags only, nothing secret (argv is visible in `ps`). */
  args: string[];
  /** Read by curl from stdin (`--config -`): the URL, the headers, proxy credentials. */
  config: string;
}

/** Headers curl manages itself or that must not be forwarded. */
const SKIPPED_HEADERS = new Set([
  'host',
  'content-length',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'te',
]);

/** A value for curl's config file syntax: double-quoted, `\` and `"` escaped. CR, LF and NUL are refused. */
export function configString(value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new DetourError('a header or URL contains a line break', {
      failureClass: 'blocked',
      code: 'DETOUR_BAD_HEADER',
    });
  }
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** curl's name for a proxy scheme (`socks:` means SOCKS5 with remote DNS, as socks-proxy-agent reads it). */
export function curlProxyUrl(route: Exclude<Route, { kind: 'direct' }>): { url: string; user?: string } {
  const parsed = new URL(route.url);
  const user = parsed.username ? decodeURIComponent(parsed.username) : '';
  const password = parsed.password ? decodeURIComponent(parsed.password) : '';
  const scheme = parsed.protocol === 'socks:' ? 'socks5h:' : parsed.protocol;
  const url = `${scheme}//${parsed.host}`;
  return user || password ? { url, user: `${user}:${password}` } : { url };
}

/**
 * The route curl takes under `pinResolvedAddress`: SOCKS routes where the proxy would resolve the
 * name (`socks5h://`, `socks4a://`, `socks://`) become their local-lookup twins, so curl resolves
 * the name itself and `--resolve` pins it to the checked address. HTTP proxies stay (curl cannot
 * send them an address for a name: the strategy skips them, see `strategy.ts`).
 */
export function pinnedRoute(route: Route, pin: boolean | undefined): Route {
  if (!pin || route.kind !== 'socks') return route;
  const url = new URL(route.url);
  const local: Record<string, string> = { 'socks5h:': 'socks5:', 'socks:': 'socks5:', 'socks4a:': 'socks4:' };
  const protocol = local[url.protocol];
  if (!protocol) return route;
  return { kind: 'socks', url: route.url.replace(/^[a-z0-9]+:/i, protocol) };
}

/** Whether curl resolves the target name itself (direct, `socks4://`, `socks5://`) rather than the proxy. */
export function resolvesLocally(route: Route): boolean {
  if (route.kind === 'direct') return true;
  if (route.kind === 'http-proxy') return false;
  const scheme = new URL(route.url).protocol;
  return scheme === 'socks4:' || scheme === 'socks5:';
}

function seconds(value: number): string {
  return String(Math.max(0.001, Math.round(value * 1000) / 1000));
}

/**
 * The request headers as `header = ...` config lines (names checked, curl's own ones skipped);
 * true when the caller accepts an encoding (curl then decodes: `--compressed`).
 */
function addHeaders(headers: CurlCall['headers'], config: string[]): boolean {
  const wantsEncoding = acceptsEncoding(headers);
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (SKIPPED_HEADERS.has(name) || (wantsEncoding && name === 'accept-encoding')) continue;
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw new DetourError(`invalid header name ${JSON.stringify(rawName)}`, {
        failureClass: 'blocked',
        code: 'DETOUR_BAD_HEADER',
      });
    }
    // `Name;` is curl's spelling of a header with an empty value.
    config.push(`header = ${configString(value === '' ? `${rawName};` : `${rawName}: ${value}`)}`);
  }
  return wantsEncoding;
}

/** The route: no proxy at all for direct, else the proxy (its user in the config, off the command line). */
function addRoute(call: CurlCall, args: string[], config: string[]): void {
  if (call.route.kind === 'direct') {
    args.push('--noproxy', '*');
    return;
  }
  const proxy = curlProxyUrl(call.route);
  // An empty --noproxy overrides NO_PROXY from the environment: the route decides, nothing else.
  args.push('--proxy', proxy.url, '--noproxy', '');
  if (proxy.user !== undefined) config.push(`proxy-user = ${configString(proxy.user)}`);
  if (call.caFile && proxy.url.startsWith('https:')) {
    args.push('--proxy-cacert', call.caFile);
    if (call.caPath) args.push('--proxy-capath', call.caPath);
  }
}

/**
 * The argv and the stdin config for one curl run. Pure: the table tests pin it down.
 * `-q` comes first (no ~/.curlrc), redirects are not followed by curl (the strategy follows them,
 * re-checking every hop), URL globbing and path squashing are off, only http/https are allowed.
 */
export function buildCurlInvocation(call: CurlCall): CurlInvocation {
  const args = [
    '-q',
    '--silent',
    '--show-error',
    '--globoff',
    '--path-as-is',
    '--no-buffer',
    '--proto',
    '=http,https',
    '--proto-redir',
    '=http,https',
    '--max-redirs',
    '0',
    '--max-filesize',
    String(call.maxBytes),
    '--max-time',
    seconds(call.maxTimeSec),
    '--connect-timeout',
    seconds(Math.min(call.connectTimeoutSec, call.maxTimeSec)),
    '--speed-limit',
    '1',
    '--speed-time',
    String(Math.max(1, Math.ceil(call.stallSec))),
    '--suppress-connect-headers',
    '--dump-header',
    call.headerFile,
  ];
  const config: string[] = [`url = ${configString(call.url.toString())}`];

  if (addHeaders(call.headers, config)) args.push('--compressed');

  addRoute(call, args, config);
  if (call.caFile) args.push('--cacert', call.caFile);
  if (call.caFile && call.caPath) args.push('--capath', call.caPath);
  if (call.relaxedCiphers) args.push('--tlsv1', '--ciphers', call.relaxedCiphers);
  if (call.insecure) args.push('--insecure');
  if (call.resolve) args.push('--resolve', call.resolve);
  args.push('--config', '-');
  return { args, config: `${config.join('\n')}\n` };
}
