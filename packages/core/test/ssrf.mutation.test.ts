/**
 * The rules of the private-address guard that ssrf.test.ts's tables leave implicit, one case each
 * (issue 29: `pnpm mutate ssrf` checks these and the other ssrf tests kill every mutant of
 * ssrf.ts). `embeddedIPv4` is tested directly: which IPv6 forms carry an IPv4 address is its own
 * rule, whether or not `net.BlockList` would also judge a mapped address by its IPv4 part.
 */
import { describe, expect, it } from 'vitest';
import { embeddedIPv4, isPrivateAddress } from '../src/ssrf.js';
import { fc, fuzzRuns, settings } from './helpers/fuzz.js';

describe('isPrivateAddress: what counts as an address', () => {
  it.each([
    // Brackets come off only as a pair.
    ['[127.0.0.1]', true],
    ['[127.0.0.11', false],
    ['x10.0.0.1]', false],
    ['[::1', false],
    // What `net.isIP` refuses is not judged, however close to an address (DNS answers are, later).
    ['::ffff:127.0.0.01', false],
    ['::ffff:7f00:1g', false],
    ['127.0.0.1.', false],
    ['', false],
  ])('%j → %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});

describe('embeddedIPv4: which IPv6 forms carry an IPv4 address', () => {
  it.each([
    // IPv4-mapped ::ffff:0:0/96, dotted or hex, any case, bracketed or with a zone id.
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::ffff:102:304', '1.2.3.4'],
    ['::FFFF:A00:1', '10.0.0.1'],
    ['0:0:0:0:0:ffff:c0a8:0101', '192.168.1.1'],
    ['[::ffff:1.2.3.4]', '1.2.3.4'],
    ['::ffff:1.2.3.4%eth0', '1.2.3.4'],
    ['1::ffff:102:304', undefined],
    ['::1:ffff:102:304', undefined],
    // SIIT ::ffff:0:0:0/96.
    ['::ffff:0:1.2.3.4', '1.2.3.4'],
    ['::ffff:0:102:304', '1.2.3.4'],
    ['1::ffff:0:102:304', undefined],
    ['::ffff:1:102:304', undefined],
    // IPv4-compatible ::a.b.c.d, but not :: (unspecified) nor ::1 (loopback).
    ['::1.2.3.4', '1.2.3.4'],
    ['::2', '0.0.0.2'],
    ['::1:0', '0.1.0.0'],
    ['::1', undefined],
    ['::', undefined],
    ['::1:1:102:304', undefined],
    // NAT64 well-known prefix 64:ff9b::/96.
    ['64:ff9b::1.2.3.4', '1.2.3.4'],
    ['64:FF9B::102:304', '1.2.3.4'],
    ['65:ff9b::102:304', undefined],
    ['64:ff9a::102:304', undefined],
    ['64:ff9b:0:0:0:1:102:304', undefined],
    ['64:ff9b:1::102:304', undefined],
    // 6to4 2002::/16: the IPv4 address is in the second and third words.
    ['2002:102:304::1', '1.2.3.4'],
    ['2002:c0a8:101:ffff:ffff:ffff:ffff:ffff', '192.168.1.1'],
    ['2003:102:304::1', undefined],
    // Global IPv6 that carries nothing.
    ['2606:4700::1111', undefined],
    ['fe80::1', undefined],
  ])('%s → %s', (ip, expected) => {
    expect(embeddedIPv4(ip)).toBe(expected);
  });

  it.each([
    ['a name', 'example.com'],
    ['an IPv4 address', '1.2.3.4'],
    ['a word that is not hex', '::ffff:x:1'],
    ['a negative word', '::ffff:-1:1'],
    ['a word above ffff', '::ffff:10000:1'],
    ['too few words', '2002:102:304'],
    ['too many words', '2002:102:304:0:0:0:0:0:1'],
    ['a bracket on one side only', '[::ffff:1.2.3.4'],
    ['a bracket on one side only', '::ffff:1.2.3.4]'],
    ['a dotted tail that is not one', '::ffff:1.2.3'],
  ])('undefined for %s (%s)', (_what, text) => {
    expect(embeddedIPv4(text)).toBeUndefined();
  });

  it('reads every IPv4 address back from every form that carries it', () => {
    const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const hex = (n: number) => `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
    fc.assert(
      fc.property(fc.integer({ min: 0x00010000, max: 0xffffffff }), (n) => {
        const v4 = dotted(n);
        for (const form of [
          `::ffff:${v4}`,
          `::ffff:${hex(n)}`,
          `::ffff:0:${v4}`,
          `::${v4}`,
          `64:ff9b::${hex(n)}`,
          `2002:${hex(n)}::`,
        ]) {
          expect(embeddedIPv4(form)).toBe(v4);
        }
      }),
      settings(fuzzRuns(200)),
    );
  });
});
