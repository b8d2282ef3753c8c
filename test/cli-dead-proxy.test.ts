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
