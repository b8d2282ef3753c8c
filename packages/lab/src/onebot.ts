/**
 * A fake OneBot v11 implementation (the role NapCat, LLOneBot or Lagrange play) on loopback: one
 * port serves
 * - the **forward WebSocket** (`ws://127.0.0.1:PORT/`: events pushed, API calls answered;
 *   `/event` events only, `/api` calls only), with `Authorization: Bearer TOKEN` or
 *   `?access_token=TOKEN` checked at the upgrade (401 otherwise, as NapCat does);
 * - the **HTTP API** (`POST /<action>` with JSON params, `GET /<action>?k=v`), same token rule;
 * - the **HTTP POST event stream** (OneBot's "http post" / webhook): `emit()` POSTs each event to
 *   `postUrl` with `X-Self-ID` and, with a `secret`, `X-Signature: sha1=<HMAC-SHA1 of the body>`.
 * Actions are handlers given by the caller (the Tencent twin adds the rkey ones); every call is
 * recorded. Event builders below produce the shapes recorded from NapCat / LLOneBot / Lagrange
 * (segment arrays with string `file_size`, or CQ-code strings with CQ escaping).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { listenTracked } from './listen.js';

export type OneBotParams = Record<string, unknown>;
/** An action handler: returns the `data` of the answer; throwing answers `status: 'failed'`. */
export type OneBotAction = (params: OneBotParams) => unknown;

export interface OneBotCall {
  action: string;
  params: OneBotParams;
  via: 'http' | 'ws';
}

export interface OneBotOptions {
  /** Access token required on every connection and call; default none. */
  token?: string;
  /** The bot's QQ number in events and `X-Self-ID` (default 3889000001). */
  selfId?: number;
  /** Actions answered by the HTTP API and over the WebSocket (`get_login_info` is built in). */
  actions?: Record<string, OneBotAction>;
  /** HTTP POST delivery: `emit()` POSTs every event here (can be set later with `setPostUrl`). */
  postUrl?: string;
  /** HMAC-SHA1 secret for `X-Signature` on posted events. */
  secret?: string;
}

export interface OneBot {
  /** `http://127.0.0.1:PORT`: the HTTP API. */
  readonly url: string;
  /** `ws://127.0.0.1:PORT`: the forward WebSocket (events and API). */
  readonly wsUrl: string;
  readonly port: number;
  readonly selfId: number;
  /** The name of every action called (refused ones too), oldest first; clear with `calls.length = 0`. */
  readonly calls: string[];
  /** The same calls with their params and transport (answered ones only). */
  readonly requests: OneBotCall[];
  /** Connections and calls refused for a missing or wrong token. */
  readonly refused: number;
  /** WebSocket clients currently connected (event-receiving ones). */
  connections(): number;
  /** Resolves once `count` event-receiving clients are connected (rejects after `timeoutMs`). */
  waitForConnections(count?: number, timeoutMs?: number): Promise<void>;
  setPostUrl(url: string | undefined): void;
  /**
   * Deliver an event: sent to every event-receiving WebSocket client and, with a post URL, POSTed
   * there; resolves with the webhook's status (or undefined without one).
   */
  emit(event: OneBotEvent): Promise<number | undefined>;
  close(): Promise<void>;
}

export type OneBotEvent = Record<string, unknown>;

const DEFAULT_SELF_ID = 3_889_000_001;

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header) return header.replace(/^(Bearer|Token)\s+/i, '');
  return url.searchParams.get('access_token') ?? undefined;
}

function answer(data: unknown, echo?: unknown): Record<string, unknown> {
  return {
    status: 'ok',
    retcode: 0,
    data: data ?? null,
    message: '',
    wording: '',
    ...(echo ? { echo } : {}),
  };
}

function failure(retcode: number, message: string, echo?: unknown): Record<string, unknown> {
  return { status: 'failed', retcode, data: null, message, wording: message, ...(echo ? { echo } : {}) };
}

/** A running fake's state, shared by its HTTP and WebSocket handlers and its public methods. */
interface BotState {
  options: OneBotOptions;
  selfId: number;
  calls: string[];
  requests: OneBotCall[];
  refused: number;
  postUrl: string | undefined;
  actions: Record<string, OneBotAction>;
  eventClients: Set<WebSocket>;
  waiters: Set<() => void>;
}

async function runAction(
  state: BotState,
  action: string,
  params: OneBotParams,
  via: 'http' | 'ws',
  echo?: unknown,
) {
  state.requests.push({ action, params, via });
  const handler = state.actions[action];
  if (!handler) return { status: 404, body: failure(1404, `unknown action ${action}`, echo) };
  try {
    return { status: 200, body: answer(await handler(params), echo) };
  } catch (error) {
    return { status: 200, body: failure(1400, (error as Error).message, echo) };
  }
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
};

/** The HTTP API: `POST /<action>` with JSON (or query) parameters. */
async function handleHttp(state: BotState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://onebot.invalid');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const action = url.pathname.replace(/^\/+|\/+$/g, '');
  state.calls.push(action);
  if (state.options.token && tokenOf(req, url) !== state.options.token) {
    state.refused += 1;
    return sendJson(res, 401, failure(1403, 'token verify failed'));
  }
  let params: OneBotParams = Object.fromEntries(url.searchParams);
  delete params.access_token;
  if (chunks.length) {
    try {
      params = { ...params, ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OneBotParams) };
    } catch {
      return sendJson(res, 400, failure(1400, 'body is not JSON'));
    }
  }
  const { status, body } = await runAction(state, action, params, 'http');
  sendJson(res, status, body);
}

/** An event client joins: greeted with the lifecycle event NapCat sends first on every connection. */
function addEventClient(state: BotState, ws: WebSocket): void {
  state.eventClients.add(ws);
  ws.once('close', () => state.eventClients.delete(ws));
  ws.send(
    JSON.stringify({
      time: Math.floor(Date.now() / 1000),
      self_id: state.selfId,
      post_type: 'meta_event',
      meta_event_type: 'lifecycle',
      sub_type: 'connect',
    }),
  );
  for (const wake of state.waiters) wake();
}

/** The WebSocket API: `{ action, params, echo }` in, the answer (with its echo) out. */
function serveWsApi(state: BotState, ws: WebSocket): void {
  ws.on('message', async (raw) => {
    let request: { action?: unknown; params?: unknown; echo?: unknown };
    try {
      request = JSON.parse(String(raw));
    } catch {
      return ws.send(JSON.stringify(failure(1400, 'not JSON')));
    }
    const params = (
      request.params && typeof request.params === 'object' ? request.params : {}
    ) as OneBotParams;
    const action = String(request.action ?? '');
    state.calls.push(action);
    const { body } = await runAction(state, action, params, 'ws', request.echo);
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(body));
  });
}

/** WebSocket upgrades on `/` (events and API), `/event` and `/api`, behind the token. */
function handleUpgrade(
  state: BotState,
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const url = new URL(req.url ?? '/', 'http://onebot.invalid');
  if (state.options.token && tokenOf(req, url) !== state.options.token) {
    state.refused += 1;
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  const role = url.pathname.replace(/\/+$/, '') || '/';
  if (!['/', '/event', '/api'].includes(role)) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (role !== '/api') addEventClient(state, ws);
    if (role !== '/event') serveWsApi(state, ws);
  });
}

function waitForClients(state: BotState, count: number, timeoutMs: number): Promise<void> {
  const { eventClients, waiters } = state;
  if (eventClients.size >= count) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`onebot: ${eventClients.size}/${count} clients after ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      if (eventClients.size < count) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve();
    };
    waiters.add(check);
  });
}

/** Sends an event to every event client and, with a post URL, POSTs it (signed with the secret). */
async function emitEvent(state: BotState, event: OneBotEvent): Promise<number | undefined> {
  const body = JSON.stringify({ self_id: state.selfId, ...event });
  for (const ws of state.eventClients) if (ws.readyState === ws.OPEN) ws.send(body);
  if (!state.postUrl) return undefined;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-self-id': String(state.selfId),
  };
  if (state.options.secret) {
    headers['x-signature'] = `sha1=${createHmac('sha1', state.options.secret).update(body).digest('hex')}`;
  }
  const response = await fetch(state.postUrl, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

export async function startOneBot(options: OneBotOptions = {}): Promise<OneBot> {
  const selfId = options.selfId ?? DEFAULT_SELF_ID;
  const state: BotState = {
    options,
    selfId,
    calls: [],
    requests: [],
    refused: 0,
    postUrl: options.postUrl,
    actions: {
      get_login_info: () => ({ user_id: selfId, nickname: 'detour-lab' }),
      get_status: () => ({ online: true, good: true }),
      ...options.actions,
    },
    eventClients: new Set(),
    waiters: new Set(),
  };
  const server = createServer((req, res) => handleHttp(state, req, res));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => handleUpgrade(state, wss, req, socket, head));

  const listening = await listenTracked(server);
  const port = listening.port;

  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    selfId,
    calls: state.calls,
    requests: state.requests,
    get refused() {
      return state.refused;
    },
    connections: () => state.eventClients.size,
    waitForConnections: (count = 1, timeoutMs = 10_000) => waitForClients(state, count, timeoutMs),
    setPostUrl(url) {
      state.postUrl = url;
    },
    emit: (event) => emitEvent(state, event),
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await listening.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Event builders: the shapes OneBot v11 implementations send (as documented by NapCat, LLOneBot and Lagrange; see packages/qq/README.md).

export interface OneBotSegment {
  type: string;
  data: Record<string, string | number | undefined>;
}

/** CQ-code escaping of a parameter value (OneBot v11: `&` `[` `]` `,`). */
export function cqEscape(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('[', '&#91;')
    .replaceAll(']', '&#93;')
    .replaceAll(',', '&#44;');
}

/** Segments → a CQ-code string, as with `message_format: 'string'` (text escaped without `,`). */
export function toCqString(segments: OneBotSegment[]): string {
  return segments
    .map((segment) => {
      if (segment.type === 'text') {
        return String(segment.data.text ?? '')
          .replaceAll('&', '&amp;')
          .replaceAll('[', '&#91;')
          .replaceAll(']', '&#93;');
      }
      const params = Object.entries(segment.data)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `,${key}=${cqEscape(String(value))}`)
        .join('');
      return `[CQ:${segment.type}${params}]`;
    })
    .join('');
}

/** An `image` segment as NapCat sends it (`file_size` a string; `sub_type` 1 for stickers). */
export function imageSegment(data: {
  url: string;
  file?: string;
  file_size?: number;
  sub_type?: number;
}): OneBotSegment {
  return {
    type: 'image',
    data: {
      summary: data.sub_type === 1 ? '[动画表情]' : '',
      file: data.file ?? 'lab.png',
      sub_type: data.sub_type ?? 0,
      url: data.url,
      ...(data.file_size !== undefined ? { file_size: String(data.file_size) } : {}),
    },
  };
}

/** A `record` (voice) segment as NapCat sends it. */
export function recordSegment(data: { url: string; file?: string; file_size?: number }): OneBotSegment {
  return {
    type: 'record',
    data: {
      file: data.file ?? 'lab.amr',
      path: '',
      url: data.url,
      ...(data.file_size !== undefined ? { file_size: String(data.file_size) } : {}),
    },
  };
}

let messageCounter = 1_136_053_690;

/**
 * A message event (`post_type: 'message'`) carrying `segments`: as a segment array
 * (`format: 'array'`, the default of NapCat and LLOneBot) or as a CQ-code string (`'string'`).
 * `raw_message` is always the CQ-code form.
 */
export function messageEvent(options: {
  segments: OneBotSegment[];
  format?: 'array' | 'string';
  messageType?: 'group' | 'private';
  userId?: number;
  groupId?: number;
}): OneBotEvent {
  const id = messageCounter++;
  const userId = options.userId ?? 10_001;
  const raw = toCqString(options.segments);
  const group = (options.messageType ?? 'group') === 'group';
  return {
    user_id: userId,
    time: Math.floor(Date.now() / 1000),
    message_id: id,
    message_seq: id,
    real_id: id,
    message_type: group ? 'group' : 'private',
    sender: { user_id: userId, nickname: 'lab-user', card: '', ...(group ? { role: 'member' } : {}) },
    raw_message: raw,
    font: 14,
    sub_type: group ? 'normal' : 'friend',
    message: options.format === 'string' ? raw : options.segments,
    message_format: options.format ?? 'array',
    post_type: 'message',
    ...(group ? { group_id: options.groupId ?? 20_002 } : {}),
  };
}
