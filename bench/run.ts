/**
 * `pnpm bench`: the whole suite. Environment:
 * - `BENCH_QUICK=1`   smoke run with tiny counts (numbers not worth reading)
 * - `BENCH_ONLY=1,4`  run only these figures
 * - `BENCH_RUNS=N`    repetitions of the comparing measurements (default 5)
 *
 * The suite runs in a child of this process started with NODE_EXTRA_CA_CERTS = the lab CA, so that
 * pipelines can trust the lab the way they trust a public CDN (the default store, no `ca` option).
 */
import { spawn } from 'node:child_process';
import { BENCH_TSCONFIG } from './lib/lab-process.js';

const MARK = 'DETOUR_BENCH_SUITE';

async function relaunch(): Promise<number> {
  const { labCerts } = await import('../packages/lab/src/index.js');
  const caPath = labCerts().ca.certPath;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1', NODE_EXTRA_CA_CERTS: caPath, TSX_TSCONFIG_PATH: BENCH_TSCONFIG },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function suite(): Promise<number> {
  const { runSuite } = await import('./suite.js');
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => Number.parseInt(s.trim(), 10))
    .filter((n) => Number.isFinite(n));
  const { report } = await runSuite(only?.length ? { only } : {});
  return report.figures.some((f) => f.status === 'error') ? 1 : 0;
}

process.exitCode = process.env[MARK] ? await suite() : await relaunch();
