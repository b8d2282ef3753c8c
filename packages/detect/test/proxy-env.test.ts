import { describe, expect, it } from 'vitest';
import { envProxySettings, proxyForUrl } from '../src/index.js';

const P = 'http://127.0.0.1:7890';
const S = 'socks5h://127.0.0.1:7891';

describe('proxyForUrl (curl rules)', () => {
  it.each<[string, string, Record<string, string>, string | null]>([
    ['no variables: direct', 'https://a.example/', {}, null],
    ['https_proxy for https', 'https://a.example/', { https_proxy: P }, P],
    ['http_proxy for http', 'http://a.example/', { http_proxy: P }, P],
    ['http_proxy not used for https', 'https://a.example/', { http_proxy: P }, null],
    ['all_proxy as a fallback', 'https://a.example/', { all_proxy: S }, S],
    ['scheme proxy wins over all_proxy', 'https://a.example/', { all_proxy: S, https_proxy: P }, P],
    [
      'lower case wins over upper case',
      'https://a.example/',
      { https_proxy: P, HTTPS_PROXY: 'http://9.9.9.9:1' },
      P,
    ],
    ['upper case used when lower is absent', 'https://a.example/', { HTTPS_PROXY: P }, P],
    ['ALL_PROXY upper case', 'http://a.example/', { ALL_PROXY: S }, S],
    [
      'HTTP_PROXY ignored under CGI (httpoxy)',
      'http://a.example/',
      { HTTP_PROXY: P, REQUEST_METHOD: 'GET' },
      null,
    ],
    [
      'http_proxy lower case still used under CGI',
      'http://a.example/',
      { http_proxy: P, REQUEST_METHOD: 'GET' },
      P,
    ],
    ['scheme-less value means http://', 'https://a.example/', { https_proxy: '127.0.0.1:7890' }, P],
    ['socks4', 'https://a.example/', { https_proxy: 'socks4://127.0.0.1:1080' }, 'socks4://127.0.0.1:1080'],
    [
      'socks4a',
      'https://a.example/',
      { https_proxy: 'socks4a://127.0.0.1:1080' },
      'socks4a://127.0.0.1:1080',
    ],
    ['socks5', 'https://a.example/', { https_proxy: 'socks5://127.0.0.1:1080' }, 'socks5://127.0.0.1:1080'],
    [
      'https proxy scheme',
      'https://a.example/',
      { https_proxy: 'https://proxy.example:443' },
      'https://proxy.example',
    ],
    ['unknown scheme refused', 'https://a.example/', { https_proxy: 'ftp://127.0.0.1:21' }, null],
    ['empty value is unset', 'https://a.example/', { https_proxy: '', HTTPS_PROXY: P }, P],
    ['surrounding spaces', 'https://a.example/', { https_proxy: `  ${P}  ` }, P],
    // NO_PROXY
    ['no_proxy exact host', 'https://qq.com/', { https_proxy: P, no_proxy: 'qq.com' }, null],
    [
      'no_proxy matches subdomains',
      'https://multimedia.nt.qq.com.cn/x',
      { https_proxy: P, no_proxy: 'qq.com.cn' },
      null,
    ],
    ['no_proxy leading dot optional', 'https://qq.com.cn/', { https_proxy: P, no_proxy: '.qq.com.cn' }, null],
    [
      'no_proxy leading dot matches subdomain',
      'https://a.qq.com.cn/',
      { https_proxy: P, no_proxy: '.qq.com.cn' },
      null,
    ],
    ['no_proxy *.domain form', 'https://a.qq.com.cn/', { https_proxy: P, no_proxy: '*.qq.com.cn' }, null],
    ['no_proxy is not a substring match', 'https://notqq.com/', { https_proxy: P, no_proxy: 'qq.com' }, P],
    ['no_proxy * alone disables proxies', 'https://a.example/', { https_proxy: P, no_proxy: '*' }, null],
    ['no_proxy * inside a list', 'https://a.example/', { https_proxy: P, no_proxy: 'x.example, *' }, null],
    [
      'no_proxy with spaces and commas',
      'https://b.example/',
      { https_proxy: P, no_proxy: ' a.example , b.example ' },
      null,
    ],
    ['no_proxy port must match', 'https://a.example:8443/', { https_proxy: P, no_proxy: 'a.example:443' }, P],
    [
      'no_proxy port matches default port',
      'https://a.example/',
      { https_proxy: P, no_proxy: 'a.example:443' },
      null,
    ],
    ['no_proxy IPv4 literal', 'https://10.1.2.3/', { https_proxy: P, no_proxy: '10.1.2.3' }, null],
    ['no_proxy IPv4 literal is exact', 'https://10.1.2.4/', { https_proxy: P, no_proxy: '10.1.2.3' }, P],
    ['no_proxy IPv4 CIDR', 'https://192.168.7.9/', { https_proxy: P, no_proxy: '192.168.0.0/16' }, null],
    ['no_proxy IPv4 CIDR miss', 'https://192.169.7.9/', { https_proxy: P, no_proxy: '192.168.0.0/16' }, P],
    ['no_proxy IPv6 literal', 'https://[::1]/', { https_proxy: P, no_proxy: '::1' }, null],
    ['no_proxy IPv6 bracketed', 'https://[::1]/', { https_proxy: P, no_proxy: '[::1]' }, null],
    ['no_proxy IPv6 CIDR', 'https://[fd00::5]/', { https_proxy: P, no_proxy: 'fd00::/8' }, null],
    ['NO_PROXY upper case', 'https://qq.com/', { https_proxy: P, NO_PROXY: 'qq.com' }, null],
    [
      'no_proxy lower case wins',
      'https://qq.com/',
      { https_proxy: P, no_proxy: 'x.example', NO_PROXY: 'qq.com' },
      P,
    ],
    ['no_proxy is case-insensitive', 'https://QQ.COM/', { https_proxy: P, no_proxy: 'qq.com' }, null],
    ['not http(s): no proxy', 'ftp://a.example/', { all_proxy: P }, null],
    ['garbage URL: no proxy', 'not a url', { all_proxy: P }, null],
  ])('%s', (_name, url, env, expected) => {
    expect(proxyForUrl(url, env)).toBe(expected);
  });

  it('reads process.env only when no env is given', () => {
    const saved = process.env.https_proxy;
    process.env.https_proxy = P;
    try {
      expect(proxyForUrl('https://a.example/', {})).toBeNull();
      expect(proxyForUrl('https://a.example/')).toBe(P);
    } finally {
      if (saved === undefined) delete process.env.https_proxy;
      else process.env.https_proxy = saved;
    }
  });
});

describe('envProxySettings', () => {
  it('reports what curl would use', () => {
    expect(envProxySettings({ HTTPS_PROXY: P, all_proxy: S, no_proxy: 'qq.com' })).toEqual({
      http: S,
      https: P,
      socks: S,
      noProxy: 'qq.com',
    });
  });
});
