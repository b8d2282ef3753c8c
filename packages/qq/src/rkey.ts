/**
 * `rkeyProvider()`: a `refreshUrl` for OneBot implementations. It asks the bot's OneBot HTTP API
 * for the current rkeys (`nc_get_rkey` on NapCat, else `get_rkey` as NapCat, LLOneBot and Lagrange
 * answer it), keeps them until their ttl, and swaps the `rkey` of an expired URL for the key of
 * the right type (private for appid 1406, group for 1407, from the fileid when it says).
 */
import type { RefreshUrl } from '@detour/core';
import { fileIdOf } from './preset.js';

export type RkeyType = 'private' | 'group';

export interface Rkey {
  type: RkeyType;
  /** The key without a leading `&rkey=`. */
  rkey: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface RkeyProviderOptions {
  /** The OneBot HTTP API, e.g. `http://127.0.0.1:3000`. */
  endpoint: string;
  /** OneBot access token (sent as `Authorization: Bearer`). */
  token?: string;
  /** Actions to try, in order (default `['nc_get_rkey', 'get_rkey']`). */
  actions?: string[];
  /** Deadline of one OneBot call in ms (default 5000). */
  timeoutMs?: number;
  /** Key lifetime when the answer gives none, in seconds (default 600). */
  defaultTtlSeconds?: number;
  now?: () => number;
  /** The fetch to call the API with (default the global one). */
  fetch?: typeof fetch;
}

export interface RkeyProvider {
  /** `refreshUrl` for `createPipeline({ refreshUrl })` or a fetch's options. */
  readonly refreshUrl: RefreshUrl;
  /** The current keys (cached until their ttl; `force` asks OneBot again). */
  keys(force?: boolean): Promise<Rkey[]>;
}

/** appid → rkey type: 1406 and other private ids → private; 1407 → group. */
export function rkeyTypeFor(appid: number | undefined): RkeyType {
  return appid === 1406 ? 'private' : 'group';
}

const stripPrefix = (rkey: string) => rkey.replace(/^&?rkey=/, '');

/** Normalise the answers of `nc_get_rkey` and the `get_rkey` variants (NapCat, LLOneBot, Lagrange). */
export function parseRkeyAnswer(data: unknown, now: number, defaultTtlSeconds = 600): Rkey[] {
  const keys: Rkey[] = [];
  const expiry = (created: unknown, ttl: unknown) => {
    const ttlSeconds = Number(ttl);
    const createdSeconds = Number(created);
    const base = Number.isFinite(createdSeconds) && createdSeconds > 0 ? createdSeconds * 1000 : now;
    return base + (Number.isFinite(ttlSeconds) && ttlSeconds > 0 ? ttlSeconds : defaultTtlSeconds) * 1000;
  };
  const typeOf = (type: unknown): RkeyType | undefined =>
    type === 10 || type === '10' || type === 'private'
      ? 'private'
      : type === 20 || type === '20' || type === 'group'
        ? 'group'
        : undefined;
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object' && Array.isArray((data as { rkeys?: unknown }).rkeys)
      ? (data as { rkeys: unknown[] }).rkeys
      : undefined;
  if (list) {
    for (const item of list) {
      if (!item || typeof item !== 'object') continue;
      const { rkey, type, ttl, time, created_at } = item as Record<string, unknown>;
      const kind = typeOf(type);
      if (typeof rkey !== 'string' || !kind) continue;
      keys.push({ type: kind, rkey: stripPrefix(rkey), expiresAt: expiry(time ?? created_at, ttl) });
    }
    return keys;
  }
  if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    const expired = Number(o.expired_time);
    const expiresAt =
      Number.isFinite(expired) && expired > 0 ? expired * 1000 : now + defaultTtlSeconds * 1000;
    for (const [type, field] of [
      ['private', o.private_key ?? o.private_rkey],
      ['group', o.group_key ?? o.group_rkey],
    ] as const) {
      if (typeof field === 'string' && field) keys.push({ type, rkey: stripPrefix(field), expiresAt });
    }
  }
  return keys;
}

/** Calls one rkey action: the keys it answered, or why it gave none. */
async function askAction(
  options: RkeyProviderOptions,
  call: typeof fetch,
  url: string,
  now: () => number,
): Promise<Rkey[] | string> {
  try {
    const response = await call(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: '{}',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    const answer = (await response.json().catch(() => undefined)) as
      | { status?: string; retcode?: number; data?: unknown }
      | undefined;
    if (!response.ok || !answer || (answer.status !== undefined && answer.status !== 'ok')) {
      return `HTTP ${response.status}${answer?.retcode !== undefined ? ` retcode ${answer.retcode}` : ''}`;
    }
    const keys = parseRkeyAnswer(answer.data, now(), options.defaultTtlSeconds);
    return keys.length ? keys : 'no keys in the answer';
  } catch (error) {
    return (error as Error)?.message ?? String(error);
  }
}

export function rkeyProvider(options: RkeyProviderOptions): RkeyProvider {
  const now = options.now ?? Date.now;
  const call = options.fetch ?? fetch;
  const actions = options.actions ?? ['nc_get_rkey', 'get_rkey'];
  const endpoint = options.endpoint.replace(/\/+$/, '');
  let cached: Rkey[] = [];
  let pending: Promise<Rkey[]> | undefined;

  async function ask(): Promise<Rkey[]> {
    const failures: string[] = [];
    for (const action of actions) {
      const outcome = await askAction(options, call, `${endpoint}/${action}`, now);
      if (Array.isArray(outcome)) return outcome;
      failures.push(`${action}: ${outcome}`);
    }
    throw new Error(`OneBot gave no rkey (${failures.join('; ')})`);
  }

  async function keys(force = false): Promise<Rkey[]> {
    const t = now();
    if (!force && cached.length && cached.every((k) => k.expiresAt > t)) return cached;
    pending ??= ask().finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return cached;
  }

  const refreshUrl: RefreshUrl = async (input) => {
    const url = new URL(input);
    const type = rkeyTypeFor(fileIdOf(url)?.appid ?? numberOr(url.searchParams.get('appid')));
    const current = url.searchParams.get('rkey') ?? undefined;
    let key = (await keys()).find((k) => k.type === type);
    // The cached key is the one that just expired (or was refused): ask OneBot again.
    if (!key || key.rkey === current) key = (await keys(true)).find((k) => k.type === type);
    if (!key || key.rkey === current) return undefined;
    url.searchParams.set('rkey', key.rkey);
    return url.toString();
  };

  return { refreshUrl, keys };
}

function numberOr(value: string | null): number | undefined {
  const n = Number(value);
  return value !== null && Number.isFinite(n) ? n : undefined;
}
