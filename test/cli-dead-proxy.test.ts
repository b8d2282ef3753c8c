/**
 * A proxy that is not running (a port nobody listens on), through the real CLI: an HTTP proxy and
 * a SOCKS proxy fail the same way — a `proxy` failure with the same hint — and `direct-bypass`
 * goes around either unless `--no-bypass` forbids it.
 */
import { freePort, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
let deadPort: number;
beforeAll(async () => {
  [lab, deadPort] = await Promise.all([startLab(), freePort()]);
});
afterAll(async () => {
  await lab?.close();
});

const env = () => ({ NODE_EXTRA_CA_CERTS: lab.caPath });

describe('a dead proxy', () => {
  it.each(['http', 'socks5'])(
    '%s: a proxy failure (ECONNREFUSED) with the HTTP proxy hint',
    async (scheme) => {
      const proxy = `${scheme}://127.0.0.1:${deadPort}`;
      const run = await detour(
        [
          'fetch',
          `${lab.https.url}/image.png`,
          '--json',
          '--allow-private',
          '--proxy',
          proxy,
          '--strategies',
          'direct',
        ],
        env(),
      );
      expect(run.code, run.stderr).toBe(1);
      const out = json(run) as { error: { failureClass: string; code: string; hint: string } };
      expect(out.attempts[0]).toMatchObject({
        strategy: 'direct',
        route: proxy,
        failureClass: 'proxy',
        code: 'ECONNREFUSED',
      });
      expect(out.error).toMatchObject({ failureClass: 'proxy', code: 'ECONNREFUSED' });
      // The same words for both kinds of proxy, only the address differs.
      expect(out.error.hint.replace(proxy, 'PROXY')).toBe(
        'the proxy PROXY refused or failed (ECONNREFUSED): check --proxy / *_proxy (is it running?), or --no-proxy',
      );
      const human = await detour(
        [
          'fetch',
          `${lab.https.url}/image.png`,
          '--allow-private',
          '--proxy',
          proxy,
          '--strategies',
          'direct',
        ],
        env(),
      );
      expect(human.code).toBe(1);
      // The first line names the proxy and what to do, for either scheme.
      const line = human.stderr.split('\n')[0]!;
      expect(line).toMatch(/^detour: proxy: proxy \S+ failed: ECONNREFUSED \(ECONNREFUSED, in direct via /);
      expect(line).toContain(`check --proxy / *_proxy (is it running?), or --no-proxy`);
    },
  );
});

describe('--no-bypass', () => {
  it('without it direct-bypass goes around the dead proxy; with it the fetch fails on the proxy', async () => {
    const proxy = `http://127.0.0.1:${deadPort}`;
    const url = `${lab.https.url}/image.png`;
    const around = await detour(['fetch', url, '--json', '--allow-private', '--proxy', proxy], env());
    expect(around.code, around.stderr).toBe(0);
    expect(json(around)).toMatchObject({ ok: true, strategy: 'direct-bypass' });

    const held = await detour(
      ['fetch', url, '--json', '--allow-private', '--proxy', proxy, '--no-bypass'],
      env(),
    );
    expect(held.code, held.stderr).toBe(1);
    const out = json(held) as { error: { failureClass: string } };
    expect(out.error.failureClass).toBe('proxy');
    expect(out.attempts.map((a) => a.strategy)).not.toContain('direct-bypass');
    for (const a of out.attempts) if (a.outcome === 'failed') expect(a.route).toBe(proxy);
  });

  it('the variable too: a proxy from https_proxy is never bypassed', async () => {
    const held = await detour(
      ['fetch', `${lab.https.url}/image.png`, '--json', '--allow-private', '--no-bypass'],
      {
        ...env(),
        https_proxy: `socks5://127.0.0.1:${deadPort}`,
      },
    );
    expect(held.code, held.stderr).toBe(1);
    expect(json(held).attempts.map((a) => a.strategy)).not.toContain('direct-bypass');
  });

  it('naming direct-bypass in --strategies as well is bad usage', async () => {
    const run = await detour(
      [
        'fetch',
        `${lab.https.url}/image.png`,
        '--allow-private',
        '--no-bypass',
        '--strategies',
        'direct,direct-bypass',
      ],
      env(),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('forbids direct-bypass');
  });

  it('--proxy --help says a failing proxy may be bypassed and how to forbid it', async () => {
    const help = (await detour(['fetch', '--help'])).stdout.toString().replace(/\s+/g, ' ');
    expect(help).toContain('when it fails, direct-bypass may still go around it (--no-bypass forbids that)');
    expect(help).toContain('--no-bypass never go around the proxy');
  });
});
