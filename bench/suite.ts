/**
 * Runs the figures one after the other, each with its own time budget and cleanup, so that a
 * missing piece or a failure turns one figure into `n/a`/`error` and never stops the suite.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { FIGURES } from './figures/index.js';
import { curlVersion } from './lib/clients.js';
import { type BenchConfig, benchConfig } from './lib/config.js';
import { REPO_ROOT } from './lib/lab-process.js';
import { formatFigure, summaryTable } from './lib/table.js';
import { type FigureContext, type FigureResult, NotAvailable } from './lib/types.js';

export interface SuiteOptions {
  config?: BenchConfig;
  /** Figure ids to run (default all). */
  only?: readonly number[];
  /** Where to write `<timestamp>.json` and `latest.json`; `false`: nowhere. Default `.bench-results/`. */
  outDir?: string | false;
  /** Print the tables to stdout (default true). */
  print?: boolean;
  log?: (message: string) => void;
}

export interface SuiteReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  quick: boolean;
  environment: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    curl: string | null;
    git: { commit: string; dirty: boolean } | null;
  };
  config: BenchConfig;
  figures: FigureResult[];
}

function git(): SuiteReport['environment']['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return null;
  }
}

async function runFigure(
  entry: (typeof FIGURES)[number],
  config: BenchConfig,
  log: (message: string) => void,
): Promise<FigureResult> {
  const started = performance.now();
  const base = { id: entry.id, key: entry.key, title: entry.title };
  const cleanups: Array<() => unknown> = [];
  const controller = new AbortController();
  const ctx: FigureContext = {
    config,
    log: (message) => log(`[figure ${entry.id}] ${message}`),
    defer: (cleanup) => void cleanups.push(cleanup),
    signal: controller.signal,
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const figure = await entry.load();
    const output = await Promise.race([
      figure.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`over its budget of ${config.figureTimeoutMs / 1000} s`));
        }, config.figureTimeoutMs);
      }),
    ]);
    return { ...base, status: 'ok', durationMs: performance.now() - started, ...output };
  } catch (error) {
    const unavailable = error instanceof NotAvailable;
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    if (!unavailable) log(`[figure ${entry.id}] error: ${error instanceof Error ? error.stack : reason}`);
    return {
      ...base,
      status: unavailable ? 'n/a' : 'error',
      reason,
      durationMs: performance.now() - started,
      tables: [],
      targets: [],
      notes: [],
    };
  } finally {
    clearTimeout(timer);
    controller.abort();
    for (const cleanup of cleanups.reverse()) {
      let guard: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          cleanup(),
          new Promise((resolve) => {
            guard = setTimeout(resolve, 10_000);
          }),
        ]);
      } catch (error) {
        log(`[figure ${entry.id}] cleanup failed: ${(error as Error).message}`);
      } finally {
        clearTimeout(guard);
      }
    }
  }
}

export async function runSuite(
  options: SuiteOptions = {},
): Promise<{ report: SuiteReport; files: string[] }> {
  const config = options.config ?? benchConfig();
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const print = options.print ?? true;
  const startedAt = new Date();
  const cpu = cpus();
  const environment: SuiteReport['environment'] = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    curl: (await curlVersion()) ?? null,
    git: git(),
  };
  if (print) {
    process.stdout.write(
      `## Detour benchmarks${config.quick ? ' (QUICK: smoke numbers, not worth reading)' : ''}\n\n` +
        `${startedAt.toISOString()} · Node ${environment.node} · ${environment.platform}/${environment.arch} · ` +
        `${environment.cpus} × ${environment.cpuModel}${environment.git ? ` · ${environment.git.commit.slice(0, 10)}${environment.git.dirty ? '+dirty' : ''}` : ''}\n\n`,
    );
  }
  const figures: FigureResult[] = [];
  for (const entry of FIGURES) {
    if (options.only && !options.only.includes(entry.id)) continue;
    log(`[figure ${entry.id}] ${entry.title}`);
    const result = await runFigure(entry, config, log);
    figures.push(result);
    if (print) process.stdout.write(`${formatFigure(result)}\n`);
  }
  const finishedAt = new Date();
  const report: SuiteReport = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    quick: config.quick,
    environment,
    config,
    figures,
  };
  if (print) {
    process.stdout.write(
      `### Summary\n\n${summaryTable(figures)}\n\nTotal: ${(report.durationMs / 1000).toFixed(0)} s\n`,
    );
  }
  const files: string[] = [];
  const outDir = options.outDir ?? join(REPO_ROOT, '.bench-results');
  if (outDir !== false) {
    mkdirSync(outDir, { recursive: true });
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const stamped = join(outDir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(stamped, json);
    writeFileSync(join(outDir, 'latest.json'), json);
    files.push(stamped, join(outDir, 'latest.json'));
    if (print) process.stdout.write(`\nJSON: ${files.join(', ')}\n`);
  }
  return { report, files };
}
