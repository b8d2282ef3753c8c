/**
 * The rules of cache-key derivation, one table row each (issue 29: every rule a mutant could
 * change is pinned by a case that states it). `pnpm mutate cache-key` checks these tables kill
 * every mutant of cache/key.ts. (Core knows no site: Tencent's rkey-free key is the qq preset's,
 * pinned in packages/qq/test/qq-unit.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { type DropQueryParamsOptions, defaultCacheKey, dropQueryParams } from '../src/cache/index.js';

describe('dropQueryParams: which parameters go, and where', () => {
  // [names, options, url, key]; the key function is built inside the test (not while collecting).
  it.each<[string[], DropQueryParamsOptions, string, string]>([
    // The fragment never reaches a key, whether or not a parameter is dropped, on any host.
    [['sig'], {}, 'https://a.example/f?sig=1&id=2#part', 'https://a.example/f?id=2'],
    [['sig'], {}, 'https://a.example/f?id=2#part', 'https://a.example/f?id=2'],
    [['sig'], { hosts: ['b.example'] }, 'https://a.example/f?sig=1#x', 'https://a.example/f?sig=1'],
    // Only the named parameters go; the others keep their values and their order.
    [['sig'], {}, 'https://a.example/f?z=1&sig=2&a=3&m=4', 'https://a.example/f?z=1&a=3&m=4'],
    [['SIG'], {}, 'https://a.example/f?Sig=1&sIG=2&signed=3', 'https://a.example/f?signed=3'],
    [[], {}, 'https://a.example/f?sig=1', 'https://a.example/f?sig=1'],
    // Hosts scope the rule: outside them the key is the default one.
    [['sig'], { hosts: ['a.example'] }, 'https://a.example/f?sig=1&n=2', 'https://a.example/f?n=2'],
    [['sig'], { hosts: ['*.a.example'] }, 'https://a.example/f?sig=1', 'https://a.example/f?sig=1'],
    [['sig'], { hosts: ['*.a.example'] }, 'https://x.a.example/f?sig=1', 'https://x.a.example/f'],
    [['sig'], { hosts: [] }, 'https://a.example/f?sig=1', 'https://a.example/f?sig=1'],
  ])('%j %j: %s', (names, options, input, key) => {
    expect(dropQueryParams(names, options)(new URL(input))).toBe(key);
  });

  it('leaves the URL it is given unchanged', () => {
    const url = new URL('https://a.example/f?sig=1#part');
    dropQueryParams(['sig'])(url);
    expect(url.href).toBe('https://a.example/f?sig=1#part');
  });
});

describe('defaultCacheKey', () => {
  it.each([
    ['https://a.example/x?n=1#frag', 'https://a.example/x?n=1'],
    ['https://a.example/x#', 'https://a.example/x'],
    ['https://a.example/x?n=1', 'https://a.example/x?n=1'],
    ['HTTPS://A.EXAMPLE:443/x', 'https://a.example/x'],
  ])('%s → %s', (input, key) => {
    expect(defaultCacheKey(new URL(input))).toBe(key);
  });
});
