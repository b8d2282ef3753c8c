/**
 * The front-end kit's validation table (pure logic): each option's raw input from the CLI (strings,
 * repeated strings), the HTTP API (query strings, JSON numbers) and Koishi (numbers, arrays) →
 * typed options, or one FrontEndUsageError naming the option; and the failure JSON.
 */
import { CONVERT_TARGETS, DetourError, EXPECT_KINDS } from '@detour/core';
import {
  detourOptionsOf,
  FrontEndUsageError,
  failureJson,
  fetchOptionsOf,
  LOG_LEVELS,
  OPTIONS,
  type RawOptions,
  SHOW_SECRETS,
  validateOptions,
} from 'detour/front-end';
import { describe, expect, it } from 'vitest';

const problem = (raw: RawOptions) => {
  try {
    validateOptions(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(FrontEndUsageError);
    const e = error as FrontEndUsageError;
    expect(e.code).toBe('DETOUR_BAD_OPTION');
    expect(e.failureClass).toBe('blocked');
    return { option: e.option, message: e.message };
  }
  throw new Error(`no problem found in ${JSON.stringify(raw)}`);
};

describe('validateOptions', () => {
  it.each<[RawOptions, Record<string, unknown>]>([
    [{ expect: 'image' }, { expect: 'image' }],
    [{ expect: ['any', 'audio'] }, { expect: 'audio' }],
    [{ expectBytes: '0' }, { expectBytes: 0 }],
    [{ expectBytes: 12345 }, { expectBytes: 12345 }],
    [
      { convert: 'wav', sampleRate: '16000' },
      { convert: 'wav', sampleRate: 16000 },
    ],
    [
      { convert: 'wav', sampleRate: 48000 },
      { convert: 'wav', sampleRate: 48000 },
    ],
    [
      { timeoutMs: '5000', attemptTimeoutMs: '5000' },
      { timeoutMs: 5000, attemptTimeoutMs: 5000 },
    ],
    [{ attemptTimeoutMs: 60000 }, { attemptTimeoutMs: 60000 }],
    [{ maxBytes: ' 1000 ' }, { maxBytes: 1000 }],
    [{ cacheMaxSize: '2G' }, { cacheMaxSize: 2 * 1024 ** 3 }],
    [{ cacheMaxSize: '500MB' }, { cacheMaxSize: 500_000_000 }],
    [{ logLevel: 'fatal' }, { logLevel: 'fatal' }],
    [{ proxy: 'socks5h://u:p@127.0.0.1:1080' }, { proxy: 'socks5h://u:p@127.0.0.1:1080' }],
    [{ noProxy: true }, { noProxy: true }],
    [{ strategies: ['direct,curl', ' tls-relaxed '] }, { strategies: ['direct', 'curl', 'tls-relaxed'] }],
    [
      { insecureHosts: ['*.qpic.cn,127.0.0.1', '[::1]'] },
      { insecureHosts: ['*.qpic.cn', '127.0.0.1', '[::1]'] },
    ],
    [
      { allowDowngrade: 'a.example', downgradePorts: ['8443=8080'] },
      { allowDowngrade: ['a.example'], downgradePorts: { 8443: 8080 } },
    ],
    [{ headersProfile: 'chrome' }, { headersProfile: 'chrome' }],
    [
      { presets: ['qq', 'discord'], noPresets: [] },
      { presets: ['qq', 'discord'], noPresets: [] },
    ],
    [
      { headers: ['Referer: https://a.example/', 'X-A:b'] },
      { headers: { referer: 'https://a.example/', 'x-a': 'b' } },
    ],
    [{ headers: { 'X-A': 'b' } }, { headers: { 'x-a': 'b' } }],
    [{ expect: undefined, proxy: null }, {}],
  ])('%j → %j', (raw, typed) => {
    expect(validateOptions(raw)).toEqual(typed);
  });

  it.each<[RawOptions, string, string]>([
    [{ expect: 'sound' }, 'expect', `--expect takes one of ${EXPECT_KINDS.join(', ')}, got "sound"`],
    [
      { expectBytes: '-1' },
      'expectBytes',
      '--expect-bytes / expectBytes takes a whole number from 0, got "-1"',
    ],
    [{ convert: 'flac' }, 'convert', `--convert takes one of ${CONVERT_TARGETS.join(', ')}, got "flac"`],
    [
      { convert: 'wav', sampleRate: '22050' },
      'sampleRate',
      '--sample-rate / sampleRate takes one of 8000, 12000, 16000, 24000, 32000, 44100, 48000, got "22050"',
    ],
    [
      { sampleRate: '16000' },
      'sampleRate',
      `--sample-rate / sampleRate needs --convert (${CONVERT_TARGETS.join(', ')})`,
    ],
    [
      { timeoutMs: '0' },
      'timeoutMs',
      '--timeout / timeoutMs takes a whole number from 1 to 86400000, got "0"',
    ],
    [
      { timeoutMs: 86_400_001 },
      'timeoutMs',
      '--timeout / timeoutMs takes a whole number from 1 to 86400000, got "86400001"',
    ],
    [
      { timeoutMs: 1.5 },
      'timeoutMs',
      '--timeout / timeoutMs takes a whole number from 1 to 86400000, got "1.5"',
    ],
    [
      { timeoutMs: 'soon' },
      'timeoutMs',
      '--timeout / timeoutMs takes a whole number from 1 to 86400000, got "soon"',
    ],
    [
      { attemptTimeoutMs: '70000' },
      'attemptTimeoutMs',
      '--attempt-timeout / attemptTimeoutMs 70000 is longer than the default --timeout / timeoutMs 60000: raise --timeout / timeoutMs too',
    ],
    [
      { timeoutMs: '1000', attemptTimeoutMs: '2000' },
      'attemptTimeoutMs',
      '--attempt-timeout / attemptTimeoutMs 2000 is longer than --timeout / timeoutMs 1000: raise --timeout / timeoutMs too',
    ],
    [{ maxBytes: '0' }, 'maxBytes', '--max-bytes / maxBytes takes a whole number from 1, got "0"'],
    [
      { cacheMaxSize: '12 parsecs' },
      'cacheMaxSize',
      '--cache-max-size / cacheMaxSize takes a size such as 500MiB, 2G or 1000000, got "12 parsecs"',
    ],
    [
      { logLevel: 'loud' },
      'logLevel',
      `--log-level / logLevel takes one of ${LOG_LEVELS.join(', ')}, got "loud"`,
    ],
    [{ proxy: ' ' }, 'proxy', '--proxy takes a proxy URL, got ""'],
    [
      { proxy: 'http://127.0.0.1:1', noProxy: true },
      'proxy',
      '--proxy and --no-proxy / noProxy exclude each other',
    ],
    [{ noProxy: 'yes' }, 'noProxy', '--no-proxy / noProxy takes true or false, got "yes"'],
    [
      { insecureHosts: 'https://a.example/' },
      'insecureHosts',
      '--insecure-host / insecureHosts takes host names (*.example.com wildcards), got "https://a.example/"',
    ],
    [
      { allowDowngrade: 'a b' },
      'allowDowngrade',
      '--allow-downgrade / allowDowngrade takes host names (*.example.com wildcards), got "a b"',
    ],
    [
      { downgradePorts: '443:80', allowDowngrade: 'a.example' },
      'downgradePorts',
      '--downgrade-port / downgradePorts takes HTTPS_PORT=HTTP_PORT, got "443:80"',
    ],
    [
      { downgradePorts: '443=80' },
      'downgradePorts',
      '--downgrade-port / downgradePorts needs --allow-downgrade / allowDowngrade',
    ],
    [
      { headersProfile: 'opera' },
      'headersProfile',
      '--headers-profile / headersProfile takes one of detour, chrome, firefox, got "opera"',
    ],
    [
      { presets: ['qq', 'myspace'] },
      'presets',
      '--preset / presets takes qq, discord, telegram, got "myspace"',
    ],
    [
      { noPresets: 'friendster' },
      'noPresets',
      '--no-preset / noPresets takes qq, discord, telegram, got "friendster"',
    ],
    [{ headers: ['bad name: x'] }, 'headers', `-H / headers takes 'Name: value', got "bad name"`],
  ])('%j: %s, %s', (raw, option, message) => {
    expect(problem(raw)).toEqual({ option, message });
  });

  it("a header value with a control character: core's message, never the value", () => {
    const { option, message } = problem({ headers: ['Authorization: secret\r\nX: y'] });
    expect(option).toBe('headers');
    expect(message).not.toContain('secret');
  });

  it('every definition says what it is, and its allowed values are the lists the pipeline reads', () => {
    for (const [name, def] of Object.entries(OPTIONS)) {
      expect(def.name).toBe(name);
      expect(def.description.length).toBeGreaterThan(10);
      expect(def.flag).toMatch(/^-/);
    }
    expect(OPTIONS.expect.values).toBe(EXPECT_KINDS);
    expect(OPTIONS.convert.values).toBe(CONVERT_TARGETS);
  });
});

describe('failureJson', () => {
  const error = () => {
    const e = new DetourError('403 from https://a.example/x?rkey=SECRET', {
      failureClass: 'tls-certificate',
      code: 'CERT_HAS_EXPIRED',
      retcode: -5503007,
      retmsg: 'expired: rkey=SECRET',
    });
    e.plan = ['direct', 'curl'];
    e.attempts = [
      {
        strategy: 'direct',
        route: 'direct',
        outcome: 'failed',
        failureClass: 'tls-certificate',
        code: 'CERT_HAS_EXPIRED',
        ms: 3,
        message: 'expired: rkey=SECRET',
      },
    ];
    return e;
  };

  it('the fields, masked, with the hint of the most telling failure', () => {
    const body = failureJson(error(), 'https://a.example/x?rkey=SECRET');
    expect(body).toEqual({
      ok: false,
      url: 'https://a.example/x?rkey=***',
      strategy: null,
      degraded: false,
      fromCache: false,
      plan: ['direct', 'curl'],
      attempts: [
        expect.objectContaining({ strategy: 'direct', message: expect.not.stringContaining('SECRET') }),
      ],
      error: {
        failureClass: 'tls-certificate',
        code: 'CERT_HAS_EXPIRED',
        message: expect.not.stringContaining('SECRET'),
        retcode: -5503007,
        retmsg: expect.not.stringContaining('SECRET'),
        hint: expect.stringContaining('outside its validity period'),
      },
    });
  });

  it('secrets shown when asked; no URL: no hint, url null', () => {
    expect(failureJson(error(), 'https://a.example/x?rkey=SECRET', SHOW_SECRETS).url).toContain('SECRET');
    const none = failureJson(error(), null);
    expect(none.url).toBeNull();
    expect(none.error.hint).toBeUndefined();
  });
});

describe('detourOptionsOf, fetchOptionsOf', () => {
  it('the typed options in createDetour and fetch terms, only what was given', () => {
    const valid = validateOptions({
      noProxy: true,
      timeoutMs: '5000',
      attemptTimeoutMs: '1000',
      presets: ['qq', 'discord'],
      noPresets: ['discord'],
      expect: 'image',
      expectBytes: '10',
      headers: ['X-A: b'],
    });
    expect(detourOptionsOf(valid)).toEqual({
      proxy: false,
      timeoutMs: 5000,
      pipeline: { attemptTimeoutMs: 1000 },
      presets: ['qq'],
    });
    expect(fetchOptionsOf(valid)).toEqual({
      expect: 'image',
      expectedBytes: 10,
      headers: { 'x-a': 'b' },
      timeoutMs: 5000,
    });
    expect(detourOptionsOf({})).toEqual({});
    expect(fetchOptionsOf({})).toEqual({});
  });
});
