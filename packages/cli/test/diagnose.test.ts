import { describe, expect, it } from 'vitest';
import { type DoctorResult, diagnose, proxyState, ruleDomain } from '../src/diagnose.js';

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

describe('proxyState: what the requests through the proxy met', () => {
  const proxy = 'http://127.0.0.1:7890';
  it.each([
    ['no proxy', 'direct', [r('direct', 'failed', 'direct', 'tls-certificate', 'CERT_HAS_EXPIRED')], 'none'],
    ['an answer through it', proxy, [r('direct', 'ok', proxy)], 'works'],
    [
      'a 404 through it still means it works',
      proxy,
      [r('direct', 'failed', proxy, 'http-status', 'HTTP_404')],
      'works',
    ],
    ['refused', proxy, [r('direct', 'failed', proxy, 'proxy', 'ECONNREFUSED')], 'not-running'],
    ["curl's connect failure", proxy, [r('curl', 'failed', proxy, 'proxy', 'CURL_E7')], 'not-running'],
    ['no tunnel in time', proxy, [r('direct', 'failed', proxy, 'proxy', 'DETOUR_PROXY_TIMEOUT')], 'stuck'],
    ['407', proxy, [r('direct', 'failed', proxy, 'proxy', 'PROXY_HTTP_407')], 'needs-auth'],
    ['SOCKS credentials', proxy, [r('direct', 'failed', proxy, 'proxy', 'PROXY_SOCKS_AUTH')], 'needs-auth'],
    ['403 to CONNECT', proxy, [r('direct', 'failed', proxy, 'proxy', 'PROXY_HTTP_403')], 'refuses-target'],
    [
      'a handshake alert through it, none around it',
      proxy,
      [
        r('direct', 'failed', proxy, 'tls-handshake', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'),
        r('direct-bypass', 'ok'),
      ],
      'breaks-tls',
    ],
    [
      'the same alert around it: the origin, not the proxy',
      proxy,
      [
        r('direct', 'failed', proxy, 'tls-handshake', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'),
        r('direct-bypass', 'failed', 'direct', 'tls-handshake', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'),
      ],
      'works',
    ],
  ] as const)('%s → %s', (_what, route, results, state) => {
    expect(proxyState(route, [...results])).toBe(state);
  });

  it('not running from the environment: start it or unset the variables set, and no DIRECT rule', () => {
    const d = diagnose({
      host: 'multimedia.nt.qq.com.cn',
      route: proxy,
      proxySource: 'env',
      proxyVariables: ['https_proxy', 'HTTPS_PROXY'],
      fakeIpAnswers: [],
      noProxy: null,
      downgradeAllowed: false,
      results: [r('direct', 'failed', proxy, 'proxy', 'ECONNREFUSED'), r('direct-bypass', 'ok')],
    });
    expect(d.proxy).toEqual({ url: proxy, source: 'env', state: 'not-running' });
    expect(d.suggestions).toEqual([
      {
        kind: 'system',
        text: `the proxy at ${proxy} is not running: start it or unset the variable (unset https_proxy HTTPS_PROXY)`,
      },
    ]);
    expect(d.verdict).toContain('Until then Detour goes around it (direct-bypass');
  });
});
