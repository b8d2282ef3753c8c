import { sha256Hex } from '../digest.js';
import { hostMatches } from '../host-pattern.js';

/** Turns a request URL into the cache key (and the single-flight key). */
export type CacheKeyFn = (url: URL) => string;

/** The URL without its fragment: two spellings of the same resource share an entry. */
export const defaultCacheKey: CacheKeyFn = (url) => {
  // What `hash = ''` on a copy gives: a '#' appears in an href only where the fragment starts.
  const href = url.href;
  const fragment = href.indexOf('#');
  // Stryker disable next-line EqualityOperator: an href starts with its scheme, so '#' is never at 0 (`< 0` and `<= 0` agree).
  return fragment < 0 ? href : href.slice(0, fragment);
};

export interface DropQueryParamsOptions {
  /** Only for hosts matching these patterns (`example.com`, `*.example.com`, `*`; default: every host). */
  hosts?: readonly string[];
}

/**
 * A cache key that ignores some query parameters (case-insensitive), e.g. an expiring signature
 * that changes on every link to the same file. Other parameters keep their order.
 */
export function dropQueryParams(names: readonly string[], options: DropQueryParamsOptions = {}): CacheKeyFn {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return (url) => {
    const copy = new URL(url);
    copy.hash = '';
    if (options.hosts && !hostMatches(copy.hostname, options.hosts)) return copy.href;
    for (const name of [...copy.searchParams.keys()]) {
      if (drop.has(name.toLowerCase())) copy.searchParams.delete(name);
    }
    return copy.href;
  };
}

/** What stores see: a hash, so URL secrets (tokens, signatures) never land on disk or in Redis. */
export function hashKey(key: string): string {
  return sha256Hex(key);
}
