/**
 * `pnpm lab` (the lab's `detour-lab` bin): it starts the lab, prints ready-to-paste commands, keeps
 * running, and stops cleanly on SIGTERM. The printed commands are run as printed (through a shell),
 * so the README's examples can be reproduced.
 */
import { type ChildProcess, exec, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../packages/lab/dist/bin.js', import.meta.url));

interface Ready {
  ca: string;
  commands: Array<{ name: string; what: string; command: string }>;
}

let lab: ChildProcess;
let ready: Ready;

beforeAll(async () => {
  lab = spawn(process.execPath, [BIN, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: lab.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  ready = JSON.parse(line) as Ready;
});
afterAll(() => {
  if (lab.exitCode === null) lab.kill('SIGKILL');
});

function sh(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    exec(
      command,
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const command = (name: string) => ready.commands.find((c) => c.name === name)!.command;

describe('pnpm lab', () => {
  it('prints a command per situation, each with the lab CA', () => {
    expect(ready.commands.map((c) => c.name)).toEqual([
      'direct',
      'legacy-tls',
      'broken-accelerator',
      'stuck-proxy',
      'downgrade',
      'doctor',
    ]);
    for (const c of ready.commands) expect(c.command).toContain(`--ca ${ready.ca}`);
  });

  it.each([
    ['direct', 'direct'],
    ['legacy-tls', 'tls-relaxed'],
    ['broken-accelerator', 'direct-bypass'],
    ['downgrade', 'http-downgrade'],
  ])('the %s command, pasted as printed, is rescued by %s', async (name, strategy) => {
    const run = await sh(`${command(name).replace(/ -o \S+$/, '')} --json -o /dev/null`);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, strategy });
  });

  it('the doctor command names the accelerator as what is in the way', async () => {
    const run = await sh(`${command('doctor')} --json`);
    const report = JSON.parse(run.stdout) as {
      verdict: string;
      results: Array<{ strategy: string; outcome: string }>;
    };
    const proxy = /--proxy (\S+)/.exec(command('doctor'))![1]!;
    expect(report.verdict).toContain(proxy); // the verdict names the proxy in the way
    expect(report.results.find((r) => r.strategy === 'direct-bypass')?.outcome).toBe('ok');
  });

  it('stops every server on SIGTERM and exits 0', async () => {
    lab.kill('SIGTERM');
    const [code] = (await once(lab, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
