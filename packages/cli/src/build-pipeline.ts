import {
  createLogger,
  createPipeline,
  type Pipeline,
  type PipelineOptions,
  type Plugin,
  tencentCacheKey,
} from '@detour/core';
import { register as registerCurl } from '@detour/curl';
import { createEnvironment } from '@detour/detect';
import { register as registerDowngrade } from '@detour/http-downgrade';
import { register as registerPlaceholder } from '@detour/placeholder';
import { register as registerTlsRelaxed } from '@detour/tls-relaxed';
import { UsageError } from './io.js';

/** Everything the CLI's flags can say about how to build a pipeline. */
export interface PipelineFlags {
  proxy?: string | undefined;
  noProxy?: boolean | undefined;
  allowPrivate?: boolean | undefined;
  strategies?: string[] | undefined;
  timeoutMs?: number | undefined;
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
  /** No cache at all: neither read nor written (`--no-cache`). */
  noCache?: boolean | undefined;
}

/** `443=80` pairs → the port map http-downgrade takes (for every opted-in host). */
function portMap(hosts: string[], pairs: string[]): Record<string, number> {
  const map: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^(\d{1,5})=(\d{1,5})$/.exec(pair);
    if (!match)
      throw new UsageError(`--downgrade-port takes HTTPS_PORT=HTTP_PORT, got ${JSON.stringify(pair)}`);
    for (const host of hosts) map[`${host}:${match[1]}`] = Number(match[2]);
  }
  return map;
}

/**
 * The strategy set the CLI ships, in the default order: core's direct and direct-bypass, then
 * tls-relaxed, curl, http-downgrade (only with opted-in hosts) and placeholder (only when asked).
 */
export function strategyPlugins(flags: PipelineFlags): Plugin[] {
  const insecureHosts = flags.insecureHosts ?? [];
  const plugins: Plugin[] = [
    (c) => registerTlsRelaxed(c, { insecureHosts }),
    (c) => registerCurl(c, { insecureHosts, ...(flags.curlPath ? { curlPath: flags.curlPath } : {}) }),
  ];
  const hosts = flags.allowDowngrade ?? [];
  if (hosts.length) {
    plugins.push((c) => registerDowngrade(c, { hosts, ports: portMap(hosts, flags.downgradePorts ?? []) }));
  } else if (flags.downgradePorts?.length) {
    throw new UsageError('--downgrade-port needs --allow-downgrade');
  }
  if (flags.placeholder) plugins.push((c) => registerPlaceholder(c));
  return plugins;
}

/** The strategies `detour fetch` registers by default, in their default order. */
export const CLI_STRATEGIES: readonly string[] = ['direct', 'direct-bypass', 'tls-relaxed', 'curl'];

/**
 * Detect the environment for one fetch: env and OS proxy settings (an explicit `--proxy` or
 * `--no-proxy` wins), TUN, and whether the target host resolves into a fake-IP range (asked
 * through the OS resolver, as the connection would; no other DNS query is made).
 */
export function environmentFor(flags: PipelineFlags, env: Record<string, string | undefined>, url: URL) {
  return createEnvironment({
    env,
    ...(flags.proxy ? { proxy: flags.proxy } : flags.noProxy ? { proxy: false } : {}),
    fakeIp: { names: [url.hostname.replace(/^\[|\]$/g, '')], via: 'system', timeoutMs: 1_000 },
    ...(flags.allowDowngrade?.length ? { downgradeHosts: flags.allowDowngrade } : {}),
  });
}

/** Compose core with the strategy packages and the detected environment, as the CLI ships them. */
export async function buildPipeline(
  flags: PipelineFlags,
  env: Record<string, string | undefined>,
  url: URL,
): Promise<Pipeline> {
  const environment = await environmentFor(flags, env, url);
  const options: PipelineOptions = {
    environment,
    allowPrivateNetwork: !!flags.allowPrivate,
    logger: createLogger(flags.logLevel ?? 'warn'),
    use: strategyPlugins(flags),
    ...(flags.proxy ? { proxy: flags.proxy } : flags.noProxy ? { proxy: false } : {}),
    ...(flags.strategies?.length ? { strategies: flags.strategies } : {}),
    ...(flags.timeoutMs ? { timeoutMs: flags.timeoutMs } : {}),
    ...(flags.maxBytes ? { maxBytes: flags.maxBytes } : {}),
    ...(flags.headersProfile ? { headersProfile: flags.headersProfile } : {}),
    ...(flags.ca ? { ca: flags.ca } : {}),
    // One run fetches one URL: the in-memory tier would never be read again, so the CLI caches on
    // disk only, and only when asked. Tencent's expiring `rkey` does not split the cache.
    cache:
      flags.noCache || !flags.cacheDir
        ? false
        : { memory: false, dir: flags.cacheDir, cacheKey: tencentCacheKey },
  };
  return createPipeline(options);
}
