#!/usr/bin/env node
// `pnpm mutate [name…]`: StrykerJS mutation testing of the guards (docs/testing.md). Each guard
// file is mutated alone and judged by its own package's tests only, static mutants excluded; at
// the end a table of scores (killed / (killed + survived + no coverage + timeout... see `score`)),
// and exit 1 when a file is below the bar. Reports: reports/mutation/<name>.json and .html.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stryker } from '@stryker-mutator/core';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

/** The bar every guard file must reach (issue 29). */
const THRESHOLD = 90;

/**
 * `file:first-last`, the lines from the declaration of function `from` to the closing brace of
 * function `to` (found in the source, so the range follows edits to the file).
 */
function functionLines(file, from, to) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`export function ${from}(`));
  const toStart = lines.findIndex((l) => l.startsWith(`export function ${to}(`));
  const end = lines.findIndex((l, i) => i > toStart && l === '}');
  if (start < 0 || toStart < 0 || end < 0) throw new Error(`${file}: cannot find ${from} … ${to}`);
  return `${file}:${start + 1}-${end + 1}`;
}

/** Each guard: the file Stryker mutates and the tests that must kill its mutants. */
export const TARGETS = [
  {
    name: 'ssrf',
    mutate: 'packages/core/src/ssrf.ts',
    tests: [
      'packages/core/test/ssrf.test.ts',
      'packages/core/test/ssrf.mutation.test.ts',
      'packages/core/test/ssrf.property.test.ts',
    ],
  },
  {
    name: 'redact',
    mutate: 'packages/core/src/redact.ts',
    tests: [
      'packages/core/test/redact.test.ts',
      'packages/core/test/redact.mutation.test.ts',
      'packages/core/test/redact.property.test.ts',
      'packages/core/test/preset-hooks.test.ts',
      'packages/core/test/redact-secrets.mutation.test.ts',
    ],
  },
  {
    name: 'classify',
    mutate: 'packages/core/src/classify.ts',
    tests: [
      'packages/core/test/classify.test.ts',
      'packages/core/test/classify.mutation.test.ts',
      'packages/core/test/classify.property.test.ts',
      'packages/core/test/classifier-hooks.test.ts',
    ],
  },
  {
    name: 'headers',
    mutate: 'packages/core/src/headers.ts',
    tests: [
      'packages/core/test/headers.test.ts',
      'packages/core/test/headers.mutation.test.ts',
      'packages/core/test/redact.property.test.ts',
    ],
  },
  {
    name: 'no-proxy',
    // The NO_PROXY parser and matcher only: from `parseNoProxy` to the end of `matchesNoProxy`.
    mutate: functionLines('packages/detect/src/proxy-env.ts', 'parseNoProxy', 'matchesNoProxy'),
    tests: [
      'packages/detect/test/proxy-env.test.ts',
      'packages/detect/test/no-proxy.mutation.test.ts',
      'packages/detect/test/no-proxy.property.test.ts',
    ],
  },
  {
    name: 'fileid',
    mutate: 'packages/qq/src/fileid.ts',
    tests: ['packages/qq/test/qq-unit.test.ts', 'packages/qq/test/fileid.mutation.test.ts'],
  },
  {
    name: 'cache-key',
    mutate: 'packages/core/src/cache/key.ts',
    tests: [
      'packages/core/test/cache-key.property.test.ts',
      'packages/core/test/cache-key.mutation.test.ts',
      'packages/core/test/cache-memory.test.ts',
    ],
  },
];

const REPORTS = join(root, 'reports/mutation');

/** Stryker's options for one target. */
function options(target) {
  return {
    packageManager: 'pnpm',
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: process.env.MUTATE_VITEST_CONFIG ?? 'vitest.mutate.config.ts', related: false },
    mutate: [target.mutate],
    testFiles: target.tests,
    coverageAnalysis: 'perTest',
    ignoreStatic: true,
    // The machine running this is often shared: two workers at most (STRYKER_CONCURRENCY to change).
    concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
    timeoutMS: 20_000,
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
    reporters: ['json', 'html', 'progress'],
    jsonReporter: { fileName: join(REPORTS, `${target.report ?? target.name}.json`) },
    htmlReporter: { fileName: join(REPORTS, `${target.report ?? target.name}.html`) },
    ignorePatterns: ['reports', 'clients', 'bench', '.bench-results', '.lab-tmp', 'dist', '*.tsbuildinfo'],
    thresholds: { high: THRESHOLD, low: THRESHOLD, break: null },
  };
}

/**
 * Counts of one file's mutants from Stryker's JSON report. The score is Stryker's "covered"
 * score's stricter sibling: killed (and timed out) over every valid mutant, disabled (`Ignored`)
 * and static-excluded ones aside.
 */
export function score(report) {
  const counts = {
    Killed: 0,
    Timeout: 0,
    Survived: 0,
    NoCoverage: 0,
    Static: 0,
    Ignored: 0,
    CompileError: 0,
    RuntimeError: 0,
  };
  const survivors = [];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      const status = m.status === 'Ignored' && /static/i.test(m.statusReason ?? '') ? 'Static' : m.status;
      counts[status] = (counts[status] ?? 0) + 1;
      if (m.status === 'Survived' || m.status === 'NoCoverage') {
        survivors.push(
          `${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${m.status}: ${m.replacement ?? ''}`,
        );
      }
    }
  }
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  return { ...counts, detected, valid, score: valid === 0 ? 100 : (100 * detected) / valid, survivors };
}

/**
 * CPU seconds used so far by this process and its finished children (Stryker's workers), from
 * /proc (Linux); NaN elsewhere. On a busy machine this, not the wall time, says how long a run
 * takes on an idle one (divided by the cores it can use).
 */
function cpuSeconds() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of stat(5), 12-15 after the command name.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return ticks / 100;
  } catch {
    return Number.NaN;
  }
}

async function main() {
  const summaryOnly = process.argv.includes('--summary');
  const wanted = process.argv.slice(2).filter((a) => a !== '--summary');
  // `name:10-40` mutates only those lines of the target's file (to check a fix quickly).
  const targets = wanted.length
    ? wanted.flatMap((w) => {
        const [name, lines] = w.split(':');
        return TARGETS.filter((t) => t.name === name).map((t) =>
          lines ? { ...t, mutate: `${t.mutate.split(':')[0]}:${lines}`, report: `${t.name}.lines` } : t,
        );
      })
    : TARGETS;
  if (wanted.length && targets.length !== wanted.length) {
    console.error(`unknown target; known: ${TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
  mkdirSync(REPORTS, { recursive: true });
  const rows = [];
  for (const target of targets) {
    const started = Date.now();
    const cpuBefore = cpuSeconds();
    // `--summary`: only read the reports of an earlier run.
    if (!summaryOnly) await new Stryker(options(target)).runMutationTest();
    const seconds = (Date.now() - started) / 1000;
    const cpu = cpuSeconds() - cpuBefore;
    const report = JSON.parse(readFileSync(join(REPORTS, `${target.report ?? target.name}.json`), 'utf8'));
    rows.push({ target, seconds, cpu, ...score(report) });
  }
  const lines = [
    '',
    'mutation score per guard file (killed + timed out over valid mutants; disabled and static excluded)',
    '',
    '| file | score | killed | timeout | survived | no coverage | disabled | static | seconds | CPU s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| \`${r.target.mutate}\` | ${r.score.toFixed(1)} % | ${r.Killed} | ${r.Timeout} | ${r.Survived} | ${r.NoCoverage} | ${r.Ignored} | ${r.Static} | ${r.seconds.toFixed(0)} | ${r.cpu.toFixed(0)} |`,
    ),
  ];
  for (const r of rows) {
    if (r.survivors.length)
      lines.push('', `survivors in ${r.target.mutate}:`, ...r.survivors.map((s) => `  ${s}`));
  }
  const below = rows.filter((r) => r.score < THRESHOLD);
  lines.push(
    '',
    below.length
      ? `below ${THRESHOLD} %: ${below.map((r) => r.target.name).join(', ')}`
      : `every file at or above ${THRESHOLD} %`,
  );
  console.log(lines.join('\n'));
  writeFileSync(join(REPORTS, 'summary.md'), `${lines.join('\n')}\n`);
  process.exitCode = below.length ? 1 : 0;
}

await main();
