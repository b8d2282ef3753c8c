/** Hand-made TLS records for servers that break the handshake on purpose. */
import { randomBytes } from 'node:crypto';

/** TLS 1.0 record: alert, fatal (2), handshake_failure (40). What Clash-like proxies send. */
export const HANDSHAKE_FAILURE_ALERT: Buffer = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]);

/** TLS record: alert, fatal, protocol_version (70). */
export const PROTOCOL_VERSION_ALERT: Buffer = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);

/** True when `data` starts like a TLS handshake record (a ClientHello). */
export function looksLikeTls(data: Buffer): boolean {
  return data[0] === 0x16 && data[1] === 0x03;
}

/**
 * A TLS 1.2 ServerHello with NO extensions, so no `renegotiation_info`: OpenSSL 3 clients refuse
 * it ("unsafe legacy renegotiation disabled") unless SSL_OP_LEGACY_SERVER_CONNECT is set.
 * Cipher 0xC02F (ECDHE-RSA-AES128-GCM-SHA256) is offered by Node's and curl's default lists.
 */
export function serverHelloWithoutRenegotiationInfo(): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // server_version TLS 1.2
    randomBytes(32), // random (no TLS 1.3 downgrade sentinel, by chance of 2^-64)
    Buffer.from([0x00]), // session_id: empty
    Buffer.from([0xc0, 0x2f]), // cipher_suite
    Buffer.from([0x00]), // compression: null
  ]);
  const handshake = Buffer.concat([Buffer.from([0x02, 0x00, 0x00, body.length]), body]);
  const header = Buffer.from([0x16, 0x03, 0x03, 0x00, handshake.length]);
  return Buffer.concat([header, handshake]);
}
