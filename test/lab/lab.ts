/** `startLab()`: a full set of lab servers and proxies, started together and closed together. */
import { type LabCerts, labCerts } from './certs.js';
import { type ProxyAuth, type RunningProxy, startMicrosocks, startTinyproxy } from './proxies.js';
import { type Origin, startHttpOrigin, startHttpsOrigin } from './servers.js';

export const LAB_PROXY_AUTH: ProxyAuth = { user: 'detour', pass: 'lab-secret' };

export interface Lab {
  readonly certs: LabCerts;
  /** PEM of the lab root CA (pass as `ca`). */
  readonly ca: string;
  /** Path of the CA PEM (for `curl --cacert`). */
  readonly caPath: string;
  readonly http: Origin;
  readonly https: Origin;
  readonly proxies: {
    readonly http: RunningProxy;
    readonly httpAuth: RunningProxy;
    readonly socks: RunningProxy;
    readonly socksAuth: RunningProxy;
  };
  close(): Promise<void>;
}

interface Closable {
  close(): Promise<void>;
}

/** Start everything in parallel; if one part fails, the parts already running are closed. */
async function startAll<T extends Record<string, Promise<Closable>>>(
  parts: T,
): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const entries = Object.entries(parts);
  const settled = await Promise.allSettled(entries.map(([, p]) => p));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return Object.fromEntries(
    entries.map(([name], i) => [name, (settled[i] as PromiseFulfilledResult<Closable>).value]),
  ) as { [K in keyof T]: Awaited<T[K]> };
}

export async function startLab(): Promise<Lab> {
  const certs = labCerts();
  const parts = await startAll({
    http: startHttpOrigin(),
    https: startHttpsOrigin(),
    proxy: startTinyproxy(),
    proxyAuth: startTinyproxy({ auth: LAB_PROXY_AUTH }),
    socks: startMicrosocks(),
    socksAuth: startMicrosocks({ auth: LAB_PROXY_AUTH }),
  });
  let closing: Promise<void> | undefined;
  return {
    certs,
    ca: certs.ca.cert,
    caPath: certs.ca.certPath,
    http: parts.http,
    https: parts.https,
    proxies: { http: parts.proxy, httpAuth: parts.proxyAuth, socks: parts.socks, socksAuth: parts.socksAuth },
    close() {
      closing ??= Promise.all(Object.values(parts).map((p) => p.close())).then(() => undefined);
      return closing;
    },
  };
}
