import { describe, expect, it } from 'vitest';
import { createEnvironment } from '../src/index.js';

const quiet = {
  fakeIp: false as const,
  interfaces: () => [],
  readText: async () => undefined,
  platform: 'linux' as const,
};

describe('DetectedEnvironment (what the pipeline asks)', () => {
  it('routes by the env proxy with curl rules, credentials kept for the route but masked in the report', async () => {
    const environment = await createEnvironment({
      ...quiet,
      env: { https_proxy: 'http://bot:s3cret@127.0.0.1:7890', no_proxy: 'qq.com.cn' },
    });
    expect(environment.routeFor(new URL('https://a.example/x'))).toEqual({
      kind: 'http-proxy',
      url: 'http://bot:s3cret@127.0.0.1:7890/',
    });
    expect(environment.routeFor(new URL('https://multimedia.nt.qq.com.cn/x'))).toEqual({ kind: 'direct' });
    expect(environment.routeFor(new URL('http://a.example/x'))).toEqual({ kind: 'direct' });
    expect(JSON.stringify(environment.report)).not.toContain('s3cret');
    expect(environment.report.proxy).toMatchObject({ https: 'http://bot:***@127.0.0.1:7890', source: 'env' });
    expect(environment.plan(['direct', 'direct-bypass', 'tls-relaxed'])).toEqual([
      'direct',
      'direct-bypass',
      'tls-relaxed',
    ]);
  });

  it('an explicit proxy wins over the environment; false means direct', async () => {
    const explicit = await createEnvironment({
      ...quiet,
      env: { https_proxy: 'http://127.0.0.1:1' },
      proxy: 'socks5h://127.0.0.1:7891',
    });
    expect(explicit.routeFor(new URL('https://a.example/'))).toEqual({
      kind: 'socks',
      url: 'socks5h://127.0.0.1:7891',
    });
    expect(explicit.report.proxy.source).toBe('option');
    const none = await createEnvironment({
      ...quiet,
      env: { https_proxy: 'http://127.0.0.1:1' },
      proxy: false,
    });
    expect(none.routeFor(new URL('https://a.example/'))).toEqual({ kind: 'direct' });
  });

  it('falls back to the OS settings (KDE here) with their bypass list', async () => {
    const environment = await createEnvironment({
      ...quiet,
      env: { XDG_CURRENT_DESKTOP: 'KDE', HOME: '/home/bot' },
      readText: async (path) =>
        path.endsWith('kioslaverc')
          ? '[Proxy Settings]\nProxyType=1\nhttpsProxy=http://127.0.0.1 7897\nNoProxyFor=localhost,.qq.com.cn\n'
          : undefined,
    });
    expect(environment.report.proxy.source).toBe('system');
    expect(environment.routeFor(new URL('https://a.example/'))).toEqual({
      kind: 'http-proxy',
      url: 'http://127.0.0.1:7897/',
    });
    expect(environment.routeFor(new URL('https://gchat.qq.com.cn/'))).toEqual({ kind: 'direct' });
  });

  it('the fingerprint changes when the proxy or TUN state changes', async () => {
    const a = await createEnvironment({ ...quiet, env: {} });
    const b = await createEnvironment({ ...quiet, env: { https_proxy: 'http://127.0.0.1:7890' } });
    const c = await createEnvironment({
      ...quiet,
      env: {},
      interfaces: () => [{ name: 'Meta', addresses: ['198.18.0.1'] }],
      readText: async (p) =>
        p === '/proc/net/route'
          ? 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nMeta\t00000000\t00000000\t0001\t0\t0\t0\t00000000\n'
          : undefined,
    });
    expect(new Set([a.fingerprint(), b.fingerprint(), c.fingerprint()]).size).toBe(3);
    expect(c.report.tun.active).toBe(true);
    expect(a.fingerprint()).toBe((await createEnvironment({ ...quiet, env: {} })).fingerprint());
  });
});
