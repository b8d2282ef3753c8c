/**
 * `detour fetch URL… -O DIR` / `-i FILE`: many downloads through one pipeline, `--concurrency` at
 * a time, one line per file as each ends, then a summary (ok / degraded / failed, strategy counts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DetourError, type FetchOptions, type FetchResultInfo, type Pipeline } from '@detour/core';
import { createDetour } from 'detour';
import { adviceFor, mostTelling } from '../advice.js';
import type { Flags } from '../args.js';
import { detourOptions, type PipelineFlags, warnProxyEnv } from '../build-pipeline.js';
import { type CliIo, checkUrl, EXIT_FAILED, EXIT_OK, parseNumber, UsageError, write } from '../io.js';
import { formatBytes } from '../progress.js';
import { masked, maskedAttempts, type SecretPolicy } from '../secrets.js';
import { table } from '../table.js';

type FileResult =
  | (FetchResultInfo & { file: string })
  | {
      ok: false;
      url: string;
      file: string;
      strategy: null;
      degraded: false;
      attempts: DetourError['attempts'];
      error: { failureClass: string; code: string; message: string; hint?: string };
    };

/** The URLs of `-i FILE` (`-` for stdin): one per line; blank lines and `#` comments skipped. */
export function readUrlList(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`-i ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/**
 * A file name per URL: the last path segment, made safe; a name without an extension taken from
 * a URL with a query (`/download?fileid=…`) gets a short hash of the URL; repeats get `-2`, `-3`.
 */
export function fileNames(urls: readonly string[]): string[] {
  const used = new Set<string>();
  return urls.map((raw) => {
    const url = new URL(raw);
    let segment = url.pathname.split('/').filter(Boolean).at(-1) ?? '';
    try {
      segment = decodeURIComponent(segment);
    } catch {}
    let name =
      segment.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '') || url.hostname.replace(/[^\w.-]+/g, '_');
    if (!name.includes('.') && url.search) {
      name = `${name}-${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
    }
    name = name.slice(0, 200);
    let unique = name;
    for (let n = 2; used.has(unique); n++) {
      const dot = name.lastIndexOf('.');
      unique = dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
    }
    used.add(unique);
    return unique;
  });
}

export async function runMany(
  flags: Flags,
  positionals: string[],
  fetchOptions: FetchOptions,
  pipelineFlags: PipelineFlags,
  io: CliIo,
  secrets: SecretPolicy,
): Promise<number> {
  if (flags.has('output')) throw new UsageError('-o names one file: with -i FILE use -O DIR');
  const dir = flags.string('output-dir');
  if (!dir) throw new UsageError('several URLs need -O DIR (the directory to write them to)');
  const input = flags.string('input-file');
  const urls = [...positionals, ...(input !== undefined ? readUrlList(input) : [])];
  if (urls.length === 0) throw new UsageError('fetch needs a URL (arguments, or lines of -i FILE)');
  for (const url of urls) checkUrl(url);
  const concurrency = parseNumber('--concurrency', flags.string('concurrency')) ?? 4;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`-O ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  warnProxyEnv(pipelineFlags, io);
  const names = fileNames(urls);
  const hosts = [...new Set(urls.map((u) => new URL(u).hostname.replace(/^\[|\]$/g, '')))];
  let pipeline: Pipeline;
  try {
    pipeline = await createDetour({ ...detourOptions(pipelineFlags, io.env), fakeIpNames: hosts });
  } catch (error) {
    if (error instanceof DetourError) throw new UsageError(error.message.split('\n')[0]!);
    throw error;
  }
  const json = flags.bool('json');
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: FileResult[] = new Array(urls.length);
  let done = 0;
  let next = 0;
  const width = String(urls.length).length;
  const one = async (i: number): Promise<void> => {
    const url = urls[i]!;
    const file = join(dir, names[i]!);
    try {
      const info = await pipeline.toFile(url, file, { ...fetchOptions, signal: abort.signal });
      results[i] = { ...masked(info, secrets), file };
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      if (error.code === 'DETOUR_UNKNOWN_STRATEGY' || error.code?.startsWith('DETOUR_BAD_')) {
        throw new UsageError(error.message);
      }
      const telling = mostTelling(error, error.attempts);
      const hint = adviceFor(telling, new URL(url).hostname);
      results[i] = {
        ok: false,
        url: secrets.url(url),
        file,
        strategy: null,
        degraded: false,
        attempts: maskedAttempts(error.attempts, secrets),
        error: {
          failureClass: telling.failureClass,
          code: telling.code,
          message: secrets.text(telling.message),
          ...(hint ? { hint } : {}),
        },
      };
    }
    done++;
    if (!json) write(io.stdout, `[${String(done).padStart(width)}/${urls.length}] ${fileLine(results[i]!)}`);
  };
  try {
    const workers = Array.from({ length: Math.min(concurrency, urls.length) }, async () => {
      while (next < urls.length) await one(next++);
    });
    await Promise.all(workers);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pipeline.close();
  }
  const summary = summarize(results);
  if (json) {
    write(io.stdout, JSON.stringify({ ok: summary.failed === 0, dir, files: results, summary }));
  } else {
    write(io.stdout, `\n${summaryTables(summary)}`);
  }
  return summary.failed ? EXIT_FAILED : EXIT_OK;
}

const status = (r: FileResult) => (!r.ok ? 'failed' : r.degraded ? 'degraded' : 'ok');

function fileLine(r: FileResult): string {
  if (!r.ok) {
    const { failureClass, code, message, hint } = r.error;
    return `failed    ${r.file}  ${failureClass}: ${message} (${code})${hint ? ` — ${hint}` : ''}`;
  }
  const marks = [r.fromCache && 'from cache', r.insecure && 'INSECURE', r.downgraded && 'DOWNGRADED'].filter(
    Boolean,
  );
  return `${status(r).padEnd(8)}  ${r.file}  ${r.strategy}, ${formatBytes(r.bytes)}${marks.length ? ` [${marks.join(', ')}]` : ''}`;
}

export interface ManySummary {
  files: number;
  ok: number;
  degraded: number;
  failed: number;
  /** Winning strategy → files it delivered. */
  strategies: Record<string, number>;
}

export function summarize(results: readonly FileResult[]): ManySummary {
  const summary: ManySummary = { files: results.length, ok: 0, degraded: 0, failed: 0, strategies: {} };
  for (const r of results) {
    summary[status(r)]++;
    if (r.ok) summary.strategies[r.strategy] = (summary.strategies[r.strategy] ?? 0) + 1;
  }
  return summary;
}

function summaryTables(s: ManySummary): string {
  const counts = table(
    ['files', 'ok', 'degraded', 'failed'],
    [[String(s.files), String(s.ok), String(s.degraded), String(s.failed)]],
  );
  const strategies = Object.entries(s.strategies).sort((a, b) => b[1] - a[1]);
  return strategies.length
    ? `${counts}\n\n${table(
        ['strategy', 'files'],
        strategies.map(([name, n]) => [name, String(n)]),
      )}`
    : counts;
}
