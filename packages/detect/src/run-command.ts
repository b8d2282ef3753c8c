import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface CommandResult {
  ok: boolean;
  stdout: string;
  /** Why it failed: not found, timed out, exit code. */
  error?: string;
}

/** Runs a command (no shell) and never throws: bounded in time, output capped. Injectable in every probe. */
export type RunCommand = (
  command: string,
  args: readonly string[],
  options?: { timeoutMs?: number; env?: Record<string, string | undefined> },
) => Promise<CommandResult>;

export const runCommand: RunCommand = (command, args, options = {}) =>
  new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        timeout: options.timeoutMs ?? 2_000,
        maxBuffer: 1024 * 1024,
        windowsHide: true,
        ...(options.env ? { env: options.env as NodeJS.ProcessEnv } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ ok: true, stdout: String(stdout) });
        const e = error as NodeJS.ErrnoException & { killed?: boolean };
        const why =
          e.code === 'ENOENT'
            ? `${command} not found`
            : e.killed
              ? `${command} timed out`
              : `${command} failed: ${
                  String(stderr || e.message)
                    .trim()
                    .split('\n')[0]
                }`;
        resolve({ ok: false, stdout: String(stdout ?? ''), error: why });
      },
    );
  });

/** Reads a text file or returns undefined; injectable. */
export type ReadText = (path: string) => Promise<string | undefined>;

export const readTextFile: ReadText = (path) => readFile(path, 'utf8').catch(() => undefined);
