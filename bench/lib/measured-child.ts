/**
 * Children whose memory is the measurement (figures 4 and 5). They run as ONE bundled file made
 * with esbuild from the source packages, under plain `node`: no tsx loader thread in the measured
 * process (it alone adds ~30 MiB), no stale `dist/`.
 *
 * Protocol (IPC): the parent sends the input; the child answers `{ result }` or `{ error }` and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCH_TSCONFIG, REPO_ROOT, spawnTsx, stopChild } from './lab-process.js';
import { currentRss, RssSampler } from './proc.js';
import { NotAvailable } from './types.js';

const BUILD_DIR = fileURLToPath(new URL('../../.bench-results/.build/', import.meta.url));
const built = new Map<string, Promise<string>>();

/** Bundle `bench/children/<name>.ts` once per process; resolves to the .mjs path. */
export function bundleChild(name: string): Promise<string> {
  let out = built.get(name);
  if (!out) {
    out = (async () => {
      let esbuild: typeof import('esbuild');
      try {
        esbuild = await import('esbuild');
      } catch (error) {
        throw new NotAvailable(`esbuild does not load: ${(error as Error).message}`);
      }
      mkdirSync(BUILD_DIR, { recursive: true });
      const outfile = `${BUILD_DIR}${name}.mjs`;
      await esbuild.build({
        entryPoints: [fileURLToPath(new URL(`../children/${name}.ts`, import.meta.url))],
        absWorkingDir: REPO_ROOT,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile,
        tsconfig: BENCH_TSCONFIG,
        logLevel: 'error',
        // A child that imports this module (figure 1's) never bundles children itself.
        external: ['esbuild'],
        // CommonJS dependencies (pino, tsyringe, ...) call require() on Node built-ins; some
        // (silk-wasm) read __filename/__dirname when loaded, which ES modules do not define.
        banner: {
          js: [
            "import { createRequire as __benchRequire } from 'node:module';",
            "import { fileURLToPath as __benchPath } from 'node:url';",
            'const require = __benchRequire(import.meta.url);',
            'const __filename = __benchPath(import.meta.url);',
            "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
          ].join(' '),
        },
      });
      return outfile;
    })();
    built.set(name, out);
  }
  return out;
}

export interface ChildRun<T> {
  result: T;
  /** Highest VmRSS the parent saw while sampling the child every 20 ms. */
  sampledPeakRss: number;
  wallMs: number;
}

export interface ChildOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  env?: Record<string, string>;
}

/** Run one bundled child (plain node, `--expose-gc`) with `input`; it must answer within `timeoutMs`. */
export async function runMeasuredChild<T>(
  name: string,
  input: unknown,
  options: ChildOptions,
): Promise<ChildRun<T>> {
  const file = await bundleChild(name);
  const child = spawn(process.execPath, ['--expose-gc', file], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return converse<T>(name, child, input, options);
}

/** Run `bench/children/<name>.ts` under tsx (`--expose-gc`) with `input`: for work that needs a process of its own, not a lean one. */
export function runTsxChild<T>(name: string, input: unknown, options: ChildOptions): Promise<ChildRun<T>> {
  const child = spawnTsx(fileURLToPath(new URL(`../children/${name}.ts`, import.meta.url)), {
    execArgv: ['--expose-gc'],
    ...(options.env ? { env: options.env } : {}),
  });
  return converse<T>(name, child, input, options);
}

async function converse<T>(
  name: string,
  child: ChildProcess,
  input: unknown,
  options: ChildOptions,
): Promise<ChildRun<T>> {
  const started = performance.now();
  const pid = child.pid ?? -1;
  const sampler = new RssSampler(() => currentRss(pid), 20).start();
  try {
    const result = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not answer in ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      const onAbort = () => reject(new Error(`${name} stopped: figure budget exceeded`));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('message', (message: { result?: T; error?: string }) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (message.error !== undefined) reject(new Error(`${name}: ${message.error}`));
        else resolve(message.result as T);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${code}, signal ${signal}) without an answer`));
      });
      child.send(input as never);
    });
    return { result, sampledPeakRss: sampler.stop(), wallMs: performance.now() - started };
  } finally {
    sampler.stop();
    await stopChild(child, () => child.disconnect());
  }
}
