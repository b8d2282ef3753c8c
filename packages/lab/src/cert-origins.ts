/** HTTPS origins whose certificate is wrong in one way each; all serve the lab routes. */
import { labCerts } from './certs.js';
import { type Origin, startHttpsOrigin } from './servers.js';

export interface CertProblemOrigins {
  /** CA-signed, valid 2020-01-01 .. 2021-01-01: CERT_HAS_EXPIRED. */
  readonly expired: Origin;
  /** Signed by its own key: DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly selfSigned: Origin;
  /** CA-signed for wrong.example.test only: ERR_TLS_CERT_ALTNAME_INVALID. */
  readonly wrongHost: Origin;
  close(): Promise<void>;
}

export async function startCertProblemOrigins(): Promise<CertProblemOrigins> {
  const certs = labCerts();
  const [expired, selfSigned, wrongHost] = await Promise.all([
    startHttpsOrigin({ cert: certs.expired }),
    startHttpsOrigin({ cert: certs.selfSigned }),
    startHttpsOrigin({ cert: certs.wrongHost }),
  ]);
  return {
    expired,
    selfSigned,
    wrongHost,
    close: async () => {
      await Promise.all([expired.close(), selfSigned.close(), wrongHost.close()]);
    },
  };
}
