import { DetourError } from '@detour/core';
import { ServeUsageError, startServer } from '@detour/serve';
import type { DetourOptions } from 'detour';
import type { ValidOptions } from 'detour/front-end';
import { type Flags, parse } from '../args.js';
import { detourOptions, warnProxyEnv } from '../build-pipeline.js';
import { SERVE } from '../definitions.js';
import { type CliIo, EXIT_OK, parseList, parseNumber, UsageError, write } from '../io.js';
import { kitOptions } from '../kit-flags.js';
import { doctorReport } from './doctor.js';
import { readCaFiles } from './fetch.js';

/** Every `serve` flag's raw value the kit does not check (the CA files read). */
function serveFlagValues(flags: Flags) {
  return {
    host: flags.string('host'),
    port: flags.string('port'),
    token: flags.string('token'),
    redis: flags.string('redis'),
    grace: flags.string('grace'),
    'max-connections': flags.string('max-connections'),
    'header-timeout': flags.string('header-timeout'),
    'body-timeout': flags.string('body-timeout'),
    'pin-resolved-address': flags.bool('pin-resolved-address'),
    proxy: flags.string('proxy'),
    'no-proxy': flags.bool('no-proxy'),
    'no-bypass': flags.bool('no-bypass'),
    'allow-private': flags.bool('allow-private'),
    'downgrade-port': flags.strings('downgrade-port'),
    placeholder: flags.bool('placeholder'),
    curl: flags.string('curl'),
    'cache-dir': flags.string('cache-dir'),
    'no-cache': flags.bool('no-cache'),
    'discord-token': flags.string('discord-token'),
    'telegram-token': flags.string('telegram-token'),
    'telegram-api-base': flags.string('telegram-api-base'),
    ca: readCaFiles(flags.strings('ca')),
    'state-dir': flags.string('state-dir'),
  };
}

type ServeValues = ReturnType<typeof serveFlagValues>;

/** Flags that exclude or need each other (the kit checked the shared ones). */
function checkServeFlags(values: ServeValues, kit: ValidOptions, positionals: string[]): void {
  if (positionals.length) throw new UsageError('serve takes no arguments (see detour serve --help)');
  if (values['cache-dir'] !== undefined && values['no-cache']) {
    throw new UsageError('--cache-dir and --no-cache exclude each other');
  }
  if (values['cache-dir'] === '') throw new UsageError('--cache-dir takes a directory');
  if (kit.cacheMaxSize !== undefined && !values['cache-dir']) {
    throw new UsageError('--cache-max-size needs --cache-dir');
  }
  if (values['state-dir'] === '') throw new UsageError('--state-dir takes a directory');
}

/** The pipeline's options from the policy flags, with the service's cache tiers. */
function serveDetourOptions(values: ServeValues, kit: ValidOptions, io: CliIo): DetourOptions {
  const options = detourOptions(
    {
      proxy: kit.proxy,
      noProxy: values['no-proxy'],
      noBypass: values['no-bypass'],
      allowPrivate: values['allow-private'],
      strategies: kit.strategies ?? [],
      timeoutMs: kit.timeoutMs,
      attemptTimeoutMs: kit.attemptTimeoutMs,
      maxBytes: kit.maxBytes,
      logLevel: kit.logLevel ?? 'warn',
      allowDowngrade: kit.allowDowngrade ?? [],
      downgradePorts: parseList(values['downgrade-port']),
      insecureHosts: kit.insecureHosts ?? [],
      placeholder: values.placeholder,
      curlPath: values.curl,
      headersProfile: kit.headersProfile,
      cacheDir: values['cache-dir'],
      noCache: values['no-cache'],
      noPresets: kit.noPresets ?? [],
      presets: kit.presets ?? [],
      discordToken: values['discord-token'],
      telegramToken: values['telegram-token'],
      telegramApiBase: values['telegram-api-base'],
      ca: values.ca,
      stateDir: values['state-dir'],
      onStateWarning: (message) => write(io.stderr, `detour serve: warning: ${message}`),
    },
    io.env,
  );
  // A long-running service reads its memory tier again and again (the CLI's one-shot fetch does
  // not): memory always, plus the disk tier with --cache-dir; --no-cache turns both off.
  if (values['pin-resolved-address']) options.pipeline = { ...options.pipeline, pinResolvedAddress: true };
  const maxSize = kit.cacheMaxSize;
  options.cache = values['no-cache']
    ? false
    : values['cache-dir']
      ? { dir: values['cache-dir'], ...(maxSize !== undefined ? { maxSize } : {}) }
      : {};
  return options;
}

/** Starts the server; a bad option or an address that cannot be bound is a usage error. */
async function listen(
  values: ServeValues,
  port: number,
  token: string | undefined,
  options: DetourOptions,
  io: CliIo,
): Promise<Awaited<ReturnType<typeof startServer>>> {
  try {
    return await startServer({
      host: values.host ?? '127.0.0.1',
      port,
      token,
      redis: values.redis,
      detour: options,
      maxConnections: parseNumber('--max-connections', values['max-connections']),
      headersTimeoutMs: parseNumber('--header-timeout', values['header-timeout']),
      bodyTimeoutMs: parseNumber('--body-timeout', values['body-timeout']),
      warn: (line) => write(io.stderr, line),
      // POST /v1/doctor: `detour doctor --json` under the service's own policy flags.
      doctor: async ({ url, expect }, signal) =>
        (await doctorReport(new URL(url), options, { expect, signal })).json,
    });
  } catch (error) {
    if (error instanceof ServeUsageError || error instanceof DetourError) {
      throw new UsageError(error.message.split('\n')[0]!);
    }
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new UsageError(`cannot listen on ${values.host ?? '127.0.0.1'}:${port}: ${code}`);
    }
    throw error;
  }
}

/** Runs until SIGTERM/SIGINT; SIGHUP re-detects. */
function untilStopped(server: { redetect(): Promise<void> }, io: CliIo, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const onHup = () => {
      server.redetect().catch((error: unknown) => {
        write(io.stderr, `detour serve: re-detection failed: ${(error as Error).message}`);
      });
    };
    const stop = (signal: string) => {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      write(io.stderr, `${signal}: finishing in-flight fetches (up to ${graceMs} ms)`);
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
}

/**
 * `detour serve`: one pipeline behind an HTTP API (@detour/serve) until SIGTERM/SIGINT; SIGHUP
 * detects the environment again. Prints `listening on http://HOST:PORT` on stderr once ready.
 */
export async function runServe(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parse(SERVE, argv);
  const values = serveFlagValues(flags);
  const kit = kitOptions(flags, SERVE);
  checkServeFlags(values, kit, positionals);
  const port = values.port === undefined ? 7070 : Number(values.port);
  if (values.port !== undefined && (!/^\d{1,5}$/.test(values.port) || port > 65_535)) {
    throw new UsageError(`--port takes 0-65535, got ${JSON.stringify(values.port)}`);
  }
  const graceMs = parseNumber('--grace', values.grace) ?? 10_000;
  const token = values.token ?? io.env.DETOUR_TOKEN;
  if (token !== undefined && token.trim() === '') throw new UsageError('--token (or DETOUR_TOKEN) is empty');

  const options = serveDetourOptions(values, kit, io);
  const server = await listen(values, port, token, options, io);
  warnProxyEnv({ proxy: values.proxy, noProxy: values['no-proxy'] }, io);
  write(io.stderr, `listening on ${server.url}`);
  await untilStopped(server, io, graceMs);
  await server.close(graceMs);
  return EXIT_OK;
}
