/**
 * Legacy HTTPS origins: node https servers configured like old servers, serving every lab route.
 *
 * Measured on Node 20.20.2 (bundled OpenSSL 3.0) and curl with Debian OpenSSL 3.0.19, all as the
 * client, each server also a Node 20 https server. Node's https/got surface these errors as
 * code `EPROTO` with message `write EPROTO ...:<reason>:...`; raw `tls.connect` as
 * `ERR_SSL_<REASON>`. So classify on the message (or `reason`), not only on the code.
 *
 * | profile         | server                                        | node default client                       | relaxed: min TLSv1 + 'DEFAULT:@SECLEVEL=0' | min TLSv1 alone | 'ALL:@SECLEVEL=0' | curl default | curl --tlsv1 --ciphers DEFAULT@SECLEVEL=0 |
 * |-----------------|-----------------------------------------------|-------------------------------------------|--------------------------------------------|-----------------|-------------------|--------------|-------------------------------------------|
 * | sha1-signatures | TLS 1.2 only, sigalgs RSA+SHA1, RSA key       | sslv3 alert handshake failure (alert 40)  | OK (TLS 1.2)                               | same alert      | OK                | exit 35, alert handshake failure | OK               |
 * | tls1.0          | TLS 1.0 only, 'DEFAULT:@SECLEVEL=0', EC key   | tlsv1 alert protocol version (alert 70)   | OK (TLSv1)                                 | legacy sigalg disallowed or unsupported | OK | exit 35, legacy sigalg disallowed | OK    |
 * | tls1.0-rsa      | TLS 1.0 only, 'AES128-SHA' (RSA key exchange) | tlsv1 alert protocol version (alert 70)   | OK (TLSv1)                                 | OK              | OK                | OK           | OK                                        |
 * | legacy-cipher   | TLS 1.0-1.2, 'CAMELLIA128-SHA' only, RSA key  | sslv3 alert handshake failure (alert 40)  | same alert: DEFAULT has no CAMELLIA        | same alert      | OK (TLS 1.2)      | exit 35, alert handshake failure | exit 35 (needs --ciphers ALL:@SECLEVEL=0) |
 *
 * `sha1-signatures` is the seed bug (SSLV3_ALERT_HANDSHAKE_FAILURE that tls-relaxed rescues);
 * `legacy-cipher` is the same alert that only a broad cipher list rescues.
 * 'DEFAULT:@SECLEVEL=0' alone (no minVersion change) rescues sha1-signatures but not tls1.0.
 * The server side reports ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS / ERR_SSL_NO_SHARED_CIPHER /
 * ERR_SSL_UNSUPPORTED_PROTOCOL as `tlsClientError`.
 * (RC4 and 3DES are not compiled into this OpenSSL, so no profile uses them.)
 * nginx.ts serves the same profiles from a real nginx 1.22; measured: identical outcomes.
 */
import type { SecureVersion } from 'node:tls';
import { labCerts } from './certs.js';
import { type Origin, startHttpsOrigin } from './servers.js';

export type LegacyTlsProfile = 'sha1-signatures' | 'tls1.0' | 'tls1.0-rsa' | 'legacy-cipher';

/** Client TLS options that rescue every profile except `legacy-cipher`. */
export const RELAXED_TLS: { readonly minVersion: SecureVersion; readonly ciphers: string } = {
  minVersion: 'TLSv1',
  ciphers: 'DEFAULT:@SECLEVEL=0',
};

/** Client TLS options that rescue every profile, `legacy-cipher` included. */
export const RELAXED_TLS_ALL_CIPHERS: { readonly minVersion: SecureVersion; readonly ciphers: string } = {
  minVersion: 'TLSv1',
  ciphers: 'ALL:@SECLEVEL=0',
};

export interface LegacyOrigin extends Origin {
  readonly profile: LegacyTlsProfile;
}

export async function startLegacyHttpsOrigin(profile: LegacyTlsProfile): Promise<LegacyOrigin> {
  const certs = labCerts();
  const options = {
    'sha1-signatures': {
      cert: certs.localhostRsa,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      sigalgs: 'RSA+SHA1',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:@SECLEVEL=0',
    },
    'tls1.0': {
      cert: certs.localhost,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    },
    'tls1.0-rsa': {
      cert: certs.localhostRsa,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1',
      ciphers: 'AES128-SHA:@SECLEVEL=0',
    },
    'legacy-cipher': {
      cert: certs.localhostRsa,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
      ciphers: 'CAMELLIA128-SHA:@SECLEVEL=0',
    },
  } as const;
  const origin = await startHttpsOrigin(options[profile]);
  return { ...origin, profile };
}
