/**
 * Property tests (issue 9, item 10): cache keys are stable (the same resource, however spelled,
 * gives one key; a key is a fixed point) and free of a dropped parameter (an expiring signature
 * such as Tencent's `rkey`, scoped to a few hosts); stores see only a hash. Core knows no site:
 * the hosts here are only sample data for `dropQueryParams`.
 */
import { describe, expect, it } from 'vitest';
import { defaultCacheKey, dropQueryParams, hashKey } from '../src/internal.js';
import { fc, fuzzRuns, fuzzTimeout, settings } from './helpers/fuzz.js';

const runs = fuzzRuns(300);
const timeout = fuzzTimeout(runs, 2);

const plain = fc.stringMatching(/^[a-z0-9_-]{1,10}$/);
const rkey = fc.stringMatching(/^[A-Z]{8,24}$/).map((s) => `Z${s}`);
const tencentHost = fc.constantFrom(
  'multimedia.nt.qq.com.cn',
  'gchat.qpic.cn',
  'qpic.cn',
  'c2cpicdw.qpic.cn',
  'q.qlogo.cn',
  'p.qq.com',
);
const tencentCacheKey = dropQueryParams(['rkey'], {
  hosts: ['qq.com.cn', '*.qq.com.cn', 'qpic.cn', '*.qpic.cn', 'qlogo.cn', '*.qlogo.cn', 'qq.com', '*.qq.com'],
});

/** A query with an `rkey` (any case, possibly repeated) somewhere among ordinary parameters. */
const tencentUrl = fc
  .record({
    host: tencentHost,
    path: plain,
    before: fc.array(fc.tuple(plain, plain), { maxLength: 4 }),
    after: fc.array(fc.tuple(plain, plain), { maxLength: 4 }),
    rkeys: fc.array(fc.tuple(rkey, fc.constantFrom('rkey', 'RKEY', 'rKey')), { minLength: 1, maxLength: 2 }),
    fragment: fc.option(plain, { nil: undefined }),
  })
  .map((u) => {
    const pairs = (list: Array<[string, string]>) => list.map(([k, v]) => `f_${k}=${v}`);
    const query = [...pairs(u.before), ...u.rkeys.map(([v, name]) => `${name}=${v}`), ...pairs(u.after)];
    const withRkey = `https://${u.host}/${u.path}?${query.join('&')}${u.fragment ? `#${u.fragment}` : ''}`;
    const without = [...pairs(u.before), ...pairs(u.after)];
    const bare = `https://${u.host}/${u.path}${without.length ? `?${without.join('&')}` : ''}`;
    return { withRkey, bare, rkeys: u.rkeys.map(([v]) => v) };
  });

describe('cache keys (fast-check)', () => {
  it(
    'Tencent keys carry no rkey, equal the key of the URL without it, and are fixed points',
    () => {
      fc.assert(
        fc.property(tencentUrl, ({ withRkey, bare, rkeys }) => {
          const key = tencentCacheKey(new URL(withRkey));
          for (const r of rkeys) expect(key).not.toContain(r);
          expect(key).not.toMatch(/[?&]rkey=/i);
          expect(key).toBe(tencentCacheKey(new URL(bare)));
          expect(tencentCacheKey(new URL(key))).toBe(key);
        }),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'two links to one Tencent file with different rkeys share one key and one stored hash',
    () => {
      fc.assert(
        fc.property(tencentUrl, rkey, ({ withRkey }, other) => {
          const url = new URL(withRkey);
          const again = new URL(withRkey);
          again.searchParams.set('rkey', other);
          expect(hashKey(tencentCacheKey(again))).toBe(hashKey(tencentCacheKey(url)));
          expect(hashKey(tencentCacheKey(url))).toMatch(/^[0-9a-f]{64}$/);
        }),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'default keys are stable: the fragment and the spelling of scheme/host/port do not matter',
    () => {
      fc.assert(
        fc.property(
          fc.webUrl({ withQueryParameters: true, withFragments: true }),
          fc.boolean(),
          (text, shout) => {
            const url = new URL(text);
            const key = defaultCacheKey(url);
            const respelled = new URL(url.href);
            respelled.hash = 'elsewhere';
            if (shout) respelled.hostname = url.hostname.toUpperCase();
            expect(defaultCacheKey(respelled)).toBe(key);
            expect(defaultCacheKey(new URL(key))).toBe(key);
            expect(key).not.toContain('#');
          },
        ),
        settings(runs),
      );
    },
    timeout,
  );
});
