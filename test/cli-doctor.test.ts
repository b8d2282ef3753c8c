/**
 * `detour doctor` through the real CLI against the lab: the broken accelerator (the classic "QQ
 * images break behind Clash" case), a fake-IP resolver (dnsmasq), legacy origins, and a stuck proxy.
 */
import {
  type BlackHoleProxy,
  type Lab,
  type RunningDns,
  startBlackHoleProxy,
  startDnsmasq,
  startLab,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, detour } from './cli-run.js';

interface DoctorJson {
  url: string;
  environment: { route: string; plan: string[]; fakeIp: { active: boolean | null } };
  results: Array<{
    strategy: string;
    route: string;
    outcome: string;
    failureClass: string | null;
    code: string | null;
    ms: number;
  }>;
  verdict: string;
  suggestions: Array<{ kind: string; text: string }>;
}

let lab: Lab;
let fakeDns: RunningDns;
let realDns: RunningDns;
let blackHole: BlackHoleProxy;
beforeAll(async () => {
  [lab, fakeDns, realDns, blackHole] = await Promise.all([
    startLab(),
    startDnsmasq(['198.18.0.7']),
    startDnsmasq(['93.184.216.34']),
    startBlackHoleProxy(),
  ]);
});
afterAll(async () => {
  await Promise.all([lab?.close(), fakeDns?.close(), realDns?.close(), blackHole?.close()]);
});

const doctor = (args: string[]) => detour(['doctor', ...args], { NODE_EXTRA_CA_CERTS: lab.caPath });
const parsed = (run: CliRun) => JSON.parse(run.stdout.toString()) as DoctorJson;
const row = (out: DoctorJson, strategy: string) => out.results.find((r) => r.strategy === strategy);

describe('detour doctor', () => {
  it('broken accelerator: direct fails through it, direct-bypass works → Clash rule, NO_PROXY, "already does this"', async () => {
    const result = await doctor([
      `${lab.https.url}/image.png`,
      '--json',
      '--allow-private',
      '--proxy',
      lab.proxies.accelerator.url,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const out = parsed(result);
    expect(Object.keys(out)).toEqual(['url', 'environment', 'proxy', 'results', 'verdict', 'suggestions']);
    expect(out.url).toBe(`${lab.https.url}/image.png`);
    expect(out.environment.route).toBe(lab.proxies.accelerator.url);
    for (const r of out.results) {
      expect(Object.keys(r)).toEqual(['strategy', 'route', 'outcome', 'failureClass', 'code', 'ms']);
    }
    expect(row(out, 'direct')).toMatchObject({
      route: lab.proxies.accelerator.url,
      outcome: 'failed',
      failureClass: 'tls-handshake',
    });
    expect(row(out, 'direct-bypass')).toMatchObject({ route: 'direct', outcome: 'ok', failureClass: null });
    expect(out.results.map((r) => r.strategy)).toEqual(['direct', 'direct-bypass', 'tls-relaxed', 'curl']);
    expect(out.verdict).toContain(`The proxy ${lab.proxies.accelerator.url} breaks localhost`);
    expect(out.verdict).toContain('Detour already does this for you');
    expect(out.suggestions).toEqual([
      { kind: 'clash-rule', text: 'DOMAIN-SUFFIX,localhost,DIRECT' },
      { kind: 'no-proxy', text: 'NO_PROXY=.localhost' },
    ]);
  });

  it('the same case in the human report: environment, table, verdict, fixes', async () => {
    const result = await doctor([
      `${lab.https.url}/image.png`,
      '--allow-private',
      '--proxy',
      lab.proxies.accelerator.url,
    ]);
    expect(result.code).toBe(0);
    const out = result.stdout.toString();
    expect(out).toMatch(/^route for this URL +http:\/\/127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/^direct-bypass +direct +ok /m);
    expect(out).toMatch(/^verdict: The proxy /m);
    expect(out).toContain('[clash-rule] DOMAIN-SUFFIX,localhost,DIRECT');
    expect(result.stderr).toBe('');
  });

  it('fake-IP resolver: a fake-ip-filter entry; a real-answer resolver: none', async () => {
    const url = `${lab.https.url}/image.png`;
    const fake = parsed(
      await doctor([url, '--json', '--allow-private', '--no-proxy', '--dns-server', fakeDns.server]),
    );
    expect(fake.environment.fakeIp.active).toBe(true);
    expect(fake.environment.plan).not.toContain('direct-bypass');
    expect(fake.verdict).toContain('Fake-IP DNS answers localhost with 198.18.0.7');
    expect(fake.suggestions).toContainEqual({
      kind: 'fake-ip-filter',
      text: expect.stringContaining("add '+.localhost' to dns.fake-ip-filter"),
    });
    const real = parsed(
      await doctor([url, '--json', '--allow-private', '--no-proxy', '--dns-server', realDns.server]),
    );
    expect(real.environment.fakeIp.active).toBe(false);
    expect(real.suggestions.map((s) => s.kind)).not.toContain('fake-ip-filter');
  });

  it.each([
    ['sha1Signatures', 'tls-handshake'],
    ['tls10', 'tls-protocol'],
  ] as const)(
    'legacy origin (%s): only tls-relaxed (and maybe curl) works; says what it costs',
    async (origin, failureClass) => {
      const result = await doctor([
        `${lab.legacy[origin].url}/image.png`,
        '--json',
        '--allow-private',
        '--no-proxy',
      ]);
      expect(result.code).toBe(0);
      const out = parsed(result);
      expect(row(out, 'direct')).toMatchObject({ outcome: 'failed', failureClass });
      expect(row(out, 'direct-bypass')).toMatchObject({ outcome: 'skipped' });
      expect(row(out, 'tls-relaxed')).toMatchObject({ outcome: 'ok', route: 'direct' });
      expect(out.verdict).toMatch(/^Only tls-relaxed( and curl)? works? for localhost/);
      expect(out.verdict).toContain('weaker protection');
      expect(out.suggestions).toContainEqual({
        kind: 'detour-flag',
        text: expect.stringMatching(/^tls-relaxed: on by default/),
      });
    },
  );

  it('a stuck proxy: says so with its address; the bypass still works', async () => {
    const result = await doctor([
      `${lab.https.url}/image.png`,
      '--json',
      '--allow-private',
      '--proxy',
      blackHole.url,
      '--timeout',
      '5000',
    ]);
    expect(result.code).toBe(0);
    const out = parsed(result);
    expect(row(out, 'direct')).toMatchObject({ outcome: 'failed', route: blackHole.url });
    expect(out.verdict).toContain(`The proxy ${blackHole.url} accepts connections and never answers`);
    expect(out.suggestions).toContainEqual({
      kind: 'system',
      text: expect.stringContaining(`the proxy at ${blackHole.url} is stuck`),
    });
  });

  it('nothing works (expired certificate): exit 1, what was tried, the most telling failure, what to do', async () => {
    const result = await doctor([
      `${lab.certOrigins.expired.url}/image.png`,
      '--json',
      '--allow-private',
      '--no-proxy',
    ]);
    expect(result.code).toBe(1);
    const out = parsed(result);
    expect(out.results.every((r) => r.outcome !== 'ok')).toBe(true);
    expect(out.verdict).toMatch(/^Nothing worked for localhost\. Tried: direct, tls-relaxed, curl/);
    expect(out.verdict).toContain('The most telling failure: tls-certificate (CERT_HAS_EXPIRED) in direct');
    expect(out.suggestions).toContainEqual({
      kind: 'detour-flag',
      text: expect.stringContaining('--insecure-host localhost'),
    });
  });

  it('bad usage exits 2', async () => {
    expect((await doctor([])).code).toBe(2);
    expect((await doctor(['ftp://x/'])).code).toBe(2);
  });
});
