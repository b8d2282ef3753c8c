import type { AttemptRequest } from '@detour/core';
import { asPlugin, createPipeline } from '@detour/core';
import { describe, expect, it } from 'vitest';
import { DOWNGRADE_RESCUES, downgradeUrl, HttpDowngradeStrategy, httpDowngrade } from '../src/index.js';

describe('downgradeUrl', () => {
  it.each([
    ['https://gchat.qpic.cn/a/b.png?x=1', undefined, 'http://gchat.qpic.cn/a/b.png?x=1'],
    ['https://h.example:443/p', undefined, 'http://h.example/p'],
    ['https://h.example:8443/p', undefined, 'http://h.example:8443/p'],
    ['https://h.example:8443/p', { 'h.example:8443': 8080 }, 'http://h.example:8080/p'],
    ['https://h.example/p', { 'h.example:443': 8080 }, 'http://h.example:8080/p'],
    ['https://h.example/p', { 'h.example:8443': 8080 }, 'http://h.example/p'],
    ['https://a.qpic.cn/p', { '*.qpic.cn:443': 81 }, 'http://a.qpic.cn:81/p'],
    ['https://qpic.cn/p', { '*.qpic.cn:443': 81 }, 'http://qpic.cn/p'],
    ['https://h.example/p', { 'h.example:443': 80 }, 'http://h.example/p'],
    ['https://[::1]:8443/p', { '::1:8443': 8080 }, 'http://[::1]:8080/p'],
  ])('%s with %j → %s', (input, ports, expected) => {
    expect(downgradeUrl(new URL(input), ports).toString()).toBe(expected);
  });

  it('takes a function, undefined meaning the default rule', () => {
    const ports = (url: URL) => (url.hostname === 'a.example' ? 9000 : undefined);
    expect(downgradeUrl(new URL('https://a.example/x'), ports).toString()).toBe('http://a.example:9000/x');
    expect(downgradeUrl(new URL('https://b.example/x'), ports).toString()).toBe('http://b.example/x');
  });
});

describe('HttpDowngradeStrategy', () => {
  const strategy = new HttpDowngradeStrategy({ hosts: ['multimedia.nt.qq.com.cn', '*.qpic.cn'] });
  const request = (url: string) => ({ url: new URL(url), failures: [] }) as unknown as AttemptRequest;

  it.each([
    ['https://multimedia.nt.qq.com.cn/download?rkey=x', true],
    ['https://gchat.qpic.cn/gchatpic_new/1/2/0', true],
    ['https://qpic.cn/', 'qpic.cn is not opted in to downgrade'],
    ['https://example.com/', 'example.com is not opted in to downgrade'],
    ['http://gchat.qpic.cn/', 'already plain http:'],
  ])('applies(%s) → %s', (url, expected) => {
    expect(strategy.applies(request(url))).toBe(expected);
  });

  it('is off for every host when the list is empty', () => {
    expect(new HttpDowngradeStrategy({ hosts: [] }).applies(request('https://a.example/'))).toMatch(
      /not opted in/,
    );
  });

  it('rescues TLS-layer failures, never certificate ones', () => {
    expect([...DOWNGRADE_RESCUES].sort()).toEqual([
      'connect-reset',
      'timeout',
      'tls-handshake',
      'tls-protocol',
    ]);
    expect(DOWNGRADE_RESCUES.has('tls-certificate')).toBe(false);
  });

  it('refuses bad options', () => {
    expect(() => new HttpDowngradeStrategy(undefined as never)).toThrow(/needs a `hosts` list/);
    expect(() => new HttpDowngradeStrategy({ hosts: ['a'], ports: { 'a:443': 70000 } })).toThrow(
      /1\.\.65535/,
    );
  });

  it('registers through its plugin', async () => {
    const pipeline = createPipeline({ use: [(c) => asPlugin(httpDowngrade)(c, { hosts: ['*.qpic.cn'] })] });
    expect(pipeline.strategyNames).toContain('http-downgrade');
    await pipeline.close();
  });
});
