/**
 * The rules of proxy selection from the environment that proxy-env.test.ts's table leaves
 * implicit, one case each (issue 29: `pnpm mutate no-proxy` checks these and the other proxy-env
 * tests kill every mutant of proxy-env.ts): NO_PROXY's parsing edges, the matcher's host
 * normalisation, the proxy URL's normalisation, and what the report says.
 */
import { describe, expect, it } from 'vitest';
import {
  envProxySettings,
  matchesNoProxy,
  normalizeProxyUrl,
  parseNoProxy,
  proxyForUrl,
} from '../src/index.js';

const P = 'http://127.0.0.1:7890';

/** Whether `no_proxy` keeps `url` off the proxy. */
const bypassed = (url: string, noProxy: string) =>
  proxyForUrl(url, { https_proxy: P, http_proxy: P, no_proxy: noProxy }) === null;

describe('NO_PROXY entries', () => {
  it.each([
    // Host spellings: leading `.` or `*.`, a trailing dot, any case, on either side.
    ['https://a.example./', 'a.example', true],
    ['https://a.example/', 'a.example.', true],
    ['https://x.a.example/', '*.a.example', true],
    ['https://x.a.example/', '.a.example', true],
    ['https://a.example/', '*a.example', false],
    ['https://A.Example/', 'a.EXAMPLE', true],
    // A suffix matches at a label boundary only, and never inside an IP address.
    ['https://xa.example/', 'a.example', false],
    ['https://10.0.0.1/', '0.1', false],
    ['https://10.0.0.1/', '0.0.1', false],
    ['https://[::1]/', ':1', false],
    // Ports: host:port, [v6]:port; the URL's default port counts.
    ['http://a.example/', 'a.example:80', true],
    ['http://a.example:8080/', 'a.example:80', false],
    ['http://a.example:8080/', 'a.example:8080', true],
    ['https://[::1]:8443/', '[::1]:8443', true],
    ['https://[::1]:8443/', '[::1]:443', false],
    ['https://[::1]/', '[::1]:443', true],
    // CIDR: prefix within the family's width; an invalid one matches nothing (not even as a host).
    ['https://10.9.8.7/', '10.0.0.0/8', true],
    ['https://10.0.0.1/', '10.0.0.0/32', false],
    ['https://10.0.0.0/', '10.0.0.0/32', true],
    ['https://10.0.0.1/', '10.0.0.0/33', false],
    ['https://[fd00::1]/', 'fd00::/128', false],
    ['https://[fd00::]/', 'fd00::/128', true],
    ['https://[fd00::1]/', 'fd00::/129', false],
    ['https://[fd00::1]/', '[fd00::]/8', true],
    ['https://a.example/', '10.0.0.0/8', false],
    ['https://a.example/', '*', true],
    // Separators: commas, spaces, tabs, newlines, runs of them; empty entries are nothing.
    ['https://b.example/', 'a.example,\tb.example', true],
    ['https://b.example/', 'a.example\n\nb.example', true],
    ['https://b.example/', ',,', false],
    ['https://b.example/', ' , ', false],
  ])('%s with no_proxy=%j → bypassed: %s', (url, noProxy, expected) => {
    expect(bypassed(url, noProxy)).toBe(expected);
  });

  it('parses each entry into what it is', () => {
    expect(
      parseNoProxy(
        '*.A.example., [::1]:8080, b.example:81, 10.0.0.0/8, *, ::2, fd00::/7, 10.0.0.1, .c.example',
      ),
    ).toEqual([
      { kind: 'host', host: 'a.example' },
      { kind: 'host', host: '::1', port: 8080 },
      { kind: 'host', host: 'b.example', port: 81 },
      expect.objectContaining({ kind: 'cidr', family: 'ipv4', text: '10.0.0.0/8' }),
      { kind: 'all' },
      { kind: 'host', host: '::2' },
      expect.objectContaining({ kind: 'cidr', family: 'ipv6', text: 'fd00::/7' }),
      { kind: 'host', host: '10.0.0.1' },
      { kind: 'host', host: 'c.example' },
    ]);
    expect(parseNoProxy('[::1]')).toEqual([{ kind: 'host', host: '::1' }]);
    // CIDR, [v6]:port and host:port are whole-entry forms: text around them makes a plain name.
    for (const text of ['10.0.0.0/8x', 'x10.0.0.0/8', '[::1]:80x', 'x[::1]', 'a.example:80x']) {
      expect(parseNoProxy(text)).toEqual([{ kind: 'host', host: text }]);
    }
    expect(parseNoProxy('10.0.0.0/33, ::/129, .')).toEqual([]);
    expect(parseNoProxy(undefined)).toEqual([]);
    expect(parseNoProxy('')).toEqual([]);
  });

  it('matches the host as given: brackets and a trailing dot are not part of it', () => {
    const entries = parseNoProxy('::1, a.example, 10.0.0.0/8');
    expect(matchesNoProxy('[::1]', 443, entries)).toBe(true);
    expect(matchesNoProxy('a.example.', 443, entries)).toBe(true);
    expect(matchesNoProxy('10.1.2.3', 443, entries)).toBe(true);
    expect(matchesNoProxy('b.example', 443, entries)).toBe(false);
    expect(matchesNoProxy('b.example', 443, [])).toBe(false);
  });
});

describe('the proxy URL', () => {
  it.each([
    ['127.0.0.1:7890', 'http://127.0.0.1:7890'],
    ['HTTP://127.0.0.1:7890/', 'http://127.0.0.1:7890'],
    ['socks5h://u:p@127.0.0.1:1080', 'socks5h://u:p@127.0.0.1:1080'],
    ['Socks5://127.0.0.1:1080', 'socks5://127.0.0.1:1080'],
    ['a+b.c-d://127.0.0.1:1', null],
    ['socks5://:1080', null],
    ['http://', null],
    ['ftp://127.0.0.1', null],
  ])('%s → %s', (value, expected) => {
    expect(normalizeProxyUrl(value)).toBe(expected);
  });

  it('a value without a scheme takes the default one given', () => {
    expect(normalizeProxyUrl('127.0.0.1:1080', 'socks5')).toBe('socks5://127.0.0.1:1080');
    expect(normalizeProxyUrl('x://127.0.0.1:1080', 'socks5')).toBeNull();
  });

  it('a port of its own in the target URL, not the default, is what NO_PROXY sees', () => {
    expect(proxyForUrl('https://a.example:443/', { https_proxy: P, no_proxy: 'a.example:443' })).toBeNull();
    expect(proxyForUrl('https://a.example:80/', { https_proxy: P, no_proxy: 'a.example:443' })).toBe(P);
  });

  it('only http and https targets use a proxy; the scheme picks the variable', () => {
    expect(proxyForUrl('ws://a.example/', { all_proxy: P, http_proxy: P })).toBeNull();
    expect(proxyForUrl('https://a.example/', { http_proxy: P })).toBeNull();
    expect(proxyForUrl('http://a.example/', { https_proxy: P })).toBeNull();
    expect(proxyForUrl(new URL('http://a.example/'), { http_proxy: P })).toBe(P);
  });

  it('CGI hides HTTP_PROXY for http only; HTTPS_PROXY and ALL_PROXY still count', () => {
    expect(proxyForUrl('https://a.example/', { HTTPS_PROXY: P, REQUEST_METHOD: 'GET' })).toBe(P);
    expect(
      proxyForUrl('http://a.example/', {
        HTTP_PROXY: P,
        ALL_PROXY: 'socks5://127.0.0.1:1',
        REQUEST_METHOD: 'GET',
      }),
    ).toBe('socks5://127.0.0.1:1');
    expect(proxyForUrl('http://a.example/', { HTTP_PROXY: P, REQUEST_METHOD: '' })).toBeNull();
  });

  it('a value of spaces only is unset, in either case', () => {
    expect(proxyForUrl('https://a.example/', { https_proxy: '  ', HTTPS_PROXY: '  ' })).toBeNull();
    expect(proxyForUrl('https://a.example/', { HTTPS_PROXY: '   ', all_proxy: P })).toBe(P);
  });
});

describe('envProxySettings (the report)', () => {
  it.each([
    [{}, { http: null, https: null, socks: null, noProxy: null }],
    [{ all_proxy: P }, { http: P, https: P, socks: null, noProxy: null }],
    [
      { ALL_PROXY: 'SOCKS5://127.0.0.1:1' },
      {
        http: 'socks5://127.0.0.1:1',
        https: 'socks5://127.0.0.1:1',
        socks: 'socks5://127.0.0.1:1',
        noProxy: null,
      },
    ],
    [
      { HTTP_PROXY: P, REQUEST_METHOD: 'GET' },
      { http: null, https: null, socks: null, noProxy: null },
    ],
    [
      { http_proxy: P, REQUEST_METHOD: 'GET' },
      { http: P, https: null, socks: null, noProxy: null },
    ],
    [{ HTTP_PROXY: P }, { http: P, https: null, socks: null, noProxy: null }],
    [{ https_proxy: 'nonsense://x' }, { http: null, https: null, socks: null, noProxy: null }],
    [{ NO_PROXY: ' a.example ' }, { http: null, https: null, socks: null, noProxy: 'a.example' }],
  ])('%o → %o', (env, expected) => {
    expect(envProxySettings(env)).toEqual(expected);
  });
});
