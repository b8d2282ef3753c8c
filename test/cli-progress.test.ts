/**
 * The progress line under a real pseudo-terminal (util-linux `script`), and its absence when
 * stderr is not a terminal, with --json, or with --no-progress.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETOUR_BIN, detour, freshStateHome } from './cli-run.js';

let lab: Lab;
let dir: string;
/** util-linux's `script` (Debian: bsdutils, essential) gives the CLI a pseudo-terminal. */
const scriptBin = findBinary('script', 'bsdutils');
beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'detour-progress-'));
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** Run the CLI with a pseudo-terminal as stdin/stdout/stderr; returns everything the terminal got. */
function inTerminal(args: string[]): Promise<{ code: number; screen: string }> {
  const command = [DETOUR_BIN, ...args].map(shellQuote).join(' ');
  return new Promise((resolve) => {
    execFile(
      scriptBin,
      ['-qfec', command, '/dev/null'],
      {
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/root',
          XDG_STATE_HOME: freshStateHome(),
          NODE_EXTRA_CA_CERTS: lab.caPath,
          TERM: 'xterm',
        },
      },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, screen: stdout }),
    );
  });
}

/** ~2 s of body: 40 bytes, one every 50 ms. */
const slow = (extra = '') => `${lab.https.url}/slow-drip?bytes=40&ms=50${extra}`;

describe('detour fetch progress line under a pseudo-terminal', () => {
  it('-o FILE on a terminal: percent, bytes of total, rate, ETA, redrawn in place, erased before the report', async () => {
    const target = join(dir, 'known.png');
    const { code, screen } = await inTerminal([
      'fetch',
      slow(),
      '-o',
      target,
      '--allow-private',
      '--no-proxy',
    ]);
    expect(code).toBe(0);
    expect(readFileSync(target).length).toBe(40);
    const frames = screen.split('\r\x1b[2K').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const progress = frames.filter((f) => /%/.test(f));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const frame of progress)
      expect(frame).toMatch(/^ *\d{1,3}% {2}\d+ B \/ 40 B {2}\d+ B\/s {2}ETA (\d+s|\?)$/);
    // erased, then the usual report
    expect(frames.at(-1)).toMatch(/^direct: 40 bytes/);
  });

  it('unknown length: a spinner with bytes and rate', async () => {
    const { code, screen } = await inTerminal([
      'fetch',
      slow('&chunked'),
      '-o',
      join(dir, 'chunked.png'),
      '--allow-private',
      '--no-proxy',
    ]);
    expect(code).toBe(0);
    expect(screen).toMatch(/\r\x1b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \d+ B {2}\d+ B\/s/);
  });

  it('a fast download shows nothing; --json and --no-progress show nothing', async () => {
    const fast = await inTerminal([
      'fetch',
      `${lab.https.url}/image.png`,
      '-o',
      join(dir, 'fast.png'),
      '--allow-private',
      '--no-proxy',
    ]);
    expect(fast.code).toBe(0);
    expect(fast.screen).not.toContain('\x1b[2K');
    for (const flag of ['--json', '--no-progress']) {
      const run = await inTerminal([
        'fetch',
        slow(),
        '-o',
        join(dir, 'quiet.png'),
        '--allow-private',
        '--no-proxy',
        flag,
      ]);
      expect(run.code).toBe(0);
      expect(run.screen).not.toContain('\x1b[2K');
    }
  });

  it('--progress shows it without -o too', async () => {
    const { code, screen } = await inTerminal([
      'fetch',
      slow(),
      '--allow-private',
      '--no-proxy',
      '--progress',
    ]);
    expect(code).toBe(0);
    expect(screen).toMatch(/\r\x1b\[2K *\d+% /);
  });
});

it('stderr not a terminal: no progress line, even with --progress', async () => {
  const result = await detour(
    ['fetch', slow(), '-o', join(dir, 'pipe.png'), '--allow-private', '--no-proxy', '--progress'],
    {
      NODE_EXTRA_CA_CERTS: lab.caPath,
    },
  );
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('');
});
