import { constants } from 'node:crypto';
import type { SecureVersion } from 'node:tls';
import {
  type AttemptRequest,
  type AttemptResponse,
  type FailureClass,
  hostMatches,
  RELAXED_CIPHERS,
  type Strategy,
  strictAttempt,
  type TlsOptions,
} from '@detour/core/internal';

/** Failures a more permissive handshake can rescue. */
export const TLS_RELAXABLE: ReadonlySet<FailureClass> = new Set<FailureClass>([
  'tls-handshake',
  'tls-protocol',
  'connect-reset',
]);

export interface TlsRelaxedOptions {
  /** Lowest TLS version offered (default `'TLSv1'`). */
  minVersion?: SecureVersion;
  /** OpenSSL cipher list for TLS ≤ 1.2 (default core's `RELAXED_CIPHERS`, measured in this package's README). */
  ciphers?: string;
  /**
   * Allow servers without secure renegotiation (RFC 5746), which OpenSSL 3 refuses with
   * "unsafe legacy renegotiation disabled" (default true).
   */
  legacyServerConnect?: boolean;
  /**
   * Hosts whose certificates are NOT checked (`example.com`, `*.example.com`). Every attempt to
   * them is marked `insecure`. Empty by default: certificate checks stay on.
   */
  insecureHosts?: readonly string[];
}

/** The relaxed TLS settings for one request: the caller's trust (CAs) kept, the handshake widened. */
export function relaxTls(
  tls: Readonly<TlsOptions>,
  options: TlsRelaxedOptions,
  insecure: boolean,
): TlsOptions {
  const legacy = options.legacyServerConnect ?? true;
  return {
    ...tls,
    minVersion: options.minVersion ?? 'TLSv1',
    ciphers: options.ciphers ?? RELAXED_CIPHERS,
    secureOptions: (tls.secureOptions ?? 0) | (legacy ? constants.SSL_OP_LEGACY_SERVER_CONNECT : 0),
    rejectUnauthorized: insecure ? false : tls.rejectUnauthorized,
  };
}

/**
 * `tls-relaxed`: the same request through the same route, with a handshake that legacy servers
 * accept (TLS 1.0/1.1, weak-but-real cipher suites, security level 0, legacy renegotiation).
 * Certificates are still verified, except for hosts listed in `insecureHosts`.
 */
export class TlsRelaxedStrategy implements Strategy {
  readonly name = 'tls-relaxed';
  readonly stage = 'relaxed' as const;
  readonly reason = 'legacy TLS (old versions, ciphers, renegotiation); certificates still checked';
  /** `tls-certificate` is listed only so that `applies()` can take it for `insecureHosts`. */
  readonly rescues: ReadonlySet<FailureClass> = new Set<FailureClass>([...TLS_RELAXABLE, 'tls-certificate']);
  readonly #options: TlsRelaxedOptions;

  constructor(options: TlsRelaxedOptions = {}) {
    this.#options = { ...options, insecureHosts: [...(options.insecureHosts ?? [])] };
  }

  applies(req: AttemptRequest): true | string {
    if (req.url.protocol !== 'https:') return 'not an https: URL';
    if (this.#insecure(req.url)) return true;
    const relaxable = req.failures.some(
      (f) => f.failureClass !== undefined && TLS_RELAXABLE.has(f.failureClass),
    );
    if (req.failures.length > 0 && !relaxable) {
      return 'certificate failures are rescued only for insecureHosts';
    }
    return true;
  }

  async attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    const insecure = this.#insecure(req.url);
    const response = await strictAttempt(req, signal, { tls: relaxTls(req.tls, this.#options, insecure) });
    return insecure ? { ...response, insecure: true } : response;
  }

  #insecure(url: URL): boolean {
    return hostMatches(url.hostname, this.#options.insecureHosts ?? []);
  }
}

/** The `tls-relaxed` strategy: `createPipeline({ use: [tlsRelaxed({ insecureHosts })] })`. */
export function tlsRelaxed(options: TlsRelaxedOptions = {}): Strategy {
  return new TlsRelaxedStrategy(options);
}
