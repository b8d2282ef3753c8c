/**
 * Real hostnames on loopback, fail closed. Two ways, both controlled by the test:
 * - `interceptLookup(map)`: in this process, `dns.lookup` (what got, http and tls use) answers the
 *   mapped names with their loopback address, and REFUSES every other name under a guarded suffix
 *   (qq.com, qpic.cn, …) instead of asking real DNS, so nothing can reach the real Tencent;
 * - `hostsNamespace(map)`: for child processes (the `detour` CLI, curl), a command prefix that runs
 *   them in a private mount namespace (`unshare -m`) whose /etc/hosts holds the map and whose
 *   /etc/resolv.conf points at a dead loopback address (no other name resolves at all); the
 *   prefix checks with `getent` that every mapped name resolves to loopback only, else exits 97
 *   before the command runs.
 */
import { execFileSync } from 'node:child_process';
import dns, { type LookupAddress } from 'node:dns';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Suffixes whose names never reach real DNS while an interception is installed. */
export const GUARDED_SUFFIXES: readonly string[] = [
  'qq.com',
  'qq.com.cn',
  'qpic.cn',
  'qlogo.cn',
  'gtimg.cn',
  'gtimg.com',
  'tencent.com',
  'myqcloud.com',
  'discord.com',
  'discordapp.com',
  'discordapp.net',
  'telegram.org',
];

const isLoopback = (address: string) =>
  (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';

function assertLoopback(map: Readonly<Record<string, string>>): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, address] of Object.entries(map)) {
    if (!isLoopback(address)) throw new Error(`lab hosts: ${name} → ${address} is not a loopback address`);
    names.set(name.toLowerCase().replace(/\.$/, ''), address);
  }
  return names;
}

const guarded = (name: string, suffixes: readonly string[]) =>
  suffixes.some((s) => name === s || name.endsWith(`.${s}`));

function notFound(name: string): NodeJS.ErrnoException {
  return Object.assign(
    new Error(`getaddrinfo ENOTFOUND ${name} (lab: guarded name, not mapped to loopback)`),
    {
      code: 'ENOTFOUND',
      hostname: name,
    },
  );
}

type LookupFn = typeof dns.lookup;

/**
 * Answer `map`'s names from loopback in this process (`dns.lookup` and `dns.promises.lookup`);
 * refuse other names under `suffixes`. Returns a function that restores the real lookup.
 */
export function interceptLookup(
  map: Readonly<Record<string, string>>,
  suffixes: readonly string[] = GUARDED_SUFFIXES,
): () => void {
  const names = assertLoopback(map);
  const realLookup = dns.lookup;
  const realPromise = dns.promises.lookup;
  const answer = (hostname: string): LookupAddress[] | Error | undefined => {
    const name = String(hostname).toLowerCase().replace(/\.$/, '');
    const address = names.get(name);
    if (address) return [{ address, family: isIP(address) }];
    if (guarded(name, suffixes)) return notFound(name);
    return undefined;
  };
  const lookup = ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    const result = answer(hostname);
    if (result === undefined) return (realLookup as (...a: unknown[]) => void)(hostname, options, callback);
    process.nextTick(() => {
      if (result instanceof Error) cb(result);
      else if (opts.all) cb(null, result);
      else cb(null, result[0]!.address, result[0]!.family);
    });
  }) as LookupFn;
  const promiseLookup = (async (hostname: string, options?: { all?: boolean }) => {
    const result = answer(hostname);
    if (result === undefined) return realPromise(hostname, options as never);
    if (result instanceof Error) throw result;
    return options?.all ? result : result[0];
  }) as typeof dns.promises.lookup;
  dns.lookup = lookup;
  dns.promises.lookup = promiseLookup;
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    if (dns.lookup === lookup) dns.lookup = realLookup;
    if (dns.promises.lookup === promiseLookup) dns.promises.lookup = realPromise;
  };
}

export interface HostsNamespace {
  /** Prepend to a command: `[...prefix, 'node', 'cli.js', …]`. */
  readonly prefix: readonly string[];
  /** Run a command inside it (`execFile` with the prefix). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  close(): void;
}

/** Exit code of the prefix when a mapped name does not resolve to loopback only (nothing ran). */
export const HOSTS_CHECK_FAILED = 97;

/**
 * Whether private mount namespaces work here (root or CAP_SYS_ADMIN, util-linux `unshare`); the
 * reason when they do not.
 */
export function hostsNamespaceSupport(): true | string {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'pipe', timeout: 5_000 });
    return true;
  } catch (error) {
    return `unshare -m failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

const SCRIPT = `set -e
mount --bind "$1" /etc/hosts
mount --bind "$2" /etc/resolv.conf
names="$3"
shift 3
for name in $names; do
  answers=$(getent ahosts "$name" | awk '{print $1}' | sort -u)
  [ -n "$answers" ] || exit ${HOSTS_CHECK_FAILED}
  for a in $answers; do
    case "$a" in 127.*|::1) ;; *) exit ${HOSTS_CHECK_FAILED} ;; esac
  done
done
exec "$@"`;

/** A private mount namespace prefix with `map` as /etc/hosts and no working DNS server. */
export function hostsNamespace(map: Readonly<Record<string, string>>): HostsNamespace {
  const names = assertLoopback(map);
  const dir = mkdtempSync(join(tmpdir(), 'detour-lab-hosts-'));
  const hosts = join(dir, 'hosts');
  const resolv = join(dir, 'resolv.conf');
  writeFileSync(
    hosts,
    [
      '127.0.0.1 localhost',
      '::1 localhost',
      ...[...names].map(([name, address]) => `${address} ${name}`),
      '',
    ].join('\n'),
  );
  // Nothing listens on 127.0.0.254:53: a name not in the hosts file does not resolve.
  writeFileSync(resolv, 'nameserver 127.0.0.254\noptions timeout:1 attempts:1\n');
  const prefix = [
    'unshare',
    '-m',
    'sh',
    '-c',
    SCRIPT,
    'lab-hosts',
    hosts,
    resolv,
    [...names.keys()].join(' '),
  ];
  return {
    prefix,
    wrap: (command, args) => ({ command: prefix[0]!, args: [...prefix.slice(1), command, ...args] }),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
