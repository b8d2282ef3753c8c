import { classifyError, DetourError, type FailureClass, type Route } from '@detour/core';

/**
 * curl's exit codes (`man curl`, EXIT CODES) mapped to Detour's failure classes, so that a curl
 * attempt tells the same story as a Node one. Codes not listed are `unknown`.
 */
export const CURL_EXIT_CLASSES: Readonly<Record<number, FailureClass>> = {
  1: 'blocked', // unsupported protocol (a redirect to ftp:, file:, ...)
  3: 'blocked', // malformed URL
  5: 'proxy', // could not resolve the proxy
  6: 'dns', // could not resolve the host
  7: 'connect-refused', // failed to connect (to the proxy, when there is one: see below)
  8: 'content-invalid', // weird server reply
  16: 'connect-reset', // HTTP/2 framing layer
  18: 'content-invalid', // partial file: fewer bytes than Content-Length
  22: 'http-status', // --fail (not used by the strategy; kept for completeness)
  28: 'timeout', // --max-time, --connect-timeout, --speed-time
  35: 'tls-handshake', // SSL connect error (refined to tls-protocol from the message)
  47: 'http-status', // too many redirects
  51: 'tls-certificate', // peer certificate or fingerprint not OK
  52: 'connect-reset', // empty reply from server
  55: 'connect-reset', // failure sending network data
  56: 'connect-reset', // failure receiving network data (refined to proxy for CONNECT failures)
  58: 'tls-certificate', // problem with the local client certificate
  60: 'tls-certificate', // peer certificate cannot be authenticated (refined: "too weak" is relaxable)
  61: 'content-invalid', // unrecognised transfer encoding
  63: 'too-large', // --max-filesize
  80: 'connect-reset', // failed to shut down the TLS connection
  83: 'tls-certificate', // issuer check failed
  90: 'tls-certificate', // pinned public key mismatch
  91: 'tls-certificate', // invalid certificate status
  92: 'connect-reset', // HTTP/2 stream error
  95: 'connect-reset', // HTTP/3 layer
  97: 'proxy', // proxy handshake (SOCKS) failed
};

export interface CurlFailure {
  failureClass: FailureClass;
  code: string;
  message: string;
}

/** The message curl printed for its exit (`curl: (35) ...` with `--show-error`), without the prefix. */
export function curlMessage(stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).filter((l) => l.startsWith('curl: '));
  const last = lines.at(-1);
  return last?.replace(/^curl: (\(\d+\) )?/, '').trim() || undefined;
}

const WEAK_CERTIFICATE = /too weak|key too small|md too weak/i;
const VIA_PROXY = /from proxy after CONNECT|CONNECT tunnel failed|proxy/i;

/** Map an exit code and curl's stderr to a failure class, refined by the message where curl's code is coarse. */
export function curlFailure(exitCode: number, stderr: string, route: Route): CurlFailure {
  const message = curlMessage(stderr) ?? `curl exited with code ${exitCode}`;
  let failureClass: FailureClass = CURL_EXIT_CLASSES[exitCode] ?? 'unknown';
  if (exitCode === 35) {
    // The same OpenSSL reasons Node reports: reuse core's patterns (protocol vs handshake).
    const node = classifyError(Object.assign(new Error(message), { code: 'EPROTO' }));
    failureClass = node.failureClass === 'tls-protocol' ? 'tls-protocol' : 'tls-handshake';
  } else if (exitCode === 60 && WEAK_CERTIFICATE.test(message)) {
    // A chain that verifies but with a weak key or digest: a lower security level rescues it.
    failureClass = 'tls-handshake';
  } else if (exitCode === 7 && route.kind !== 'direct') {
    // With a proxy, curl only ever connects to the proxy.
    failureClass = 'proxy';
  } else if (exitCode === 56 && route.kind !== 'direct' && VIA_PROXY.test(message)) {
    failureClass = 'proxy';
  }
  return { failureClass, code: `CURL_E${exitCode}`, message: `curl: ${message}` };
}

export function curlError(exitCode: number, stderr: string, route: Route): DetourError {
  const { failureClass, code, message } = curlFailure(exitCode, stderr, route);
  return new DetourError(message, { failureClass, code });
}
