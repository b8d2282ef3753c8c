import { readFileSync } from 'node:fs';
import {
  CachedFailureError,
  CONVERT_TARGETS,
  type ConvertTarget,
  DetourError,
  defaultStateDir,
  EXPECT_KINDS,
  type ExpectKind,
  type FetchOptions,
  type FetchResultInfo,
  SAMPLE_RATES,
} from '@detour/core';
import { adviceFor, type Failure, mostTelling, STRATEGY_FLAGS } from '../advice.js';
import { type Flags, parse } from '../args.js';
import { buildPipeline, type PipelineFlags, warnProxyEnv } from '../build-pipeline.js';
import { FETCH } from '../definitions.js';
import { parseHeaders } from '../headers-flag.js';
import {
  type CliIo,
  checkUrl,
  EXIT_FAILED,
  EXIT_OK,
  parseList,
  parseNumber,
  UsageError,
  write,
} from '../io.js';
import { isTty, ProgressLine } from '../progress.js';
import { MASK_SECRETS, masked, maskedAttempts, type SecretPolicy, SHOW_SECRETS } from '../secrets.js';
import { parseSize } from '../size.js';
import { attemptsTable } from '../table.js';
import { runMany } from './fetch-many.js';

/** `--state-dir`, else the default state directory; undefined with `--no-state`. */
export function cliStateDir(flags: Flags, io: CliIo): string | undefined {
  const given = flags.string('state-dir');
  if (given !== undefined && flags.bool('no-state')) {
    throw new UsageError('--state-dir and --no-state exclude each other');
  }
  if (given === '') throw new UsageError('--state-dir takes a directory');
  if (flags.bool('no-state')) return undefined;
  return given ?? defaultStateDir(io.env);
}

/** `--convert wav|mp3 [--sample-rate HZ]` as fetch options; anything else is bad usage. */
function convertFlags(convert: string | undefined, rate: string | undefined): Partial<FetchOptions> {
  if (convert === undefined) {
    if (rate !== undefined) throw new UsageError('--sample-rate needs --convert');
    return {};
  }
  if (!CONVERT_TARGETS.includes(convert as ConvertTarget)) {
    throw new UsageError(`--convert takes ${CONVERT_TARGETS.join(', ')}, got ${convert}`);
  }
  const sampleRate = parseNumber('--sample-rate', rate);
  if (sampleRate !== undefined && !SAMPLE_RATES.includes(sampleRate)) {
    throw new UsageError(`--sample-rate takes ${SAMPLE_RATES.join(', ')}, got ${sampleRate}`);
  }
  return { convert: convert as ConvertTarget, ...(sampleRate !== undefined ? { sampleRate } : {}) };
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** -o and -O, and -o with several URLs, exclude each other; returns -o's value. */
function outputFlag(flags: Flags, positionals: string[]): string | undefined {
  const output = flags.string('output');
  if (output !== undefined && flags.has('output-dir')) {
    throw new UsageError(
      '-o FILE and -O DIR exclude each other: -o writes one URL to FILE, -O DIR writes each URL into DIR under its own name',
    );
  }
  if (output !== undefined && positionals.length > 1) {
    throw new UsageError(
      `-o names one file, but ${positionals.length} URLs were given: use -O DIR to write each into a directory`,
    );
  }
  if (output === '') throw new UsageError('-o takes a file name (or - for stdout), got an empty string');
  return output;
}

/** `--log-level` (default silent: the report, table or JSON, already says what happened). */
function logLevelFlag(flags: Flags): string {
  const logLevel = flags.string('log-level') ?? 'silent';
  if (!LOG_LEVELS.has(logLevel))
    throw new UsageError(`--log-level takes one of ${[...LOG_LEVELS].join(', ')}`);
  return logLevel;
}

/** Flags that exclude each other or need another: proxy, cache. */
function checkProxyAndCacheFlags(flags: Flags): void {
  if (flags.string('proxy') && flags.bool('no-proxy'))
    throw new UsageError('--proxy and --no-proxy exclude each other');
  if (flags.string('cache-dir') !== undefined && flags.bool('no-cache')) {
    throw new UsageError('--cache-dir and --no-cache exclude each other');
  }
  if (flags.string('cache-dir') === '') throw new UsageError('--cache-dir takes a directory');
}

/** `--strategies`, each checked against the flag it needs (placeholder, downgrade). */
function strategiesFlag(flags: Flags): string[] {
  const strategies = parseList(flags.string('strategies'));
  for (const name of strategies) {
    const needs = STRATEGY_FLAGS[name];
    const enabled = name === 'placeholder' ? flags.bool('placeholder') : !!flags.strings('allow-downgrade');
    if (needs && !enabled) throw new UsageError(`--strategies ${name} needs ${needs}`);
  }
  return strategies;
}

/** The fetch's options and the pipeline's flags, validated in the order the usage errors are reported. */
function readFetchFlags(
  flags: Flags,
  io: CliIo,
): { fetchOptions: FetchOptions; pipelineFlags: PipelineFlags } {
  const expect = (flags.string('expect') ?? 'any') as ExpectKind;
  if (!EXPECT_KINDS.includes(expect))
    throw new UsageError(`--expect takes ${EXPECT_KINDS.join(', ')}, got ${expect}`);
  const expectedBytes = parseNumber('--expect-bytes', flags.string('expect-bytes'));
  const convert = convertFlags(flags.string('convert'), flags.string('sample-rate'));
  const logLevel = logLevelFlag(flags);
  checkProxyAndCacheFlags(flags);
  const stateDir = cliStateDir(flags, io);
  if (flags.string('cache-max-size') !== undefined && flags.string('cache-dir') === undefined) {
    throw new UsageError('--cache-max-size needs --cache-dir');
  }
  const fetchOptions: FetchOptions = {
    expect,
    headers: parseHeaders(flags.strings('header')),
    ...(flags.bool('no-cache') ? { noCache: true } : {}),
    ...(expectedBytes !== undefined ? { expectedBytes } : {}),
    ...convert,
  };
  const strategies = strategiesFlag(flags);
  const ca = readCaFiles(flags.strings('ca'));
  if (flags.bool('progress') && flags.bool('no-progress')) {
    throw new UsageError('--progress and --no-progress exclude each other');
  }
  const timeoutMs = parseNumber('--timeout', flags.string('timeout'));
  const maxBytes = parseNumber('--max-bytes', flags.string('max-bytes'));
  const pipelineFlags: PipelineFlags = {
    proxy: flags.string('proxy'),
    noProxy: flags.bool('no-proxy'),
    noBypass: flags.bool('no-bypass'),
    allowPrivate: flags.bool('allow-private'),
    strategies,
    timeoutMs,
    attemptTimeoutMs: parseNumber('--attempt-timeout', flags.string('attempt-timeout')),
    maxBytes,
    logLevel,
    allowDowngrade: parseList(flags.strings('allow-downgrade')),
    downgradePorts: parseList(flags.strings('downgrade-port')),
    insecureHosts: parseList(flags.strings('insecure-host')),
    placeholder: flags.bool('placeholder'),
    curlPath: flags.string('curl'),
    headersProfile: flags.string('headers-profile'),
    cacheDir: flags.string('cache-dir'),
    cacheMaxSize: parseSize('--cache-max-size', flags.string('cache-max-size')),
    noCache: flags.bool('no-cache'),
    noPresets: parseList(flags.strings('no-preset')),
    presets: parseList(flags.strings('preset')),
    discordToken: flags.string('discord-token'),
    telegramToken: flags.string('telegram-token'),
    telegramApiBase: flags.string('telegram-api-base'),
    ca,
    stateDir,
    onStateWarning: (message) => write(io.stderr, `detour: warning: ${message}`),
  };
  return { fetchOptions, pipelineFlags };
}

export async function runFetch(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parse(FETCH, argv);
  const secrets = flags.bool('show-secrets') ? SHOW_SECRETS : MASK_SECRETS;
  // Several URLs, -O DIR or -i FILE: the many-files mode (fetch-many.ts); otherwise exactly one URL.
  const many = flags.has('output-dir') || flags.has('input-file') || positionals.length > 1;
  if (!many && positionals.length === 0) throw new UsageError('fetch needs a URL (see detour fetch --help)');
  const url = positionals[0]!;
  const output = outputFlag(flags, positionals);
  const { fetchOptions, pipelineFlags } = readFetchFlags(flags, io);
  if (many) return runMany(flags, positionals, fetchOptions, pipelineFlags, io, secrets);
  checkUrl(url);
  warnProxyEnv(pipelineFlags, io);

  let pipeline: Awaited<ReturnType<typeof buildPipeline>>;
  try {
    pipeline = await buildPipeline(pipelineFlags, io.env, new URL(url));
  } catch (error) {
    if (error instanceof DetourError) throw new UsageError(error.message.split('\n')[0]!);
    throw error;
  }
  return fetchOne(pipeline, url, output, fetchOptions, flags, io, secrets);
}

/** The one-URL fetch: to a file, stdout or nowhere, then the report (table or JSON). */
async function fetchOne(
  pipeline: Awaited<ReturnType<typeof buildPipeline>>,
  url: string,
  output: string | undefined,
  fetchOptions: FetchOptions,
  flags: Flags,
  io: CliIo,
  secrets: SecretPolicy,
): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  fetchOptions.signal = abort.signal;
  const toStdout = output === '-';
  const progress = wantProgress(flags, io, output) ? new ProgressLine(io.stderr) : undefined;
  if (progress) fetchOptions.onProgress = progress.update;
  const report = toStdout ? io.stderr : io.stdout;
  try {
    let info: FetchResultInfo;
    if (output && !toStdout) {
      info = await pipeline.toFile(url, output, fetchOptions);
    } else {
      const result = await pipeline.fetch(url, fetchOptions);
      if (toStdout) await new Promise<void>((resolve) => io.stdout.write(result.body, () => resolve()));
      const { body: _body, ...rest } = result;
      info = rest;
    }
    progress?.done();
    if (flags.bool('json')) write(report, JSON.stringify(masked(info, secrets)));
    else write(report, summary(masked(info, secrets), output));
    return EXIT_OK;
  } catch (error) {
    progress?.done();
    if (!(error instanceof DetourError)) throw error;
    if (error.code === 'DETOUR_UNKNOWN_STRATEGY' || error.code?.startsWith('DETOUR_BAD_')) {
      throw new UsageError(error.message);
    }
    reportFailure(error, url, flags.bool('json'), report, io, secrets);
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pipeline.close();
  }
}

/** A failed fetch: the JSON failure body with --json, else the telling line and the attempts table. */
function reportFailure(
  error: DetourError,
  url: string,
  json: boolean,
  report: NodeJS.WritableStream,
  io: CliIo,
  secrets: SecretPolicy,
): void {
  const telling = mostTelling(error, error.attempts);
  const advice = adviceFor(telling, new URL(url).hostname);
  if (json) {
    write(
      report,
      JSON.stringify({
        ok: false,
        url: secrets.url(new URL(url).toString()), // masked as on success (--show-secrets shows it)
        strategy: null,
        degraded: false,
        // true only when the negative cache answered (no request was made this time)
        fromCache: error instanceof CachedFailureError,
        plan: error.plan,
        attempts: maskedAttempts(error.attempts, secrets),
        error: {
          failureClass: error.failureClass,
          code: error.code,
          message: secrets.text(error.message),
          ...(error.retcode !== undefined ? { retcode: error.retcode } : {}),
          ...(error.retmsg !== undefined ? { retmsg: error.retmsg } : {}),
          ...(advice ? { hint: advice } : {}),
        },
      }),
    );
  } else {
    write(io.stderr, secrets.text(failureLine(telling, advice)));
    if (error.attempts.length) write(io.stderr, attemptsTable(error.attempts));
  }
}

function summary(info: FetchResultInfo, output: string | undefined): string {
  const flags = [
    info.degraded && 'DEGRADED',
    info.fromCache && 'from cache',
    info.insecure && 'INSECURE',
    info.downgraded && 'DOWNGRADED to http',
    info.converted &&
      `converted from ${info.converted.from}: ${(info.converted.durationMs / 1000).toFixed(1)} s at ${info.converted.sampleRate} Hz`,
  ]
    .filter(Boolean)
    .join(', ');
  return [
    `${info.strategy}: ${info.bytes} bytes${info.format ? `, ${info.format}` : ''}${info.contentType ? ` (${info.contentType})` : ''}${output && output !== '-' ? ` -> ${output}` : ''}${flags ? ` [${flags}]` : ''}`,
    `sha256 ${info.sha256}`,
    attemptsTable(info.attempts),
  ].join('\n');
}

/** The summary line of a failure: the most telling attempt, and what to do about it. */
export function failureLine(f: Failure, advice: string | undefined): string {
  const where = [
    f.code,
    f.strategy &&
      `in ${f.strategy}${f.route && f.route !== 'direct' && f.route !== 'none' ? ` via ${f.route}` : ''}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `detour: ${f.failureClass}: ${f.message}${where ? ` (${where})` : ''}${advice ? ` — ${advice}` : ''}`;
}

/** `--ca FILE`: PEM certificates trusted on top of the system's (and handed to curl). */
export function readCaFiles(paths: string[] | undefined): string | undefined {
  if (!paths?.length) return undefined;
  return paths
    .map((path) => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new UsageError(
          `--ca ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      if (!text.includes('-----BEGIN CERTIFICATE-----')) {
        throw new UsageError(`--ca ${path}: not a PEM certificate file (no BEGIN CERTIFICATE)`);
      }
      return text.trim();
    })
    .join('\n');
}

/**
 * The progress line: on a terminal only (stderr), never with --json; by default for downloads to a
 * file, with --progress for any download, never with --no-progress.
 */
export function wantProgress(
  flags: { bool(name: string): boolean },
  io: CliIo,
  output: string | undefined,
): boolean {
  if (flags.bool('no-progress') || flags.bool('json') || !isTty(io.stderr)) return false;
  return flags.bool('progress') || (output !== undefined && output !== '-');
}
