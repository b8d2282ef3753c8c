/**
 * The routes every lab origin serves (HTTP and HTTPS alike). One `Routes` per server: its hit
 * counters are that server's own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { LAB_PNG, PNG_MAGIC } from './png.js';
import { resetSocket } from './sockets.js';

export interface Routes {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Hits per pathname (e.g. `/image.png`, `/status/404`); `/count` itself is not counted. */
  counts(): Record<string, number>;
  /** Hits for one pathname. */
  hits(pathname: string): number;
  resetCounts(): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, match: string) => void;

const HTML =
  '<!doctype html><html><head><title>Detour lab</title></head><body><p>Not an image.</p></body></html>';
const CHUNK = 64 * 1024;

function int(url: URL, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number.parseInt(url.searchParams.get(name) ?? '', 10);
  return Number.isFinite(value) && value >= 0 ? Math.min(value, max) : fallback;
}

function image(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': LAB_PNG.length });
  res.end(LAB_PNG);
}

function redirect(res: ServerResponse, location: string, status = 302): void {
  res.writeHead(status, { location, 'content-length': 0 });
  res.end();
}

/** `n` bytes that start with the PNG signature and continue with filler, streamed with backpressure. */
function big(res: ServerResponse, n: number, chunked = false): void {
  res.writeHead(200, { 'content-type': 'image/png', ...(chunked ? {} : { 'content-length': n }) });
  const filler = Buffer.alloc(CHUNK, 0x5a);
  let sent = 0;
  const pump = (): void => {
    while (sent < n && !res.destroyed) {
      const size = Math.min(CHUNK, n - sent);
      let part = filler.subarray(0, size);
      if (sent === 0) part = Buffer.concat([PNG_MAGIC, filler]).subarray(0, size);
      sent += size;
      if (!res.write(part)) return void res.once('drain', pump);
    }
    if (sent >= n) res.end();
  };
  pump();
}

function slowDrip(res: ServerResponse, url: URL): void {
  const ms = int(url, 'ms', 50, 60_000);
  const total = Math.max(1, int(url, 'bytes', 64, 1 << 20));
  const body = Buffer.concat([PNG_MAGIC, Buffer.alloc(Math.max(0, total - PNG_MAGIC.length), 0x5a)]).subarray(
    0,
    total,
  );
  // `chunked`: no Content-Length (a download of unknown size).
  res.writeHead(200, {
    'content-type': 'image/png',
    ...(url.searchParams.has('chunked') ? {} : { 'content-length': total }),
  });
  let sent = 0;
  const timer = setInterval(() => {
    res.write(body.subarray(sent, sent + 1));
    sent += 1;
    if (sent >= total) {
      clearInterval(timer);
      res.end();
    }
  }, ms);
  res.once('close', () => clearInterval(timer));
}

function retryAfter(res: ServerResponse, url: URL, state: Map<string, number>): void {
  const key = url.searchParams.get('key') ?? 'default';
  const fail = int(url, 'fail', 1);
  const seen = (state.get(key) ?? 0) + 1;
  state.set(key, seen);
  if (seen > fail) {
    image(res);
    return;
  }
  const after = url.searchParams.get('after') ?? '0';
  res.writeHead(503, { 'retry-after': after, 'content-type': 'text/plain', 'content-length': 11 });
  res.end('unavailable');
}

/** Routes that answer content: the image, HTML, lies about it, and request echoes. */
function contentRoutes(): Record<string, Handler> {
  return {
    '/': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Detour lab origin\n');
    },
    '/image.png': (_req, res) => image(res),
    '/html': (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(HTML),
      });
      res.end(HTML);
    },
    /** A captive-portal style lie: says image/png, sends HTML. */
    '/fake-image': (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': Buffer.byteLength(HTML) });
      res.end(HTML);
    },
    /** Hot-link protection as on Tencent's CDN: 403 unless a Referer is sent. */
    '/needs-referer': (req, res) => {
      if (req.headers.referer) return image(res);
      res.writeHead(403, { 'content-type': 'text/plain', 'content-length': 10 });
      res.end('forbidden\n');
    },
    /** The image gzip-encoded when the client accepts it (real decompression needed). */
    '/gzip': (req, res) => {
      if (!/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return image(res);
      const body = gzipSync(LAB_PNG);
      res.writeHead(200, {
        'content-type': 'image/png',
        'content-encoding': 'gzip',
        'content-length': body.length,
      });
      res.end(body);
    },
    '/headers': (req, res) => {
      const body = JSON.stringify(req.headers);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
    /** `?bytes=N` image-like bytes; `&chunked=1` sends no Content-Length (size only known while streaming). */
    '/big': (_req, res, url) => big(res, int(url, 'bytes', 1024 * 1024), url.searchParams.has('chunked')),
  };
}

/** Routes that misbehave: redirects, resets, stalls, drips, lying lengths, 503s, dropped reuse. */
function faultRoutes(retryState: Map<string, number>): Record<string, Handler> {
  /** Connections that already carried a `/drop-reused` request. */
  const usedConnections = new WeakSet<object>();
  return {
    '/redirect-loop': (_req, res) => redirect(res, '/redirect-loop'),
    '/redirect-to': (_req, res, url) => redirect(res, url.searchParams.get('url') ?? '/image.png'),
    '/reset-mid-body': (_req, res, url) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': LAB_PNG.length * 4 });
      res.write(LAB_PNG, () => {
        if (url.searchParams.get('mode') === 'fin') res.socket?.destroy();
        else if (res.socket) resetSocket(res.socket);
      });
    },
    '/stall-after-headers': (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': LAB_PNG.length });
      res.flushHeaders();
    },
    // Reads the request and never answers: a response head that never comes.
    '/stall-head': () => {},
    '/slow-drip': (_req, res, url) => slowDrip(res, url),
    '/lying-length': (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': LAB_PNG.length * 10 });
      res.write(LAB_PNG, () => res.socket?.end());
    },
    '/retry-after': (_req, res, url) => retryAfter(res, url, retryState),
    /**
     * The keep-alive race: a server closes an idle connection just as the client sends its next
     * request on it. The first `/drop-reused` request on a connection is answered (and the
     * connection kept alive); a later one on the same connection gets it closed, unanswered.
     */
    '/drop-reused': (req, res) => {
      const connection = req.socket;
      if (!usedConnections.has(connection)) {
        usedConnections.add(connection);
        return image(res);
      }
      connection.destroy();
    },
  };
}

const PREFIXED: [string, Handler][] = [
  [
    '/status/',
    (_req, res, _url, rest) => {
      const code = Number.parseInt(rest, 10);
      const status = code >= 200 && code <= 599 ? code : 400;
      const body = status === 204 || status === 304 ? '' : `status ${status}\n`;
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  ],
  [
    '/redirect/',
    (_req, res, _url, rest) => {
      const n = Number.parseInt(rest, 10) || 0;
      if (n <= 0) return image(res);
      redirect(res, n > 1 ? `/redirect/${n - 1}` : '/image.png');
    },
  ],
];

/** `GET /count`: the hit counts as JSON; `?reset` clears them after answering. */
function countRoute(res: ServerResponse, url: URL, hits: Map<string, number>): void {
  const body = JSON.stringify({
    counts: Object.fromEntries(hits),
    total: [...hits.values()].reduce((a, b) => a + b, 0),
  });
  if (url.searchParams.has('reset')) hits.clear();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createRoutes(): Routes {
  const hits = new Map<string, number>();
  const retryState = new Map<string, number>();
  const exact: Record<string, Handler> = { ...contentRoutes(), ...faultRoutes(retryState) };
  const counts = (): Record<string, number> => Object.fromEntries(hits);

  return {
    counts,
    hits: (pathname) => hits.get(pathname) ?? 0,
    resetCounts: () => {
      hits.clear();
      retryState.clear();
    },
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://lab.invalid');
      const path = url.pathname;
      if (path === '/count') return countRoute(res, url, hits);
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const direct = exact[path];
      if (direct) return direct(req, res, url, '');
      for (const [prefix, handler] of PREFIXED) {
        if (path.startsWith(prefix)) return handler(req, res, url, path.slice(prefix.length));
      }
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
      res.end('not found\n');
    },
  };
}
