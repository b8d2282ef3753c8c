/**
 * `detour serve` (the built CLI) wires the operator's page: `/ui` is served from the package's
 * `ui/` files next to `dist/`, and `POST /v1/doctor` runs `detour doctor` under the service's own
 * policy flags (here `--allow-private` and `--ca`: without them the loopback origin is refused).
 */
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { type RunningServe, startServe } from './serve-run.js';

const TOKEN = 'serve-ui-cli-token';
let lab: Lab;
let server: RunningServe | undefined;

beforeAll(async () => {
  lab = await startLab();
  server = await startServe(['--allow-private', '--no-proxy', '--ca', lab.caPath, '--token', TOKEN]);
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  await lab?.close();
});

describe('detour serve: /ui and /v1/doctor', () => {
  it('serves the page without the token, under its CSP', async () => {
    const page = await call(`${server!.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<script type="module" src="ui/app.js"></script>');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await call(`${server!.url}/ui/app.js`)).status).toBe(200);
    expect((await call(`${server!.url}/v1/recent`)).status).toBe(401);
  });

  it('POST /v1/doctor answers the verdict of `detour doctor --json` with the service policy', async () => {
    const answer = await call(`${server!.url}/v1/doctor`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      body: { url: `${lab.legacy.legacyCipher.url}/image.png?rkey=SECRET` },
    });
    expect(answer.status).toBe(200);
    const report = answer.json() as {
      url: string;
      verdict: string;
      results: Array<{ strategy: string; outcome: string; failureClass: string | null }>;
      suggestions: unknown[];
    };
    expect(report.url).toContain('rkey=***');
    expect(report.verdict).toMatch(/tls-relaxed/);
    expect(report.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ strategy: 'direct', outcome: 'failed', failureClass: 'tls-handshake' }),
        expect.objectContaining({ strategy: 'tls-relaxed', outcome: 'ok' }),
      ]),
    );
  });
});
