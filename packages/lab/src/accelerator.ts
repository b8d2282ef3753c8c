/**
 * A "broken accelerator" proxy, like Clash/mihomo in a bad mood: a Node HTTP proxy on 127.0.0.1
 * that accepts CONNECT to every target, then breaks the TLS handshake for the targets you list
 * (mode `alert`: a fatal handshake_failure record; `reset`: TCP RST; any `BrokenTlsMode`) and
 * tunnels the others for real. Also forwards plain-HTTP absolute-URI requests, and can require
 * Basic `Proxy-Authorization`. It never leaves loopback: other targets get 502.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { answerClientHello, type BrokenTlsMode, breakTls } from './broken-tls.js';
import { listenTracked, trackExtra } from './listen.js';
import type { ProxyAuth } from './proxies.js';

/** Port numbers, `host:port` strings, or `'*'` for every target. */
export type BreakTargets = ReadonlyArray<number | string> | ((host: string, port: number) => boolean);

export interface AcceleratorOptions {
  /** How to break TLS for matching targets; default 'alert'. */
  readonly mode?: BrokenTlsMode;
  /** Targets whose TLS is broken; default none (every tunnel works). */
  readonly break?: BreakTargets;
  readonly auth?: ProxyAuth;
}

export interface AcceleratorStats {
  /** CONNECT requests per `host:port`. */
  readonly connects: Record<string, number>;
  readonly broken: number;
  readonly tunnelled: number;
  readonly forwarded: number;
  readonly refused: number;
}

export interface AcceleratorProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** With `user:pass@` when auth is required. */
  readonly authUrl: string;
  readonly port: number;
  readonly mode: BrokenTlsMode;
  stats(): AcceleratorStats;
  /** Change which targets are broken, at run time. */
  setBreak(targets: BreakTargets): void;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function matches(targets: BreakTargets, host: string, port: number): boolean {
  if (typeof targets === 'function') return targets(host, port);
  return targets.some((t) => t === '*' || t === port || t === `${host}:${port}`);
}

function authorized(req: IncomingMessage, auth?: ProxyAuth): boolean {
  if (!auth) return true;
  const expected = `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}`;
  return req.headers['proxy-authorization'] === expected;
}

function splitTarget(authority: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(authority);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: authority, port: 443 };
}

function rawReply(socket: Socket, status: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
}

/** The proxy's live settings and tallies, shared by its handlers and its `stats`/`setBreak`. */
interface ProxyState {
  options: AcceleratorOptions;
  mode: BrokenTlsMode;
  targets: BreakTargets;
  connects: Map<string, number>;
  counts: { broken: number; tunnelled: number; forwarded: number; refused: number };
}

const CHALLENGE = 'Proxy-Authenticate: Basic realm="detour-lab"\r\n';

/** A plain-HTTP proxy request (absolute URL): forwarded to loopback `http:` targets only. */
function forwardPlain(state: ProxyState, req: IncomingMessage, res: ServerResponse): void {
  const { counts } = state;
  if (!authorized(req, state.options.auth)) {
    counts.refused += 1;
    res.writeHead(407, { 'proxy-authenticate': 'Basic realm="detour-lab"', 'content-length': 0 }).end();
    return;
  }
  let target: URL;
  try {
    target = new URL(req.url ?? '');
  } catch {
    res.writeHead(400, { 'content-length': 0 }).end();
    return;
  }
  if (target.protocol !== 'http:' || !isLoopback(target.hostname)) {
    counts.refused += 1;
    res.writeHead(502, { 'content-length': 0 }).end();
    return;
  }
  counts.forwarded += 1;
  const headers: Record<string, string | string[] | undefined> = {
    ...req.headers,
    via: '1.1 detour-lab-accelerator',
  };
  delete headers['proxy-authorization'];
  delete headers['proxy-connection'];
  const upstream = httpRequest(
    {
      host: target.hostname,
      port: target.port || 80,
      path: `${target.pathname}${target.search}`,
      method: req.method,
      headers,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () =>
    res.headersSent ? res.destroy() : res.writeHead(502, { 'content-length': 0 }).end(),
  );
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

/** An honest CONNECT tunnel to a loopback target. */
function tunnel(state: ProxyState, socket: Socket, head: Buffer, host: string, port: number): void {
  const upstream = connect({ host, port });
  trackExtra(socket, upstream);
  upstream.once('error', () =>
    upstream.readyState === 'opening' ? rawReply(socket, '502 Bad Gateway') : socket.destroy(),
  );
  upstream.once('connect', () => {
    state.counts.tunnelled += 1;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
}

/** CONNECT: refused, broken (for the break targets, in the proxy's mode) or tunnelled. */
function handleConnect(state: ProxyState, req: IncomingMessage, socket: Socket, head: Buffer) {
  const { counts, connects } = state;
  socket.on('error', () => {});
  const { host, port } = splitTarget(req.url ?? '');
  connects.set(`${host}:${port}`, (connects.get(`${host}:${port}`) ?? 0) + 1);
  if (!authorized(req, state.options.auth)) {
    counts.refused += 1;
    return rawReply(socket, '407 Proxy Authentication Required', CHALLENGE);
  }
  if (!isLoopback(host)) {
    counts.refused += 1;
    return rawReply(socket, '502 Bad Gateway');
  }
  if (matches(state.targets, host, port)) {
    counts.broken += 1;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) answerClientHello(socket, state.mode);
    else breakTls(socket, state.mode);
    return;
  }
  tunnel(state, socket, head, host, port);
}

export async function startAcceleratorProxy(options: AcceleratorOptions = {}): Promise<AcceleratorProxy> {
  const state: ProxyState = {
    options,
    mode: options.mode ?? 'alert',
    targets: options.break ?? [],
    connects: new Map(),
    counts: { broken: 0, tunnelled: 0, forwarded: 0, refused: 0 },
  };
  const { mode, connects, counts } = state;
  const server = createServer((req, res) => forwardPlain(state, req, res));
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) =>
    handleConnect(state, req, socket, head),
  );

  const { port, close } = await listenTracked(server);
  const { auth } = options;
  return {
    url: `http://127.0.0.1:${port}`,
    authUrl: auth
      ? `http://${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@127.0.0.1:${port}`
      : `http://127.0.0.1:${port}`,
    port,
    mode,
    stats: () => ({ connects: Object.fromEntries(connects), ...counts }),
    setBreak: (next) => {
      state.targets = next;
    },
    close,
  };
}
