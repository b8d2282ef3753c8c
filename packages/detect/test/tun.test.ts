import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectTun,
  internetInterface,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  parseRouteGet,
  parseRouteTable,
  type RunCommand,
  tunCandidates,
} from '../src/index.js';

const run = promisify(execFile);
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('route tables from samples', () => {
  it('Linux /proc/net/route: default through Meta (metric 0) wins over eth0 (metric 100)', () => {
    const routes = parseProcNetRoute(fixture('proc-net-route.txt'));
    expect(routes).toContainEqual(
      expect.objectContaining({ destination: '0.0.0.0/0', interface: 'Meta', metric: 0 }),
    );
    expect(routes).toContainEqual(
      expect.objectContaining({ destination: '192.168.1.0/24', interface: 'eth0' }),
    );
    expect(routes).toContainEqual(
      expect.objectContaining({ destination: '198.18.0.0/15', interface: 'Meta' }),
    );
    expect(internetInterface(routes)).toBe('Meta');
  });
  it('Linux /proc/net/ipv6_route', () => {
    expect(parseProcNetIpv6Route(fixture('proc-net-ipv6-route.txt'))).toContainEqual({
      destination: '::/0',
      interface: 'Meta',
    });
  });
  it('macOS netstat -rn with TUN split routes (1/8, 2/7 … 128.0/1) beats the default', () => {
    const routes = parseRouteTable(fixture('macos-netstat-split.txt'));
    expect(routes).toContainEqual(
      expect.objectContaining({ destination: '128.0.0.0/1', interface: 'utun4' }),
    );
    expect(routes).toContainEqual(expect.objectContaining({ destination: '0.0.0.0/0', interface: 'en0' }));
    expect(internetInterface(routes)).toBe('utun4');
  });
  it('macOS without TUN: the default route', () => {
    expect(internetInterface(parseRouteTable(fixture('macos-netstat-plain.txt')))).toBe('en0');
  });
  it('Windows route print: the lowest-metric default (the wintun adapter at 198.18.0.1)', () => {
    const routes = parseRouteTable(fixture('windows-route-print.txt'));
    expect(routes.filter((r) => r.destination === '0.0.0.0/0')).toHaveLength(2);
    expect(internetInterface(routes)).toBe('198.18.0.1');
  });
  it.each([
    ['Meta', [], true],
    ['Mihomo', [], true],
    ['utun4', [], true],
    ['tun0', [], true],
    ['sing-tun', [], true],
    ['eth0', ['192.168.1.5'], false],
    ['eth0', ['198.18.0.1'], true],
    ['wlan0', ['10.0.0.2'], false],
  ] as const)('TUN-like interface %s %j → %s', (name, addresses, expected) => {
    expect(tunCandidates([{ name, addresses: [...addresses] }]).length > 0).toBe(expected);
  });
  it('Windows: maps the routed interface address back to its name', async () => {
    const report = await detectTun({
      platform: 'win32',
      interfaces: () => [
        { name: 'Meta', addresses: ['198.18.0.1'] },
        { name: 'Ethernet', addresses: ['192.168.1.23'] },
      ],
      run: async () => ({ ok: true, stdout: fixture('windows-route-print.txt') }),
    });
    expect(report).toMatchObject({ active: true, interface: 'Meta', defaultRoute: 'Meta' });
  });
  it('macOS: TUN present and routed', async () => {
    const report = await detectTun({
      platform: 'darwin',
      interfaces: () => [
        { name: 'utun4', addresses: ['198.18.0.1'] },
        { name: 'en0', addresses: ['192.168.1.5'] },
      ],
      run: async () => ({ ok: true, stdout: fixture('macos-netstat-split.txt') }),
    });
    expect(report).toMatchObject({ active: true, defaultRoute: 'utun4' });
  });
  it('a TUN interface that carries no default route is not active', async () => {
    const report = await detectTun({
      platform: 'darwin',
      interfaces: () => [
        { name: 'utun4', addresses: ['198.18.0.1'] },
        { name: 'en0', addresses: ['192.168.1.5'] },
      ],
      run: async () => ({ ok: true, stdout: fixture('macos-netstat-plain.txt') }),
    });
    expect(report).toMatchObject({ active: false, interface: 'utun4', defaultRoute: 'en0' });
  });
  it.each([
    ['linux-ip-route-get-policy.txt', 'Meta'],
    ['linux-ip-route-get-plain.txt', 'eth0'],
    ['macos-route-get-utun.txt', 'utun4'],
    ['macos-route-get-default.txt', 'en0'],
  ])('route get output %s names %s', (name, expected) => {
    expect(parseRouteGet(fixture(name))).toBe(expected);
  });
  it('route get: ip -j JSON, and answers naming no interface', () => {
    expect(parseRouteGet('[{"dst":"8.8.8.8","dev":"Meta","table":"2022","prefsrc":"198.18.0.1"}]')).toBe(
      'Meta',
    );
    expect(parseRouteGet('route: writing to routing socket: not in table')).toBeNull();
    expect(parseRouteGet('')).toBeNull();
  });
  it('macOS: the kernel lookup (route -n get) wins over the table, which shows only the default', async () => {
    const calls: string[] = [];
    const run: RunCommand = async (command, args) => {
      calls.push(`${command} ${args.join(' ')}`);
      return {
        ok: true,
        stdout: fixture(command === 'route' ? 'macos-route-get-utun.txt' : 'macos-netstat-plain.txt'),
      };
    };
    const report = await detectTun({
      platform: 'darwin',
      interfaces: () => [
        { name: 'utun4', addresses: ['198.18.0.1'] },
        { name: 'en0', addresses: ['192.168.1.5'] },
      ],
      run,
    });
    expect(report).toMatchObject({ active: true, interface: 'utun4', defaultRoute: 'utun4' });
    expect(report.reason).toMatch(/route -n get/);
    expect(calls.every((c) => c.startsWith('route -n get '))).toBe(true);
  });
  it('macOS: falls back to netstat -rn when route get answers nothing', async () => {
    const run: RunCommand = async (command) =>
      command === 'route'
        ? { ok: false, stdout: '', error: 'route failed' }
        : { ok: true, stdout: fixture('macos-netstat-split.txt') };
    const report = await detectTun({
      platform: 'darwin',
      interfaces: () => [{ name: 'utun4', addresses: ['198.18.0.1'] }],
      run,
    });
    expect(report).toMatchObject({ active: true, defaultRoute: 'utun4' });
    expect(report.reason).toMatch(/netstat -rn/);
  });
  it('Linux: the kernel lookup sees the TUN default that policy routing hides from /proc/net/route', async () => {
    const report = await detectTun({
      platform: 'linux',
      interfaces: () => [{ name: 'eth0', addresses: ['192.168.1.23'] }],
      run: async (command) =>
        command === 'ip'
          ? { ok: true, stdout: fixture('linux-ip-route-get-policy.txt') }
          : { ok: false, stdout: '', error: `${command} not found` },
      readText: async () => 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n',
    });
    expect(report).toMatchObject({ active: true, interface: 'Meta', defaultRoute: 'Meta' });
  });
  it('never throws', async () => {
    const report = await detectTun({
      interfaces: () => {
        throw new Error('boom');
      },
    });
    expect(report.active).toBe(false);
    expect(report.reason).toMatch(/boom/);
  });
});

/**
 * For real: a network namespace with a TUN device named like mihomo's (`Meta`, 198.18.0.1/16)
 * and the default route through it; detection runs INSIDE the namespace (a node child under
 * `ip netns exec`), then the namespace is torn down.
 */
const ns = `detour-tun-${process.pid}`;
const nsUp = await run('ip', ['netns', 'add', ns]).then(
  () => true,
  (e: Error) => e.message.split('\n')[0]!,
);
const script = fileURLToPath(new URL('./fixtures/detect-in-namespace.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

describe.skipIf(nsUp !== true)(
  `TUN detection inside a namespace${nsUp === true ? '' : ` — skipped: ip netns add failed (${nsUp})`}`,
  () => {
    const exec = (...args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);
    beforeAll(async () => {
      await exec('ip', 'link', 'set', 'lo', 'up');
    });
    afterAll(async () => {
      await run('ip', ['netns', 'del', ns]).catch(() => {});
    });

    it('without a TUN: not active', async () => {
      const { stdout } = await exec(tsx, script);
      expect(JSON.parse(stdout).tun).toMatchObject({ active: false, interface: null });
    });

    it('with Meta (198.18.0.1/16) carrying the default route: active', async () => {
      await exec('ip', 'tuntap', 'add', 'dev', 'Meta', 'mode', 'tun');
      await exec('ip', 'addr', 'add', '198.18.0.1/16', 'dev', 'Meta');
      await exec('ip', 'link', 'set', 'Meta', 'up');
      await exec('ip', 'route', 'add', 'default', 'dev', 'Meta');
      const { stdout } = await exec(tsx, script);
      const report = JSON.parse(stdout);
      expect(report.tun).toMatchObject({ active: true, interface: 'Meta', defaultRoute: 'Meta' });
      expect(report.plan).not.toContain('direct-bypass');
    });
  },
);

/**
 * For real: mihomo and sing-box `auto-route` on Linux leave the main table alone (its default still
 * goes out the uplink) and put `default dev Meta` in table 2022 behind `ip rule … lookup 2022`.
 * /proc/net/route shows only the main table; the kernel lookup (`ip route get`) sees the rule.
 */
const policyNs = `detour-tun-rule-${process.pid}`;
const policyUp = await run('ip', ['netns', 'add', policyNs]).then(
  () => true,
  (e: Error) => e.message.split('\n')[0]!,
);
describe.skipIf(policyUp !== true)(
  `TUN behind policy routing (table 2022), inside a namespace${policyUp === true ? '' : ` — skipped: ip netns add failed (${policyUp})`}`,
  () => {
    const exec = (...args: string[]) => run('ip', ['netns', 'exec', policyNs, ...args]);
    beforeAll(async () => {
      await exec('ip', 'link', 'set', 'lo', 'up');
      // The uplink: a plain device (no TUN-like name or address) carrying the main table's default.
      await exec('ip', 'tuntap', 'add', 'dev', 'wan0', 'mode', 'tun');
      await exec('ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'wan0');
      await exec('ip', 'link', 'set', 'wan0', 'up');
      await exec('ip', 'route', 'add', 'default', 'dev', 'wan0', 'metric', '100');
    });
    afterAll(async () => {
      await run('ip', ['netns', 'del', policyNs]).catch(() => {});
    });

    it('only the uplink: not active', async () => {
      const { stdout } = await exec(tsx, script);
      expect(JSON.parse(stdout).tun).toMatchObject({ active: false, defaultRoute: 'wan0' });
    });

    it('Meta default in table 2022 + ip rule pref 9000 (mihomo auto-route): active', async () => {
      await exec('ip', 'tuntap', 'add', 'dev', 'Meta', 'mode', 'tun');
      await exec('ip', 'addr', 'add', '198.18.0.1/30', 'dev', 'Meta');
      await exec('ip', 'link', 'set', 'Meta', 'up');
      await exec('ip', 'route', 'add', 'default', 'dev', 'Meta', 'table', '2022');
      await exec('ip', 'rule', 'add', 'pref', '9000', 'lookup', '2022');
      const main = await exec('cat', '/proc/net/route');
      expect(main.stdout).toMatch(/^wan0\s+00000000\s/m); // the main table still says wan0
      const { stdout } = await exec(tsx, script);
      const report = JSON.parse(stdout);
      expect(report.tun).toMatchObject({ active: true, interface: 'Meta', defaultRoute: 'Meta' });
      expect(report.tun.reason).toMatch(/ip route get/);
      expect(report.plan).not.toContain('direct-bypass');
    });
  },
);
