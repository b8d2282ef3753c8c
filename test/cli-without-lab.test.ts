/**
 * The CLI does not ship the lab: `@detour/lab` is an optional dependency, loaded only by `detour demo`.
 * A copy of the built CLI whose node_modules hold every dependency but the lab still fetches, and its
 * demo says what is missing (exit 1) instead of a module-not-found trace.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../packages/cli/', import.meta.url));
let dir: string;
let bin: string;
let lab: Lab;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detour-no-lab-'));
  const copy = join(dir, 'cli');
  for (const part of ['bin', 'dist', 'package.json'])
    cpSync(join(CLI, part), join(copy, part), { recursive: true });
  // Every installed dependency of the CLI but the lab (links to the workspace's own installs).
  const modules = join(copy, 'node_modules');
  mkdirSync(join(modules, '@detour'), { recursive: true });
  for (const name of readdirSync(join(CLI, 'node_modules'))) {
    if (name === '@detour') continue;
    symlinkSync(join(CLI, 'node_modules', name), join(modules, name));
  }
  for (const name of readdirSync(join(CLI, 'node_modules', '@detour'))) {
    if (name !== 'lab')
      symlinkSync(join(CLI, 'node_modules', '@detour', name), join(modules, '@detour', name));
  }
  bin = join(copy, 'bin', 'detour.js');
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { encoding: 'buffer', timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: dir } },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr: stderr.toString(),
        }),
    );
  });
}

describe('the CLI without @detour/lab installed', () => {
  it('fetches as usual', async () => {
    const result = await run([
      'fetch',
      `${lab.http.url}/image.png`,
      '--allow-private',
      '--no-proxy',
      '--no-state',
      '-o',
      '-',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.equals(LAB_PNG)).toBe(true);
  });

  it('detour demo says the lab is missing, exit 1, no stack trace', async () => {
    const result = await run(['demo']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the demo runs on @detour/lab');
    expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|\n\s+at /);
  });
});
