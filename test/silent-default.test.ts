/**
 * Silent by default (issue 23 item 10): `createDetour()` and `createPipeline()` print nothing unless
 * given `logLevel` or `logger`. A real child process fetches from a real server that fails every
 * strategy (attempt failures are logged at `warn`), and its stderr is read.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/quiet-child.ts', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
let server: Server;
let url: string;

beforeAll(async () => {
  // Every request answered 503: each strategy fails with http-status (retries off by the count below).
  server = createServer((_req, res) => res.writeHead(503).end('down'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/image.png`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function run(which: 'detour' | 'pipeline', level?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, which, url, ...(level ? [level] : [])],
      { cwd: root, timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}

describe('silent by default', () => {
  for (const which of ['detour', 'pipeline'] as const) {
    it(`${which === 'detour' ? 'createDetour()' : 'createPipeline()'} prints nothing; with logLevel it logs`, async () => {
      const quiet = await run(which);
      expect(quiet.stdout).toBe('failed http-status');
      expect(quiet.stderr).toBe('');
      const loud = await run(which, 'warn');
      expect(loud.stdout).toBe('failed http-status');
      // The same failure, now logged: pino JSON lines naming the failed attempt.
      expect(loud.stderr).toMatch(/"msg":"attempt failed"/);
    }, 60_000);
  }
});
