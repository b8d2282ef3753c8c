import type { Pipeline } from '@detour/core';
import { proxyEnvWarnings } from '@detour/detect';
import { type BUILTIN_PRESETS, createDetour, DEFAULT_PRESETS, type DetourOptions, openState } from 'detour';
import { validateOptions } from 'detour/front-end';
import { type CliIo, UsageError, write } from './io.js';
import { checked } from './kit-flags.js';

/** Everything the CLI's flags can say about how to build a pipeline. */
export interface PipelineFlags {
  proxy?: string | undefined;
  noProxy?: boolean | undefined;
  /** Never around the proxy (`--no-bypass`): no direct-bypass. */
  noBypass?: boolean | undefined;
  allowPrivate?: boolean | undefined;
  strategies?: string[] | undefined;
  timeoutMs?: number | undefined;
  /** One strategy's deadline (`--attempt-timeout`); at most `timeoutMs`. */
  attemptTimeoutMs?: number | undefined;
  maxBytes?: number | undefined;
  logLevel?: string | undefined;
  /** Hosts opted in to https → http (`--allow-downgrade`). */
  allowDowngrade?: string[] | undefined;
  /** `https-port=http-port` mappings for downgraded hosts (`--downgrade-port`). */
  downgradePorts?: string[] | undefined;
  /** Hosts whose certificates are not checked by tls-relaxed and curl (`--insecure-host`). */
  insecureHosts?: string[] | undefined;
  placeholder?: boolean | undefined;
  curlPath?: string | undefined;
  headersProfile?: string | undefined;
  /** Extra CAs (PEM text). */
  ca?: string | undefined;
  /** A cacache directory: answers from earlier runs, kept across runs (`--cache-dir`). */
  cacheDir?: string | undefined;
  /** Most bytes `cacheDir` holds (`--cache-max-size`; default 1 GiB; 0: no bound). */
  cacheMaxSize?: number | undefined;
  /** No cache at all: neither read nor written (`--no-cache`). */
  noCache?: boolean | undefined;
  /** Where what was learned is kept across runs (`--state-dir`, or the default); undefined: nowhere. */
  stateDir?: string | undefined;
  /** Hears about a state file that was ignored or could not be saved (the CLI prints it on stderr). */
  onStateWarning?: ((message: string) => void) | undefined;
  /** Presets turned off (`--no-preset qq`); the others stay on. */
  noPresets?: string[] | undefined;
  /** Presets turned on (`--preset discord`), besides the default ones. */
  presets?: string[] | undefined;
  /** `--discord-token` (else `DETOUR_DISCORD_TOKEN`). */
  discordToken?: string | undefined;
  /** `--telegram-token` (else `DETOUR_TELEGRAM_TOKEN`). */
  telegramToken?: string | undefined;
  /** `--telegram-api-base` (else `DETOUR_TELEGRAM_API_BASE`). */
  telegramApiBase?: string | undefined;
}

/** The default presets plus those turned on, minus those turned off (names checked by the kit). */
function presets(off: string[], on: string[]): DetourOptions['presets'] {
  const names = [...new Set([...DEFAULT_PRESETS, ...on])] as Array<keyof typeof BUILTIN_PRESETS>;
  return names.filter((name) => !off.includes(name));
}

/** A token flag, else its environment variable; an empty one is a usage error. */
function token(flag: string, given: string | undefined, env: string | undefined): string | undefined {
  const value = given ?? env;
  if (value !== undefined && value.trim() === '') throw new UsageError(`${flag} is empty`);
  return value?.trim();
}

function tokens(flags: PipelineFlags, env: Record<string, string | undefined>): Partial<DetourOptions> {
  const discordToken = token(
    '--discord-token (DETOUR_DISCORD_TOKEN)',
    flags.discordToken,
    env.DETOUR_DISCORD_TOKEN,
  );
  const telegramToken = token(
    '--telegram-token (DETOUR_TELEGRAM_TOKEN)',
    flags.telegramToken,
    env.DETOUR_TELEGRAM_TOKEN,
  );
  const telegramApiBase = flags.telegramApiBase ?? env.DETOUR_TELEGRAM_API_BASE;
  if (telegramApiBase !== undefined && !/^https?:\/\/[^/]/.test(telegramApiBase))
    throw new UsageError('--telegram-api-base takes an http(s) URL');
  const on = flags.presets ?? [];
  if (on.includes('discord') && !discordToken)
    throw new UsageError('--preset discord needs --discord-token (or DETOUR_DISCORD_TOKEN)');
  if (on.includes('telegram') && !telegramToken)
    throw new UsageError('--preset telegram needs --telegram-token (or DETOUR_TELEGRAM_TOKEN)');
  const off = flags.noPresets ?? [];
  return {
    ...(discordToken && !off.includes('discord') ? { discordToken } : {}),
    ...(telegramToken && !off.includes('telegram') ? { telegramToken } : {}),
    ...(telegramApiBase ? { telegramApiBase } : {}),
  };
}

/** The CLI's flags in the composition root's terms (`detour`'s `createDetour`). */
export function detourOptions(flags: PipelineFlags, env: Record<string, string | undefined>): DetourOptions {
  // The front-end kit checks what every front-end shares (a library caller of this function too).
  const kit = checked(() =>
    validateOptions({
      timeoutMs: flags.timeoutMs,
      attemptTimeoutMs: flags.attemptTimeoutMs,
      allowDowngrade: flags.allowDowngrade,
      downgradePorts: flags.downgradePorts,
      presets: flags.presets,
      noPresets: flags.noPresets,
    }),
  );
  return {
    env,
    ...(flags.proxy ? { proxy: flags.proxy } : flags.noProxy ? { proxy: false } : {}),
    allowPrivateNetwork: !!flags.allowPrivate,
    ...(flags.noBypass ? { bypass: false } : {}),
    strategies: flags.strategies,
    timeoutMs: flags.timeoutMs,
    ...(flags.attemptTimeoutMs !== undefined
      ? { pipeline: { attemptTimeoutMs: flags.attemptTimeoutMs } }
      : {}),
    maxBytes: flags.maxBytes,
    logLevel: flags.logLevel ?? 'warn',
    allowDowngrade: flags.allowDowngrade,
    downgradePorts: kit.downgradePorts ?? {},
    insecureHosts: flags.insecureHosts,
    placeholder: flags.placeholder,
    curlPath: flags.curlPath,
    headersProfile: flags.headersProfile,
    ca: flags.ca,
    presets: presets(kit.noPresets ?? [], kit.presets ?? []),
    ...tokens(flags, env),
    ...(flags.stateDir
      ? {
          state: openState(flags.stateDir, {
            env,
            proxy: flags.proxy ? flags.proxy : flags.noProxy ? false : undefined,
            ...(flags.onStateWarning ? { warn: flags.onStateWarning } : {}),
          }),
        }
      : {}),
    // One run fetches one URL: the in-memory tier would never be read again, so the CLI caches on
    // disk only, and only when asked. (The qq preset keys Tencent's links without their rkey.)
    cache:
      flags.noCache || !flags.cacheDir
        ? false
        : {
            memory: false,
            dir: flags.cacheDir,
            ...(flags.cacheMaxSize !== undefined ? { maxSize: flags.cacheMaxSize } : {}),
          },
  };
}

/**
 * Build the pipeline `detour fetch` uses for `url`: the composition root with the CLI's flags,
 * the target's host checked for fake-IP answers.
 */
export function buildPipeline(
  flags: PipelineFlags,
  env: Record<string, string | undefined>,
  url: URL,
): Promise<Pipeline> {
  return createDetour({
    ...detourOptions(flags, env),
    fakeIpNames: [url.hostname.replace(/^\[|\]$/g, '')],
  });
}

/**
 * A proxy variable the route would come from that holds no proxy URL (`HTTPS_PROXY='not a proxy'`,
 * an unsupported scheme): one `detour: warning:` line each on stderr, the same sentences as the
 * environment report's `warnings`. Nothing when `--proxy` / `--no-proxy` decide the route.
 */
export function warnProxyEnv(flags: Pick<PipelineFlags, 'proxy' | 'noProxy'>, io: CliIo): void {
  if (flags.proxy || flags.noProxy) return;
  for (const warning of proxyEnvWarnings(io.env)) write(io.stderr, `detour: warning: ${warning}`);
}
