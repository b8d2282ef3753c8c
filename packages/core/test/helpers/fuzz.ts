/**
 * fast-check settings shared by the property tests (`*.property.test.ts`): a fixed seed and a
 * bounded number of runs in CI, so a failure is reproducible; `pnpm fuzz` runs them longer
 * (`FUZZ_RUNS`, default there 20000) and `FUZZ_SEED` picks another seed. A failure prints the
 * seed and path to replay it.
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261130);

/** Runs for one property: `ci` by default, `FUZZ_RUNS` (scaled by `weight`) under `pnpm fuzz`. */
export function fuzzRuns(ci: number, weight = 1): number {
  const asked = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(asked) && asked > 0 ? Math.max(1, Math.round(asked * weight)) : ci;
}

/** Test timeout that grows with the runs (ms per run), never below vitest's default. */
export function fuzzTimeout(runs: number, msPerRun: number): number {
  return Math.max(30_000, runs * msPerRun);
}

export function settings(runs: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: runs, verbose: 1 };
}

export { fc };
