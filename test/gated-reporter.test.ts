import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gatesOpen } from './gated-reporter.js';

const vitest = fileURLToPath(new URL('../node_modules/.bin/vitest', import.meta.url));
const config = fileURLToPath(new URL('./fixtures/gated/vitest.config.ts', import.meta.url));

function runFixture(ci: boolean): Promise<{ code: number; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CI;
  if (ci) env.CI = 'true';
  return new Promise((resolve) => {
    execFile(vitest, ['run', '--config', config], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe('the gated-suite reporter', () => {
  it('lists a gated skip at the end of the run, with its file and reason', async () => {
    const run = await runFixture(false);
    expect(run.out).toContain('Gated suites skipped (1):');
    expect(run.out).toContain('probe.gate.ts: needs something — skipped: the fixture never has it');
    expect(run.code).toBe(0);
  });

  it('fails a CI run on a machine where the gated suites could run (root, namespaces), and only there', async () => {
    const run = await runFixture(true);
    if (gatesOpen()) {
      expect(run.out).toContain('a gated suite must not skip here');
      expect(run.code).toBe(1);
    } else {
      expect(run.code).toBe(0);
    }
  });
});
