/** scripts/check-function-length.mjs, run as CI would run it, on files written for the purpose. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = join(import.meta.dirname, '..', 'scripts', 'check-function-length.mjs');
let dir: string;

/** A body of `n` lines in all: the braces plus n - 2 statements. */
const body = (n: number) =>
  `{\n${Array.from({ length: n - 2 }, (_, i) => `  const v${i} = '}{';`).join('\n')}\n}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'detour-fnlen-'));
  await writeFile(
    join(dir, 'long.ts'),
    [
      `export function exactlyAtLimit() ${body(60)}`,
      `export function justOver() ${body(61)}`,
      `class Flight {\n  #wait() ${body(70)}\n}`,
      `export const arrow = () => ${body(62)};`,
      `// function inComment() ${body(90).replaceAll('\n', ' ')}`,
    ].join('\n'),
  );
  await writeFile(join(dir, 'short.ts'), `export function fine() ${body(60)}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('check-function-length', () => {
  it('names each body over 60 lines with file:line, and exits 1', async () => {
    const failure = await run('node', [script, join(dir, 'long.ts')]).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const lines = failure!.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/long\.ts:61 justOver \(61 lines\)$/);
    expect(lines[1]).toMatch(/long\.ts:123 Flight\.#wait \(70 lines\)$/);
    expect(lines[2]).toMatch(/long\.ts:194 arrow \(62 lines\)$/);
    expect(failure!.stderr).toContain('3 functions longer than 60 lines');
  });

  it('passes a body of exactly 60 lines; --max lowers the bar', async () => {
    const ok = await run('node', [script, join(dir, 'short.ts')]);
    expect(ok.stdout).toContain('no function body longer than 60 lines');
    const strict = await run('node', [script, '--max', '59', dir]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect((strict as { code: number }).code).toBe(1);
    expect((strict as { stdout: string }).stdout).toMatch(/short\.ts:1 fine \(60 lines\)/);
  });

  it('checks every packages/<name>/src by default, and they all pass', async () => {
    const all = await run('node', [script]).catch((e: { code: number; stdout: string }) => e);
    expect((all as { code?: number }).code ?? 0).toBe(0);
    expect((all as { stdout: string }).stdout).toContain('no function body longer than 60 lines');
    // The default really reaches past core: a long function planted in a package's src is caught.
    const planted = await run('node', [script, '--max', '5']).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect((planted as { code: number }).code).toBe(1);
    for (const pkg of ['core', 'cli', 'serve', 'lab', 'curl']) {
      expect((planted as { stdout: string }).stdout).toContain(`packages/${pkg}/src/`);
    }
  });
});
