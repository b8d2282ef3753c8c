/**
 * The Discord twin: attachment links on `cdn.discordapp.com` / `media.discordapp.net` and the
 * `POST /api/v10/attachments/refresh-urls` endpoint on `discord.com`, on loopback with a lab
 * certificate for those real names (reach them with interceptLookup, as the Tencent twin).
 * Behaviours, as Discord documents and bot libraries report them:
 * - `/attachments/<channel>/<id>/<name>?ex=<hex unix expiry>&is=<hex issued>&hm=<signature>`: a link
 *   past `ex`, with a wrong `hm`, or of a deleted attachment answers 404 with the text body
 *   "This content is no longer available.";
 * - refresh-urls needs `Authorization: Bot <token>` (else 401), takes `{attachment_urls: [...]}`
 *   and answers `{refreshed_urls: [{original, refreshed}]}` with links valid for a day;
 * - `rateLimitNext(seconds)`: the next refresh call answers 429 `{retry_after}` with Retry-After.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { labCerts } from './certs.js';
import { listenTracked } from './listen.js';

export const DISCORD_TWIN_NAMES: readonly string[] = [
  'cdn.discordapp.com',
  'media.discordapp.net',
  'discord.com',
];
export const DISCORD_GONE_BODY = 'This content is no longer available.';

export interface DiscordHit {
  host: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface DiscordRefreshCall {
  urls: string[];
  status: number;
  /** When the call arrived (ms since the epoch). */
  at: number;
}

export interface DiscordAttachment {
  readonly name: string;
  readonly channelId: string;
  readonly id: string;
  readonly fileName: string;
  readonly bytes: Buffer;
  deleted: boolean;
}

export interface DiscordTwin {
  readonly port: number;
  readonly token: string;
  /** `https://discord.com:<port>/api/v10` */
  readonly apiBase: string;
  readonly hits: DiscordHit[];
  readonly refreshCalls: DiscordRefreshCall[];
  /** A signed link; `expiresIn` seconds from now (negative: already expired). */
  attachmentUrl(name: string, options?: { expiresIn?: number; host?: string; issued?: number }): string;
  /** The CDN stops serving the attachment (refresh still signs new links for it). */
  deleteAttachment(name: string): void;
  /** The next refresh call answers 429 with this `retry_after` (seconds). */
  rateLimitNext(retryAfterSeconds: number): void;
  close(): Promise<void>;
}

export interface DiscordTwinOptions {
  files: Record<string, { bytes: Buffer; fileName?: string; contentType?: string }>;
  token?: string;
}

/** The twin's state, shared by its request handlers. */
interface DiscordState {
  readonly secret: Buffer;
  readonly token: string;
  readonly files: DiscordTwinOptions['files'];
  readonly attachments: Map<string, DiscordAttachment>;
  readonly hits: DiscordHit[];
  readonly refreshCalls: DiscordRefreshCall[];
  limitNext: number | undefined;
  port: number;
}

function discordAttachments(files: DiscordTwinOptions['files']): Map<string, DiscordAttachment> {
  const attachments = new Map<string, DiscordAttachment>();
  let n = 0;
  for (const [name, spec] of Object.entries(files)) {
    n++;
    attachments.set(name, {
      name,
      channelId: `11${String(n).padStart(16, '0')}`,
      id: `12${String(n).padStart(16, '0')}`,
      fileName: spec.fileName ?? `${name}.png`,
      bytes: spec.bytes,
      deleted: false,
    });
  }
  return attachments;
}

const attachmentByPath = (state: DiscordState, path: string) =>
  [...state.attachments.values()].find((a) => path === `/attachments/${a.channelId}/${a.id}/${a.fileName}`);

const signLink = (state: DiscordState, path: string, ex: string, is: string) =>
  createHmac('sha256', state.secret).update(`${path}|${ex}|${is}`).digest('hex');

function linkFor(state: DiscordState, a: DiscordAttachment, host: string, expiresIn: number, issued: number) {
  const path = `/attachments/${a.channelId}/${a.id}/${a.fileName}`;
  const ex = Math.floor(Date.now() / 1000 + expiresIn).toString(16);
  const is = Math.floor(Date.now() / 1000 - issued).toString(16);
  return `https://${host}:${state.port}${path}?ex=${ex}&is=${is}&hm=${signLink(state, path, ex, is)}&`;
}

function serveCdn(state: DiscordState, req: IncomingMessage, res: ServerResponse, url: URL, host: string) {
  const q = Object.fromEntries(url.searchParams);
  const a = attachmentByPath(state, url.pathname);
  const fresh =
    a &&
    !a.deleted &&
    q.ex !== undefined &&
    parseInt(q.ex, 16) * 1000 > Date.now() &&
    q.hm === signLink(state, url.pathname, q.ex, q.is ?? '');
  const status = fresh ? 200 : 404;
  state.hits.push({ host, path: url.pathname, query: q, status });
  if (!fresh) {
    res.writeHead(404, {
      'content-type': 'text/plain',
      'content-length': String(DISCORD_GONE_BODY.length),
    });
    res.end(req.method === 'HEAD' ? undefined : DISCORD_GONE_BODY);
    return;
  }
  const type = state.files[a.name]?.contentType ?? 'image/png';
  res.writeHead(200, { 'content-type': type, 'content-length': String(a.bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : a.bytes);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(data.length),
    ...headers,
  });
  res.end(data);
}

function refreshUrlsOf(body: Buffer): string[] {
  let urls: string[] = [];
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { attachment_urls?: unknown };
    if (Array.isArray(parsed.attachment_urls)) urls = parsed.attachment_urls.map(String);
  } catch {}
  return urls;
}

function serveApi(state: DiscordState, req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) {
  const urls = refreshUrlsOf(body);
  const call = (status: number) => state.refreshCalls.push({ urls, status, at: Date.now() });
  if (req.method !== 'POST' || url.pathname !== '/api/v10/attachments/refresh-urls') {
    call(404);
    return sendJson(res, 404, { message: '404: Not Found', code: 0 });
  }
  if (req.headers.authorization !== `Bot ${state.token}`) {
    call(401);
    return sendJson(res, 401, { message: '401: Unauthorized', code: 0 });
  }
  if (state.limitNext !== undefined) {
    const retryAfter = state.limitNext;
    state.limitNext = undefined;
    call(429);
    return sendJson(
      res,
      429,
      { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
      { 'retry-after': String(Math.ceil(retryAfter)) },
    );
  }
  call(200);
  const refreshed = urls.flatMap((original) => {
    try {
      const u = new URL(original);
      const a = attachmentByPath(state, u.pathname);
      return a ? [{ original, refreshed: linkFor(state, a, u.hostname, 86_400, 0) }] : [];
    } catch {
      return [];
    }
  });
  sendJson(res, 200, { refreshed_urls: refreshed });
}

export async function startDiscordTwin(options: DiscordTwinOptions): Promise<DiscordTwin> {
  const certs = labCerts();
  const secret = randomBytes(16);
  const token =
    options.token ?? `MTA${randomBytes(18).toString('base64url')}.Gx${randomBytes(4).toString('hex')}`;
  const state: DiscordState = {
    secret,
    token,
    files: options.files,
    attachments: discordAttachments(options.files),
    hits: [],
    refreshCalls: [],
    limitNext: undefined,
    port: 0,
  };

  const server = createHttpsServer({ cert: certs.platforms.cert, key: certs.platforms.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const url = new URL(req.url ?? '/', 'https://x');
      if (host === 'discord.com') serveApi(state, req, res, url, Buffer.concat(chunks));
      else serveCdn(state, req, res, url, host);
    });
  });
  const listening = await listenTracked(server);
  const port = listening.port;
  state.port = port;
  return {
    port,
    token,
    apiBase: `https://discord.com:${port}/api/v10`,
    hits: state.hits,
    refreshCalls: state.refreshCalls,
    attachmentUrl(name, o = {}) {
      const a = state.attachments.get(name);
      if (!a) throw new Error(`discord twin: no attachment ${name}`);
      return linkFor(state, a, o.host ?? 'cdn.discordapp.com', o.expiresIn ?? 86_400, o.issued ?? 60);
    },
    deleteAttachment(name) {
      const a = state.attachments.get(name);
      if (a) a.deleted = true;
    },
    rateLimitNext(seconds) {
      state.limitNext = seconds;
    },
    close: () => listening.close(),
  };
}
