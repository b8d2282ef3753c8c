import { describe, expect, it } from 'vitest';
import { isPrivateAddress, parseTargetUrl } from '../src/internal.js';

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['8.8.8.8', false],
    ['198.18.0.1', false], // fake-IP range of Clash/mihomo/sing-box: must pass
    ['198.19.255.254', false],
    ['198.20.0.1', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd12:3456::1', true],
    ['fc00::1', false], // fake-IP v6 range fc00::/18
    ['fc00:4000::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:8.8.8.8', false],
    ['::127.0.0.1', true],
    ['64:ff9b::a00:1', true],
    ['2002:c0a8:0101::1', true],
    ['2606:4700::1111', false],
    ['[::1]', true],
    ['example.com', false],
  ])('%s → %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  // Every spelling a WHATWG URL parser accepts normalises to a dotted/bracketed literal we check.
  it.each([
    'http://127.0.0.1/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://017700000001/',
    'http://127.1/',
    'http://0x7f.0.0.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://10.0.0.1./',
  ])('URL spelling %s is private', (url) => {
    const host = parseTargetUrl(url).hostname.replace(/^\[|\]$/g, '');
    expect(isPrivateAddress(host.replace(/\.$/, ''))).toBe(true);
  });
});

describe('IPv6 ranges that embed IPv4 (issue 9, decisions D21)', () => {
  it.each([
    // ::ffff:0:0/96, IPv4-mapped: judged as the IPv4 address it is.
    ['::ffff:10.0.0.1', true],
    ['::ffff:a00:1', true],
    ['::ffff:169.254.169.254', true],
    ['::ffff:1.1.1.1', false],
    ['[::ffff:192.168.0.1]', true],
    // ::ffff:0:0:0/96, SIIT IPv4-translated: the same.
    ['::ffff:0:127.0.0.1', true],
    ['::ffff:0:808:808', false],
    // 64:ff9b::/96, NAT64 well-known prefix: the translator connects to the embedded IPv4.
    ['64:ff9b::127.0.0.1', true],
    ['64:ff9b::7f00:1', true],
    ['64:ff9b::a9fe:a9fe', true], // 169.254.169.254, the cloud metadata address
    ['64:ff9b::c0a8:1', true],
    ['64:ff9b::808:808', false],
    ['64:ff9b::1.1.1.1', false],
    // 64:ff9b:1::/48, local-use NAT64 (RFC 8215): refused as a whole, public IPv4 inside too.
    ['64:ff9b:1::a00:1', true],
    ['64:ff9b:1::808:808', true],
    ['64:ff9b:1:ffff::1.1.1.1', true],
    ['64:ff9b:1:a00:1::', true],
    // Just outside those prefixes: ordinary global IPv6.
    ['64:ff9b:2::808:808', false],
    ['64:ff9b:0:0:1::808:808', false],
    // Zone ids name an interface, not another address.
    ['fe80::1%eth0', true],
    ['::ffff:127.0.0.1%lo', true],
    ['2606:4700::1111%eth0', false],
  ])('%s → %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});
