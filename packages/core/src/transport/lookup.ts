import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { DetourError } from '../errors.js';
import { isPrivateAddress } from '../ssrf.js';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export function blockedAddressError(host: string, address: string): DetourError {
  return new DetourError(`${host} resolves to ${address}, a private/loopback/link-local address`, {
    failureClass: 'blocked',
    code: 'DETOUR_PRIVATE_ADDRESS',
  });
}

/**
 * A `dns.lookup` replacement that refuses private answers. It runs at connect time, for the first
 * request and every redirect, so a name that re-binds to 127.0.0.1 after a check is still refused.
 */
export function guardedLookup(
  hostname: string,
  options: LookupOneOptions | LookupAllOptions | number | LookupCallback,
  maybeCallback?: LookupCallback,
): void {
  const callback = (typeof options === 'function' ? options : maybeCallback) as LookupCallback;
  const opts = (typeof options === 'object' ? options : {}) as LookupAllOptions | LookupOneOptions;
  dns.lookup(hostname, { ...opts, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad)
      return callback(blockedAddressError(hostname, bad.address) as unknown as NodeJS.ErrnoException, []);
    if ((opts as LookupAllOptions).all) return callback(null, addresses);
    const first = addresses[0];
    if (!first)
      return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

/** Refuse a URL whose host is a private IP literal (lookup is not called for literals). */
export function assertPublicHost(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host)) throw blockedAddressError(url.hostname, host);
}

/** For proxy routes the proxy resolves the name: check what it resolves to here, best effort. */
export async function assertPublicName(url: URL): Promise<void> {
  assertPublicHost(url);
  const host = url.hostname;
  if (isIP(host.replace(/^\[|\]$/g, ''))) return;
  let addresses: LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true });
  } catch {
    return; // the proxy may know names we cannot resolve; it decides
  }
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  if (bad) throw blockedAddressError(host, bad.address);
}
