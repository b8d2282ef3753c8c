/**
 * Issue 9, item 3, end to end: `detour fetch` with default options, behind a proxy that accepts
 * TCP and never answers (a stuck Clash/v2rayN). The fetch must succeed through `direct-bypass`
 * within 4 s, and the process must then exit on its own (a socket to the stuck proxy used to keep
 * it alive for ever). How soon it exits after printing is printed, not asserted: a few ms on an
 * idle machine, but a 100 ms bound failed under load (101.8 ms with eight test runs sharing two
 * cores) although nothing was kept alive. What the bug did is what is checked: the process is not
 * killed by the guard, exits 0, and leaves nothing behind in its process group.
 */
import { spawn } from 'node:child_process';
import { type BlackHoleProxy, type Lab, startBlackHoleProxy, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETOUR_BIN, freshStateHome } from './cli-run.js';

let lab: Lab;
let hole: BlackHoleProxy;

beforeAll(async () => {
  [lab, hole] = await Promise.all([startLab(), startBlackHoleProxy()]);
});
afterAll(async () => {
  await Promise.all([lab?.close(), hole?.close()]);
});

interface TimedRun {
  code: number | null;
  /** The signal that ended it: SIGKILL when the 20 s guard had to (the process would not exit). */
  signal: NodeJS.Signals | null;
  /** Whether anything of its process group (a curl child, say) was still running after it exited. */
  leftBehind: boolean;
  stdout: string;
  /** ms from spawn until the result was on stdout (the JSON ends with a newline). */
  printedAt: number;
  /** ms from spawn until the process exited. */
  exitedAt: number;
}

/** Run the real CLI and time when its result is printed and when the process is gone. */
function timedRun(args: string[], env: Record<string, string>): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(DETOUR_BIN, args, {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        XDG_STATE_HOME: freshStateHome(),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true, // its own process group, so that whatever it started can be found afterwards
    });
    let stdout = '';
    let printedAt = Number.NaN;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.endsWith('\n') && Number.isNaN(printedAt)) printedAt = performance.now() - started;
    });
    // A process that never exits is the bug: give up (and fail) after 20 s.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const exitedAt = performance.now() - started;
      clearTimeout(guard);
      const leftBehind = groupAlive(child.pid!);
      if (leftBehind) process.kill(-child.pid!, 'SIGKILL');
      resolve({ code, signal, leftBehind, stdout, printedAt, exitedAt });
    });
  });
}

/** Whether any process of the group `pgid` still runs (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false; // ESRCH: the group is empty
  }
}

describe('detour fetch behind a stuck proxy', () => {
  it('succeeds through direct-bypass within 4 s and exits on its own, leaving nothing running', async () => {
    const url = `${lab.https.url}/image.png`;
    const env = { NODE_EXTRA_CA_CERTS: lab.caPath };
    // The same fetch with nothing in the way: what starting the CLI costs on this machine now.
    const baseline = await timedRun(['fetch', url, '--json', '--allow-private', '--no-proxy'], env);
    expect(baseline.code).toBe(0);

    // The proxy comes from the environment, as a user's accelerator sets it; default options.
    const run = await timedRun(['fetch', url, '--json', '--allow-private'], {
      ...env,
      https_proxy: hole.url,
    });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      ok: boolean;
      strategy: string;
      attempts: Array<{ strategy: string; failureClass?: string; code?: string; ms: number }>;
    };
    expect(out).toMatchObject({ ok: true, strategy: 'direct-bypass' });
    expect(out.attempts[0]).toMatchObject({
      strategy: 'direct',
      failureClass: 'proxy',
      code: 'DETOUR_PROXY_TIMEOUT',
    });
    expect(hole.accepted()).toBeGreaterThan(0);
    // The fetch itself (every attempt) took at most 4 s ...
    const fetchMs = out.attempts.reduce((sum, a) => sum + a.ms, 0);
    expect(fetchMs).toBeLessThanOrEqual(4_000);
    // ... and so did the run, beyond what starting the CLI costs (the baseline run); two separate
    // process starts differ by a few hundred ms on a busy machine, hence the 500 ms of slack.
    expect(run.printedAt - baseline.printedAt).toBeLessThanOrEqual(4_500);
    // Nothing keeps the process alive once the result is printed: it exits by itself, well before
    // the 20 s guard, with code 0, and nothing it started is left running.
    expect(run.signal).toBeNull();
    expect(run.leftBehind).toBe(false);
    console.log(`exited ${(run.exitedAt - run.printedAt).toFixed(0)} ms after printing its result`);
  }, 60_000);
});
