/**
 * `detour doctor` tells proxy states apart (issue 23 item 5): `proxy: { url, source, state }` in
 * `--json`, and a verdict and first fix that follow the state. Every state against a real case:
 * tinyproxy and microsocks that work, a port nobody listens on, a socket that accepts and never
 * answers, a proxy that wants credentials (407), one that refuses CONNECT to the target's port
 * (tinyproxy's ConnectPort), one that breaks TLS (the lab's accelerator); sources from --proxy,
 * the environment and the OS settings (a KDE kioslaverc).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BlackHoleProxy,
  freePort,
  type Lab,
  type RunningProxy,
  startBlackHoleProxy,
  startLab,
  startTinyproxy,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';

interface DoctorJson {
  proxy: { url: string | null; source: string | null; state: string };
  verdict: string;
  suggestions: Array<{ kind: string; text: string }>;
}

let lab: Lab;
let blackHole: BlackHoleProxy;
let portsOnly: RunningProxy;
let deadPort: number;
let kdeHome: string;
beforeAll(async () => {
  // CONNECT allowed to port 1 only: the lab's HTTPS origin gets 403 from tinyproxy.
  [lab, blackHole, portsOnly, deadPort] = await Promise.all([
    startLab(),
    startBlackHoleProxy(),
    startTinyproxy({ connectPorts: [1] }),
    freePort(),
  ]);
  kdeHome = mkdtempSync(join(tmpdir(), 'detour-kde-'));
  writeFileSync(
    join(kdeHome, 'kioslaverc'),
    `[Proxy Settings]\nProxyType=1\nhttpProxy=http://127.0.0.1 ${deadPort}\nhttpsProxy=http://127.0.0.1 ${deadPort}\n`,
  );
});
afterAll(async () => {
  await Promise.all([lab?.close(), blackHole?.close(), portsOnly?.close()]);
  if (kdeHome) rmSync(kdeHome, { recursive: true, force: true });
});

async function doctor(args: string[], env: Record<string, string> = {}) {
  const run = await detour(['doctor', `${lab.https.url}/image.png`, '--json', '--allow-private', ...args], {
    NODE_EXTRA_CA_CERTS: lab.caPath,
    ...env,
  });
  expect(run.stdout.length, run.stderr).toBeGreaterThan(0);
  return { code: run.code, out: JSON.parse(run.stdout.toString()) as DoctorJson };
}

const kinds = (out: DoctorJson) => out.suggestions.map((s) => s.kind);

describe('detour doctor: the proxy state', () => {
  it('none: no proxy in the way', async () => {
    const { code, out } = await doctor(['--no-proxy']);
    expect(code).toBe(0);
    expect(out.proxy).toEqual({ url: null, source: null, state: 'none' });
  });

  it('works: tinyproxy from --proxy, microsocks from the environment', async () => {
    const viaFlag = await doctor(['--proxy', lab.proxies.http.url]);
    expect(viaFlag.out.proxy).toEqual({ url: lab.proxies.http.url, source: 'flag', state: 'works' });
    expect(viaFlag.out.verdict).toContain('works: nothing needs fixing');
    const viaEnv = await doctor([], { https_proxy: lab.proxies.socks.url });
    expect(viaEnv.out.proxy).toEqual({ url: lab.proxies.socks.url, source: 'env', state: 'works' });
  });

  it('not-running (env): "start it or unset the variable", not a Clash rule', async () => {
    const dead = `http://127.0.0.1:${deadPort}`;
    const { code, out } = await doctor([], { HTTPS_PROXY: dead });
    expect(code).toBe(0); // direct-bypass still works
    expect(out.proxy).toEqual({ url: dead, source: 'env', state: 'not-running' });
    expect(out.verdict).toMatch(
      /^The proxy http:\/\/127\.0\.0\.1:\d+ \(from the environment\) is not running/,
    );
    expect(out.verdict).not.toContain('DIRECT');
    expect(out.suggestions[0]).toEqual({
      kind: 'system',
      text: `the proxy at ${dead} is not running: start it or unset the variable (unset HTTPS_PROXY)`,
    });
    expect(kinds(out)).not.toContain('clash-rule');
    expect(kinds(out)).not.toContain('no-proxy');
  });

  it('not-running (a dead SOCKS proxy from --proxy): "start it or drop --proxy"', async () => {
    const dead = `socks5://127.0.0.1:${deadPort}`;
    const { out } = await doctor(['--proxy', dead]);
    expect(out.proxy).toEqual({ url: dead, source: 'flag', state: 'not-running' });
    expect(out.suggestions[0]?.text).toBe(`the proxy at ${dead} is not running: start it or drop --proxy`);
    expect(kinds(out)).not.toContain('clash-rule');
  });

  it('not-running (the OS settings, KDE): "start it or turn the system proxy off"', async () => {
    const { out } = await doctor([], { XDG_CURRENT_DESKTOP: 'KDE', XDG_CONFIG_HOME: kdeHome });
    expect(out.proxy).toEqual({
      url: `http://127.0.0.1:${deadPort}`,
      source: 'system',
      state: 'not-running',
    });
    expect(out.suggestions[0]?.text).toContain('start it or turn the system proxy off');
  });

  it('stuck: a socket that accepts and never answers', async () => {
    const { out } = await doctor(['--proxy', blackHole.url, '--timeout', '5000']);
    expect(out.proxy).toEqual({ url: blackHole.url, source: 'flag', state: 'stuck' });
    expect(out.verdict).toContain(`The proxy ${blackHole.url} accepts connections and never answers`);
    expect(out.suggestions[0]?.text).toContain(`the proxy at ${blackHole.url} is stuck`);
    expect(kinds(out)).not.toContain('clash-rule');
  });

  it('needs-auth: tinyproxy with BasicAuth answers 407', async () => {
    const { out } = await doctor(['--proxy', lab.proxies.httpAuth.url]);
    expect(out.proxy).toEqual({ url: lab.proxies.httpAuth.url, source: 'flag', state: 'needs-auth' });
    expect(out.verdict).toContain('wants credentials it was not given (PROXY_HTTP_407)');
    expect(out.suggestions[0]?.text).toContain(lab.proxies.httpAuth.url.replace('://', '://USER:PASS@'));
    expect(kinds(out)).not.toContain('clash-rule');
  });

  it("refuses-target: tinyproxy's ConnectPort refuses the origin's port (403)", async () => {
    const { out } = await doctor(['--proxy', portsOnly.url]);
    expect(out.proxy).toEqual({ url: portsOnly.url, source: 'flag', state: 'refuses-target' });
    expect(out.suggestions[0]).toEqual({
      kind: 'system',
      text: expect.stringContaining(
        `the proxy at ${portsOnly.url} refuses to open a tunnel to localhost (PROXY_HTTP_403)`,
      ),
    });
  });

  it('breaks-tls: the accelerator answers the handshake with an alert; the DIRECT rule comes first', async () => {
    const { out } = await doctor([], { https_proxy: lab.proxies.accelerator.url });
    expect(out.proxy).toEqual({ url: lab.proxies.accelerator.url, source: 'env', state: 'breaks-tls' });
    expect(out.suggestions[0]).toEqual({ kind: 'clash-rule', text: 'DOMAIN-SUFFIX,localhost,DIRECT' });
  });
});
