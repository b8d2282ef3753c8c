import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyError, DetourError } from '../src/internal.js';

/** Build an error the way Node/got/agents build them: code, message, and a cause chain. */
function err(message: string, fields: Record<string, unknown> = {}, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), fields);
}
/** got wraps the socket error in a RequestError that copies its code and keeps it as `cause`. */
const viaGot = (inner: Error & { code?: string }, name = 'RequestError') =>
  err(inner.message, { name, code: inner.code ?? 'ERR_GOT_REQUEST_ERROR' }, inner);

const OPENSSL30_ALERT =
  'write EPROTO 80ABEB0F8A7F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 40';
const OPENSSL32_ALERT =
  'write EPROTO 40E7D5F1:error:0A000410:SSL routines:ssl3_read_bytes:ssl/tls alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:907:SSL alert number 40';

describe('classifyError (the shapes Node, got, hpagent and socks really produce)', () => {
  it.each([
    // Handshake alerts: got on Node 20 (EPROTO + reason in message), raw tls (ERR_SSL_*), OpenSSL 3.2 spelling.
    [
      'got EPROTO, OpenSSL 3.0 alert',
      viaGot(err(OPENSSL30_ALERT, { code: 'EPROTO', errno: -71 })),
      'tls-handshake',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    ],
    [
      'got EPROTO, OpenSSL 3.2 alert',
      viaGot(err(OPENSSL32_ALERT, { code: 'EPROTO' })),
      'tls-handshake',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    ],
    [
      'raw tls code',
      err('sslv3 alert handshake failure', { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }),
      'tls-handshake',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    ],
    [
      'raw tls code, OpenSSL 3.2',
      err('ssl/tls alert handshake failure', { code: 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE' }),
      'tls-handshake',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    ],
    [
      'no shared cipher',
      err('no ciphers available', { code: 'ERR_SSL_NO_CIPHERS_AVAILABLE' }),
      'tls-handshake',
      'ERR_SSL_NO_CIPHERS_AVAILABLE',
    ],
    [
      'dh key too small',
      viaGot(
        err('write EPROTO ...:SSL routines:tls_process_ske_dhe:dh key too small:...', { code: 'EPROTO' }),
      ),
      'tls-handshake',
      'ERR_SSL_DH_KEY_TOO_SMALL',
    ],
    [
      'weak chain (SHA-1 signed), Node says UNSPECIFIED',
      viaGot(err('CA signature digest algorithm too weak', { code: 'UNSPECIFIED' })),
      'tls-handshake',
      'CA_MD_TOO_WEAK',
    ],
    [
      'weak leaf key',
      viaGot(err('EE certificate key too weak', { code: 'UNSPECIFIED' })),
      'tls-handshake',
      'EE_KEY_TOO_SMALL',
    ],
    // Protocol refusals.
    [
      'TLS 1.0-only server',
      viaGot(err('write EPROTO ...:ssl3_read_bytes:tlsv1 alert protocol version:...', { code: 'EPROTO' })),
      'tls-protocol',
      'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    ],
    [
      'unsupported protocol',
      err('unsupported protocol', { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' }),
      'tls-protocol',
      'ERR_SSL_UNSUPPORTED_PROTOCOL',
    ],
    [
      'unsafe legacy renegotiation',
      viaGot(
        err('write EPROTO ...:SSL routines:final_renegotiate:unsafe legacy renegotiation disabled:...', {
          code: 'EPROTO',
        }),
      ),
      'tls-protocol',
      'ERR_SSL_UNSAFE_LEGACY_RENEGOTIATION_DISABLED',
    ],
    [
      'TLS to a plain HTTP port',
      viaGot(
        err('write EPROTO ...:SSL routines:ssl3_get_record:wrong version number:...', { code: 'EPROTO' }),
      ),
      'tls-protocol',
      'ERR_SSL_WRONG_VERSION_NUMBER',
    ],
    // Certificates.
    [
      'expired',
      viaGot(err('certificate has expired', { code: 'CERT_HAS_EXPIRED' })),
      'tls-certificate',
      'CERT_HAS_EXPIRED',
    ],
    [
      'self-signed',
      viaGot(err('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })),
      'tls-certificate',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    ],
    [
      'untrusted root',
      viaGot(err('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })),
      'tls-certificate',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    ],
    [
      'self-signed in chain',
      err('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      'tls-certificate',
      'SELF_SIGNED_CERT_IN_CHAIN',
    ],
    [
      'wrong host',
      viaGot(
        err(
          "Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:wrong.example.test",
          { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
        ),
      ),
      'tls-certificate',
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    // DNS, connect, reset.
    [
      'ENOTFOUND',
      viaGot(err('getaddrinfo ENOTFOUND nope.invalid', { code: 'ENOTFOUND', syscall: 'getaddrinfo' })),
      'dns',
      'ENOTFOUND',
    ],
    [
      'EAI_AGAIN',
      viaGot(err('getaddrinfo EAI_AGAIN cdn.example', { code: 'EAI_AGAIN' })),
      'dns',
      'EAI_AGAIN',
    ],
    [
      'refused',
      viaGot(
        err('connect ECONNREFUSED 127.0.0.1:9', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 9 }),
      ),
      'connect-refused',
      'ECONNREFUSED',
    ],
    [
      'unreachable',
      err('connect EHOSTUNREACH 10.0.0.1:443', { code: 'EHOSTUNREACH' }),
      'connect-refused',
      'EHOSTUNREACH',
    ],
    ['reset', viaGot(err('read ECONNRESET', { code: 'ECONNRESET' })), 'connect-reset', 'ECONNRESET'],
    [
      'reset during TLS',
      viaGot(
        err('Client network socket disconnected before secure TLS connection was established', {
          code: 'ECONNRESET',
        }),
      ),
      'connect-reset',
      'ECONNRESET',
    ],
    [
      'premature close',
      viaGot(err('The server aborted pending request', { code: 'ECONNRESET' }), 'ReadError'),
      'connect-reset',
      'ECONNRESET',
    ],
    ['socket hang up', err('socket hang up', { code: 'ECONNRESET' }), 'connect-reset', 'ECONNRESET'],
    // Timeouts per phase (got's TimeoutError carries `event`).
    [
      'connect timeout',
      err("Timeout awaiting 'connect' for 10000ms", {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        event: 'connect',
      }),
      'timeout',
      'ETIMEDOUT:connect',
    ],
    [
      'TLS timeout',
      err("Timeout awaiting 'secureConnect' for 10000ms", {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        event: 'secureConnect',
      }),
      'timeout',
      'ETIMEDOUT:secureConnect',
    ],
    [
      'idle timeout',
      err("Timeout awaiting 'socket' for 300ms", {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        event: 'socket',
      }),
      'timeout',
      'ETIMEDOUT:socket',
    ],
    ['raw ETIMEDOUT', err('connect ETIMEDOUT 1.2.3.4:443', { code: 'ETIMEDOUT' }), 'timeout', 'ETIMEDOUT'],
    // Proxies.
    ['hpagent CONNECT 407', viaGot(err('Bad response: 407')), 'proxy', 'PROXY_HTTP_407'],
    ['hpagent CONNECT 403', viaGot(err('Bad response: 403')), 'proxy', 'PROXY_HTTP_403'],
    ['SOCKS auth', viaGot(err('Socks5 Authentication failed')), 'proxy', 'PROXY_SOCKS_AUTH'],
    [
      'SOCKS rejected',
      viaGot(err('Socks5 proxy rejected connection - ConnectionRefused')),
      'proxy',
      'PROXY_SOCKS_REJECTED',
    ],
    // Policy and caller.
    [
      'abort',
      err('This operation was aborted.', { name: 'AbortError', code: 'ERR_ABORTED' }),
      'aborted',
      'ABORT_ERR',
    ],
    [
      'redirect to file:',
      err('Unsupported protocol: file:', { code: 'ERR_UNSUPPORTED_PROTOCOL' }),
      'blocked',
      'ERR_UNSUPPORTED_PROTOCOL',
    ],
    [
      'redirect limit',
      err('Redirected 5 times. Aborting.', { name: 'MaxRedirectsError', code: 'ERR_TOO_MANY_REDIRECTS' }),
      'http-status',
      'ERR_TOO_MANY_REDIRECTS',
    ],
    ['anything else', new Error('something odd'), 'unknown', 'UNKNOWN'],
  ])('%s', (_name, error, failureClass, code) => {
    const result = classifyError(error);
    expect(result.failureClass).toBe(failureClass);
    expect(result.code).toBe(code);
  });

  it('keeps a DetourError as it is, wherever it sits in the cause chain', () => {
    const inner = new DetourError('private', { failureClass: 'blocked', code: 'DETOUR_PRIVATE_ADDRESS' });
    expect(classifyError(viaGot(err('wrapped', { code: 'DETOUR_PRIVATE_ADDRESS' }, inner)))).toMatchObject({
      failureClass: 'blocked',
      code: 'DETOUR_PRIVATE_ADDRESS',
      terminal: true,
    });
  });

  it('a strategy that follows redirects itself reports a terminal redirect limit', () => {
    const error = new DetourError('too many redirects', {
      failureClass: 'http-status',
      code: 'ERR_TOO_MANY_REDIRECTS',
    });
    expect(classifyError(error).terminal).toBe(true);
  });

  it.each([
    [404, true],
    [410, true],
    [403, true],
    [408, false],
    [429, false],
    [500, false],
    [503, false],
  ])('HTTP %i terminal: %s', (status, terminal) => {
    const error = new DetourError(`HTTP ${status}`, {
      failureClass: 'http-status',
      code: `HTTP_${status}`,
      status,
    });
    expect(classifyError(error).terminal).toBe(terminal);
  });
});

/**
 * Errors captured from REAL failing connections against the lab (packages/lab/scripts/capture-errors.ts writes
 * the file: node https, raw tls, got, got + hpagent/socks-proxy-agent), rebuilt with their causes.
 */
interface Captured {
  name?: string;
  code?: string | number;
  message?: string;
  cause?: Captured;
  [key: string]: unknown;
}
const captured = JSON.parse(
  readFileSync(new URL('./fixtures/captured-errors.json', import.meta.url), 'utf8'),
) as {
  scenarios: Array<{
    scenario: string;
    expectedClass: string;
    runs: Record<string, { ok: boolean; error?: Captured }>;
  }>;
};

function rebuild(data: Captured): Error {
  const { cause, message, ...fields } = data;
  const error = new Error(message ?? '', cause ? { cause: rebuild(cause) } : undefined);
  return Object.assign(error, fields);
}

const capturedCases = captured.scenarios.flatMap((s) =>
  Object.entries(s.runs)
    // curl's failures are exit codes, mapped by @detour/curl's own table (tested there).
    .filter(([client, run]) => !run.ok && run.error && client !== 'curl')
    .map(([client, run]) => [`${s.scenario} via ${client}`, run.error!, s.expectedClass] as const),
);

describe('classifyError on errors captured from real connections', () => {
  it('has cases', () => {
    expect(capturedCases.length).toBeGreaterThan(40);
  });
  it.each(capturedCases)('%s → %s', (_name, data, expectedClass) => {
    expect(classifyError(rebuild(data)).failureClass).toBe(expectedClass);
  });
});
