import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from '@detour/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildCurlInvocation,
  type CurlCall,
  configString,
  curlFailure,
  curlMessage,
  curlProxyUrl,
  guardTarget,
  locateExecutable,
  parseFinalHead,
  resolvesLocally,
} from '../src/index.js';
import { findHashedCaDir } from '../src/locate.js';

const DIRECT: Route = { kind: 'direct' };
const PROXY: Route = { kind: 'http-proxy', url: 'http://127.0.0.1:3128' };

describe('curlFailure: exit codes → failure classes', () => {
  it.each([
    [6, 'curl: (6) Could not resolve host: nowhere.invalid', DIRECT, 'dns'],
    [
      7,
      'curl: (7) Failed to connect to localhost port 1 after 0 ms: Couldn’t connect to server',
      DIRECT,
      'connect-refused',
    ],
    [7, 'curl: (7) Failed to connect to 127.0.0.1 port 3128 after 0 ms', PROXY, 'proxy'],
    [28, 'curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received', DIRECT, 'timeout'],
    [35, 'curl: (35) error:0A000410:SSL routines::sslv3 alert handshake failure', DIRECT, 'tls-handshake'],
    [35, 'curl: (35) error:0A00042E:SSL routines::tlsv1 alert protocol version', DIRECT, 'tls-protocol'],
    [35, 'curl: (35) error:0A000102:SSL routines::unsupported protocol', DIRECT, 'tls-protocol'],
    [
      35,
      'curl: (35) error:0A000152:SSL routines::unsafe legacy renegotiation disabled',
      DIRECT,
      'tls-protocol',
    ],
    [35, 'curl: (35) error:0A000126:SSL routines::unexpected eof while reading', DIRECT, 'tls-handshake'],
    [60, 'curl: (60) SSL certificate problem: certificate has expired', DIRECT, 'tls-certificate'],
    [60, 'curl: (60) SSL certificate problem: self-signed certificate', DIRECT, 'tls-certificate'],
    [
      60,
      'curl: (60) SSL: no alternative certificate subject name matches target host name',
      DIRECT,
      'tls-certificate',
    ],
    [60, 'curl: (60) SSL certificate problem: EE certificate key too weak', DIRECT, 'tls-handshake'],
    [
      60,
      'curl: (60) SSL certificate problem: CA signature digest algorithm too weak',
      DIRECT,
      'tls-handshake',
    ],
    [51, 'curl: (51) SSL: certificate verification failed', DIRECT, 'tls-certificate'],
    [58, 'curl: (58) unable to set private key file', DIRECT, 'tls-certificate'],
    [56, 'curl: (56) Recv failure: Connection reset by peer', DIRECT, 'connect-reset'],
    [56, 'curl: (56) Received HTTP code 407 from proxy after CONNECT', PROXY, 'proxy'],
    [56, 'curl: (56) Recv failure: Connection reset by peer', PROXY, 'connect-reset'],
    [52, 'curl: (52) Empty reply from server', DIRECT, 'connect-reset'],
    [5, 'curl: (5) Could not resolve proxy: nowhere.invalid', PROXY, 'proxy'],
    [97, 'curl: (97) User was rejected by the SOCKS5 server (1 1).', PROXY, 'proxy'],
    [22, 'curl: (22) The requested URL returned error: 404', DIRECT, 'http-status'],
    [47, 'curl: (47) Maximum (0) redirects followed', DIRECT, 'http-status'],
    [63, 'curl: (63) Exceeded the maximum allowed file size (10) with 460 bytes', DIRECT, 'too-large'],
    [1, 'curl: (1) Protocol "ftp" not supported or disabled in libcurl', DIRECT, 'blocked'],
    [18, 'curl: (18) transfer closed with 4140 bytes remaining to read', DIRECT, 'content-invalid'],
    [61, 'curl: (61) Unrecognized content encoding type', DIRECT, 'content-invalid'],
    [92, 'curl: (92) HTTP/2 stream 1 was not closed cleanly', DIRECT, 'connect-reset'],
    [2, 'curl: (2) Failed initialization', DIRECT, 'unknown'],
    [77, 'curl: (77) error setting certificate file', DIRECT, 'unknown'],
  ] as const)('exit %i "%s" (%o) → %s', (exit, stderr, route, failureClass) => {
    const failure = curlFailure(exit, stderr, route);
    expect(failure.failureClass).toBe(failureClass);
    expect(failure.code).toBe(`CURL_E${exit}`);
    expect(failure.message).toBe(`curl: ${stderr.replace(/^curl: \(\d+\) /, '')}`);
  });

  it('keeps only curl’s own last message', () => {
    expect(curlMessage('noise\ncurl: (6) first\ncurl: (7) second\n')).toBe('second');
    expect(curlMessage('')).toBeUndefined();
    expect(curlFailure(9, '', DIRECT).message).toBe('curl: curl exited with code 9');
  });
});

describe('parseFinalHead', () => {
  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n', undefined],
    [
      'HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n',
      { status: 200, headers: { 'content-type': 'image/png' } },
    ],
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n', { status: 404, headers: {} }],
    ['HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', undefined],
    ['HTTP/2 301 \r\nlocation: /x\r\n\r\n', { status: 301, headers: { location: '/x' } }],
    [
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nVary: a\r\nVary: b\r\n\r\n',
      { status: 200, headers: { 'set-cookie': ['a=1', 'b=2'], vary: 'a, b' } },
    ],
    ['HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\r\n', { status: 200, headers: { 'x-long': 'one two' } }],
    [
      'HTTP/1.1 200 OK\r\nTrailer: X-Check\r\n\r\nX-Check: abc\r\n',
      { status: 200, headers: { trailer: 'X-Check' } },
    ],
    ['HTTP/1.0 200 OK\n\n', { status: 200, headers: {} }],
  ])('%j → %j', (dump, expected) => {
    expect(parseFinalHead(dump)).toEqual(expected);
  });
});

describe('buildCurlInvocation', () => {
  const base: CurlCall = {
    url: new URL('https://multimedia.nt.qq.com.cn/download?appid=1&rkey=SECRET'),
    headers: {
      'user-agent': 'detour/0.1',
      accept: 'image/*',
      'accept-encoding': 'gzip, br',
      authorization: 'Bearer TOKEN',
    },
    route: DIRECT,
    headerFile: '/tmp/d/headers',
    maxBytes: 1000,
    maxTimeSec: 12.3456,
    connectTimeoutSec: 10,
    stallSec: 20,
  };

  it('argv: -q first, fixed safe flags, nothing secret, config last from stdin', () => {
    const { args, config } = buildCurlInvocation(base);
    expect(args[0]).toBe('-q');
    expect(args).toEqual(
      expect.arrayContaining(['--silent', '--show-error', '--globoff', '--path-as-is', '--no-buffer']),
    );
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag('--proto')).toBe('=http,https');
    expect(flag('--proto-redir')).toBe('=http,https');
    expect(flag('--max-filesize')).toBe('1000');
    expect(flag('--max-time')).toBe('12.346');
    expect(flag('--connect-timeout')).toBe('10');
    expect(flag('--speed-time')).toBe('20');
    expect(flag('--dump-header')).toBe('/tmp/d/headers');
    expect(flag('--noproxy')).toBe('*');
    expect(args).toContain('--compressed');
    expect(args).toContain('--suppress-connect-headers');
    expect(args.slice(-2)).toEqual(['--config', '-']);
    expect(args.join(' ')).not.toMatch(/SECRET|TOKEN|qq\.com/);
    expect(args).not.toContain('--insecure');
    expect(args).not.toContain('--tlsv1');
    expect(config).toBe(
      [
        'url = "https://multimedia.nt.qq.com.cn/download?appid=1&rkey=SECRET"',
        'header = "user-agent: detour/0.1"',
        'header = "accept: image/*"',
        'header = "authorization: Bearer TOKEN"',
        '',
      ].join('\n'),
    );
  });

  it('a proxy route: --proxy without credentials, credentials in the config', () => {
    const { args, config } = buildCurlInvocation({
      ...base,
      route: { kind: 'socks', url: 'socks5h://us%40er:p%22ss@127.0.0.1:1080' },
    });
    expect(args[args.indexOf('--proxy') + 1]).toBe('socks5h://127.0.0.1:1080');
    expect(args[args.indexOf('--noproxy') + 1]).toBe('');
    expect(config).toContain('proxy-user = "us@er:p\\"ss"');
    expect(args.join(' ')).not.toContain('p"ss');
  });

  it.each([
    ['http://127.0.0.1:3128', 'http://127.0.0.1:3128'],
    ['https://proxy.local:8443', 'https://proxy.local:8443'],
    ['socks://127.0.0.1:1080', 'socks5h://127.0.0.1:1080'],
    ['socks4://127.0.0.1:1080', 'socks4://127.0.0.1:1080'],
    ['socks5://127.0.0.1:1080', 'socks5://127.0.0.1:1080'],
  ])('proxy %s → curl %s', (url, expected) => {
    const kind = url.startsWith('socks') ? 'socks' : 'http-proxy';
    expect(curlProxyUrl({ kind, url } as never).url).toBe(expected);
  });

  it.each([
    [DIRECT, true],
    [PROXY, false],
    [{ kind: 'socks', url: 'socks5://h:1' }, true],
    [{ kind: 'socks', url: 'socks4://h:1' }, true],
    [{ kind: 'socks', url: 'socks5h://h:1' }, false],
    [{ kind: 'socks', url: 'socks4a://h:1' }, false],
    [{ kind: 'socks', url: 'socks://h:1' }, false],
  ] as const)('resolvesLocally(%o) → %s', (route, expected) => {
    expect(resolvesLocally(route as Route)).toBe(expected);
  });

  it('TLS: CA file, relaxed ciphers, --insecure and --resolve only when asked', () => {
    const { args } = buildCurlInvocation({
      ...base,
      route: { kind: 'http-proxy', url: 'https://127.0.0.1:8443' },
      caFile: '/tmp/d/ca.pem',
      relaxedCiphers: 'ALL:!aNULL:!eNULL:@SECLEVEL=0',
      insecure: true,
      resolve: 'h.example:443:93.184.216.34,[2606:2800::1]',
    });
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag('--cacert')).toBe('/tmp/d/ca.pem');
    expect(flag('--proxy-cacert')).toBe('/tmp/d/ca.pem');
    expect(flag('--ciphers')).toBe('ALL:!aNULL:!eNULL:@SECLEVEL=0');
    expect(args).toContain('--tlsv1');
    expect(args).toContain('--insecure');
    expect(flag('--resolve')).toBe('h.example:443:93.184.216.34,[2606:2800::1]');
  });

  it('TLS: the system CA directory goes with the CA file (--capath, --proxy-capath), never alone', () => {
    const withDir = buildCurlInvocation({
      ...base,
      route: { kind: 'http-proxy', url: 'https://127.0.0.1:8443' },
      caFile: '/tmp/d/extra.pem',
      caPath: '/etc/ssl/certs',
    }).args;
    const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];
    expect(flag(withDir, '--cacert')).toBe('/tmp/d/extra.pem');
    expect(flag(withDir, '--capath')).toBe('/etc/ssl/certs');
    expect(flag(withDir, '--proxy-capath')).toBe('/etc/ssl/certs');
    // Without extra CAs curl keeps its own default store: no --capath that would add to it.
    const alone = buildCurlInvocation({ ...base, caPath: '/etc/ssl/certs' }).args;
    expect(alone).not.toContain('--capath');
    expect(alone).not.toContain('--cacert');
  });

  it('findHashedCaDir: the first directory holding hashed CA links (c_rehash layout)', () => {
    const plain = mkdtempSync(join(tmpdir(), 'detour-ca-plain-'));
    const hashed = mkdtempSync(join(tmpdir(), 'detour-ca-hashed-'));
    try {
      writeFileSync(join(plain, 'ca-certificates.crt'), '');
      writeFileSync(join(hashed, '5ed36f99.0'), '');
      expect(findHashedCaDir([join(plain, 'missing'), plain, hashed])).toBe(hashed);
      expect(findHashedCaDir([plain])).toBeUndefined();
    } finally {
      rmSync(plain, { recursive: true, force: true });
      rmSync(hashed, { recursive: true, force: true });
    }
  });

  it('headers: identity encoding passes through, hop-by-hop dropped, empty values spelled `Name;`', () => {
    const { args, config } = buildCurlInvocation({
      ...base,
      headers: { 'accept-encoding': 'identity', host: 'evil', connection: 'close', 'x-empty': '' },
    });
    expect(args).not.toContain('--compressed');
    expect(config).toContain('header = "accept-encoding: identity"');
    expect(config).toContain('header = "x-empty;"');
    expect(config).not.toMatch(/host|connection/);
  });

  it('refuses header injection', () => {
    expect(() => buildCurlInvocation({ ...base, headers: { 'x-a': 'b\r\nx-evil: 1' } })).toThrow(
      /line break/,
    );
    expect(() => buildCurlInvocation({ ...base, headers: { 'bad name': 'v' } })).toThrow(
      /invalid header name/,
    );
  });

  it.each([
    ['plain', '"plain"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['-K /etc/passwd', '"-K /etc/passwd"'],
  ])('configString(%s) → %s', (value, expected) => {
    expect(configString(value)).toBe(expected);
  });
});

describe('guardTarget', () => {
  const signal = new AbortController().signal;
  const lookup = (answers: Record<string, string[]>) => async (host: string) => {
    const list = answers[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const dns = lookup({
    'cdn.example': ['93.184.216.34', '2606:2800:220:1::1'],
    'rebind.example': ['93.184.216.34', '127.0.0.1'],
    'fake-ip.example': ['198.18.0.7'],
  });
  const guard = (url: string, route: Route = DIRECT, allow = false) =>
    guardTarget(new URL(url), route, allow, signal, dns);

  it('pins curl to the checked addresses', async () => {
    expect(await guard('https://cdn.example/x')).toBe('cdn.example:443:93.184.216.34,[2606:2800:220:1::1]');
    expect(await guard('http://cdn.example:8080/x')).toBe(
      'cdn.example:8080:93.184.216.34,[2606:2800:220:1::1]',
    );
    expect(await guard('https://fake-ip.example/')).toBe('fake-ip.example:443:198.18.0.7');
  });

  it.each([
    ['https://127.0.0.1/', DIRECT],
    ['https://[::1]/', DIRECT],
    ['https://10.1.2.3/', PROXY],
    ['https://rebind.example/', DIRECT],
    ['https://rebind.example/', PROXY],
  ] as const)('refuses %s via %o', async (url, route) => {
    await expect(guard(url, route)).rejects.toMatchObject({
      failureClass: 'blocked',
      code: 'DETOUR_PRIVATE_ADDRESS',
    });
  });

  it('allowPrivateNetwork: no check, no pin', async () => {
    expect(await guard('https://127.0.0.1/', DIRECT, true)).toBeUndefined();
    expect(await guard('https://rebind.example/', DIRECT, true)).toBeUndefined();
  });

  it('a name only the proxy can resolve is left to the proxy; locally it is a dns failure', async () => {
    expect(await guard('https://intranet.corp/', PROXY)).toBeUndefined();
    await expect(guard('https://intranet.corp/')).rejects.toMatchObject({
      failureClass: 'dns',
      code: 'ENOTFOUND',
    });
  });

  it('no pin through a proxy that resolves names itself', async () => {
    expect(await guard('https://cdn.example/', PROXY)).toBeUndefined();
    expect(await guard('https://cdn.example/', { kind: 'socks', url: 'socks5://127.0.0.1:1' })).toBe(
      'cdn.example:443:93.184.216.34,[2606:2800:220:1::1]',
    );
  });

  it('public IP literals pass without a lookup', async () => {
    expect(
      await guardTarget(new URL('https://93.184.216.34/'), DIRECT, false, signal, lookup({})),
    ).toBeUndefined();
  });
});

describe('locateExecutable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'detour-locate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'fake-curl'), '#!/bin/sh\n');
  chmodSync(join(dir, 'fake-curl'), 0o755);
  writeFileSync(join(dir, 'not-executable'), '');

  it.each([
    ['fake-curl', { PATH: `/nonexistent:${dir}` }, join(dir, 'fake-curl')],
    ['not-executable', { PATH: dir }, undefined],
    ['fake-curl', { PATH: '' }, undefined],
    [join(dir, 'fake-curl'), { PATH: '' }, join(dir, 'fake-curl')],
    ['/nonexistent/curl', { PATH: dir }, undefined],
    [dir, { PATH: '' }, undefined],
  ])('%s with %j → %s', (name, env, expected) => {
    expect(locateExecutable(name, env)).toBe(expected);
  });
});
