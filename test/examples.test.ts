/** The runnable examples are part of the contract: they must run as the README says. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

describe('examples', () => {
  it('basic.ts: the seed bug rescued by tls-relaxed, a 404 that stays terminal', async () => {
    const { stdout } = await run(tsx, ['examples/basic.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain('won by "direct"');
    expect(stdout).toContain('won by "tls-relaxed"');
    expect(stdout).toMatch(/http-status/);
  });

  it('custom-strategy.ts: a strategy added without touching core wins', async () => {
    const { stdout } = await run(tsx, ['examples/custom-strategy.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/with "mirror"/);
  });

  it('metrics-layer.ts: a layer added without touching core sees network runs, cache hits and failures', async () => {
    const { stdout } = await run(tsx, ['examples/metrics-layer.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/^ok direct +1 fetches/m);
    expect(stdout).toMatch(/^ok direct \(cache\) +2 fetches/m);
    expect(stdout).toMatch(/^failed http-status +1 fetches/m);
  });
});
