/**
 * Issue 25 item 3: a recent detection is reused from a file for a short while, keyed by cheap
 * signals; a changed signal, an old file or a broken one means detecting again. Real detection on
 * this machine (no injected probes: reuse is off with them).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEnvironment, networkFingerprint, networkSignals } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'detour-reuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { env: { PATH: process.env.PATH ?? '' }, fakeIp: false as const };

describe('detection reused from the state directory', () => {
  it('reuses a detection on an unchanged network, and detects again when a signal changes', async () => {
    const path = join(dir, 'a.json');
    const first = await createEnvironment({ ...base, reuse: { path } });
    expect(first.reusedFrom).toBeUndefined();
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    expect(saved).toMatchObject({ format: 'detour-detect', v: 1 });

    const second = await createEnvironment({ ...base, reuse: { path } });
    expect(second.reusedFrom).toBe(saved.savedAt);
    expect(second.report).toEqual(first.report);
    expect(second.fingerprint()).toBe(first.fingerprint());

    // A proxy variable appears: another network as far as routing goes.
    const proxied = await createEnvironment({
      ...base,
      env: { ...base.env, https_proxy: 'http://127.0.0.1:7890' },
      reuse: { path },
    });
    expect(proxied.reusedFrom).toBeUndefined();
    expect(proxied.report.proxy).toMatchObject({ source: 'env', https: 'http://127.0.0.1:7890' });
    expect(proxied.routeFor(new URL('https://example.com/')).kind).not.toBe('direct');
    // Another detection option (fake-IP probe of other names) is another key too.
    const other = await createEnvironment({
      ...base,
      fakeIp: { names: ['localhost'], via: 'system' },
      reuse: { path },
    });
    expect(other.reusedFrom).toBeUndefined();
    for (const e of [first, second, proxied, other]) e.close();
  });

  it('an old detection, or a file that is not one, means detecting again', async () => {
    const path = join(dir, 'b.json');
    let now = 1_000_000;
    (await createEnvironment({ ...base, reuse: { path, now: () => now } })).close();
    now += 59_000;
    expect((await createEnvironment({ ...base, reuse: { path, now: () => now } })).reusedFrom).toBe(
      1_000_000,
    );
    now += 2_000; // 61 s after the detection
    const stale = await createEnvironment({ ...base, reuse: { path, now: () => now } });
    expect(stale.reusedFrom).toBeUndefined();
    writeFileSync(path, '{"format":"detour-detect","v":1,"key":');
    const broken = await createEnvironment({ ...base, reuse: { path, now: () => now } });
    expect(broken.reusedFrom).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8')).format).toBe('detour-detect');
    const custom = await createEnvironment({
      ...base,
      reuse: { path, now: () => now + 5_000, maxAgeMs: 1_000 },
    });
    expect(custom.reusedFrom).toBeUndefined();
  });
});

describe('network signals', () => {
  const files: Record<string, string> = {
    '/proc/net/route':
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' +
      'eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n',
    '/etc/resolv.conf': '# generated\nnameserver 192.168.1.1\nsearch lan\n',
  };
  const read = (path: string) => files[path];

  it('reads the default route and the resolver, not the rest', () => {
    const signals = networkSignals({
      env: {},
      platform: 'linux',
      readFile: read,
      interfaceNames: () => ['lo', 'eth0'],
    });
    expect(signals.defaultRoute).toBe('eth0 0101A8C0 100');
    expect(signals.resolver).toBe('nameserver 192.168.1.1\nsearch lan');
    expect(signals.interfaces).toBe('eth0,lo');
  });

  it('the fingerprint changes with the proxy variables, the gateway or the resolver', () => {
    const fp = (env: Record<string, string>, over: Record<string, string> = {}) =>
      networkFingerprint({ env, platform: 'linux', readFile: (p) => over[p] ?? read(p) });
    const home = fp({});
    expect(fp({})).toBe(home);
    expect(fp({ HTTPS_PROXY: 'http://127.0.0.1:7890' })).not.toBe(home);
    expect(fp({}, { '/etc/resolv.conf': 'nameserver 10.0.0.1\n' })).not.toBe(home);
    expect(fp({}, { '/proc/net/route': files['/proc/net/route']!.replace('0101A8C0', '01000A0A') })).not.toBe(
      home,
    );
  });
});
