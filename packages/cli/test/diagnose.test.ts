import { describe, expect, it } from 'vitest';
import { type DoctorResult, diagnose, ruleDomain } from '../src/diagnose.js';

const r = (
  strategy: string,
  outcome: DoctorResult['outcome'],
  route = 'direct',
  failureClass: DoctorResult['failureClass'] = null,
  code: string | null = null,
): DoctorResult => ({
  strategy,
  route,
  outcome,
  failureClass,
  code,
  ms: 1,
});

describe('ruleDomain', () => {
  it.each([
    ['multimedia.nt.qq.com.cn', 'qq.com.cn'],
    ['gchat.qpic.cn', 'qpic.cn'],
    ['c2cpicdw.qpic.cn', 'qpic.cn'],
    ['a.b.example.co.uk', 'example.co.uk'],
    ['localhost', 'localhost'],
    ['10.1.2.3', '10.1.2.3'],
  ])('%s → %s', (host, domain) => expect(ruleDomain(host)).toBe(domain));
});

describe('diagnose', () => {
  const proxy = 'http://127.0.0.1:7890';
  const base = { route: proxy, fakeIpAnswers: [], noProxy: null, downgradeAllowed: false };

  it('QQ behind a broken accelerator: the DIRECT rule for the registrable domain, NO_PROXY extended', () => {
    const d = diagnose({
      ...base,
      host: 'multimedia.nt.qq.com.cn',
      noProxy: 'localhost,127.0.0.1',
      results: [
        r('direct', 'failed', proxy, 'tls-handshake', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'),
        r('direct-bypass', 'ok'),
      ],
    });
    expect(d.suggestions).toEqual([
      { kind: 'clash-rule', text: 'DOMAIN-SUFFIX,qq.com.cn,DIRECT' },
      { kind: 'no-proxy', text: 'NO_PROXY=localhost,127.0.0.1,.qq.com.cn' },
    ]);
  });

  it('an IP host gets an IP-CIDR rule', () => {
    const d = diagnose({
      ...base,
      host: '203.0.113.9',
      results: [r('direct', 'failed', proxy, 'connect-reset', 'ECONNRESET'), r('direct-bypass', 'ok')],
    });
    expect(d.suggestions[0]).toEqual({
      kind: 'clash-rule',
      text: 'IP-CIDR,203.0.113.9/32,DIRECT,no-resolve',
    });
  });

  it('direct works: nothing to fix', () => {
    const d = diagnose({
      ...base,
      host: 'example.com',
      results: [r('direct', 'ok', proxy), r('direct-bypass', 'ok')],
    });
    expect(d.suggestions).toEqual([]);
    expect(d.verdict).toMatch(/works: nothing needs fixing/);
  });

  it('only http-downgrade works: says it is plaintext and names the flag', () => {
    const d = diagnose({
      ...base,
      route: 'direct',
      host: 'img.example.com',
      downgradeAllowed: true,
      results: [
        r('direct', 'failed', 'direct', 'tls-handshake', 'X'),
        r('tls-relaxed', 'failed', 'direct', 'tls-handshake', 'X'),
        r('http-downgrade', 'ok'),
      ],
    });
    expect(d.verdict).toContain('plain HTTP');
    expect(d.suggestions).toEqual([
      { kind: 'detour-flag', text: expect.stringContaining('--allow-downgrade HOST') },
    ]);
  });

  it('nothing works with TLS failures: suggests trying --allow-downgrade', () => {
    const d = diagnose({
      ...base,
      route: 'direct',
      host: 'x.example.com',
      results: [
        r('direct', 'failed', 'direct', 'tls-protocol', 'ERR_SSL_UNSUPPORTED_PROTOCOL'),
        r('curl', 'failed', 'direct', 'tls-protocol', 'CURL_E35'),
      ],
    });
    expect(d.verdict).toContain(
      'The most telling failure: tls-protocol (ERR_SSL_UNSUPPORTED_PROTOCOL) in direct',
    );
    expect(d.suggestions.at(-1)?.text).toContain('--allow-downgrade x.example.com');
  });
});
