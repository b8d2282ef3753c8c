/**
 * `pnpm bench`: the whole suite. Environment:
 * - `BENCH_QUICK=1`   smoke run with tiny counts (numbers not worth reading)
 * - `BENCH_ONLY=1,4`  run only these figures
 * - `BENCH_RUNS=N`    repetitions of the comparing measurements (default 5)
 */
import { runSuite } from './suite.js';

const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => Number.parseInt(s.trim(), 10))
  .filter((n) => Number.isFinite(n));

const { report } = await runSuite(only?.length ? { only } : {});
const failed = report.figures.filter((f) => f.status === 'error');
process.exitCode = failed.length ? 1 : 0;
