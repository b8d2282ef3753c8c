/** Run the real `detour` binary the way a user does, for end-to-end tests. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HostsNamespace, labCerts } from '@detour/lab';

export const DETOUR_BIN = fileURLToPath(new URL('../node_modules/.bin/detour', import.meta.url));

export interface CliRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

const stateHomes: string[] = [];
process.once('exit', () => {
  for (const dir of stateHomes) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh, empty `XDG_STATE_HOME` (removed when the test process exits): each CLI run a test makes
 * learns for itself, as if on a new machine, unless the test hands the same state directory to
 * several runs on purpose. Nothing is written to the user's own state directory.
 */
export function freshStateHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'detour-state-home-'));
  stateHomes.push(dir);
  return dir;
}

/**
 * `env` replaces the environment but for PATH and HOME (no proxy variables leak in from the host),
 * with a fresh state directory (`freshStateHome`) unless `env` names one.
 */
export function detour(args: string[], env: Record<string, string> = {}, timeout = 60_000): Promise<CliRun> {
  return run(DETOUR_BIN, args, env, timeout);
}

/**
 * `detour` run inside a hosts namespace (`hostsNamespace` from the lab: a private /etc/hosts that
 * maps a service's real names, e.g. Tencent's or Telegram's, to 127.0.0.1, and no other resolver),
 * trusting the lab CA (`NODE_EXTRA_CA_CERTS`); otherwise as `detour`: the environment is `env` but
 * for PATH and HOME, with a fresh state directory unless `env` names one.
 */
export function detourIn(
  ns: Pick<HostsNamespace, 'wrap'>,
  args: string[],
  env: Record<string, string> = {},
  timeout = 60_000,
): Promise<CliRun> {
  const { command, args: wrapped } = ns.wrap(DETOUR_BIN, args);
  return run(command, wrapped, { NODE_EXTRA_CA_CERTS: labCerts().ca.certPath, ...env }, timeout);
}

function run(command: string, args: string[], env: Record<string, string>, timeout: number): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        encoding: 'buffer',
        timeout,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/root',
          XDG_STATE_HOME: freshStateHome(),
          ...env,
        },
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
    plan: string[];
    attempts: Array<Record<string, unknown>>;
  };
