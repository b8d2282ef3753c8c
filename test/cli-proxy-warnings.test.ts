/**
 * A malformed proxy setting is reported, never silently ignored (issue 23 item 7): the real CLI
 * with `HTTPS_PROXY='not a proxy'`, an unsupported scheme, and a good value for contrast.
 */
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';
import { startServe } from './serve-run.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

const NOT_A_PROXY =
  'HTTPS_PROXY="not a proxy" is not a proxy URL (use http://, https://, socks4://, socks4a://, socks5:// or socks5h://, or host:port): ignored, this variable sets no proxy';

describe('a malformed proxy variable', () => {
  it("detect --json: HTTPS_PROXY='not a proxy' is in warnings, and no proxy is in effect", async () => {
    const run = await detour(['detect', '--json'], { HTTPS_PROXY: 'not a proxy' });
    expect(run.code, run.stderr).toBe(0);
    const report = json(run) as unknown as { warnings: string[]; proxy: { source: string } };
    expect(report.warnings).toEqual([NOT_A_PROXY]);
    expect(report.proxy.source).toBe('none');
    const human = await detour(['detect'], { HTTPS_PROXY: 'not a proxy' });
    expect(human.stdout.toString()).toMatch(/^warning +HTTPS_PROXY="not a proxy" is not a proxy URL/m);
  });

  it('an unsupported scheme says which, and masks credentials', async () => {
    const run = await detour(['detect', '--json'], { all_proxy: 'ftp://user:hunter2@127.0.0.1:21' });
    const report = json(run) as unknown as { warnings: string[] };
    expect(report.warnings).toEqual([
      'all_proxy="ftp://user:***@127.0.0.1:21" has an unsupported scheme ftp:// (use http://, https://, socks4://, socks4a://, socks5:// or socks5h://): ignored, this variable sets no proxy',
    ]);
    expect(run.stdout.toString()).not.toContain('hunter2');
  });

  it('a good proxy variable: no warning', async () => {
    const run = await detour(['detect', '--json'], { https_proxy: lab.proxies.http.url });
    expect((json(run) as unknown as { warnings: string[] }).warnings).toEqual([]);
  });

  it('fetch: a warning line on stderr (with --json too), the download goes on direct', async () => {
    const url = `${lab.https.url}/image.png`;
    const env = { NODE_EXTRA_CA_CERTS: lab.caPath, HTTPS_PROXY: 'not a proxy' };
    const run = await detour(['fetch', url, '--json', '--allow-private'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ ok: true, strategy: 'direct' });
    expect(run.stderr).toBe(`detour: warning: ${NOT_A_PROXY}\n`);
    const human = await detour(['fetch', url, '--allow-private'], env);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(`detour: warning: ${NOT_A_PROXY}`);
    // --no-proxy decides the route: the variable plays no part, nothing to warn about.
    const explicit = await detour(['fetch', url, '--allow-private', '--no-proxy'], env);
    expect(explicit.stderr).toBe('');
  });

  it('doctor --json: in environment.warnings; serve: on stderr at start', async () => {
    const env = { NODE_EXTRA_CA_CERTS: lab.caPath, HTTPS_PROXY: 'not a proxy' };
    const run = await detour(['doctor', `${lab.https.url}/image.png`, '--json', '--allow-private'], env);
    expect(run.code, run.stderr).toBe(0);
    expect((json(run) as unknown as { environment: { warnings: string[] } }).environment.warnings).toEqual([
      NOT_A_PROXY,
    ]);
    const serve = await startServe([], env);
    try {
      expect(serve.stderr()).toContain(`detour: warning: ${NOT_A_PROXY}`);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });
});
