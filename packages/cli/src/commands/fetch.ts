import { parseArgs } from 'node:util';
import { CachedFailureError, DetourError, type FetchOptions, type FetchResultInfo } from '@detour/core';
import { buildPipeline } from '../build-pipeline.js';
import {
  type CliIo,
  EXIT_FAILED,
  EXIT_OK,
  parseHeaders,
  parseList,
  parseNumber,
  UsageError,
  write,
} from '../io.js';
import { attemptsTable } from '../table.js';

export const FETCH_USAGE = `usage: detour fetch <url> [-o FILE|-] [--json] [--strategies a,b,c] [--proxy URL] [--no-proxy]
       [--allow-private] [--timeout MS] [--max-bytes N] [--expect image|any] [-H 'Name: value']...
       [--log-level LEVEL] [--allow-downgrade HOST[,HOST]] [--downgrade-port HTTPS=HTTP]
       [--insecure-host HOST[,HOST]] [--placeholder] [--curl PATH] [--headers-profile NAME]
       [--cache-dir DIR] [--no-cache]`;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export async function runFetch(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      strategies: { type: 'string' },
      proxy: { type: 'string' },
      'no-proxy': { type: 'boolean' },
      'allow-private': { type: 'boolean' },
      timeout: { type: 'string' },
      'max-bytes': { type: 'string' },
      expect: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      'log-level': { type: 'string' },
      'allow-downgrade': { type: 'string', multiple: true },
      'downgrade-port': { type: 'string', multiple: true },
      'insecure-host': { type: 'string', multiple: true },
      placeholder: { type: 'boolean' },
      curl: { type: 'string' },
      'headers-profile': { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`fetch takes exactly one URL\n${FETCH_USAGE}`);
  const url = positionals[0]!;
  const expect = values.expect ?? 'any';
  if (expect !== 'image' && expect !== 'any')
    throw new UsageError(`--expect takes image or any, got ${expect}`);
  const logLevel = values['log-level'] ?? 'warn';
  if (!LOG_LEVELS.has(logLevel))
    throw new UsageError(`--log-level takes one of ${[...LOG_LEVELS].join(', ')}`);
  if (values.proxy && values['no-proxy']) throw new UsageError('--proxy and --no-proxy exclude each other');
  if (values['cache-dir'] !== undefined && values['no-cache']) {
    throw new UsageError('--cache-dir and --no-cache exclude each other');
  }
  if (values['cache-dir'] === '') throw new UsageError('--cache-dir takes a directory');
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`not an http(s) URL: ${JSON.stringify(url)}`);
  }
  const fetchOptions: FetchOptions = {
    expect,
    headers: parseHeaders(values.header),
    ...(values['no-cache'] ? { noCache: true } : {}),
  };
  const timeoutMs = parseNumber('--timeout', values.timeout);
  const maxBytes = parseNumber('--max-bytes', values['max-bytes']);

  let pipeline: Awaited<ReturnType<typeof buildPipeline>>;
  try {
    pipeline = await buildPipeline(
      {
        proxy: values.proxy,
        noProxy: values['no-proxy'],
        allowPrivate: values['allow-private'],
        strategies: parseList(values.strategies),
        timeoutMs,
        maxBytes,
        logLevel,
        allowDowngrade: parseList(values['allow-downgrade']),
        downgradePorts: parseList(values['downgrade-port']),
        insecureHosts: parseList(values['insecure-host']),
        placeholder: values.placeholder,
        curlPath: values.curl,
        headersProfile: values['headers-profile'],
        cacheDir: values['cache-dir'],
        noCache: values['no-cache'],
      },
      io.env,
      new URL(url),
    );
  } catch (error) {
    if (error instanceof DetourError) throw new UsageError(error.message.split('\n')[0]!);
    throw error;
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  fetchOptions.signal = abort.signal;
  const toStdout = values.output === '-';
  const report = toStdout ? io.stderr : io.stdout;
  try {
    let info: FetchResultInfo;
    if (values.output && !toStdout) {
      info = await pipeline.toFile(url, values.output, fetchOptions);
    } else {
      const result = await pipeline.fetch(url, fetchOptions);
      if (toStdout) await new Promise<void>((resolve) => io.stdout.write(result.body, () => resolve()));
      const { body: _body, ...rest } = result;
      info = rest;
    }
    if (values.json) write(report, JSON.stringify(info));
    else write(report, summary(info, values.output));
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof DetourError)) throw error;
    if (error.code === 'DETOUR_UNKNOWN_STRATEGY' || error.code?.startsWith('DETOUR_BAD_')) {
      throw new UsageError(error.message);
    }
    if (values.json) {
      write(
        report,
        JSON.stringify({
          ok: false,
          url: new URL(url).toString(), // the caller's own URL, as on success (logs are what get redacted)
          strategy: null,
          degraded: false,
          // true only when the negative cache answered (no request was made this time)
          fromCache: error instanceof CachedFailureError,
          attempts: error.attempts,
          error: { failureClass: error.failureClass, code: error.code, message: error.message },
        }),
      );
    } else {
      write(io.stderr, `detour: ${error.failureClass}: ${error.message}`);
      if (error.attempts.length) write(io.stderr, attemptsTable(error.attempts));
    }
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pipeline.close();
  }
}

function summary(info: FetchResultInfo, output: string | undefined): string {
  const flags = [
    info.degraded && 'DEGRADED',
    info.fromCache && 'from cache',
    info.insecure && 'INSECURE',
    info.downgraded && 'DOWNGRADED to http',
  ]
    .filter(Boolean)
    .join(', ');
  return [
    `${info.strategy}: ${info.bytes} bytes${info.contentType ? ` (${info.contentType})` : ''}${output && output !== '-' ? ` -> ${output}` : ''}${flags ? ` [${flags}]` : ''}`,
    `sha256 ${info.sha256}`,
    attemptsTable(info.attempts),
  ].join('\n');
}
