import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { EnvironmentReport } from '@detour/detect';
import { type Lab, type RunningDns, startDnsmasq, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, DETOUR_BIN, detour, json } from './cli-run.js';

type DetectJson = EnvironmentReport & { plan: string[]; reasons: Record<string, string> };
const report = (result: CliRun) => json(result) as unknown as DetectJson;

const run = promisify(execFile);
let lab: Lab;
let fakeDns: RunningDns;
let realDns: RunningDns;

beforeAll(async () => {
  lab = await startLab();
  [fakeDns, realDns] = await Promise.all([startDnsmasq(['198.18.0.9']), startDnsmasq(['93.184.216.34'])]);
});
afterAll(async () => {
  await Promise.all([fakeDns?.close(), realDns?.close()]);
  await lab?.close();
});

describe('detour detect', () => {
  it('env proxy + fake-IP DNS: reports both, and the plan leaves the bypass out', async () => {
    const result = await detour(['detect', '--json', '--dns-server', fakeDns.server], {
      https_proxy: 'http://bot:s3cret@127.0.0.1:7890',
      no_proxy: 'localhost',
    });
    expect(result.code).toBe(0);
    const out = report(result);
    expect(out.proxy).toEqual({
      http: null,
      https: 'http://bot:***@127.0.0.1:7890',
      socks: null,
      noProxy: 'localhost',
      source: 'env',
    });
    expect(out.fakeIp.active).toBe(true);
    expect(out.fakeIp.samples[0].addresses).toEqual(['198.18.0.9']);
    expect(out.tun).toHaveProperty('active');
    expect(out.tun).toHaveProperty('interface');
    expect(out.tun).toHaveProperty('defaultRoute');
    expect(out).toHaveProperty('systemProxy');
    expect(out.localProxies).toBeNull();
    expect(out.plan).toEqual(['direct', 'tls-relaxed', 'curl']);
    expect(out.reasons['direct-bypass']).toMatch(/fake-IP DNS is active/);
    expect(result.stdout.toString()).not.toContain('s3cret');
  });

  it('env proxy, real DNS answers: direct through the proxy, then the bypass', async () => {
    const result = await detour(['detect', '--json', '--dns-server', realDns.server], {
      HTTPS_PROXY: 'http://127.0.0.1:7890',
    });
    const out = report(result);
    expect(out.fakeIp.active).toBe(false);
    expect(out.plan).toEqual(['direct', 'direct-bypass', 'tls-relaxed', 'curl']);
  });

  it('--probe-ports fills localProxies (identification by handshake is tested in packages/detect)', async () => {
    const result = await detour(['detect', '--json', '--probe-ports', '--dns-server', realDns.server]);
    const out = report(result);
    expect(Array.isArray(out.localProxies)).toBe(true);
  });

  it('prints a human table by default', async () => {
    const result = await detour(['detect', '--dns-server', realDns.server], {
      https_proxy: 'http://127.0.0.1:7890',
    });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(/plan: direct → direct-bypass → tls-relaxed → curl/);
  });

  it('bad input exits 2', async () => {
    expect((await detour(['detect', '--dns-server', 'not-an-ip'])).code).toBe(2);
    expect((await detour(['detect', 'extra'])).code).toBe(2);
    expect((await detour(['detect', '--bogus'])).code).toBe(2);
  });
});

describe('detour fetch uses the detected plan', () => {
  it('https_proxy pointing at a broken accelerator: detected, and direct-bypass rescues', async () => {
    const result = await detour(
      ['fetch', `${lab.https.url}/image.png`, '--json', '--allow-private', '--expect', 'image'],
      { NODE_EXTRA_CA_CERTS: lab.caPath, https_proxy: lab.proxies.accelerator.url },
    );
    expect(result.code).toBe(0);
    const out = json(result);
    expect(out.strategy).toBe('direct-bypass');
    expect(out.attempts.slice(0, 2).map((a) => [a.strategy, a.route, a.outcome])).toEqual([
      ['direct', lab.proxies.accelerator.url, 'failed'],
      ['direct-bypass', 'direct', 'ok'],
    ]);
    // The rest of the plan follows, skipped (D83).
    expect(out.attempts.map((a) => a.strategy)).toEqual(out.plan);
    expect(out.attempts.slice(2).map((a) => [a.outcome, a.message])).toEqual(
      out.plan.slice(2).map(() => ['skipped', 'not needed: direct-bypass succeeded']),
    );
  });

  it('no_proxy for the host: straight to direct, no proxy involved', async () => {
    const result = await detour(['fetch', `${lab.https.url}/image.png`, '--json', '--allow-private'], {
      NODE_EXTRA_CA_CERTS: lab.caPath,
      https_proxy: lab.proxies.accelerator.url,
      no_proxy: 'localhost',
    });
    const out = json(result);
    expect(out.attempts[0]).toMatchObject({ strategy: 'direct', route: 'direct', outcome: 'ok' });
    // Every planned strategy is in the trace, in plan order; those after the winner skipped, with why (D83).
    expect(out.plan.length).toBeGreaterThan(1);
    expect(out.attempts.map((a) => a.strategy)).toEqual(out.plan);
    expect(out.attempts.slice(1)).toEqual(
      out.plan.slice(1).map((strategy) => ({
        strategy,
        route: expect.any(String),
        outcome: 'skipped',
        ms: 0,
        message: 'not needed: direct succeeded',
      })),
    );
  });
});

/** For real: `detour detect` inside a network namespace whose default route goes through a TUN named Meta. */
const ns = `detour-cli-${process.pid}`;
const nsUp = await run('ip', ['netns', 'add', ns]).then(
  () => true,
  (e: Error) => e.message.split('\n')[0]!,
);
describe.skipIf(nsUp !== true)(
  `detour detect in a TUN namespace${nsUp === true ? '' : ` — skipped: ${nsUp}`}`,
  () => {
    afterAll(async () => {
      await run('ip', ['netns', 'del', ns]).catch(() => {});
    });
    it('reports TUN active through Meta and plans no bypass', async () => {
      const exec = (...args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);
      await exec('ip', 'link', 'set', 'lo', 'up');
      await exec('ip', 'tuntap', 'add', 'dev', 'Meta', 'mode', 'tun');
      await exec('ip', 'addr', 'add', '198.18.0.1/16', 'dev', 'Meta');
      await exec('ip', 'link', 'set', 'Meta', 'up');
      await exec('ip', 'route', 'add', 'default', 'dev', 'Meta');
      // No DNS server is reachable in the namespace: 127.0.0.1:9 answers "refused" at once.
      const { stdout } = await run('ip', [
        'netns',
        'exec',
        ns,
        'env',
        'https_proxy=http://127.0.0.1:7890',
        DETOUR_BIN,
        'detect',
        '--json',
        '--dns-server',
        '127.0.0.1:9',
      ]);
      const out = JSON.parse(stdout) as DetectJson;
      expect(out.tun).toMatchObject({ active: true, interface: 'Meta', defaultRoute: 'Meta' });
      expect(out.plan).not.toContain('direct-bypass');
      expect(out.reasons['direct-bypass']).toMatch(/TUN is active/);
    });
  },
);
