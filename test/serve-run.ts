/** Start the real `detour serve` (the built CLI) on port 0 and read its `listening on` line. */
import { type ChildProcess, spawn } from 'node:child_process';
import { DETOUR_BIN } from './cli-run.js';

export interface RunningServe {
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startServe(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
  command: string[] = [DETOUR_BIN, 'serve', '--port', '0'],
): Promise<RunningServe> {
  const child = spawn(command[0]!, [...command.slice(1), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`detour serve did not listen within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1]!,
          child,
          stderr: () => stderr,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`detour serve exited with ${code} before listening: ${stderr}`));
    });
  });
}
