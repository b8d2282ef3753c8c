import { describe, expect, it } from 'vitest';
import { canRescue, retryDelay, routeFromProxyUrl } from '../src/internal.js';

describe('retryDelay', () => {
  it('honours Retry-After seconds and dates', () => {
    expect(retryDelay(0, '2')).toBe(2000);
    expect(retryDelay(0, '0')).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryDelay(0, 'Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
  });
  it('falls back to bounded exponential backoff', () => {
    for (let retry = 0; retry < 10; retry++) {
      const delay = retryDelay(retry, undefined);
      expect(delay).toBeGreaterThanOrEqual(Math.min(100 * 2 ** retry, 2000) / 2);
      expect(delay).toBeLessThanOrEqual(2000);
    }
    expect(retryDelay(0, 'garbage')).toBeLessThanOrEqual(100);
  });
});

describe('canRescue', () => {
  const set = new Set(['tls-handshake'] as const);
  it.each([
    ['first', [], true],
    ['first', ['timeout'], false],
    ['any', ['timeout'], true],
    [set, [], true],
    [set, ['tls-handshake'], true],
    [set, ['timeout'], false],
    [set, ['tls-handshake', 'connect-refused'], true],
  ] as const)('%o after %o → %s', (rescues, seen, expected) => {
    expect(canRescue(rescues as never, new Set(seen))).toBe(expected);
  });
});

describe('routeFromProxyUrl', () => {
  it.each([
    ['http://127.0.0.1:7890', 'http-proxy'],
    ['https://proxy.local:443', 'http-proxy'],
    ['127.0.0.1:7890', 'http-proxy'],
    ['socks5://127.0.0.1:7891', 'socks'],
    ['socks5h://u:p@127.0.0.1:7891', 'socks'],
    ['socks4://127.0.0.1:1080', 'socks'],
  ])('%s → %s', (url, kind) => {
    expect(routeFromProxyUrl(url).kind).toBe(kind);
  });
  it('refuses other schemes without echoing credentials', () => {
    expect(() => routeFromProxyUrl('ftp://user:pw@x')).toThrow(/unsupported proxy scheme ftp:/);
  });
});
