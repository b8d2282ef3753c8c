/**
 * Run a real server binary (tinyproxy, microsocks, nginx) as a child on a free loopback port:
 * pick a port, start, wait until the port accepts TCP (bounded), retry when the port was taken,
 * kill on `close()` and on process exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { LOOPBACK } from './listen.js';

export interface RunningChild {
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the child has exited. Idempotent. */
  close(): Promise<void>;
}

export interface ChildSpec {
  /** Binary name, looked up on PATH plus /usr/sbin and /sbin. */
  readonly bin: string;
  /** Debian package that provides it, for the error message. */
  readonly pkg: string;
  /** Arguments for a given port (write config files here if needed). */
  readonly args: (port: number) => string[];
  /** Extra diagnostics when the start fails (e.g. read a log file). */
  readonly diagnose?: () => string;
  readonly startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Absolute path of `bin`, or a clear error naming the Debian package to install. */
export function findBinary(bin: string, pkg: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, bin);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  throw new Error(`lab: \`${bin}\` not found; install the Debian package ${pkg} (see .ci/system-deps.sh)`);
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function attempt(path: string, spec: ChildSpec, port: number): Promise<RunningChild | string> {
  const child = spawn(path, spec.args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  let exited = false;
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
    exited = true;
  });
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  const deadline = Date.now() + (spec.startTimeoutMs ?? 5000);
  while (Date.now() < deadline && !exited) {
    if (await accepts(port)) {
      await sleep(30); // a child that lost the port to someone else exits right away
      if (exited) break;
      let closing: Promise<void> | undefined;
      return { port, child, close: () => (closing ??= stop(child)) };
    }
    await sleep(20);
  }
  await stop(child);
  const why = spawnError
    ? spawnError.message
    : exited
      ? `exited (${child.exitCode ?? child.signalCode})`
      : 'timed out';
  return `${spec.bin} on port ${port}: ${why}\n${stderr}${spec.diagnose?.() ?? ''}`;
}

/** Start `spec.bin` on a free loopback port; up to 5 tries when the port turns out to be taken. */
export async function startChild(spec: ChildSpec): Promise<RunningChild> {
  const path = findBinary(spec.bin, spec.pkg);
  installExitHook();
  const failures: string[] = [];
  for (let i = 0; i < 5; i++) {
    const port = await freePort();
    if (await accepts(port)) continue; // somebody grabbed it already
    const result = await attempt(path, spec, port);
    if (typeof result !== 'string') return result;
    failures.push(result);
    if (!/in use|EADDRINUSE|bind|listen/i.test(result)) break;
  }
  throw new Error(`lab: could not start ${spec.bin}:\n${failures.join('\n---\n')}`);
}
