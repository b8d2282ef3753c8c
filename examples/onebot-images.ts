/**
 * A OneBot v11 listener (NapCat, LLOneBot, Lagrange) that downloads every image and voice clip in
 * incoming messages through Detour and logs how each file was obtained.
 *
 *   # forward WebSocket (the bot's "WebSocket server"), token sent as `Authorization: Bearer`
 *   npx tsx examples/onebot-images.ts --ws ws://127.0.0.1:3001 --token TOKEN --out ./media
 *   # HTTP POST (the bot's "HTTP client" / webhook): we listen, the bot posts events to us
 *   npx tsx examples/onebot-images.ts --listen 127.0.0.1:5700 --secret SECRET --out ./media
 *
 * Messages arrive as segment arrays (`[{type: 'image', data: {file, url, file_size}}]`) or as
 * CQ-code strings (`[CQ:image,file=…,url=https://…&amp;rkey=…]`); both are handled, CQ escapes
 * (`&amp; &#91; &#93; &#44;`) decoded once. `file_size`, when the implementation sends it, is
 * the size the download must have; with `--api` an expired QQ link gets a fresh rkey from the
 * OneBot API. One line per file on stdout (`--json`: one JSON object).
 *
 * Options: --ws URL | --listen HOST:PORT, --token T (or ONEBOT_TOKEN), --secret S (HTTP POST
 * signature, or ONEBOT_SECRET), --api URL (the OneBot HTTP API, for rkey refresh), --out DIR,
 * --json, --exit-after N (stop after N files), and Detour's: --proxy URL, --no-proxy,
 * --allow-private, --ca FILE, --placeholder, --timeout MS, --strategies a,b, --log-level L.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type AttemptRecord,
  type DetourError,
  type FetchOptions,
  type Pipeline,
  redactUrl,
} from '@detour/core';
import { rkeyProvider } from '@detour/qq';
import { createDetour, type DetourOptions } from 'detour';
import WebSocket from 'ws';

// ---------------------------------------------------------------------------------------------
// OneBot message parsing (pure functions, exported for tests).

export interface Segment {
  type: string;
  data: Record<string, unknown>;
}

/** One downloadable file found in a message. */
export interface MediaRef {
  kind: 'image' | 'record';
  url: string;
  /** The implementation's file name (`data.file`). */
  file: string;
  /** `data.file_size` when present and a positive integer. */
  expectedBytes: number | undefined;
}

/** Undo CQ-code escaping once (`&#44;` `&#91;` `&#93;` first, `&amp;` last). */
export function cqUnescape(value: string): string {
  return value
    .replaceAll('&#44;', ',')
    .replaceAll('&#91;', '[')
    .replaceAll('&#93;', ']')
    .replaceAll('&amp;', '&');
}

/** A CQ-code string → segments (`text` for the parts between codes). */
export function parseCqString(message: string): Segment[] {
  const segments: Segment[] = [];
  const code = /\[CQ:([A-Za-z0-9_.-]+)((?:,[^\]]*)?)\]/g;
  let last = 0;
  for (let match = code.exec(message); match; match = code.exec(message)) {
    if (match.index > last)
      segments.push({ type: 'text', data: { text: cqUnescape(message.slice(last, match.index)) } });
    const data: Record<string, unknown> = {};
    for (const pair of (match[2] ?? '').split(',').slice(1)) {
      const eq = pair.indexOf('=');
      if (eq > 0) data[pair.slice(0, eq)] = cqUnescape(pair.slice(eq + 1));
    }
    segments.push({ type: match[1]!, data });
    last = code.lastIndex;
  }
  if (last < message.length) segments.push({ type: 'text', data: { text: cqUnescape(message.slice(last)) } });
  return segments;
}

function positiveInt(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

const isWebUrl = (value: unknown): value is string =>
  typeof value === 'string' && /^https?:\/\//i.test(value);

/** The images and voice clips of a message event (array or CQ-code string form); others are ignored. */
export function mediaOf(event: Record<string, unknown>): MediaRef[] {
  if (event.post_type !== 'message' && event.post_type !== 'message_sent') return [];
  const message = event.message;
  const segments: Segment[] = Array.isArray(message)
    ? (message as Segment[])
    : typeof message === 'string'
      ? parseCqString(message)
      : [];
  const media: MediaRef[] = [];
  for (const segment of segments) {
    if (segment?.type !== 'image' && segment?.type !== 'record') continue;
    const data = segment.data ?? {};
    // The URL is in `url`; some implementations put it in `file` (and a container path in `url`).
    const url = isWebUrl(data.url) ? data.url : isWebUrl(data.file) ? data.file : undefined;
    if (!url) continue;
    media.push({
      kind: segment.type,
      url,
      file:
        typeof data.file === 'string' && data.file
          ? data.file
          : basename(new URL(url).pathname) || segment.type,
      expectedBytes: positiveInt(data.file_size),
    });
  }
  return media;
}

/** A file name safe on every OS, unique per message. */
export function localName(messageId: unknown, index: number, file: string): string {
  const safe =
    basename(file)
      .replace(/[^\w.-]+/g, '_')
      .slice(-80) || 'file';
  return `${String(messageId ?? 'msg').replace(/\W+/g, '')}-${index}-${safe}`;
}

// ---------------------------------------------------------------------------------------------
// Downloading and logging.

export interface FileReport {
  ok: boolean;
  kind: MediaRef['kind'];
  file: string;
  url: string;
  strategy?: string;
  degraded?: boolean;
  fromCache?: boolean;
  bytes?: number;
  /** What the first bytes show (`png`, `jpeg`, `silk`, `amr`, …). */
  format?: string | null;
  expectedBytes?: number;
  path?: string;
  failureClass?: string;
  code?: string;
  attempts: Array<Pick<AttemptRecord, 'strategy' | 'outcome' | 'failureClass' | 'code'>>;
}

const attemptsOf = (attempts: AttemptRecord[] | undefined) =>
  (attempts ?? []).map(({ strategy, outcome, failureClass, code }) => ({
    strategy,
    outcome,
    failureClass,
    code,
  }));

/**
 * Download one file: images must be images, voice clips audio (SILK/AMR/…, whatever the server's
 * Content-Type says); `file_size` is the size the body must have (`DETOUR_SIZE_MISMATCH` else: a
 * stand-in picture or a cut body). An expired QQ link is refreshed once through `refreshUrl`.
 */
export async function download(
  pipeline: Pipeline,
  media: MediaRef,
  target: { dir?: string | undefined; name: string },
): Promise<FileReport> {
  const base = {
    kind: media.kind,
    file: media.file,
    url: redactUrl(media.url),
    expectedBytes: media.expectedBytes,
  };
  const options: FetchOptions = {
    expect: media.kind === 'image' ? 'image' : 'audio',
    ...(media.expectedBytes !== undefined ? { expectedBytes: media.expectedBytes } : {}),
  };
  try {
    const result = target.dir
      ? await pipeline.toFile(media.url, join(target.dir, target.name), options)
      : await pipeline.fetch(media.url, options);
    return {
      ...base,
      ok: true,
      strategy: result.strategy,
      degraded: result.degraded,
      fromCache: result.fromCache,
      bytes: result.bytes,
      format: result.format,
      attempts: attemptsOf(result.attempts),
      ...('path' in result ? { path: result.path } : {}),
    };
  } catch (error) {
    const e = error as DetourError;
    return {
      ...base,
      ok: false,
      failureClass: e.failureClass,
      code: e.code,
      attempts: attemptsOf(e.attempts),
    };
  }
}

/** One human-readable line per file. */
export function formatReport(r: FileReport): string {
  // What ran: strategies never tried (skipped, e.g. the rest of the plan after a winner) are left out.
  const tried = r.attempts
    .filter((a) => a.outcome !== 'skipped')
    .map((a) => `${a.strategy}:${a.outcome}${a.failureClass ? `(${a.failureClass})` : ''}`);
  const size = r.expectedBytes ? `${r.bytes ?? '?'}/${r.expectedBytes}` : String(r.bytes ?? '?');
  return r.ok
    ? `${r.kind} ${r.file}: ${r.strategy}${r.degraded ? ' (placeholder)' : ''}${r.fromCache ? ' (cache)' : ''}, ${size} bytes ${r.format ?? '?'}, tried ${tried.join(' ')}${r.path ? ` → ${r.path}` : ''}`
    : `${r.kind} ${r.file}: FAILED ${r.failureClass} ${r.code}, tried ${tried.join(' ') || 'nothing'}`;
}

// ---------------------------------------------------------------------------------------------
// The listener.

interface Flags {
  ws?: string;
  listen?: string;
  token?: string;
  secret?: string;
  api?: string;
  out?: string;
  json: boolean;
  exitAfter?: number;
  detour: DetourOptions;
}

function usage(message: string): never {
  console.error(`onebot-images: ${message}`);
  process.exit(2);
}

function readFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      ws: { type: 'string' },
      listen: { type: 'string' },
      token: { type: 'string' },
      secret: { type: 'string' },
      api: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      'exit-after': { type: 'string' },
      proxy: { type: 'string' },
      'no-proxy': { type: 'boolean', default: false },
      'allow-private': { type: 'boolean', default: false },
      ca: { type: 'string' },
      placeholder: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      strategies: { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  if (!values.ws === !values.listen) usage('give exactly one of --ws URL or --listen HOST:PORT');
  const exitAfter = values['exit-after'] === undefined ? undefined : Number(values['exit-after']);
  if (exitAfter !== undefined && !(Number.isInteger(exitAfter) && exitAfter > 0))
    usage('--exit-after takes a positive integer');
  return {
    ws: values.ws,
    listen: values.listen,
    token: values.token ?? process.env.ONEBOT_TOKEN,
    secret: values.secret ?? process.env.ONEBOT_SECRET,
    api: values.api,
    out: values.out,
    json: values.json,
    exitAfter,
    detour: {
      ...(values.proxy ? { proxy: values.proxy } : values['no-proxy'] ? { proxy: false } : {}),
      allowPrivateNetwork: values['allow-private'],
      placeholder: values.placeholder,
      ...(values.ca ? { ca: readFileSync(values.ca, 'utf8') } : {}),
      ...(values.timeout ? { timeoutMs: Number(values.timeout) } : {}),
      ...(values.strategies ? { strategies: values.strategies.split(',') } : {}),
      logLevel: values['log-level'] ?? 'warn',
    },
  };
}

/** Verify OneBot's `X-Signature: sha1=<hex HMAC-SHA1 of the body>` in constant time. */
export function signatureOk(secret: string, body: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(`sha1=${createHmac('sha1', secret).update(body).digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function main(): Promise<void> {
  const flags = readFlags(process.argv.slice(2));
  if (flags.out) mkdirSync(flags.out, { recursive: true });

  // QQ links carry an `rkey` that expires (HTTP 400, retcode -5503007). With `--api`, the OneBot
  // HTTP API (`nc_get_rkey` / `get_rkey`) hands out the current keys and an expired link is retried
  // once with a fresh one; the QQ preset (on by default) classifies the expiry and decodes `&amp;`.
  if (flags.api) {
    flags.detour.refreshUrl = rkeyProvider({
      endpoint: flags.api,
      ...(flags.token ? { token: flags.token } : {}),
    }).refreshUrl;
  }
  const pipeline = await createDetour(flags.detour);

  let handled = 0;
  const inFlight = new Set<Promise<void>>();
  let stopping: Promise<void> | undefined;
  let ws: WebSocket | undefined;
  let server: Server | undefined;

  const stop = (code = 0): Promise<void> => {
    stopping ??= (async () => {
      ws?.removeAllListeners('close');
      ws?.close();
      server?.close();
      server?.closeAllConnections();
      await Promise.allSettled([...inFlight]);
      await pipeline.close();
      process.exitCode = code;
    })();
    return stopping;
  };

  const onEvent = (event: Record<string, unknown>): void => {
    const media = mediaOf(event);
    media.forEach((item, index) => {
      if (flags.exitAfter !== undefined && handled >= flags.exitAfter) return;
      handled += 1;
      const job = download(pipeline, item, {
        dir: flags.out,
        name: localName(event.message_id, index, item.file),
      }).then((report) => {
        console.log(flags.json ? JSON.stringify(report) : formatReport(report));
      });
      inFlight.add(job);
      void job.finally(() => {
        inFlight.delete(job);
        if (flags.exitAfter !== undefined && handled >= flags.exitAfter && inFlight.size === 0) void stop();
      });
    });
  };

  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  if (flags.ws) {
    const url = flags.ws;
    let delay = 500;
    const connect = (): void => {
      // OneBot forward WS: the token goes in `Authorization: Bearer` (never in the logged URL).
      ws = new WebSocket(url, { headers: flags.token ? { authorization: `Bearer ${flags.token}` } : {} });
      ws.on('open', () => {
        delay = 500;
        console.error(`connected to ${redactUrl(url)}`);
      });
      ws.on('message', (raw) => {
        try {
          onEvent(JSON.parse(String(raw)) as Record<string, unknown>);
        } catch {
          // not an event (e.g. an API answer); ignore
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        console.error(`onebot-images: ${redactUrl(url)} refused the connection: HTTP ${res.statusCode}`);
        if (res.statusCode === 401 || res.statusCode === 403) void stop(1);
      });
      ws.on('error', (error) => console.error(`onebot-images: ${error.message}`));
      ws.on('close', () => {
        if (stopping) return;
        setTimeout(connect, delay).unref();
        delay = Math.min(delay * 2, 30_000);
      });
    };
    connect();
  } else {
    const [host, portText] = flags.listen!.split(/:(?=\d+$)/);
    const listener = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (
          flags.secret &&
          !signatureOk(flags.secret, body, req.headers['x-signature'] as string | undefined)
        ) {
          res.writeHead(401).end();
          console.error('onebot-images: refused an event with a missing or wrong X-Signature');
          return;
        }
        // Answer at once (204: no quick operation); downloads run after.
        res.writeHead(204).end();
        try {
          onEvent(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        } catch {
          console.error('onebot-images: an event that is not JSON was ignored');
        }
      });
    });
    server = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(Number(portText ?? 5700), host || '127.0.0.1', () => resolve());
    });
    const address = listener.address() as AddressInfo;
    console.error(`listening on http://${address.address}:${address.port}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(`onebot-images: ${(error as Error).message}`);
    process.exit(1);
  });
}
