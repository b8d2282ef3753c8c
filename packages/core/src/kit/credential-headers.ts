import type { HeaderValue } from '../types/index.js';

/**
 * Request headers that carry credentials. They make a response personal (no cache, no shared
 * download), are dropped when a redirect leaves the origin, and are never sent in plaintext by
 * `http-downgrade` unless the caller says so.
 */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'cookie', 'proxy-authorization'];

/** The first value of a response header (`set-cookie` style arrays included), or undefined. */
export function headerString(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `headers` without the credential headers (names are lower-case in an AttemptRequest). */
export function withoutCredentials(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.includes(name.toLowerCase())),
  );
}

/** Whether the request asks for a compressed body (an `Accept-Encoding` other than `identity`). */
export function acceptsEncoding(headers: Readonly<Record<string, string>>): boolean {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'accept-encoding') return value.trim().toLowerCase() !== 'identity';
  }
  return false;
}
