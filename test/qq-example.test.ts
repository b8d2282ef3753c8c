/** The README's "QQ bots" example is examples/qq-bot.ts, and it runs against the Tencent twin. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

describe('QQ bot example', () => {
  it('the README shows examples/qq-bot.ts verbatim, and it is about 20 lines', () => {
    const example = readFileSync(`${root}/examples/qq-bot.ts`, 'utf8');
    const readme = readFileSync(`${root}/README.md`, 'utf8');
    expect(readme).toContain(`## QQ bots`);
    expect(readme).toContain(example);
    expect(example.trim().split('\n').length).toBeLessThanOrEqual(24);
  });

  it('qq-bot-lab.ts: an expired rkey with &amp; is refreshed once through OneBot; voice is silk; an old file is gone', async () => {
    const { stdout } = await run(tsx, ['examples/qq-bot-lab.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/^image: png, \d+ bytes via direct → refresh → direct$/m);
    expect(stdout).toMatch(/^voice: silk, \d+ bytes$/m);
    expect(stdout).toContain('old picture: past retention: ask the sender again');
    expect(stdout).toContain('origin requests: 3, OneBot calls: nc_get_rkey');
  });
});
