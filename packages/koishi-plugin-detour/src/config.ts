/**
 * The plugin's configuration: the same knobs as `detour fetch` / `detour serve`, as a Koishi
 * `Schema` (validated and defaulted by Koishi, rendered as a form in the console), and the mapping
 * onto the composition root's `DetourOptions`.
 */
import { readFileSync } from 'node:fs';
import { DetourUsageError } from '@detour/core';
import { rkeyProvider } from '@detour/qq';
import type { DetourOptions } from 'detour';
import { detourOptionsOf, type LogLevel, OPTIONS, type OptionName, validateOptions } from 'detour/front-end';
import type { Schema as SchemaType } from 'koishi';
import { Schema } from './koishi.js';

export interface Config {
  /** A proxy URL for every request (`http://`, `https://`, `socks5://`, …); empty: detected. */
  proxy?: string;
  /** Never use a proxy, whatever the environment says. */
  noProxy: boolean;
  /** Allow loopback / private / link-local targets (refused by default: SSRF guard). */
  allowPrivateNetwork: boolean;
  /**
   * Through proxies that resolve names (HTTP CONNECT, `socks5h://`): send the address Detour
   * resolved and checked, not the name (no DNS rebinding past the SSRF guard). For bots that fetch
   * links from untrusted chat users; off by default because Clash-style rules match on names.
   */
  pinResolvedAddress: boolean;
  /** Strategy names in order; empty: the plan detected for the environment. */
  strategies: string[];
  /** Total deadline of one download, all strategies included (ms). */
  timeoutMs: number;
  /** Largest body accepted (bytes). */
  maxBytes: number;
  /** Answer with a placeholder image, flagged `degraded`, when every strategy failed. */
  placeholder: boolean;
  /** Hosts whose certificates `tls-relaxed` and `curl` do not check (results flagged `insecure`). */
  insecureHosts: string[];
  /** Hosts opted in to https → http (`http-downgrade`; results flagged `downgraded`). */
  allowDowngrade: string[];
  /** Request header profile: `detour`, `chrome`, `firefox` (the kit's `OPTIONS.headersProfile.values`). */
  headersProfile: string;
  /** The curl binary; empty: `curl` on PATH. */
  curlPath?: string;
  /** A PEM file of extra trusted CAs (on top of the system's and `NODE_EXTRA_CA_CERTS`). */
  caFile?: string;
  /** Keep downloads in memory (LRU) so repeats cost no network. */
  cache: boolean;
  /** A directory for the disk cache tier (kept across restarts); empty: memory only. */
  cacheDir?: string;
  /** Remember what works per host and network across restarts, in Koishi's data directory (`data/detour`). */
  state: boolean;
  /** Host names checked for fake-IP DNS answers at start (e.g. `multimedia.nt.qq.com.cn`). */
  fakeIpNames: string[];
  /** Site presets (`qq`: Tencent's media CDN — rkey expiry, `&amp;`, sizes, Referer; `discord`, `telegram` need their token); default `['qq']`. */
  presets: string[];
  /** Discord bot token for the `discord` preset (refreshes expired attachment links; never logged). Given: the preset is on. */
  discordToken?: string;
  /** Telegram bot token for the `telegram` preset (masked as `bot***` everywhere). Given: the preset is on. */
  telegramToken?: string;
  /** A local Bot API server or reverse proxy whose file links the `telegram` preset recognises. */
  telegramApiBase?: string;
  /** The OneBot HTTP API (NapCat, LLOneBot, Lagrange) asked for a fresh rkey when a QQ link expired. */
  onebotApi?: string;
  /** The OneBot access token (sent as `Authorization: Bearer`; never logged). */
  onebotToken?: string;
  /** Detour's log level (the kit's `LOG_LEVELS`); lines go to Koishi's logger `detour`. */
  logLevel: LogLevel;
}

/** A Koishi form field's text: the front-end kit's description, as a sentence. */
const described = (name: OptionName) => {
  const text = OPTIONS[name].description;
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
};
/** The kit's closed list of values, as Koishi's union wants it. */
const valuesOf = (name: 'headersProfile' | 'presets' | 'logLevel') => OPTIONS[name].values.map(String);

export const Config: SchemaType<Config> = Schema.intersect([
  Schema.object({
    proxy: Schema.string()
      .role('link')
      .description(
        'Proxy URL for every request (http://, https://, socks5://, socks5h://). Empty: detected.',
      ),
    noProxy: Schema.boolean().default(false).description('Never use a proxy.'),
    allowPrivateNetwork: Schema.boolean()
      .default(false)
      .description('Allow loopback, private and link-local targets (refused by default).'),
    pinResolvedAddress: Schema.boolean()
      .default(false)
      .description(
        'Through proxies that resolve names (HTTP CONNECT, socks5h://), send the checked IP instead of the name. For links from untrusted users; breaks proxy rules that match on names.',
      ),
    timeoutMs: Schema.natural()
      .role('ms')
      .min(OPTIONS.timeoutMs.min)
      .max(OPTIONS.timeoutMs.max)
      .default(OPTIONS.timeoutMs.default)
      .description(described('timeoutMs')),
    maxBytes: Schema.natural()
      .min(OPTIONS.maxBytes.min)
      .default(OPTIONS.maxBytes.default)
      .description(described('maxBytes')),
  }).description('Network'),
  Schema.object({
    strategies: Schema.array(Schema.string())
      .default([])
      .description(
        'Strategies in order (direct, direct-bypass, tls-relaxed, curl, http-downgrade, placeholder). Empty: the detected plan.',
      ),
    placeholder: Schema.boolean()
      .default(false)
      .description('Last resort: a placeholder image, flagged degraded.'),
    insecureHosts: Schema.array(Schema.string()).default([]).description(described('insecureHosts')),
    allowDowngrade: Schema.array(Schema.string())
      .default([])
      .description(
        'Hosts allowed to fall back from https to http (*.qpic.cn wildcards; flagged downgraded).',
      ),
    headersProfile: Schema.union(valuesOf('headersProfile'))
      .default(OPTIONS.headersProfile.default ?? 'detour')
      .description(described('headersProfile')),
    curlPath: Schema.string().description('The curl binary. Empty: curl on PATH.'),
    caFile: Schema.string().description('A PEM file of extra trusted CAs.'),
  }).description('Strategies'),
  Schema.object({
    presets: Schema.array(Schema.union(valuesOf('presets')))
      .default([...(OPTIONS.presets.default ?? [])])
      .description(
        'Site presets. qq: Tencent media CDN (rkey expiry, &amp;, sizes, Referer); discord and telegram need their bot token below.',
      ),
    discordToken: Schema.string()
      .role('secret')
      .description(
        'Discord bot token: expired attachment links are refreshed (turns the discord preset on).',
      ),
    telegramToken: Schema.string()
      .role('secret')
      .description('Telegram bot token: masked as bot*** everywhere (turns the telegram preset on).'),
    telegramApiBase: Schema.string()
      .role('link')
      .description('A local Telegram Bot API server or reverse proxy. Empty: https://api.telegram.org.'),
    onebotApi: Schema.string()
      .role('link')
      .description(
        'OneBot HTTP API (NapCat, LLOneBot, Lagrange), e.g. http://127.0.0.1:3000: an expired QQ link gets a fresh rkey. Empty: no refresh.',
      ),
    onebotToken: Schema.string().role('secret').description('OneBot access token for that API.'),
  }).description('QQ'),
  Schema.object({
    cache: Schema.boolean().default(true).description('Keep downloads in memory so repeats cost no network.'),
    cacheDir: Schema.string().description('Disk cache directory, kept across restarts. Empty: memory only.'),
    state: Schema.boolean()
      .default(true)
      .description('Remember which strategy works per host and network across restarts (in data/detour).'),
    fakeIpNames: Schema.array(Schema.string())
      .default([])
      .description('Host names checked for fake-IP DNS answers at start (system resolver).'),
    logLevel: Schema.union(valuesOf('logLevel') as LogLevel[])
      .default('warn')
      .description('Detour log level (lines go to the Koishi logger "detour").'),
  }).description('Cache and logs'),
]);

/** The plugin's configuration in the composition root's terms (`createDetour`). */
export function detourOptions(config: Config, logger: DetourOptions['logger']): DetourOptions {
  const cacheDir = config.cacheDir?.trim();
  if (!config.cache && cacheDir) {
    throw new DetourUsageError('cacheDir needs cache: true', 'DETOUR_BAD_OPTION');
  }
  const onebotApi = config.onebotApi?.trim();
  if (onebotApi && !/^https?:\/\//i.test(onebotApi)) {
    throw new DetourUsageError(
      `onebotApi must be an http(s) URL, got ${JSON.stringify(onebotApi)}`,
      'DETOUR_BAD_OPTION',
    );
  }
  const proxy = config.proxy?.trim() || undefined;
  // The front-end kit's one validation (the CLI and serve use it too): FrontEndUsageError otherwise.
  const kit = validateOptions({
    proxy,
    noProxy: config.noProxy,
    timeoutMs: config.timeoutMs,
    maxBytes: config.maxBytes,
    strategies: config.strategies,
    insecureHosts: config.insecureHosts,
    allowDowngrade: config.allowDowngrade,
    headersProfile: config.headersProfile,
    presets: config.presets,
    logLevel: config.logLevel,
  });
  return {
    allowPrivateNetwork: config.allowPrivateNetwork,
    ...detourOptionsOf(kit),
    ...(config.pinResolvedAddress ? { pipeline: { pinResolvedAddress: true } } : {}),
    placeholder: config.placeholder,
    ...(config.curlPath?.trim() ? { curlPath: config.curlPath.trim() } : {}),
    ...(config.caFile?.trim() ? { ca: readCa(config.caFile.trim()) } : {}),
    cache: config.cache ? (cacheDir ? { dir: cacheDir } : {}) : false,
    fakeIpNames: config.fakeIpNames,
    ...(config.discordToken?.trim() ? { discordToken: config.discordToken.trim() } : {}),
    ...(config.telegramToken?.trim() ? { telegramToken: config.telegramToken.trim() } : {}),
    ...(config.telegramApiBase?.trim() ? { telegramApiBase: config.telegramApiBase.trim() } : {}),
    ...(onebotApi
      ? {
          refreshUrl: rkeyProvider({
            endpoint: onebotApi,
            ...(config.onebotToken ? { token: config.onebotToken } : {}),
          }).refreshUrl,
        }
      : {}),
    logger,
  };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new DetourUsageError(
      `caFile ${JSON.stringify(path)} cannot be read: ${(error as Error).message}`,
      'DETOUR_BAD_OPTION',
    );
  }
}
