/**
 * One function builds every detect answer (issue 23 item 9): `GET /v1/detect` of the real
 * `detour serve` equals `detour detect --json` of the real CLI for the same flags and environment,
 * and every reason is the strategy's own (no "no stage given").
 */
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';
import { startServe } from './serve-run.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

interface Answer {
  plan: string[];
  reasons: Record<string, string>;
  [key: string]: unknown;
}

async function both(flags: string[], env: Record<string, string>): Promise<{ cli: Answer; served: Answer }> {
  const run = await detour(['detect', '--json', ...flags], env);
  expect(run.code, run.stderr).toBe(0);
  const serve = await startServe(flags, env);
  try {
    const answer = await fetch(`${serve.url}/v1/detect`);
    expect(answer.status).toBe(200);
    return { cli: JSON.parse(run.stdout.toString()) as Answer, served: (await answer.json()) as Answer };
  } finally {
    expect(await serve.stop()).toBe(0);
  }
}

describe('GET /v1/detect = detour detect --json', () => {
  it('defaults, with a proxy from the environment', async () => {
    const { cli, served } = await both([], { https_proxy: lab.proxies.http.url });
    expect(served).toEqual(cli);
    expect(cli.plan).toEqual(['direct', 'direct-bypass', 'tls-relaxed', 'curl']);
    expect(cli.reasons.direct).toContain(`through the env proxy ${lab.proxies.http.url}`);
    for (const reason of Object.values(cli.reasons)) expect(reason).not.toContain('no stage given');
  });

  it('--placeholder --allow-downgrade --no-bypass: the same plan and reasons', async () => {
    const flags = ['--placeholder', '--allow-downgrade', 'localhost', '--no-bypass'];
    const { cli, served } = await both(flags, { https_proxy: lab.proxies.http.url });
    expect(served).toEqual(cli);
    expect(Object.keys(cli.reasons).sort()).toEqual(
      ['curl', 'direct', 'direct-bypass', 'http-downgrade', 'placeholder', 'tls-relaxed'].sort(),
    );
    expect(cli.plan).not.toContain('direct-bypass');
    expect(cli.reasons['direct-bypass']).toContain('--no-bypass');
    expect(cli.plan.at(-1)).toBe('placeholder');
    for (const reason of Object.values(cli.reasons)) expect(reason).not.toContain('no stage given');
  });

  it("--strategies: the caller's order, in both", async () => {
    const { cli, served } = await both(['--strategies', 'curl,direct'], {});
    expect(served).toEqual(cli);
    expect(cli.plan).toEqual(['curl', 'direct']);
  });

  it('detect refuses what serve refuses: an unknown strategy, a malformed --proxy', async () => {
    const unknown = await detour(['detect', '--strategies', 'direct,nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown strategy nope');
    const bad = await detour(['detect', '--proxy', 'not a proxy']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--proxy "not a proxy" is not a proxy URL');
  });
});
