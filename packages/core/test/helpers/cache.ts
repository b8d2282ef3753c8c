/** What a successful fetch hands the cache, for cache tests: one shape, overridable per test. */
import { createHash } from 'node:crypto';
import type { CacheCandidate } from '../../src/cache/index.js';

export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function candidate(body: Buffer, over: Partial<CacheCandidate> = {}): CacheCandidate {
  return {
    url: new URL('https://a.example/x.png'),
    finalUrl: 'https://a.example/x.png',
    strategy: 'tls-relaxed',
    status: 200,
    contentType: 'image/png',
    bytes: body.length,
    sha256: sha(body),
    insecure: false,
    downgraded: false,
    degraded: false,
    headers: {},
    ...over,
  };
}
