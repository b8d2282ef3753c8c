/** `startLab()`: a full set of lab servers and proxies, started together and closed together. */
import { type AcceleratorProxy, startAcceleratorProxy } from './accelerator.js';
import { type CertProblemOrigins, startCertProblemOrigins } from './cert-origins.js';
import { type LabCerts, labCerts } from './certs.js';
import { type DowngradeOrigin, startDowngradeOrigin } from './downgrade.js';
import { type LegacyOrigin, startLegacyHttpsOrigin } from './legacy.js';
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
  /** Modern HTTPS (TLS 1.2+), CA-signed localhost cert. */
  readonly https: Origin;
  /** Legacy HTTPS origins; see legacy.ts for what each does to which client. */
  readonly legacy: {
    readonly sha1Signatures: LegacyOrigin;
    readonly tls10: LegacyOrigin;
    readonly tls10Rsa: LegacyOrigin;
    readonly legacyCipher: LegacyOrigin;
  };
  readonly certOrigins: CertProblemOrigins;
  /** Plain HTTP works, TLS answers with a handshake_failure alert. */
  readonly downgrade: DowngradeOrigin;
  readonly proxies: {
    /** tinyproxy, no auth. */
    readonly http: RunningProxy;
    /** tinyproxy with BasicAuth LAB_PROXY_AUTH (no creds → 407, wrong creds → 401). */
    readonly httpAuth: RunningProxy;
    /** microsocks, no auth. */
    readonly socks: RunningProxy;
    /** microsocks with -u/-P LAB_PROXY_AUTH. */
    readonly socksAuth: RunningProxy;
    /** Node CONNECT proxy that answers CONNECT to `https`'s port with 200 + handshake_failure alert. */
    readonly accelerator: AcceleratorProxy;
    /** Same, but resets (RST) the tunnel instead. */
    readonly acceleratorReset: AcceleratorProxy;
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
  const p = await startAll({
    http: startHttpOrigin(),
    https: startHttpsOrigin(),
    sha1Signatures: startLegacyHttpsOrigin('sha1-signatures'),
    tls10: startLegacyHttpsOrigin('tls1.0'),
    tls10Rsa: startLegacyHttpsOrigin('tls1.0-rsa'),
    legacyCipher: startLegacyHttpsOrigin('legacy-cipher'),
    certOrigins: startCertProblemOrigins(),
    downgrade: startDowngradeOrigin('alert'),
    proxy: startTinyproxy(),
    proxyAuth: startTinyproxy({ auth: LAB_PROXY_AUTH }),
    socks: startMicrosocks(),
    socksAuth: startMicrosocks({ auth: LAB_PROXY_AUTH }),
    accelerator: startAcceleratorProxy({ mode: 'alert' }),
    acceleratorReset: startAcceleratorProxy({ mode: 'reset' }),
  });
  p.accelerator.setBreak([p.https.port]);
  p.acceleratorReset.setBreak([p.https.port]);
  let closing: Promise<void> | undefined;
  return {
    certs,
    ca: certs.ca.cert,
    caPath: certs.ca.certPath,
    http: p.http,
    https: p.https,
    legacy: {
      sha1Signatures: p.sha1Signatures,
      tls10: p.tls10,
      tls10Rsa: p.tls10Rsa,
      legacyCipher: p.legacyCipher,
    },
    certOrigins: p.certOrigins,
    downgrade: p.downgrade,
    proxies: {
      http: p.proxy,
      httpAuth: p.proxyAuth,
      socks: p.socks,
      socksAuth: p.socksAuth,
      accelerator: p.accelerator,
      acceleratorReset: p.acceleratorReset,
    },
    close() {
      closing ??= Promise.all(Object.values(p).map((part) => part.close())).then(() => undefined);
      return closing;
    },
  };
}
