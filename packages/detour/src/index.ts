/**
 * The composition root: the one place that knows every package. `createDetour()` detects the
 * environment, registers every built-in strategy (and, later, the presets) and returns a pipeline;
 * the CLI, the service and the Koishi plugin build theirs here, so they behave the same.
 */

import { join } from 'node:path';
import {
  asPlugin,
  createLogger,
  createPipeline,
  DetourUsageError,
  direct,
  directBypass,
  FileStateStore,
  type KeyValueStore,
  type KeyvLike,
  type Pipeline,
  type PipelineOptions,
  type Plugin,
  type Preset,
  type RefreshUrl,
  type Strategy,
  type StrategyInfo,
  strategiesIn,
} from '@detour/core/internal';
import { curl } from '@detour/curl';
import {
  createEnvironment,
  type DetectedEnvironment,
  type EnvironmentOptions,
  type EnvironmentReport,
  networkFingerprint,
  plan,
} from '@detour/detect';
import { discordPreset } from '@detour/discord';
import { httpDowngrade } from '@detour/http-downgrade';
import { placeholder } from '@detour/placeholder';
import { qqPreset } from '@detour/qq';
import { telegramPreset } from '@detour/telegram';
import { tlsRelaxed } from '@detour/tls-relaxed';

/** Everything that decides how a Detour pipeline is built, in library terms. */
export interface DetourOptions {
  /** A proxy URL for every request; `false`: never a proxy; omitted: detected (env, OS settings). */
  proxy?: string | false | undefined;
  /**
   * `false`: never go around the proxy (no `direct-bypass`), even when it fails: what `--no-bypass`
   * says. Default: a failing proxy may be bypassed (the plan puts `direct-bypass` after `direct`).
   */
  bypass?: boolean | undefined;
  /** Allow targets in private, loopback and link-local ranges (default false). */
  allowPrivateNetwork?: boolean | undefined;
  /** Strategy names in the order to try them (default: the detected plan). */
  strategies?: string[] | undefined;
  /** Total deadline of one fetch in ms. */
  timeoutMs?: number | undefined;
  /** Largest body accepted. */
  maxBytes?: number | undefined;
  /**
   * A pino logger; or `logLevel` for Detour's own (JSON lines on stderr). Neither: silent, nothing
   * is printed (the result and the error already say what happened).
   */
  logger?: PipelineOptions['logger'];
  logLevel?: string | undefined;
  /** Hosts opted in to https → http (http-downgrade). */
  allowDowngrade?: string[] | undefined;
  /** HTTPS port → HTTP port for every downgraded host (default 443 → 80). */
  downgradePorts?: Record<number, number> | undefined;
  /** Hosts whose certificates tls-relaxed and curl do not check. */
  insecureHosts?: string[] | undefined;
  /** Answer with a placeholder image (flagged `degraded`) when every strategy failed. */
  placeholder?: boolean | undefined;
  /** The curl binary (default: found on PATH). */
  curlPath?: string | undefined;
  /** Header profile: `detour`, `chrome`, `firefox`. */
  headersProfile?: string | undefined;
  /** Extra trusted CAs (PEM), on top of the system's and `NODE_EXTRA_CA_CERTS`. */
  ca?: PipelineOptions['ca'];
  /** The cache (see core's `PipelineOptions.cache`); default: in memory, Tencent's rkey ignored in keys. */
  cache?: PipelineOptions['cache'];
  /** Host names whose DNS answers are checked for fake-IP ranges at detection (e.g. the target's). */
  fakeIpNames?: string[] | undefined;
  /** Process environment for proxy variables and `NODE_EXTRA_CA_CERTS` (default `process.env`). */
  env?: Record<string, string | undefined> | undefined;
  /** Extra detection options (probe ports, DNS servers, injected probes). */
  detect?: Omit<EnvironmentOptions, 'env' | 'proxy'> | undefined;
  /**
   * Presets (site knowledge as hooks, acting only on the hosts they name): built-in names or
   * `Preset` objects. Default `['qq']` (Tencent's media CDN, see `@detour/qq`); `[]`: none.
   * `discord` and `telegram` need their bot token (`discordToken`, `telegramToken`); a token
   * given turns its preset on even when `presets` does not name it.
   */
  presets?: Array<BuiltinPresetName | Preset> | undefined;
  /** The Discord bot token for the `discord` preset (`@detour/discord`: refreshes attachment links). */
  discordToken?: string | undefined;
  /** The Discord API base (default `https://discord.com/api/v10`). */
  discordApiBase?: string | undefined;
  /** The Telegram bot token for the `telegram` preset (`@detour/telegram`: masked as `bot***` everywhere). */
  telegramToken?: string | undefined;
  /** A local Bot API server or reverse proxy (default `https://api.telegram.org`). */
  telegramApiBase?: string | undefined;
  /** Called once when a fetch fails with `url-expired` (e.g. `rkeyProvider(...).refreshUrl` from `@detour/qq`). */
  refreshUrl?: RefreshUrl | undefined;
  /** Extra strategies or plugins, registered after the built-in ones. */
  use?: Array<Strategy | Plugin> | undefined;
  /**
   * An environment already detected (`detectEnvironment()`): `createDetour` then skips detection.
   * The pipeline owns it from there (`close()` closes it). `detour serve` keeps the handle to
   * re-detect on SIGHUP.
   */
  environment?: DetectedEnvironment | undefined;
  /**
   * Where what the pipeline learns (route memory, circuit state) is kept across processes: a
   * directory (a `state.json` in it, entries kept per network fingerprint, see `openState`) or a
   * KeyValueStore / Keyv instance. Default: in process only. The CLI uses its state directory.
   */
  state?: string | KeyValueStore | KeyvLike | false | undefined;
  /** Any other core option; wins over the fields above. */
  pipeline?: Omit<PipelineOptions, 'use' | 'environment'> | undefined;
}

/** Presets Detour ships, by name. */
export const BUILTIN_PRESETS = {
  qq: (_o: PresetTokens) => qqPreset(),
  discord: (o: PresetTokens) =>
    discordPreset({
      token: needToken(o.discordToken, 'discord', '--discord-token / DETOUR_DISCORD_TOKEN'),
      ...(o.discordApiBase ? { apiBase: o.discordApiBase } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
    }),
  telegram: (o: PresetTokens) =>
    telegramPreset({
      token: needToken(o.telegramToken, 'telegram', '--telegram-token / DETOUR_TELEGRAM_TOKEN'),
      ...(o.telegramApiBase ? { apiBase: o.telegramApiBase } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
    }),
} as const;

/** What the built-in presets need besides their name. */
export type PresetTokens = Pick<
  DetourOptions,
  'discordToken' | 'discordApiBase' | 'telegramToken' | 'telegramApiBase' | 'ca'
>;

function needToken(token: string | undefined, preset: string, where: string): string {
  if (!token)
    throw new DetourUsageError(`the ${preset} preset needs its bot token (${where})`, 'DETOUR_BAD_PRESET');
  return token;
}
export type BuiltinPresetName = keyof typeof BUILTIN_PRESETS;
/** The presets on by default (each acts only on its own hosts). */
export const DEFAULT_PRESETS: readonly BuiltinPresetName[] = ['qq'];

/** Preset names and objects → presets; an unknown name is a usage error. */
export function resolvePresets(
  presets: DetourOptions['presets'] = DEFAULT_PRESETS as BuiltinPresetName[],
  tokens: PresetTokens = {},
): Preset[] {
  const named = new Set(presets.map((p) => (typeof p === 'string' ? p : p.name)));
  const implied: BuiltinPresetName[] = [];
  if (tokens.discordToken && !named.has('discord')) implied.push('discord');
  if (tokens.telegramToken && !named.has('telegram')) implied.push('telegram');
  return [...presets, ...implied].map((preset) => {
    if (typeof preset !== 'string') return preset;
    const make = BUILTIN_PRESETS[preset];
    if (!make) {
      throw new DetourUsageError(
        `unknown preset ${JSON.stringify(preset)} (known: ${Object.keys(BUILTIN_PRESETS).join(', ')})`,
        'DETOUR_BAD_PRESET',
      );
    }
    return make(tokens);
  });
}

/**
 * The strategy packages Detour ships, in registration order: one line each, and the only place that
 * names them (a factory returns nothing when the options leave it off). Core brings `direct` and
 * `direct-bypass`. The plan orders strategies by the stage each declares, not by this order.
 */
const BUILTIN_STRATEGIES: ReadonlyArray<(options: DetourOptions) => Strategy | undefined> = [
  (o) => tlsRelaxed({ insecureHosts: o.insecureHosts ?? [] }),
  (o) => curl({ insecureHosts: o.insecureHosts ?? [], ...(o.curlPath ? { curlPath: o.curlPath } : {}) }),
  (o) =>
    o.allowDowngrade?.length
      ? httpDowngrade({ hosts: o.allowDowngrade, ports: downgradePorts(o) })
      : undefined,
  (o) => (o.placeholder ? placeholder() : undefined),
];

/** `downgradePorts` for every opted-in host, in http-downgrade's `host:port` form. */
function downgradePorts(options: DetourOptions): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const [https, http] of Object.entries(options.downgradePorts ?? {}))
    for (const host of options.allowDowngrade ?? []) ports[`${host}:${https}`] = http;
  return ports;
}

/** The strategy packages' instances for these options, in registration order (core's two not included). */
export function builtinStrategies(options: DetourOptions = {}): Strategy[] {
  if (!options.allowDowngrade?.length && Object.keys(options.downgradePorts ?? {}).length) {
    throw new DetourUsageError('downgradePorts needs allowDowngrade hosts', 'DETOUR_BAD_OPTION');
  }
  return BUILTIN_STRATEGIES.flatMap((make) => make(options) ?? []);
}

/**
 * Every strategy a Detour pipeline registers for these options, core's included and those added
 * with `use` (instances and plugins), as they describe themselves (name, stage, reason): what
 * `detour detect` plans with.
 */
export function describeStrategies(options: DetourOptions = {}): StrategyInfo[] {
  return [direct(), directBypass(), ...builtinStrategies(options), ...strategiesIn(options.use)].map(
    ({ name, stage, reason, plaintext }) => ({
      name,
      ...(stage ? { stage } : {}),
      ...(reason ? { reason } : {}),
      ...(plaintext ? { plaintext } : {}),
    }),
  );
}

/** The strategies registered by default, in registration order (http-downgrade and placeholder only when asked). */
export const DEFAULT_STRATEGIES: readonly string[] = describeStrategies().map((s) => s.name);

/** The strategy packages as plugins (`asPlugin`), in registration order. */
export function strategyPlugins(options: DetourOptions): Plugin[] {
  return builtinStrategies(options).map((strategy) => asPlugin(strategy));
}

/**
 * Detect the environment: env and OS proxy settings (an explicit `proxy` wins), TUN, and whether
 * the `fakeIpNames` resolve into a fake-IP range (asked through the OS resolver, as a connection
 * would; no other DNS query is made).
 */
export function detectEnvironment(options: DetourOptions = {}): Promise<DetectedEnvironment> {
  const names = options.fakeIpNames ?? [];
  // With a state directory, a detection younger than 60 s on an unchanged network is reused.
  const stateDir =
    typeof options.state === 'string'
      ? options.state
      : options.state instanceof FileStateStore
        ? options.state.dir
        : undefined;
  return createEnvironment({
    ...(stateDir ? { reuse: { path: join(stateDir, 'detect.json') } } : {}),
    ...options.detect,
    env: options.env ?? process.env,
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
    ...(names.length ? { fakeIp: { names, via: 'system', timeoutMs: 1_000 } } : {}),
    ...(options.allowDowngrade?.length ? { downgradeHosts: options.allowDowngrade } : {}),
    ...(options.bypass === false ? { bypass: false } : {}),
  });
}

/**
 * The state store over a directory: `<dir>/state.json`, this process's entries under the network's
 * fingerprint (proxy option and variables, default route, resolver: `networkFingerprint` of
 * `@detour/detect`), so that another network starts fresh. `warn` hears about a file that was
 * ignored (corrupt or foreign) or could not be saved.
 */
export function openState(
  dir: string,
  options: Pick<DetourOptions, 'env' | 'proxy'> & { warn?: (message: string) => void } = {},
): FileStateStore {
  return new FileStateStore(dir, {
    namespace: networkFingerprint({ env: options.env ?? process.env, proxy: options.proxy }),
    ...(options.warn ? { warn: options.warn } : {}),
  });
}

function stateStore(
  state: string | KeyValueStore | KeyvLike,
  options: DetourOptions,
  warn: (message: string) => void,
): KeyValueStore | KeyvLike {
  return typeof state === 'string' ? openState(state, { ...options, warn }) : state;
}

/** Core's options for a Detour pipeline over an already detected (or injected) environment. */
export function pipelineOptions(
  options: DetourOptions,
  environment?: PipelineOptions['environment'],
): PipelineOptions {
  if (options.bypass === false && options.strategies?.includes('direct-bypass')) {
    throw new DetourUsageError(
      'bypass: false forbids direct-bypass, which strategies names (--no-bypass with --strategies)',
      'DETOUR_BAD_OPTION',
    );
  }
  const logger = options.logger ?? createLogger(options.logLevel ?? 'silent');
  const warn = (message: string) => logger.warn(message);
  return {
    ...(environment ? { environment } : {}),
    allowPrivateNetwork: !!options.allowPrivateNetwork,
    logger,
    use: [...builtinStrategies(options), ...(options.use ?? [])],
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
    ...(options.strategies?.length ? { strategies: options.strategies } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
    ...(options.headersProfile ? { headersProfile: options.headersProfile } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    presets: resolvePresets(options.presets, options),
    ...(options.refreshUrl ? { refreshUrl: options.refreshUrl } : {}),
    ...(options.state ? { state: stateStore(options.state, options, warn) } : {}),
    ...options.pipeline,
  };
}

/** Detect the environment and compose core with every strategy package: Detour as shipped. */
export async function createDetour(options: DetourOptions = {}): Promise<Pipeline> {
  const environment = options.environment ?? (await detectEnvironment(options));
  try {
    return createPipeline(pipelineOptions(options, environment));
  } catch (error) {
    environment.close();
    throw error;
  }
}

/** `detour detect --json` and `GET /v1/detect`: the report, the plan and why. A contract. */
export interface DetectAnswer extends EnvironmentReport {
  plan: string[];
  /** Why each strategy these options register is where it is in the plan, or left out. */
  reasons: Record<string, string>;
}

/**
 * The one function that builds a detect answer, for the CLI and the service alike: the strategies
 * these options register, as they describe themselves (stage, reason), planned for the environment
 * (the caller's `strategies` order when given, as the pipeline would follow it).
 */
export function detectAnswer(environment: DetectedEnvironment, options: DetourOptions = {}): DetectAnswer {
  const described = describeStrategies(options);
  const planned = options.strategies?.length
    ? plan(environment.report, described, { order: options.strategies })
    : environment.describePlan(described);
  return { ...environment.report, plan: planned.plan, reasons: planned.reasons };
}
