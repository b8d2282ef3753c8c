/** Parent side of children/lab-server.ts: start lab servers in a separate (tsx) process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NotAvailable } from './types.js';

export type LabServerSpec =
  | { kind: 'https' }
  | { kind: 'legacy'; profile: 'sha1-signatures' | 'tls1.0' | 'tls1.0-rsa' | 'legacy-cipher' }
  /** An accelerator (CONNECT proxy) that breaks the TLS of the origin named `breaks`. */
  | { kind: 'accelerator'; mode: 'alert' | 'reset'; breaks: string }
  /** A stuck proxy: accepts TCP, never answers (lab `startBlackHoleProxy`). */
  | { kind: 'black-hole' };

export interface LabServerInfo {
  /** `https://localhost:PORT` (or the proxy's `http://127.0.0.1:PORT`). */
  url: string;
  /** `https://127.0.0.1:PORT`. */
  ipUrl: string;
  port: number;
}

export interface LabProcess {
  servers: Record<string, LabServerInfo>;
  /** PEM of the lab root CA. */
  caPem: string;
  caPath: string;
  pid: number;
  close(): Promise<void>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_TSCONFIG = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

/** Spawn a TypeScript file of the repo with tsx (source packages through bench/tsconfig.json). */
export function spawnTsx(
  file: string,
  options: { args?: string[]; execArgv?: string[]; env?: Record<string, string> } = {},
): ChildProcess {
  return spawn(
    process.execPath,
    [...(options.execArgv ?? []), '--import', 'tsx', file, ...(options.args ?? [])],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env, TSX_TSCONFIG_PATH: BENCH_TSCONFIG },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
}

/** Stop a child: ask, then SIGKILL it after `graceMs`. Resolves when it has exited. */
export async function stopChild(child: ChildProcess, ask: () => void, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  try {
    ask();
  } catch {
    // IPC already gone: fall through to the kill.
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startLabProcess(
  spec: Record<string, LabServerSpec>,
  timeoutMs = 60_000,
): Promise<LabProcess> {
  const child = spawnTsx(fileURLToPath(new URL('../children/lab-server.ts', import.meta.url)));
  const close = () => stopChild(child, () => child.send({ close: true }));
  try {
    const reply = await new Promise<{ ready?: Omit<LabProcess, 'pid' | 'close'>; unavailable?: string }>(
      (resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`lab process not ready in ${timeoutMs} ms`)),
          timeoutMs,
        );
        child.on('message', (message: { hello?: boolean; ready?: never; unavailable?: string }) => {
          if (message.hello) return void child.send({ spec });
          clearTimeout(timer);
          resolve(message);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`lab process exited early (code ${code})`));
        });
      },
    );
    if (!reply.ready) throw new NotAvailable(`lab: ${reply.unavailable ?? 'no answer'}`);
    return { ...reply.ready, pid: child.pid ?? -1, close };
  } catch (error) {
    await close();
    throw error;
  }
}
