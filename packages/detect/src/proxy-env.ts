import { BlockList, isIP } from 'node:net';

export type Env = Readonly<Record<string, string | undefined>>;

/** Proxy schemes curl understands; a value without a scheme means `http://`. */
const PROXY_SCHEMES = new Set(['http:', 'https:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:']);

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** One `NO_PROXY` entry, parsed. */
export type NoProxyEntry =
  | { kind: 'all' }
  | { kind: 'host'; host: string; port?: number }
  | { kind: 'cidr'; list: BlockList; family: 'ipv4' | 'ipv6'; text: string };

/** The variable curl reads for `name` (lower case wins over upper case), with its spelling. */
function pickNamed(
  env: Env,
  name: string,
  { upperAllowed = true } = {},
): { name: string; value: string } | undefined {
  const lower = env[name.toLowerCase()];
  if (lower !== undefined && lower.trim() !== '') return { name: name.toLowerCase(), value: lower.trim() };
  if (!upperAllowed) return undefined;
  const upper = env[name.toUpperCase()];
  return upper !== undefined && upper.trim() !== ''
    ? { name: name.toUpperCase(), value: upper.trim() }
    : undefined;
}

/** The value of a variable with curl's case rule: lower case wins over upper case. */
function pick(env: Env, name: string, options: { upperAllowed?: boolean } = {}): string | undefined {
  return pickNamed(env, name, options)?.value;
}

const SCHEMES_TEXT = 'http://, https://, socks4://, socks4a://, socks5:// or socks5h://';

/**
 * Why a proxy value is refused (`normalizeProxyUrl` gives null), in words, or undefined when it is
 * a usable proxy URL. Credentials in the value are masked.
 */
export function proxyValueProblem(value: string): string | undefined {
  if (normalizeProxyUrl(value)) return undefined;
  const shown = JSON.stringify(value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@'));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
  if (scheme && !PROXY_SCHEMES.has(`${scheme.toLowerCase()}:`)) {
    return `${shown} has an unsupported scheme ${scheme}:// (use ${SCHEMES_TEXT})`;
  }
  return `${shown} is not a proxy URL (use ${SCHEMES_TEXT}, or host:port)`;
}

/**
 * The proxy variables curl would read that hold no usable proxy URL (`HTTPS_PROXY='not a proxy'`,
 * an unsupported scheme): each one a sentence for the report's `warnings`, never ignored silently.
 */
export function proxyEnvWarnings(env: Env): string[] {
  const cgi = env.REQUEST_METHOD !== undefined;
  const warnings: string[] = [];
  for (const picked of [
    pickNamed(env, 'http_proxy', { upperAllowed: !cgi }),
    pickNamed(env, 'https_proxy'),
    pickNamed(env, 'all_proxy'),
  ]) {
    const problem = picked && proxyValueProblem(picked.value);
    if (problem) warnings.push(`${picked.name}=${problem}: ignored, this variable sets no proxy`);
  }
  return warnings;
}

/**
 * `host:port` → `<defaultScheme>://host:port` (`http` unless said otherwise); a known scheme is
 * kept; anything else (or no host) is refused (null).
 */
export function normalizeProxyUrl(value: string, defaultScheme = 'http'): string | null {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `${defaultScheme}://${value}`;
  try {
    const url = new URL(text);
    if (!PROXY_SCHEMES.has(url.protocol) || !url.hostname) return null;
    return url.toString().replace(/\/$/, '');
  } catch {
    return null;
  }
}

/** Parse `NO_PROXY`: comma (or space) separated hosts, `.domain`, `*`, `host:port`, IP literals, CIDR. */
export function parseNoProxy(value: string | undefined): NoProxyEntry[] {
  if (!value) return [];
  const entries: NoProxyEntry[] = [];
  // The split leaves no space to trim; an empty item (a leading or trailing separator) adds nothing below.
  for (const raw of value.split(/[,\s]+/)) {
    let item = raw.toLowerCase();
    if (item === '*') {
      entries.push({ kind: 'all' });
      continue;
    }
    const cidr = /^\[?([0-9a-f:.]+)\]?\/(\d{1,3})$/.exec(item);
    if (cidr) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (family && prefix <= (family === 4 ? 32 : 128)) {
        const list = new BlockList();
        const type = family === 4 ? 'ipv4' : 'ipv6';
        list.addSubnet(cidr[1]!, prefix, type);
        entries.push({ kind: 'cidr', list, family: type, text: item });
      }
      continue;
    }
    let port: number | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    if (bracketed) {
      item = bracketed[1]!;
      port = bracketed[2] ? Number(bracketed[2]) : undefined;
    } else if (!isIP(item)) {
      const hostPort = /^(.*):(\d+)$/.exec(item);
      if (hostPort) {
        item = hostPort[1]!;
        port = Number(hostPort[2]);
      }
    }
    item = item.replace(/^\*?\./, '').replace(/\.$/, '');
    if (item) entries.push({ kind: 'host', host: item, ...(port === undefined ? {} : { port }) });
  }
  return entries;
}

/** Whether `host` (and `port`) is excluded from proxying by the NO_PROXY entries (curl's rules). */
export function matchesNoProxy(host: string, port: number, entries: readonly NoProxyEntry[]): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  const family = isIP(name);
  for (const entry of entries) {
    if (entry.kind === 'all') return true;
    if (entry.kind === 'cidr') {
      if (family && entry.list.check(name, family === 4 ? 'ipv4' : 'ipv6')) return true;
      continue;
    }
    if (entry.port !== undefined && entry.port !== port) continue;
    if (name === entry.host || (!family && name.endsWith(`.${entry.host}`))) return true;
  }
  return false;
}

/**
 * The proxy curl would use for `url` given the environment, or null for direct. Rules:
 * `<scheme>_proxy` then `all_proxy`; lower case wins over upper case; `HTTP_PROXY` in upper case is
 * ignored under CGI (`REQUEST_METHOD` set, the httpoxy guard); `NO_PROXY` host/domain/port/IP/CIDR
 * entries and `*`; a scheme-less value means `http://`.
 */
export function proxyForUrl(url: string | URL, env: Env = process.env): string | null {
  let target: URL;
  try {
    target = new URL(String(url));
  } catch {
    return null;
  }
  const scheme = target.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return null;
  const port = target.port ? Number(target.port) : (DEFAULT_PORTS[target.protocol] ?? 0);
  if (matchesNoProxy(target.hostname, port, parseNoProxy(pick(env, 'no_proxy')))) return null;
  const cgi = env.REQUEST_METHOD !== undefined;
  const value =
    pick(env, `${scheme}_proxy`, { upperAllowed: !(scheme === 'http' && cgi) }) ?? pick(env, 'all_proxy');
  return value ? normalizeProxyUrl(value) : null;
}

export interface EnvProxySettings {
  http: string | null;
  https: string | null;
  /** `all_proxy` when it names a SOCKS proxy (or any proxy: curl uses it for every scheme). */
  socks: string | null;
  noProxy: string | null;
}

/** The proxy variables as curl reads them (for the report). */
export function envProxySettings(env: Env): EnvProxySettings {
  const cgi = env.REQUEST_METHOD !== undefined;
  const all = pick(env, 'all_proxy');
  const norm = (value: string | undefined) => (value ? normalizeProxyUrl(value) : null);
  return {
    http: norm(pick(env, 'http_proxy', { upperAllowed: !cgi }) ?? all),
    https: norm(pick(env, 'https_proxy') ?? all),
    socks: all && /^socks/i.test(all) ? norm(all) : null,
    noProxy: pick(env, 'no_proxy') ?? null,
  };
}
