import type { StrategyInfo } from '@detour/core';
import { describe, expect, it } from 'vitest';
import { type EnvironmentReport, plan as planInfos } from '../src/index.js';

/**
 * What the built-in strategies say about themselves (their packages declare it; the composition
 * root's test checks the real instances). The plan orders by these, never by name: bare names
 * (like `mirror` below) plan as custom strategies.
 */
const DESCRIBED: Record<string, StrategyInfo> = {
  direct: { name: 'direct', stage: 'strict', reason: 'strict TLS' },
  'direct-bypass': { name: 'direct-bypass', stage: 'route' },
  'tls-relaxed': { name: 'tls-relaxed', stage: 'relaxed' },
  curl: { name: 'curl', stage: 'fallback' },
  'http-downgrade': {
    name: 'http-downgrade',
    stage: 'fallback',
    reason: 'plain HTTP, only for the hosts the caller opted in',
    plaintext: true,
  },
  placeholder: { name: 'placeholder', stage: 'last-resort' },
};
const plan = (
  report: Parameters<typeof planInfos>[0],
  names: string[],
  options?: Parameters<typeof planInfos>[2],
) =>
  planInfos(
    report,
    names.map((name) => DESCRIBED[name] ?? name),
    options,
  );

type Shape = Pick<EnvironmentReport, 'proxy' | 'tun' | 'fakeIp'>;
const none: Shape['proxy'] = { http: null, https: null, socks: null, noProxy: null, source: 'none' };
const env: Shape['proxy'] = {
  http: 'http://127.0.0.1:7890',
  https: 'http://127.0.0.1:7890',
  socks: null,
  noProxy: null,
  source: 'env',
};
const system: Shape['proxy'] = { ...env, source: 'system' };
const tunOff: Shape['tun'] = {
  active: false,
  interface: null,
  defaultRoute: 'eth0',
  candidates: [],
  reason: '',
};
const tunOn: Shape['tun'] = {
  active: true,
  interface: 'Meta',
  defaultRoute: 'Meta',
  candidates: ['Meta'],
  reason: '',
};
const fakeOff: Shape['fakeIp'] = { active: false, samples: [], reason: '' };
const fakeOn: Shape['fakeIp'] = { active: true, samples: [], reason: '' };
const fakeUnknown: Shape['fakeIp'] = { active: null, samples: [], reason: '' };

const ALL = ['direct', 'direct-bypass', 'tls-relaxed', 'curl', 'http-downgrade', 'placeholder'];

describe('plan', () => {
  it.each<[string, Shape, string[], string[]]>([
    [
      'nothing in the way',
      { proxy: none, tun: tunOff, fakeIp: fakeOff },
      ALL,
      ['direct', 'tls-relaxed', 'curl', 'http-downgrade', 'placeholder'],
    ],
    ['env proxy: bypass right after strict', { proxy: env, tun: tunOff, fakeIp: fakeOff }, ALL, ALL],
    ['system proxy: the same', { proxy: system, tun: tunOff, fakeIp: fakeUnknown }, ALL, ALL],
    [
      'proxy + TUN: the bypass cannot help',
      { proxy: env, tun: tunOn, fakeIp: fakeOff },
      ALL,
      ['direct', 'tls-relaxed', 'curl', 'http-downgrade', 'placeholder'],
    ],
    [
      'proxy + fake-IP: the bypass cannot help',
      { proxy: env, tun: tunOff, fakeIp: fakeOn },
      ALL,
      ['direct', 'tls-relaxed', 'curl', 'http-downgrade', 'placeholder'],
    ],
    [
      'TUN only',
      { proxy: none, tun: tunOn, fakeIp: fakeOn },
      ['direct', 'direct-bypass', 'tls-relaxed'],
      ['direct', 'tls-relaxed'],
    ],
    [
      'only registered names appear (no downgrade, no placeholder)',
      { proxy: env, tun: tunOff, fakeIp: fakeOff },
      ['curl', 'direct', 'tls-relaxed', 'direct-bypass'],
      ['direct', 'direct-bypass', 'tls-relaxed', 'curl'],
    ],
    [
      'custom strategies after the built-ins, before the placeholder',
      { proxy: none, tun: tunOff, fakeIp: fakeOff },
      ['direct', 'mirror', 'placeholder', 'tls-relaxed'],
      ['direct', 'tls-relaxed', 'mirror', 'placeholder'],
    ],
  ])('%s', (_name, report, registered, expected) => {
    expect(plan(report, registered).plan).toEqual(expected);
  });

  it('says why each strategy is where it is, and why one is left out', () => {
    const proxied = plan({ proxy: env, tun: tunOn, fakeIp: fakeOff }, ALL);
    expect(proxied.reasons.direct).toMatch(/through the env proxy http:\/\/127\.0\.0\.1:7890/);
    expect(proxied.reasons['direct-bypass']).toMatch(/TUN is active/);
    expect(proxied.reasons['http-downgrade']).toMatch(/opted in/);
    const clean = plan({ proxy: none, tun: tunOff, fakeIp: fakeOff }, ALL);
    expect(clean.reasons['direct-bypass']).toMatch(/no proxy in the way/);
    expect(Object.keys(clean.reasons).sort()).toEqual([...ALL].sort());
  });

  it.each<[string, boolean]>([
    ['https://multimedia.nt.qq.com.cn/x.png', true],
    ['http://p.qpic.cn/a.jpg', true],
    ['https://qpic.cn/a.jpg', false], // `*.qpic.cn` is subdomains only
    ['https://example.com/', false],
    ['not a url', false],
  ])('downgradeHosts: http-downgrade for %s → %s', (url, planned) => {
    const result = plan({ proxy: none, tun: tunOff, fakeIp: fakeOff }, ALL, {
      downgradeHosts: ['multimedia.nt.qq.com.cn', '*.qpic.cn'],
      url,
    });
    expect(result.plan.includes('http-downgrade')).toBe(planned);
    expect(result.reasons['http-downgrade']).toMatch(planned ? /is opted in/ : /not opted in|no URL/);
  });

  it('downgradeHosts without a URL leaves http-downgrade out; without downgradeHosts registration is the opt-in', () => {
    const report = { proxy: env, tun: tunOff, fakeIp: fakeOff };
    expect(plan(report, ALL, { downgradeHosts: ['*.qpic.cn'] }).plan).not.toContain('http-downgrade');
    expect(plan(report, ALL, { url: 'https://example.com/' }).plan).toContain('http-downgrade');
  });

  it('the caller can override or trim the plan', () => {
    const report = { proxy: env, tun: tunOff, fakeIp: fakeOff };
    expect(plan(report, ALL, { order: ['curl', 'direct', 'teleport'] }).plan).toEqual(['curl', 'direct']);
    expect(plan(report, ALL, { exclude: ['curl', 'placeholder'] }).plan).toEqual([
      'direct',
      'direct-bypass',
      'tls-relaxed',
      'http-downgrade',
    ]);
  });
});
