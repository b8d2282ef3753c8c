/**
 * The Telegram twin: the Bot API's `getFile` and file links on `api.telegram.org`, on loopback
 * with a lab certificate for that real name (reach it with interceptLookup, as the Tencent twin).
 * Behaviours, as the Bot API documents them:
 * - `POST /bot<token>/getFile {file_id}` → `{ok, result: {file_id, file_unique_id, file_size, file_path}}`;
 *   a wrong token → 401, an unknown file_id → 400 "Bad Request: invalid file_id";
 * - `GET /file/bot<token>/<file_path>` serves the file; `expireLinks()` moves every file to a new
 *   path (as links lapse after an hour), and the old path answers 404.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { labCerts } from './certs.js';
import { listenTracked } from './listen.js';

export const TELEGRAM_TWIN_NAMES: readonly string[] = ['api.telegram.org'];

export interface TelegramHit {
  method: string;
  /** The path with the token replaced by `<token>` (the twin keeps no secret in its records). */
  path: string;
  status: number;
}

export interface TelegramTwin {
  readonly port: number;
  readonly token: string;
  /** `https://api.telegram.org:<port>` */
  readonly apiBase: string;
  readonly hits: TelegramHit[];
  /** The file_id of a file. */
  fileId(name: string): string;
  fileUniqueId(name: string): string;
  /** The file's download link as getFile gives it now (`<apiBase>/file/bot<token>/<file_path>`). */
  fileUrl(name: string): string;
  /** Every file moves to a new path: links given so far answer 404. */
  expireLinks(): void;
  close(): Promise<void>;
}

export interface TelegramTwinOptions {
  /** `size` overrides the `file_size` getFile reports (a file over the 20 MB limit without the bytes). */
  files: Record<string, { bytes: Buffer; size?: number; ext?: string }>;
  token?: string;
}

interface Entry {
  fileId: string;
  uniqueId: string;
  bytes: Buffer;
  size: number;
  ext: string;
  path: string;
}

/** The twin's state, shared by its request handlers. */
interface TelegramState {
  readonly token: string;
  readonly files: Map<string, Entry>;
  readonly hits: TelegramHit[];
  generation: number;
}

const telegramPathFor = (state: TelegramState, name: string, ext: string) =>
  `photos/file_${state.generation}_${name}.${ext}`;

function telegramReply(
  state: TelegramState,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: Buffer | unknown,
) {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  state.hits.push({
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split(state.token).join('<token>'),
    status,
  });
  res.writeHead(status, {
    'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json',
    'content-length': String(data.length),
  });
  res.end(req.method === 'HEAD' ? undefined : data);
}

function serveGetFile(
  state: TelegramState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
) {
  let fileId = url.searchParams.get('file_id') ?? undefined;
  try {
    fileId ??= (JSON.parse(body.toString('utf8')) as { file_id?: string }).file_id;
  } catch {}
  const entry = [...state.files.values()].find((f) => f.fileId === fileId);
  if (!entry)
    return telegramReply(state, req, res, 400, {
      ok: false,
      error_code: 400,
      description: 'Bad Request: invalid file_id',
    });
  return telegramReply(state, req, res, 200, {
    ok: true,
    result: {
      file_id: entry.fileId,
      file_unique_id: entry.uniqueId,
      file_size: entry.size,
      file_path: entry.path,
    },
  });
}

function serveTelegram(state: TelegramState, req: IncomingMessage, res: ServerResponse, body: Buffer) {
  const reply = (status: number, data: Buffer | unknown) => telegramReply(state, req, res, status, data);
  const url = new URL(req.url ?? '/', 'https://api.telegram.org');
  const unauthorized = { ok: false, error_code: 401, description: 'Unauthorized' };
  const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
  if (file) {
    if (decodeURIComponent(file[1]!) !== state.token) return reply(401, unauthorized);
    const path = decodeURIComponent(file[2]!);
    const entry = [...state.files.values()].find((f) => f.path === path);
    if (!entry) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
    return reply(200, entry.bytes);
  }
  const method = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname);
  if (!method) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
  if (decodeURIComponent(method[1]!) !== state.token) return reply(401, unauthorized);
  if (method[2] === 'getFile') return serveGetFile(state, req, res, url, body);
  return reply(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
}

export async function startTelegramTwin(options: TelegramTwinOptions): Promise<TelegramTwin> {
  const certs = labCerts();
  const token =
    options.token ??
    `${100000 + Math.floor(Math.random() * 900000)}:AA${randomBytes(24).toString('base64url')}`;
  const state: TelegramState = { token, files: new Map<string, Entry>(), hits: [], generation: 0 };
  const files = state.files;
  for (const [name, spec] of Object.entries(options.files)) {
    const ext = spec.ext ?? 'jpg';
    files.set(name, {
      fileId: `AgACAgIAAxk${randomBytes(12).toString('base64url')}`,
      uniqueId: `AQAD${randomBytes(6).toString('base64url')}`,
      bytes: spec.bytes,
      size: spec.size ?? spec.bytes.length,
      ext,
      path: telegramPathFor(state, name, ext),
    });
  }

  const server = createHttpsServer({ cert: certs.platforms.cert, key: certs.platforms.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => serveTelegram(state, req, res, Buffer.concat(chunks)));
  });
  const listening = await listenTracked(server);
  return {
    port: listening.port,
    token,
    apiBase: `https://api.telegram.org:${listening.port}`,
    hits: state.hits,
    fileId: (name) => files.get(name)!.fileId,
    fileUniqueId: (name) => files.get(name)!.uniqueId,
    fileUrl: (name) =>
      `https://api.telegram.org:${listening.port}/file/bot${state.token}/${files.get(name)!.path}`,
    expireLinks() {
      state.generation++;
      for (const [name, f] of files) f.path = telegramPathFor(state, name, f.ext);
    },
    close: () => listening.close(),
  };
}
