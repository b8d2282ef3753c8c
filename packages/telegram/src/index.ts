/**
 * `@detour/telegram`: Telegram Bot API file links as a Detour preset.
 *
 * A file link is `{apiBase}/file/bot<token>/<file_path>`: the bot's token sits in the path, so the
 * preset declares that segment secret (every output shows `bot***`). Links last at least an hour and
 * are renewed with `getFile(file_id)`; `telegramFile(fileId)` resolves, fetches, and on a 404 asks
 * `getFile` again. Bots may download up to 20 MB: a larger `file_size` fails before any download.
 */
import {
  DetourError,
  DetourUsageError,
  type FetchOptions,
  type FetchResult,
  type Pipeline,
  type Preset,
  redactText,
  registerSecrets,
  requestJson,
} from '@detour/core';

export const TELEGRAM_PRESET_NAME = 'telegram';
export const TELEGRAM_API_BASE = 'https://api.telegram.org';
/** What the official Bot API lets a bot download. */
export const TELEGRAM_MAX_FILE_BYTES = 20 * 1024 * 1024;

/** A bot token in a path segment (`bot123456:AA…`): the token part is masked. */
export const TELEGRAM_TOKEN_SEGMENT = /^bot(\d+:[\w-]+)$/;
const TOKEN = /^\d+:[\w-]+$/;

// Masked in every output of this process once the package is loaded, whether or not a pipeline
// carries the preset (a token quoted by a caller's own log line is masked too).
registerSecrets({ pathSegments: TELEGRAM_TOKEN_SEGMENT });

export interface TelegramPresetOptions {
  /** The bot token (`123456:AA…`). */
  token: string;
  /** A local Bot API server or reverse proxy (default `https://api.telegram.org`); file links under it are recognised too. */
  apiBase?: string;
  /** The largest file `telegramFile` downloads (default 20 MB, the official limit; a local server allows more). */
  maxFileBytes?: number;
  /** Extra trusted CA certificates for `getFile` (a local server's). */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Deadline of one `getFile` call (default 10 s). */
  apiTimeoutMs?: number;
}

/** What `getFile` says of a file. */
export interface TelegramFile {
  fileId: string;
  fileUniqueId: string;
  fileSize: number | undefined;
  filePath: string;
  /** The download link (holds the token: show it only through `redactUrl`). */
  url: string;
}

export interface TelegramPreset extends Preset {
  readonly apiBase: string;
  /** Ask `getFile` for a file; fails before any download when it is over the size limit. */
  getFile(fileId: string, signal?: AbortSignal): Promise<TelegramFile>;
  /** Resolve `fileId` through `getFile` and fetch it with `pipeline` (which must carry this preset); a 404 asks `getFile` again. */
  telegramFile(fileId: string, options: FetchOptions & { pipeline: Pipeline }): Promise<FetchResult>;
}

const bases = (apiBase: string) => {
  const base = new URL(apiBase);
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new DetourUsageError('telegram apiBase must be an http(s) URL', 'DETOUR_BAD_PRESET');
  const official = new URL(TELEGRAM_API_BASE);
  const list = [official, base].map((u) => ({ origin: u.origin, path: u.pathname.replace(/\/+$/, '') }));
  return list.filter((b, i) => list.findIndex((o) => o.origin === b.origin && o.path === b.path) === i);
};

/** The file path of a file link of this bot (under one of `known`), or undefined. */
function filePathOf(known: ReturnType<typeof bases>, url: URL): string | undefined {
  for (const b of known) {
    if (url.origin !== b.origin) continue;
    const prefix = `${b.path}/file/bot`;
    if (!url.pathname.startsWith(prefix)) continue;
    const rest = url.pathname.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash > 0) return rest.slice(slash + 1);
  }
  return undefined;
}

/** What `getFile` needs of its preset. */
interface GetFileContext {
  readonly apiBase: string;
  readonly token: string;
  readonly options: TelegramPresetOptions;
  readonly maxFileBytes: number;
  /** file_path → file_unique_id, for links getFile gave (bounded). */
  readonly uniqueIds: Map<string, string>;
}

/** Ask the Bot API's `getFile` for `fileId`, remember its file_unique_id, and build its file link. */
async function callGetFile(ctx: GetFileContext, fileId: string, signal?: AbortSignal): Promise<TelegramFile> {
  const { apiBase, token, options, maxFileBytes, uniqueIds } = ctx;
  if (typeof fileId !== 'string' || fileId === '')
    throw new DetourUsageError('telegramFile needs a file_id', 'DETOUR_BAD_INPUT');
  const endpoint = `${apiBase}/bot${token}/getFile`;
  let answer: Awaited<ReturnType<typeof requestJson>>;
  try {
    answer = await requestJson(endpoint, {
      body: { file_id: fileId },
      ca: options.ca,
      signal,
      timeoutMs: options.apiTimeoutMs ?? 10_000,
    });
  } catch (cause) {
    throw apiError(`getFile failed: ${redactText(String((cause as Error)?.message ?? cause))}`);
  }
  const data = answer.data as
    | { ok?: boolean; description?: string; result?: Record<string, unknown> }
    | undefined;
  const description = typeof data?.description === 'string' ? redactText(data.description) : '';
  if (/file is too big/i.test(description)) throw tooLarge(undefined, maxFileBytes);
  const result = data?.result;
  if (answer.status !== 200 || data?.ok !== true || !result || typeof result.file_path !== 'string') {
    throw apiError(`getFile answered HTTP ${answer.status}${description ? `: ${description}` : ''}`);
  }
  const fileSize = typeof result.file_size === 'number' ? result.file_size : undefined;
  if (fileSize !== undefined && fileSize > maxFileBytes) throw tooLarge(fileSize, maxFileBytes);
  const fileUniqueId = String(result.file_unique_id ?? fileId);
  if (uniqueIds.size >= 10_000) uniqueIds.delete(uniqueIds.keys().next().value as string);
  uniqueIds.set(result.file_path, fileUniqueId);
  const filePath = result.file_path;
  const encoded = filePath.split('/').map(encodeURIComponent).join('/');
  return { fileId, fileUniqueId, fileSize, filePath, url: `${apiBase}/file/bot${token}/${encoded}` };
}

/**
 * The preset: file links on the official host and under `apiBase`; a 404 on one is `url-expired`
 * (renewed by `getFile`); the cache key is `file_unique_id` for links `getFile` gave, else the file
 * path without the token; the token segment is secret everywhere.
 */
export function telegramPreset(options: TelegramPresetOptions): TelegramPreset {
  const token = options.token;
  if (typeof token !== 'string' || !TOKEN.test(token))
    throw new DetourUsageError('telegramPreset needs a bot token like 123456:AA…', 'DETOUR_BAD_PRESET');
  const apiBase = (options.apiBase ?? TELEGRAM_API_BASE).replace(/\/+$/, '');
  const known = bases(apiBase);
  const maxFileBytes = options.maxFileBytes ?? TELEGRAM_MAX_FILE_BYTES;
  /** file_path → file_unique_id, for links getFile gave (bounded). */
  const uniqueIds = new Map<string, string>();
  const ctx: GetFileContext = { apiBase, token, options, maxFileBytes, uniqueIds };
  const getFile = (fileId: string, signal?: AbortSignal) => callGetFile(ctx, fileId, signal);

  return {
    name: TELEGRAM_PRESET_NAME,
    apiBase,
    secretPathSegments: TELEGRAM_TOKEN_SEGMENT,
    handles: (url) => filePathOf(known, url) !== undefined,
    cacheKey(url) {
      const path = filePathOf(known, url);
      if (path === undefined) return undefined;
      const unique = uniqueIds.get(decodeURIComponent(path));
      return unique ? `telegram:file:${unique}` : `telegram:path:${url.origin}/${path}`;
    },
    classifyResponse: (sample) =>
      sample.status === 404
        ? {
            failureClass: 'url-expired',
            code: 'DETOUR_URL_EXPIRED',
            message:
              'Telegram no longer serves this file link (links last about an hour; getFile renews them)',
          }
        : undefined,
    getFile,
    async telegramFile(fileId, { pipeline, ...fetchOptions }) {
      const file = await getFile(fileId, fetchOptions.signal);
      const refreshUrl = async () => (await getFile(fileId, fetchOptions.signal)).url;
      return pipeline.fetch(file.url, {
        refreshUrl,
        ...(file.fileSize !== undefined && fetchOptions.expectedBytes === undefined
          ? { expectedBytes: file.fileSize }
          : {}),
        ...fetchOptions,
      });
    },
  };
}

function apiError(message: string): DetourError {
  return new DetourError(message, { failureClass: 'http-status', code: 'DETOUR_PLATFORM_API' });
}

function tooLarge(size: number | undefined, limit: number): DetourError {
  const what = size === undefined ? 'the file' : `the file (${size} bytes)`;
  return new DetourError(
    `${what} exceeds the Bot API download limit of ${limit} bytes: not downloaded (a local Bot API server allows larger files; set maxFileBytes)`,
    { failureClass: 'too-large', code: 'DETOUR_TOO_LARGE' },
  );
}
