/** Run the real `detour` binary the way a user does, for end-to-end tests. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DETOUR_BIN = fileURLToPath(new URL('../node_modules/.bin/detour', import.meta.url));

export interface CliRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** `env` replaces the environment but for PATH and HOME (no proxy variables leak in from the host). */
export function detour(args: string[], env: Record<string, string> = {}, timeout = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      DETOUR_BIN,
      args,
      {
        encoding: 'buffer',
        timeout,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}

export const json = (run: CliRun) =>
  JSON.parse(run.stdout.toString()) as Record<string, unknown> & {
    attempts: Array<Record<string, unknown>>;
  };
