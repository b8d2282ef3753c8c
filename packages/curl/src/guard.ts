import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DetourError, isPrivateAddress, type Route } from '@detour/core/internal';
import { resolvesLocally } from './args.js';

export type Lookup = (host: string) => Promise<LookupAddress[]>;

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

function blocked(host: string, address: string): DetourError {
  return new DetourError(`${host} resolves to ${address}, a private/loopback/link-local address`, {
    failureClass: 'blocked',
    code: 'DETOUR_PRIVATE_ADDRESS',
  });
}

function raced<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The private-network guard for one curl run. Refuses a target that is, or resolves to, a private
 * address; when curl resolves the name itself (direct, socks4/socks5) returns a `--resolve` entry
 * that pins curl to the addresses just checked, so a DNS answer that changes in between (rebinding)
 * is never used. Through a proxy that resolves names itself the check is best effort, as in core.
 */
export async function guardTarget(
  url: URL,
  route: Route,
  allowPrivateNetwork: boolean,
  signal: AbortSignal,
  lookup: Lookup = defaultLookup,
): Promise<string | undefined> {
  if (allowPrivateNetwork) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    if (isPrivateAddress(host)) throw blocked(url.hostname, host);
    return undefined;
  }
  const local = resolvesLocally(route);
  let addresses: LookupAddress[];
  try {
    addresses = await raced(lookup(host), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    if (!local) return undefined; // the proxy may know names we cannot resolve; it decides
    const code = (error as NodeJS.ErrnoException).code ?? 'ENOTFOUND';
    throw new DetourError(`could not resolve ${host}`, { failureClass: 'dns', code, cause: error });
  }
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  if (bad) throw blocked(host, bad.address);
  if (!local || addresses.length === 0) return undefined;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const pinned = addresses.map((a) => (a.family === 6 ? `[${a.address}]` : a.address)).join(',');
  return `${host}:${port}:${pinned}`;
}
