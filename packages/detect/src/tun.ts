import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ReadText, RunCommand } from './run-command.js';
import { readTextFile, runCommand } from './run-command.js';

/** Interface names TUN-mode proxies use: mihomo `Meta`, Clash Verge Rev `Mihomo`, sing-box `tunN`/`sing-tun`, macOS `utunN`, wintun. */
export const TUN_NAME_PATTERNS: readonly RegExp[] = [
  /^meta$/i,
  /^mihomo$/i,
  /^clash/i,
  /^sing-?tun/i,
  /^tun\d+$/i,
  /^utun\d+$/i,
  /^wintun/i,
  /^wg-?clash/i,
];

/** The fake-IP / TUN address range of Clash, mihomo and sing-box. */
const TUN_RANGES = new BlockList();
TUN_RANGES.addSubnet('198.18.0.0', 15, 'ipv4');
TUN_RANGES.addSubnet('fdfe:dcba:9876::', 48, 'ipv6'); // sing-box's default inet6 address
TUN_RANGES.addSubnet('fc00::', 18, 'ipv6');

export function inTunRange(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && TUN_RANGES.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface InterfaceInfo {
  name: string;
  addresses: string[];
}

export interface RouteInfo {
  /** `0.0.0.0/0`, `::/0`, `128.0.0.0/1`… */
  destination: string;
  interface: string;
  gateway?: string;
  /** Lower wins between routes of the same prefix length. */
  metric?: number;
}

export interface TunReport {
  /** A TUN proxy carries traffic to the internet (default route or split routes through it). */
  active: boolean;
  /** The TUN-like interface, when one exists (even if not routed). */
  interface: string | null;
  /** The interface the IPv4 default route (or covering split routes) goes through, when known. */
  defaultRoute: string | null;
  candidates: string[];
  reason: string;
}

/** A TUN-like interface: its name, or an address in 198.18.0.0/15 (or the v6 ranges). */
export function tunCandidates(interfaces: readonly InterfaceInfo[]): string[] {
  return interfaces
    .filter((i) => TUN_NAME_PATTERNS.some((p) => p.test(i.name)) || i.addresses.some(inTunRange))
    .map((i) => i.name);
}

const hexToIPv4 = (hex: string) =>
  [6, 4, 2, 0].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join('.');

/** Linux `/proc/net/route` (little-endian hex) → routes. */
export function parseProcNetRoute(text: string): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, gateway, , , , metric, mask] = f as string[] as [string, string, string, ...string[]];
    const prefix = hexToIPv4(mask!)
      .split('.')
      .reduce((bits, octet) => bits + Number(octet).toString(2).replaceAll('0', '').length, 0);
    routes.push({
      destination: `${hexToIPv4(dest)}/${prefix}`,
      interface: iface,
      gateway: hexToIPv4(gateway),
      metric: Number(metric),
    });
  }
  return routes;
}

/** Linux `/proc/net/ipv6_route` → routes (`::/0` is the default). */
export function parseProcNetIpv6Route(text: string): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const dest = f[0]!.match(/.{4}/g)!.join(':');
    const prefix = Number.parseInt(f[1]!, 16);
    const iface = f[9]!;
    if (iface === 'lo') continue;
    routes.push({ destination: `${compressV6(dest)}/${prefix}`, interface: iface });
  }
  return routes;
}

const compressV6 = (full: string) => (/^[0:]+$/.test(full) ? '::' : full.replace(/(^|:)0{1,3}/g, '$1'));

/**
 * macOS `netstat -rn` (Destination Gateway Flags Netif…) and Windows `route print` (Network
 * Destination Netmask Gateway Interface Metric) → routes. Windows names the interface by address.
 */
export function parseRouteTable(text: string): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    const windows =
      /^(\d+\.\d+\.\d+\.\d+)\s+(\d+\.\d+\.\d+\.\d+)\s+(\S+)\s+(\d+\.\d+\.\d+\.\d+)\s+(\d+)$/.exec(
        line.trim(),
      );
    if (windows) {
      const prefix = windows[2]!
        .split('.')
        .reduce((bits, o) => bits + Number(o).toString(2).replaceAll('0', '').length, 0);
      routes.push({
        destination: `${windows[1]}/${prefix}`,
        interface: windows[4]!,
        gateway: windows[3]!,
        metric: Number(windows[5]),
      });
      continue;
    }
    // macOS: `default  192.168.1.1  UGScg  en0` or `1  198.18.0.1  UGSc  utun4` or `128.0/1 …`.
    if (f.length >= 4 && /^(default|[\d.]+(\/\d+)?)$/.test(f[0]!) && /^[A-Za-z]+$/.test(f[2]!)) {
      routes.push({ destination: macDestination(f[0]!), interface: f[3]!, gateway: f[1]! });
    }
  }
  return routes;
}

/** macOS writes `1` for 1.0.0.0/8, `2/7`, `128.0/1`, `default`. */
function macDestination(text: string): string {
  if (text === 'default') return '0.0.0.0/0';
  const [net, bits] = text.split('/') as [string, string | undefined];
  const octets = net.split('.');
  const prefix = bits === undefined ? octets.length * 8 : Number(bits);
  while (octets.length < 4) octets.push('0');
  return `${octets.join('.')}/${prefix}`;
}

/** Public addresses whose routes we look up (never contacted). */
const PUBLIC_PROBES = ['8.8.8.8', '114.114.114.114', '223.5.5.5', '203.205.0.1'];

/** The route the kernel would pick for `ip`: longest prefix, then lowest metric. */
function routeFor(ip: string, routes: readonly RouteInfo[]): RouteInfo | undefined {
  let best: RouteInfo | undefined;
  let bestPrefix = -1;
  for (const route of routes) {
    const [net, bits] = route.destination.split('/') as [string, string];
    if (isIP(net) !== 4) continue;
    const prefix = Number(bits);
    const list = new BlockList();
    list.addSubnet(net, prefix, 'ipv4');
    if (!list.check(ip, 'ipv4')) continue;
    const better =
      prefix > bestPrefix || (prefix === bestPrefix && (route.metric ?? 0) < (best?.metric ?? 0));
    if (better) {
      best = route;
      bestPrefix = prefix;
    }
  }
  return best;
}

/**
 * The interface that carries traffic to the public internet: per public address, the route the
 * kernel would pick (so split routes such as `1/8, 2/7 … 128.0/1`, which macOS TUN tools add
 * instead of replacing the default, win over `default`), and the interface most of them share.
 */
export function internetInterface(routes: readonly RouteInfo[]): string | null {
  const counts = new Map<string, number>();
  for (const ip of PUBLIC_PROBES) {
    const route = routeFor(ip, routes);
    if (route) counts.set(route.interface, (counts.get(route.interface) ?? 0) + 1);
  }
  let winner: string | null = null;
  let most = 0;
  for (const [iface, count] of counts) {
    if (count > most) {
      winner = iface;
      most = count;
    }
  }
  return winner;
}

export interface TunProbe {
  platform?: NodeJS.Platform;
  interfaces?: () => InterfaceInfo[];
  readText?: ReadText;
  /**
   * Runs `ip route get` (Linux), `route -n get` / `netstat -rn` (macOS), `route print` (Windows).
   * Default: the real commands, unless `readText` alone is injected (the caller feeds the tables).
   */
  run?: RunCommand;
  timeoutMs?: number;
}

/**
 * The interface in `ip route get ADDR` (Linux, text or `-j` JSON: `8.8.8.8 dev Meta table 2022 src …`)
 * or `route -n get ADDR` (macOS: `  interface: utun4`) output; null when it names none.
 */
export function parseRouteGet(output: string): string | null {
  const text = output.trim();
  if (text.startsWith('[')) {
    try {
      const [first] = JSON.parse(text) as Array<{ dev?: unknown }>;
      return typeof first?.dev === 'string' ? first.dev : null;
    } catch {
      return null;
    }
  }
  return /^\s*interface:\s*(\S+)/m.exec(text)?.[1] ?? /(?:^|\s)dev\s+(\S+)/.exec(text)?.[1] ?? null;
}

/**
 * Ask the kernel which interface it would use for the public probe addresses (a lookup: no packet
 * is sent). This sees what the tables alone miss: on Linux mihomo and sing-box `auto-route` put the
 * TUN default route in table 2022 behind an `ip rule` (the main table keeps the old default);
 * on macOS scoped and split routes. The interface most addresses share, or null.
 */
async function kernelRoute(
  platform: NodeJS.Platform,
  run: RunCommand,
  timeoutMs: number,
): Promise<string | null> {
  const lookup = (address: string) =>
    platform === 'linux'
      ? run('ip', ['route', 'get', address], { timeoutMs })
      : run('route', ['-n', 'get', address], { timeoutMs });
  const answers = await Promise.all(PUBLIC_PROBES.map(lookup));
  const counts = new Map<string, number>();
  for (const answer of answers) {
    const dev = answer.ok ? parseRouteGet(answer.stdout) : null;
    if (dev) counts.set(dev, (counts.get(dev) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

export function osInterfaces(): InterfaceInfo[] {
  return Object.entries(networkInterfaces()).map(([name, list]) => ({
    name,
    addresses: (list ?? []).map((a) => a.address),
  }));
}

interface RouteLookup {
  /** The interface (or address) the kernel routes internet traffic through, when it said. */
  via: string | null;
  routes: RouteInfo[];
  routeSource: string;
  tableRead: boolean;
}

/** Asks the kernel for the internet route, else reads the routing table; never throws. */
async function readRoutes(platform: NodeJS.Platform, probe: TunProbe): Promise<RouteLookup> {
  const run = probe.run ?? (probe.readText ? undefined : runCommand);
  const timeoutMs = probe.timeoutMs ?? 2_000;
  const found: RouteLookup = { via: null, routes: [], routeSource: '', tableRead: false };
  try {
    if (run && (platform === 'linux' || platform === 'darwin')) {
      found.via = await kernelRoute(platform, run, timeoutMs);
      if (found.via)
        found.routeSource = platform === 'linux' ? 'ip route get, policy rules included' : 'route -n get';
    }
    if (!found.via && platform === 'linux') {
      const read = probe.readText ?? readTextFile;
      const v4 = await read('/proc/net/route');
      const v6 = await read('/proc/net/ipv6_route');
      found.tableRead = v4 !== undefined || v6 !== undefined;
      found.routes = [...(v4 ? parseProcNetRoute(v4) : []), ...(v6 ? parseProcNetIpv6Route(v6) : [])];
      found.routeSource = '/proc/net/route';
    } else if (!found.via && run) {
      const out =
        platform === 'win32'
          ? await run('route', ['print', '-4'], { timeoutMs })
          : await run('netstat', ['-rn', '-f', 'inet'], { timeoutMs });
      found.tableRead = out.ok;
      if (out.ok) found.routes = parseRouteTable(out.stdout);
      found.routeSource = platform === 'win32' ? 'route print' : 'netstat -rn';
    }
  } catch {
    found.routes = [];
  }
  return found;
}

/** Is a TUN proxy carrying internet traffic? Never throws; unknown parts say why. */
export async function detectTun(probe: TunProbe = {}): Promise<TunReport> {
  const platform = probe.platform ?? process.platform;
  let candidates: string[] = [];
  let interfaces: InterfaceInfo[] = [];
  try {
    interfaces = (probe.interfaces ?? osInterfaces)();
    candidates = tunCandidates(interfaces);
  } catch (error) {
    return {
      active: false,
      interface: null,
      defaultRoute: null,
      candidates,
      reason: `interfaces unreadable: ${(error as Error).message}`,
    };
  }
  const found = await readRoutes(platform, probe);
  const { routes, routeSource, tableRead } = found;
  let via = found.via;
  via ??= internetInterface(routes);
  // Windows names the route's interface by its address: map it back to a name.
  const owner = via && isIP(via) ? interfaces.find((i) => i.addresses.includes(via!)) : undefined;
  if (owner) via = owner.name;
  // A TUN device without a process attached is not RUNNING and os.networkInterfaces() omits it;
  // the routing table still names it, so a TUN-like name there counts too.
  if (via && !candidates.includes(via) && TUN_NAME_PATTERNS.some((p) => p.test(via!)))
    candidates.unshift(via);
  const tunInterface = candidates[0] ?? null;
  const routedThroughTun = !!via && (candidates.includes(via) || (isIP(via) !== 0 && inTunRange(via)));
  const reason = routedThroughTun
    ? `internet traffic goes through ${via} (${routeSource})`
    : via
      ? `internet traffic goes through ${via}${candidates.length ? `; ${candidates.join(', ')} present but not routed` : ''}`
      : routes.length || tableRead
        ? `no route to the internet found (${routeSource})`
        : `routing table unknown (${routeSource || `not read on ${platform}`})`;
  return { active: routedThroughTun, interface: tunInterface, defaultRoute: via, candidates, reason };
}
