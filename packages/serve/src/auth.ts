import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * A bearer-token check in constant time: both sides are hashed to 32 bytes first, so neither the
 * token's length nor its content leaks through timing (timingSafeEqual needs equal lengths).
 */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer[ \t]+(.+)$/i.exec(authorization?.trim() ?? '');
    const given = digest(match?.[1]?.trim() ?? '');
    // Compare even when the header is missing, so every refusal costs the same.
    return timingSafeEqual(given, expected) && match !== null;
  };
}

/** Whether an address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === 'localhost' || name === '::1' || name === '0:0:0:0:0:0:0:1') return true;
  if (name.startsWith('::ffff:')) return isLoopbackHost(name.slice(7));
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
