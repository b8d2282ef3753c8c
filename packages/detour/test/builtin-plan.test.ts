import { STAGES } from '@detour/core';
import { type EnvironmentReport, plan } from '@detour/detect';
import { describe, expect, it } from 'vitest';
import { builtinStrategies, DEFAULT_STRATEGIES, describeStrategies } from '../src/index.js';

type Shape = Pick<EnvironmentReport, 'proxy' | 'tun' | 'fakeIp'>;
const proxy: Shape['proxy'] = {
  http: 'http://127.0.0.1:7890',
  https: 'http://127.0.0.1:7890',
  socks: null,
  noProxy: null,
  source: 'env',
};
const none: Shape['proxy'] = { http: null, https: null, socks: null, noProxy: null, source: 'none' };
const tun = (active: boolean): Shape['tun'] => ({
  active,
  interface: active ? 'Meta' : null,
  defaultRoute: active ? 'Meta' : 'eth0',
  candidates: [],
  reason: '',
});
const fakeIp: Shape['fakeIp'] = { active: false, samples: [], reason: '' };

describe('the built-in strategies describe themselves, and the plan orders them by stage', () => {
  const all = { allowDowngrade: ['*.qpic.cn'], placeholder: true };

  it('every built-in has a known stage and a reason', () => {
    for (const info of describeStrategies(all)) {
      expect(STAGES, info.name).toContain(info.stage);
      expect(info.reason, info.name).toMatch(/\w{3,}/);
    }
    expect(DEFAULT_STRATEGIES).toEqual(['direct', 'direct-bypass', 'tls-relaxed', 'curl']);
  });

  it('registered in any order, the real strategies plan strictest first', () => {
    const shuffled = [...describeStrategies(all)].reverse();
    expect(
      plan({ proxy, tun: tun(false), fakeIp }, shuffled, { url: 'https://p.qpic.cn/a.png' }).plan,
    ).toEqual([
      'direct',
      'direct-bypass',
      'tls-relaxed',
      'http-downgrade', // registered (reversed) before curl; both are `fallback`
      'curl',
      'placeholder',
    ]);
    const captured = plan({ proxy, tun: tun(true), fakeIp }, describeStrategies(all), {
      downgradeHosts: all.allowDowngrade,
      url: 'https://example.com/a.png',
    });
    expect(captured.plan).toEqual(['direct', 'tls-relaxed', 'curl', 'placeholder']);
    expect(captured.reasons['direct-bypass']).toMatch(/TUN is active/);
    expect(captured.reasons['http-downgrade']).toMatch(/not opted in/);
    const clean = plan({ proxy: none, tun: tun(false), fakeIp }, describeStrategies());
    expect(clean.plan).toEqual(['direct', 'tls-relaxed', 'curl']);
    expect(clean.reasons.direct).toBe('strict TLS, direct');
  });

  it('the composition root lists each strategy package once', () => {
    expect(builtinStrategies(all).map((s) => s.name)).toEqual([
      'tls-relaxed',
      'curl',
      'http-downgrade',
      'placeholder',
    ]);
  });
});
