/**
 * `detour fetch URL… -O DIR` / `-i FILE`: many downloads through one pipeline, `--concurrency` at
 * a time, one line per file as each ends, then a summary (ok / degraded / failed, strategy counts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import {
  DetourError,
  type FetchOptions,
  type FetchResultInfo,
  type MediaFormat,
  type Pipeline,
} from '@detour/core';
import { createDetour } from 'detour';
import { type FailureJson, failureJson } from 'detour/front-end';
import type { Flags } from '../args.js';
import { detourOptions, type PipelineFlags, warnProxyEnv } from '../build-pipeline.js';
import {
  type CliIo,
  checkUrl,
  EXIT_FAILED,
  EXIT_OK,
  parseHttpUrl,
  parseNumber,
  UsageError,
  write,
} from '../io.js';
import { formatBytes } from '../progress.js';
import { masked, type SecretPolicy } from '../secrets.js';
import { table } from '../table.js';

/** Where an entry came from: `line` of `-i FILE` (1-based), or undefined for an argument. */
interface Entry {
  url: string;
  line?: number | undefined;
}

/** Where a URL was listed: every line of `-i FILE` naming it (a URL listed twice is fetched once). */
interface Listed {
  /** The lines of `-i FILE` that name this URL, when it came from there. */
  lines?: number[];
}

type FileResult =
  | (FetchResultInfo & { file: string } & Listed)
  | (Omit<FailureJson, 'url' | 'fromCache' | 'plan'> &
      Partial<Pick<FailureJson, 'fromCache' | 'plan'>> & {
        url: string;
        file: string | null;
        /** A bad line of `-i FILE`: reported and skipped, never fetched. */
        skipped?: true;
      } & Listed);

/** The URLs of `-i FILE` (`-` for stdin) with their line numbers; blank lines and `#` comments skipped. */
export function readUrlList(path: string): Entry[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`-i ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((l, i) => ({ url: l.trim(), line: i + 1 }))
    .filter((e) => e.url && !e.url.startsWith('#'));
}

/** A safe file name from a URL: its last path segment, or its host; a short hash when a query names it. */
function baseName(raw: string): string {
  const url = new URL(raw);
  let segment = url.pathname.split('/').filter(Boolean).at(-1) ?? '';
  try {
    segment = decodeURIComponent(segment);
  } catch {}
  let name = segment.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '') || url.hostname.replace(/[^\w.-]+/g, '_');
  if (!name.includes('.') && url.search) {
    name = `${name}-${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
  }
  return name.slice(0, 200);
}

/** `name`, or `name-2`, `name-3` … before the extension: the first not in `used` (then marked used). */
function claim(name: string, used: Set<string>): string {
  let unique = name;
  for (let n = 2; used.has(unique); n++) {
    const dot = name.lastIndexOf('.');
    unique = dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
  }
  used.add(unique);
  return unique;
}

/**
 * A file name per URL: the last path segment, made safe; a name without an extension taken from
 * a URL with a query (`/download?fileid=…`) gets a short hash of the URL; repeats get `-2`, `-3`.
 */
export function fileNames(urls: readonly string[], used = new Set<string>()): string[] {
  return urls.map((raw) => claim(baseName(raw), used));
}

/** Extensions per sniffed format, the one to write first; a name with any of them is kept. */
const EXTENSIONS: Readonly<Record<MediaFormat, readonly string[]>> = {
  png: ['png'],
  jpeg: ['jpg', 'jpeg', 'jpe', 'jfif'],
  gif: ['gif'],
  webp: ['webp'],
  bmp: ['bmp', 'dib'],
  avif: ['avif'],
  heic: ['heic', 'heif'],
  ico: ['ico', 'cur'],
  silk: ['silk', 'slk'],
  amr: ['amr'],
  'amr-wb': ['awb', 'amr'],
  mp3: ['mp3'],
  ogg: ['ogg', 'oga'],
  opus: ['opus', 'ogg'],
  wav: ['wav'],
  m4a: ['m4a', 'mp4', 'aac'],
  mp4: ['mp4', 'm4v'],
  mov: ['mov', 'qt'],
};
const MEDIA_EXTENSIONS = new Set(Object.values(EXTENSIONS).flat());

/**
 * The name a file should have for the bytes it holds (a GIF served as `a.webp` is `a.gif`): a media
 * extension that lies is replaced, a name without one gets one; null when the name is right or
 * the format unknown.
 */
export function nameForFormat(name: string, format: MediaFormat | null): string | null {
  if (!format) return null;
  const accepted = EXTENSIONS[format];
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (accepted.includes(ext)) return null;
  const stem = MEDIA_EXTENSIONS.has(ext) ? name.slice(0, dot) : name;
  return `${stem}.${accepted[0]}`;
}

/** -O DIR (created), the URLs from the arguments and -i FILE, and --concurrency. */
function manyInputs(
  flags: Flags,
  positionals: string[],
): { dir: string; entries: Entry[]; concurrency: number } {
  if (flags.has('output')) throw new UsageError('-o names one file: with -i FILE use -O DIR');
  const dir = flags.string('output-dir');
  if (!dir) throw new UsageError('several URLs need -O DIR (the directory to write them to)');
  const input = flags.string('input-file');
  for (const url of positionals) checkUrl(url);
  const entries: Entry[] = [
    ...positionals.map((url) => ({ url })),
    ...(input !== undefined ? readUrlList(input) : []),
  ];
  if (entries.length === 0) throw new UsageError('fetch needs a URL (arguments, or lines of -i FILE)');
  const concurrency = parseNumber('--concurrency', flags.string('concurrency')) ?? 4;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`-O ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { dir, entries, concurrency };
}

interface FetchAllJob {
  pipeline: Pipeline;
  jobs: Job[];
  names: string[];
  results: (FileResult | undefined)[];
  dir: string;
  used: Set<string>;
  fetchOptions: FetchOptions;
  secrets: SecretPolicy;
  json: boolean;
  io: CliIo;
  concurrency: number;
}

/** Runs the jobs `concurrency` at a time, printing lines in input order; closes the pipeline. */
async function fetchAll(run: FetchAllJob): Promise<void> {
  const { pipeline, jobs, names, results, dir, used, fetchOptions, secrets, json, io, concurrency } = run;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Lines in input order: each printed once it and every result before it are known.
  const width = String(results.length).length;
  let printed = 0;
  const flush = () => {
    while (printed < results.length && results[printed] !== undefined) {
      const r = results[printed++]!;
      if (!json) write(io.stdout, `[${String(printed).padStart(width)}/${results.length}] ${fileLine(r)}`);
    }
  };
  flush();
  let next = 0;
  const one = async (job: Job, name: string): Promise<void> => {
    results[job.at] = await fetchOne(
      pipeline,
      job,
      dir,
      name,
      used,
      { ...fetchOptions, signal: abort.signal },
      secrets,
    );
    flush();
  };
  try {
    const workers = Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        await one(jobs[i]!, names[i]!);
      }
    });
    await Promise.all(workers);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pipeline.close();
  }
}

export async function runMany(
  flags: Flags,
  positionals: string[],
  fetchOptions: FetchOptions,
  pipelineFlags: PipelineFlags,
  io: CliIo,
  secrets: SecretPolicy,
): Promise<number> {
  const { dir, entries, concurrency } = manyInputs(flags, positionals);
  const { jobs, results, duplicates } = listing(entries, secrets);
  warnProxyEnv(pipelineFlags, io);
  const used = new Set<string>();
  const names = fileNames(
    jobs.map((j) => j.url),
    used,
  );
  const hosts = [...new Set(jobs.map((j) => new URL(j.url).hostname.replace(/^\[|\]$/g, '')))];
  let pipeline: Pipeline;
  try {
    pipeline = await createDetour({ ...detourOptions(pipelineFlags, io.env), fakeIpNames: hosts });
  } catch (error) {
    if (error instanceof DetourError) throw new UsageError(error.message.split('\n')[0]!);
    throw error;
  }
  const json = flags.bool('json');
  await fetchAll({ pipeline, jobs, names, results, dir, used, fetchOptions, secrets, json, io, concurrency });
  const done = results as FileResult[];
  const summary = summarize(done, duplicates);
  if (json) {
    write(
      io.stdout,
      JSON.stringify({ ok: summary.failed === 0 && summary.skipped === 0, dir, files: done, summary }),
    );
  } else {
    write(io.stdout, `\n${summaryTables(summary)}`);
  }
  return summary.failed || summary.skipped ? EXIT_FAILED : EXIT_OK;
}

/** One URL to fetch, and the row of the listing its result goes to. */
interface Job extends Listed {
  url: string;
  at: number;
}

/**
 * The listing in input order: a bad line of `-i FILE` is a skipped row now (with its line number);
 * a URL listed again joins the row of its first listing (fetched once, every line named).
 */
function listing(
  entries: readonly Entry[],
  secrets: SecretPolicy,
): { jobs: Job[]; results: Array<FileResult | undefined>; duplicates: number } {
  const results: Array<FileResult | undefined> = [];
  const jobs: Job[] = [];
  const rows = new Map<string, Job & { lines: number[] }>();
  let duplicates = 0;
  for (const entry of entries) {
    let key: string;
    try {
      key = parseHttpUrl(entry.url).toString();
    } catch (error) {
      results.push({
        ok: false,
        url: secrets.text(entry.url), // as given: it is no URL to parse
        file: null,
        strategy: null,
        degraded: false,
        attempts: [],
        skipped: true,
        ...(entry.line !== undefined ? { lines: [entry.line] } : {}),
        error: {
          failureClass: 'blocked',
          code: 'DETOUR_BAD_URL',
          message: secrets.text(`line ${entry.line}: ${(error as Error).message}`),
        },
      });
      continue;
    }
    const row = rows.get(key);
    if (row) {
      duplicates++;
      if (entry.line !== undefined) row.lines.push(entry.line);
      continue;
    }
    // The row's lines are shared with its job: a later listing of the URL adds its line.
    const job = {
      url: entry.url,
      at: results.push(undefined) - 1,
      lines: entry.line !== undefined ? [entry.line] : [],
    };
    rows.set(key, job);
    jobs.push(job);
  }
  return { jobs, results, duplicates };
}

/** Fetch one URL to DIR; the file is renamed after the format of its bytes. Never throws for a failed download. */
async function fetchOne(
  pipeline: Pipeline,
  job: Job,
  dir: string,
  name: string,
  used: Set<string>,
  options: FetchOptions,
  secrets: SecretPolicy,
): Promise<FileResult> {
  const listed = job.lines?.length ? { lines: job.lines } : {};
  let file = join(dir, name);
  try {
    const info = await pipeline.toFile(job.url, file, options);
    const better = nameForFormat(name, info.format);
    if (better) {
      const renamed = join(dir, claim(better, used));
      renameSync(file, renamed);
      file = renamed;
    }
    return { ...masked(info, secrets), file, ...listed };
  } catch (error) {
    if (!(error instanceof DetourError)) throw error;
    if (error.code === 'DETOUR_UNKNOWN_STRATEGY' || error.code?.startsWith('DETOUR_BAD_')) {
      throw new UsageError(error.message);
    }
    // The kit's failure JSON (as `fetch --json` and serve), with where the file would have gone.
    return { ...failureJson(error, job.url, secrets), url: secrets.url(job.url), file, ...listed };
  }
}

const status = (r: FileResult) =>
  !r.ok ? (r.skipped ? 'skipped' : 'failed') : r.degraded ? 'degraded' : 'ok';

/** Where the row's URL was listed, when more than one line (or any line of -i) says so. */
const linesNote = (r: FileResult) =>
  r.lines && r.lines.length > 1 ? ` (lines ${r.lines.join(', ')}: fetched once)` : '';

function fileLine(r: FileResult): string {
  if (!r.ok) {
    const { failureClass, code, message, hint } = r.error;
    if (r.skipped) return `skipped   ${message} (${code})`;
    return `failed    ${r.file}  <- ${r.url}${linesNote(r)}  ${failureClass}: ${message} (${code})${hint ? ` — ${hint}` : ''}`;
  }
  const marks = [r.fromCache && 'from cache', r.insecure && 'INSECURE', r.downgraded && 'DOWNGRADED'].filter(
    Boolean,
  );
  return `${status(r).padEnd(8)}  ${r.file}  <- ${r.url}${linesNote(r)}  ${r.strategy}, ${formatBytes(r.bytes)}${marks.length ? ` [${marks.join(', ')}]` : ''}`;
}

export interface ManySummary {
  /** Rows of the listing: one per distinct URL, one per bad line. */
  files: number;
  ok: number;
  degraded: number;
  failed: number;
  /** Bad lines of -i FILE, reported and not fetched. */
  skipped: number;
  /** Entries naming a URL already listed (fetched once). */
  duplicates: number;
  /** Winning strategy → files it delivered. */
  strategies: Record<string, number>;
}

export function summarize(results: readonly FileResult[], duplicates = 0): ManySummary {
  const summary: ManySummary = {
    files: results.length,
    ok: 0,
    degraded: 0,
    failed: 0,
    skipped: 0,
    duplicates,
    strategies: {},
  };
  for (const r of results) {
    summary[status(r)]++;
    if (r.ok) summary.strategies[r.strategy] = (summary.strategies[r.strategy] ?? 0) + 1;
  }
  return summary;
}

function summaryTables(s: ManySummary): string {
  const counts = table(
    ['files', 'ok', 'degraded', 'failed', 'skipped'],
    [[String(s.files), String(s.ok), String(s.degraded), String(s.failed), String(s.skipped)]],
  );
  const strategies = Object.entries(s.strategies).sort((a, b) => b[1] - a[1]);
  return strategies.length
    ? `${counts}\n\n${table(
        ['strategy', 'files'],
        strategies.map(([name, n]) => [name, String(n)]),
      )}`
    : counts;
}
