/**
 * Cheap signals of which network this process is in, read without spawning anything or touching
 * the network (a few small files and one system call): the proxy variables, the default route and
 * the resolver configuration. Detour keys what it keeps across processes by them: the state
 * directory's entries (a different network starts fresh) and a recent detection (reused only while
 * they are unchanged).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Env } from './proxy-env.js';

export interface NetworkSignals {
  /** The proxy option and every proxy variable (`http_proxy`, `HTTPS_PROXY`, `no_proxy`, …), as given. */
  proxy: string;
  /** The default routes: interface and gateway (Linux `/proc/net/route`; elsewhere empty). */
  defaultRoute: string;
  /** The resolver configuration: `nameserver`/`search` lines of `/etc/resolv.conf` (empty on Windows). */
  resolver: string;
  /** Names of the network interfaces that are up (a TUN device coming or going changes it). */
  interfaces: string;
}

export interface SignalOptions {
  env?: Env;
  /** An explicit proxy (`false`: none). */
  proxy?: string | false | undefined;
  platform?: NodeJS.Platform;
  /** Reads a small file, undefined when it cannot (tests inject one). */
  readFile?: (path: string) => string | undefined;
  interfaceNames?: () => string[];
}

const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'];

function readSmall(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The signals now. Never throws: what cannot be read is empty. */
export function networkSignals(options: SignalOptions = {}): NetworkSignals {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const read = options.readFile ?? readSmall;
  const proxy = [
    `option=${options.proxy === undefined ? '' : String(options.proxy)}`,
    ...PROXY_VARIABLES.flatMap((name) => [
      `${name}=${env[name] ?? ''}`,
      `${name.toUpperCase()}=${env[name.toUpperCase()] ?? ''}`,
    ]),
  ].join('\n');
  let defaultRoute = '';
  if (platform === 'linux') {
    // Columns: Iface Destination Gateway …; a default route has destination 00000000 and mask 00000000.
    defaultRoute = (read('/proc/net/route') ?? '')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[1] === '00000000' && cols[7] === '00000000')
      .map((cols) => `${cols[0]} ${cols[2]} ${cols[6]}`)
      .join('\n');
  }
  const resolver =
    platform === 'win32'
      ? ''
      : (read('/etc/resolv.conf') ?? '')
          .split('\n')
          .filter((line) => /^\s*(nameserver|search|domain|options)\b/.test(line))
          .join('\n');
  let interfaces = '';
  try {
    interfaces = (options.interfaceNames ?? (() => Object.keys(networkInterfaces())))().sort().join(',');
  } catch {
    interfaces = '';
  }
  return { proxy, defaultRoute, resolver, interfaces };
}

/** A short hash of some signals (all of them by default). */
export function signalsHash(signals: Partial<NetworkSignals>, extra = ''): string {
  return createHash('sha256')
    .update(JSON.stringify([signals, extra]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The network's fingerprint for what is kept across processes: the proxy settings, the default
 * route and the resolver (interfaces left out: a container or VPN starting elsewhere on the machine
 * should not erase what was learned).
 */
export function networkFingerprint(options: SignalOptions = {}): string {
  const { proxy, defaultRoute, resolver } = networkSignals(options);
  return signalsHash({ proxy, defaultRoute, resolver });
}
