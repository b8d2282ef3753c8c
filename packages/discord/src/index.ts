/**
 * `@detour/discord`: Discord attachment links as a Detour preset.
 *
 * A link is `https://cdn.discordapp.com/attachments/<channel>/<attachment>/<name>?ex=&is=&hm=`
 * (or the media proxy, `media.discordapp.net`, with its `width`/`height`/`format` parameters).
 * `ex` is the expiry in hex Unix seconds, read locally: a link past it is refreshed before any
 * request. A 404 "This content is no longer available." is `url-expired`. Refresh goes through
 * `POST {apiBase}/attachments/refresh-urls` with the bot token; concurrent refreshes share one
 * call, and a 429 is waited out for its `retry_after`. The cache key drops `ex`, `is` and `hm`.
 */
import { DetourUsageError, type Preset, type RefreshUrl, redactText, requestJson } from '@detour/core';

export const DISCORD_PRESET_NAME = 'discord';
export const DISCORD_API_BASE = 'https://discord.com/api/v10';
export const DISCORD_CDN_HOSTS: readonly string[] = ['cdn.discordapp.com', 'media.discordapp.net'];
/** The body of Discord's 404 for a link it no longer serves. */
export const DISCORD_GONE_TEXT = 'This content is no longer available.';
/** Signature parameters: they differ between links to one attachment and never reach a cache key. */
const SIGNATURE_PARAMS = new Set(['ex', 'is', 'hm']);
/** The API takes at most this many links per refresh call. */
const BATCH_LIMIT = 50;

export interface DiscordPresetOptions {
  /** The bot token (sent as `Authorization: Bot <token>`; never in any output). */
  token: string;
  /** Default `https://discord.com/api/v10`. */
  apiBase?: string;
  /** Extra trusted CA certificates for the API (a proxy's). */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Deadline of one refresh call (default 10 s). */
  apiTimeoutMs?: number;
  /** How long a refresh waits to gather other links into the same call (default 10 ms). */
  batchWindowMs?: number;
  /** The longest `retry_after` waited out (default 30 s); longer fails the refresh. */
  maxRetryAfterMs?: number;
}

export interface DiscordPreset extends Preset {
  readonly refreshUrl: RefreshUrl;
  readonly apiBase: string;
}

/** Whether `url` is a Discord attachment link. */
export function isDiscordAttachment(url: URL): boolean {
  return (
    DISCORD_CDN_HOSTS.includes(url.hostname.toLowerCase()) &&
    /^\/(ephemeral-)?attachments\/\d+\/\d+\/[^/]+$/.test(url.pathname)
  );
}

/** The expiry a link carries (`ex`, hex Unix seconds), in ms since the epoch. */
export function discordExpiry(url: URL): number | undefined {
  const ex = url.searchParams.get('ex');
  if (!ex || !/^[0-9a-f]{1,12}$/i.test(ex)) return undefined;
  return parseInt(ex, 16) * 1000;
}

/** Host, channel, attachment id, file name and the media proxy's parameters; no `ex`/`is`/`hm`. */
export function discordCacheKey(url: URL): string {
  const kept = [...url.searchParams].filter(([name]) => !SIGNATURE_PARAMS.has(name.toLowerCase()));
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(kept).toString();
  return `discord:${url.hostname.toLowerCase()}${url.pathname}${query ? `?${query}` : ''}`;
}

interface Waiting {
  url: string;
  resolve(url: string | undefined): void;
  reject(error: Error): void;
}

export function discordPreset(options: DiscordPresetOptions): DiscordPreset {
  const token = options.token;
  if (typeof token !== 'string' || token.trim() === '' || /\s/.test(token))
    throw new DetourUsageError('discordPreset needs a bot token', 'DETOUR_BAD_PRESET');
  const apiBase = (options.apiBase ?? DISCORD_API_BASE).replace(/\/+$/, '');
  try {
    new URL(apiBase);
  } catch {
    throw new DetourUsageError('discord apiBase must be a URL', 'DETOUR_BAD_PRESET');
  }
  const refreshUrl = batchedRefresh(apiBase, token, options);
  return {
    name: DISCORD_PRESET_NAME,
    apiBase,
    handles: isDiscordAttachment,
    expiresAt: discordExpiry,
    cacheKey: discordCacheKey,
    // `hm` signs the link: a capability to the file until `ex`.
    secretQueryParams: ['hm'],
    classifyResponse: (sample) =>
      sample.status === 404 && sample.head.toString('utf8').includes(DISCORD_GONE_TEXT)
        ? {
            failureClass: 'url-expired',
            code: 'DETOUR_URL_EXPIRED',
            message: `Discord: "${DISCORD_GONE_TEXT}" (the link expired or the attachment is gone)`,
          }
        : undefined,
    refreshUrl,
  };
}

/** One refresh-urls call, waiting out a 429's retry_after (at most twice, each within maxRetryAfterMs). */
async function callRefreshUrls(
  apiBase: string,
  token: string,
  options: DiscordPresetOptions,
  /** No call before `notBefore` (a 429's retry_after), shared by the calls of one preset. */
  limit: { notBefore: number },
  urls: string[],
): Promise<Map<string, string>> {
  const mask = (text: string) => redactText(text.split(token).join('***'));
  const maxWait = options.maxRetryAfterMs ?? 30_000;
  for (let attempt = 0; ; attempt++) {
    const wait = limit.notBefore - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const answer = await requestJson(`${apiBase}/attachments/refresh-urls`, {
      body: { attachment_urls: urls },
      headers: { authorization: `Bot ${token}` },
      ca: options.ca,
      timeoutMs: options.apiTimeoutMs ?? 10_000,
    }).catch((error: unknown) => {
      throw new Error(`Discord refresh-urls failed: ${mask(String((error as Error)?.message ?? error))}`);
    });
    if (answer.status === 429) {
      const ms = retryAfterMs(answer.data, answer.headers['retry-after']);
      if (attempt >= 2 || ms > maxWait)
        throw new Error(`Discord refresh-urls is rate limited (retry_after ${ms} ms)`);
      limit.notBefore = Math.max(limit.notBefore, Date.now() + ms);
      continue;
    }
    const data = answer.data as { refreshed_urls?: Array<{ original?: string; refreshed?: string }> };
    if (answer.status !== 200 || !Array.isArray(data?.refreshed_urls))
      throw new Error(`Discord refresh-urls answered HTTP ${answer.status}`);
    const map = new Map<string, string>();
    for (const r of data.refreshed_urls)
      if (typeof r?.original === 'string' && typeof r.refreshed === 'string')
        map.set(r.original, r.refreshed);
    return map;
  }
}

/** A `refreshUrl` that gathers the links asked for within a short window into one API call. */
function batchedRefresh(apiBase: string, token: string, options: DiscordPresetOptions): RefreshUrl {
  const queue: Waiting[] = [];
  let scheduled = false;
  /** No call before this time (a 429's retry_after). */
  const limit = { notBefore: 0 };
  const call = (urls: string[]) => callRefreshUrls(apiBase, token, options, limit, urls);

  function schedule(ms: number): void {
    scheduled = true;
    setTimeout(flush, ms);
  }

  function flush(): void {
    scheduled = false;
    const batch = queue.splice(0, BATCH_LIMIT);
    if (queue.length) schedule(0);
    const urls = [...new Set(batch.map((w) => w.url))];
    call(urls).then(
      (map) => {
        for (const w of batch) w.resolve(map.get(w.url));
      },
      (error: Error) => {
        for (const w of batch) w.reject(error);
      },
    );
  }

  return (url) =>
    new Promise<string | undefined>((resolve, reject) => {
      queue.push({ url, resolve, reject });
      if (!scheduled) schedule(options.batchWindowMs ?? 10);
    });
}

/** `retry_after` (seconds, JSON) or the Retry-After header, in ms (at least 1 s when neither parses). */
function retryAfterMs(data: unknown, header: string | string[] | undefined): number {
  const body = (data as { retry_after?: unknown } | undefined)?.retry_after;
  if (typeof body === 'number' && Number.isFinite(body) && body >= 0) return Math.ceil(body * 1000);
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(value) && value >= 0 ? Math.ceil(value * 1000) : 1000;
}
