/**
 * The Tencent twin: a faithful stand-in for QQ's media CDN (`multimedia.nt.qq.com.cn`,
 * `gchat.qpic.cn`, `c2cpicdw.qpic.cn`) on loopback, reached through those real names (see
 * hosts.ts) with a lab certificate for them. Behaviours, as reported in public bot trackers (packages/qq/README.md):
 * - `/download?appid=&fileid=&rkey=&spec=`: an expired rkey → 400
 *   `{"retcode":-5503007,"retmsg":"download url has expired","retryflag":0}`; a missing rkey, a
 *   `amp;rkey` parameter (CQ-code `&amp;` left in) or the key of the other type (private 1406 /
 *   group 1407) → 400 `{"retcode":-5503010,"retmsg":"invalid rkey","retryflag":1}`;
 * - `*.qpic.cn` answers a foreign (non-qq.com) Referer with a small "not allowed" PNG, status 200;
 * - files are served with a lying Content-Type (SILK as `audio/amr`, JPEG as octet-stream);
 * - a file may be cut half-way (Content-Length whole, connection closed) with Range support
 *   (`truncate: 'range'`), without it (`'no-range'`: every full answer cut; `'no-range-once'`: only the first);
 * - legacy forms: `gchatpic_new/0/0-0-<MD5>/0` serves the file; other `gchatpic_new` forms and
 *   `offpic_new` (c2cpicdw) answer 404; a `//` in the path answers 400;
 * - an RSA-only TLS 1.2 edge (`AES128-GCM-SHA256` and nothing else) on `rsaPort`;
 * - a OneBot HTTP API (`nc_get_rkey`, `get_rkey`) that hands out the current keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { labCerts } from './certs.js';
import { type Listening, listenTracked } from './listen.js';
import { type OneBot, type OneBotAction, startOneBot } from './onebot.js';
import { makePng } from './png.js';

/** The names the twin answers for (map each to 127.0.0.1 with interceptLookup or hostsNamespace). */
export const TENCENT_TWIN_NAMES: readonly string[] = [
  'multimedia.nt.qq.com.cn',
  'gchat.qpic.cn',
  'c2cpicdw.qpic.cn',
  'grouptalk.c2c.qq.com',
];

export type Truncation = 'range' | 'no-range' | 'no-range-once';

export interface TwinFileSpec {
  bytes: Buffer;
  /** 1406 private image, 1407 group image, 1402/1403 voice (default 1407). */
  appid?: number;
  /** What the twin says the body is (it lies, like Tencent: SILK as `audio/amr`). */
  contentType?: string;
  truncate?: Truncation;
}

export interface TwinFile extends Required<Omit<TwinFileSpec, 'truncate'>> {
  readonly name: string;
  readonly truncate: Truncation | undefined;
  /** Field 2 of the fileid: 20 bytes (SHA-1 of the content). */
  readonly digest: Buffer;
  /** Upper-case MD5, as in legacy picture paths. */
  readonly md5: string;
}

export interface TwinHit {
  host: string;
  port: number;
  method: string;
  path: string;
  query: Record<string, string>;
  range: string | undefined;
  ifRange: string | undefined;
  referer: string | undefined;
  /** What the twin answered. */
  status: number;
}

export interface FileIdOptions {
  /** Upload time, ms since the epoch (default now). */
  uploadTime?: number;
  /** Retention in seconds (default 2678400, 31 days, as for group images). */
  retentionSeconds?: number;
}

export interface DownloadUrlOptions extends FileIdOptions {
  /** Default `multimedia.nt.qq.com.cn`. */
  host?: string;
  /** Default the current valid key of the file's type. */
  rkey?: string;
  /** Write `&amp;rkey=` (CQ-code escaping left in). */
  amp?: boolean;
  /** The RSA-only TLS 1.2 edge instead of the modern one. */
  rsaEdge?: boolean;
}

export interface OneBotApi {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Actions called, in order. */
  readonly calls: string[];
}

export interface TencentTwin {
  /** Port of the modern edge (TLS 1.2/1.3, forward secret). */
  readonly port: number;
  /** Port of the RSA-only TLS 1.2 edge. */
  readonly rsaPort: number;
  readonly files: Readonly<Record<string, TwinFile>>;
  /** The anti-hot-link stand-in (a small PNG). */
  readonly placeholder: Buffer;
  /** Every request, oldest first. */
  readonly hits: TwinHit[];
  /** The OneBot implementation (rkey actions; event stream for bot tests): see onebot.ts. */
  readonly onebot: OneBot;
  /** The keys valid now. */
  readonly rkeys: { readonly private: string; readonly group: string };
  /** Expire the current keys (they answer -5503007 from now on) and issue new ones. */
  rotateKeys(): void;
  /** A fileid for `file` (a new one per upload time, as in every new message). */
  fileId(file: string, options?: FileIdOptions): string;
  /** A `/download` URL for `file`. */
  downloadUrl(file: string, options?: DownloadUrlOptions): string;
  /** `https://<host>:<port>` of the modern edge. */
  origin(host?: string): string;
  /** Hits on the paths of one file (by fileid digest or MD5). */
  hitsFor(file: string): TwinHit[];
  close(): Promise<void>;
}

export interface TencentTwinOptions {
  files?: Record<string, TwinFileSpec>;
  /** Token the OneBot API requires (`Authorization: Bearer …`); default none. */
  onebotToken?: string;
  /** `napcat` (default: nc_get_rkey and get_rkey as NapCat) or `llonebot` (get_rkey only, LLOneBot's shape). */
  onebotFlavor?: 'napcat' | 'llonebot';
  /** rkey ttl the OneBot API reports, in seconds (default 3420, as NapCat). */
  rkeyTtlSeconds?: number;
}

/** Hosts that serve `/download?…&rkey=` (NT rich media, group pictures, voice). */
const DOWNLOAD_HOSTS = new Set(['multimedia.nt.qq.com.cn', 'gchat.qpic.cn', 'grouptalk.c2c.qq.com']);

const EXPIRED_JSON = '{"retcode":-5503007,"retmsg":"download url has expired","retryflag":0}';
const INVALID_JSON = '{"retcode":-5503010,"retmsg":"invalid rkey","retryflag":1}';

/** Protobuf encoding of a fileid (the twin's own, independent of any decoder under test). */
export function encodeFileId(fields: {
  digest: Buffer;
  size: number;
  appid: number;
  uploadTimeMicros: number;
  retentionSeconds: number;
}): string {
  const varint = (value: bigint) => {
    const out: number[] = [];
    let v = value;
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      out.push(byte);
    } while (v > 0n);
    return Buffer.from(out);
  };
  const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));
  return Buffer.concat([
    key(1, 2),
    varint(4n),
    Buffer.from('1234'),
    key(2, 2),
    varint(BigInt(fields.digest.length)),
    fields.digest,
    key(3, 0),
    varint(BigInt(fields.size)),
    key(4, 0),
    varint(BigInt(fields.appid)),
    key(5, 0),
    varint(BigInt(fields.uploadTimeMicros)),
    key(6, 2),
    varint(4n),
    Buffer.from('prod'),
    key(10, 0),
    varint(BigInt(fields.retentionSeconds)),
  ]).toString('base64url');
}

/** A "此图片来自QQ空间 未经允许不可引用"-style stand-in: a small valid PNG, not the file. */
export const HOTLINK_PLACEHOLDER: Buffer = makePng(4);

const isQqReferer = (referer: string) => {
  try {
    const host = new URL(referer).hostname;
    return host === 'qq.com' || host.endsWith('.qq.com');
  } catch {
    return false;
  }
};

/** The twin's mutable state, shared by its request handlers and its public methods. */
interface TwinState {
  files: Record<string, TwinFile>;
  byFileId: Map<string, TwinFile>;
  keys: { private: string; group: string };
  expired: Set<string>;
  hits: TwinHit[];
  fullAnswers: Map<string, number>;
}

const newRkey = () => `CAQSK${randomBytes(24).toString('base64url')}`;

function twinFiles(specs: TencentTwinOptions['files'] = {}): Record<string, TwinFile> {
  const files: Record<string, TwinFile> = {};
  for (const [name, spec] of Object.entries(specs)) {
    files[name] = {
      name,
      bytes: spec.bytes,
      appid: spec.appid ?? 1407,
      contentType: spec.contentType ?? 'image/jpeg',
      truncate: spec.truncate,
      digest: createHash('sha1').update(spec.bytes).digest(),
      md5: createHash('md5').update(spec.bytes).digest('hex').toUpperCase(),
    };
  }
  return files;
}

/** Answers a `bytes=N-` range (206, or 416 past the end); false when the request is not one. */
function serveRange(
  req: IncomingMessage,
  res: ServerResponse,
  file: TwinFile,
  hit: TwinHit,
  base: Record<string, string>,
): boolean {
  const body = file.bytes;
  const etag = `"${file.md5.toLowerCase()}"`;
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (!match || (ifRange !== undefined && ifRange !== etag)) return false;
  const start = Number(match[1]);
  if (start >= body.length) {
    hit.status = 416;
    res.writeHead(416, { 'content-range': `bytes */${body.length}` });
    res.end();
    return true;
  }
  hit.status = 206;
  const rest = body.subarray(start);
  res.writeHead(206, {
    ...base,
    'content-length': String(rest.length),
    'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
  });
  res.end(rest);
  return true;
}

function serveFile(
  state: TwinState,
  req: IncomingMessage,
  res: ServerResponse,
  file: TwinFile,
  hit: TwinHit,
): void {
  const body = file.bytes;
  const ranged = file.truncate === 'range' || file.truncate === undefined;
  const etag = `"${file.md5.toLowerCase()}"`;
  const base: Record<string, string> = {
    'content-type': file.contentType,
    ...(ranged ? { 'accept-ranges': 'bytes', etag } : {}),
  };
  if (ranged && serveRange(req, res, file, hit, base)) return;
  const full = (state.fullAnswers.get(file.name) ?? 0) + 1;
  state.fullAnswers.set(file.name, full);
  hit.status = 200;
  res.writeHead(200, { ...base, 'content-length': String(body.length) });
  const cut = file.truncate !== undefined && (file.truncate !== 'no-range-once' || full === 1);
  if (cut) {
    // Content-Length promises the whole; the connection closes half-way.
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}

/** One request as the twin sees it: the recorded hit, its parsed URL, and how to answer. */
interface TwinRequest {
  req: IncomingMessage;
  res: ServerResponse;
  host: string;
  rawPath: string;
  url: URL;
  hit: TwinHit;
  qpic: boolean;
  foreignReferer: boolean;
  send: (status: number, body: string | Buffer, type?: string) => void;
}

function openTwinRequest(
  state: TwinState,
  req: IncomingMessage,
  res: ServerResponse,
  port: number,
): TwinRequest {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const rawPath = (req.url ?? '/').split('?')[0]!;
  const url = new URL(req.url ?? '/', 'https://twin');
  const hit: TwinHit = {
    host,
    port,
    method: req.method ?? 'GET',
    path: rawPath,
    query: Object.fromEntries(url.searchParams),
    range: req.headers.range,
    ifRange: req.headers['if-range'] as string | undefined,
    referer: req.headers.referer,
    status: 0,
  };
  state.hits.push(hit);
  const send = (status: number, body: string | Buffer, type = 'application/json') => {
    hit.status = status;
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
    res.writeHead(status, { 'content-type': type, 'content-length': String(data.length) });
    res.end(data);
  };
  const qpic = host === 'qpic.cn' || host.endsWith('.qpic.cn');
  const foreignReferer = req.headers.referer !== undefined && !isQqReferer(req.headers.referer);
  return { req, res, host, rawPath, url, hit, qpic, foreignReferer, send };
}

/** The NT `/download?fileid=&rkey=` endpoint: the rkey must be current and match the file's kind. */
function handleDownload(state: TwinState, r: TwinRequest) {
  const { url, send } = r;
  const rkey = url.searchParams.get('rkey');
  if (url.searchParams.has('amp;rkey') || !rkey) return send(400, INVALID_JSON);
  if (state.expired.has(rkey)) return send(400, EXPIRED_JSON);
  const file = state.byFileId.get(url.searchParams.get('fileid') ?? '');
  if (!file) return send(404, '{"retcode":-5503002,"retmsg":"file not found","retryflag":0}');
  const wanted = file.appid === 1406 ? state.keys.private : state.keys.group;
  if (rkey !== wanted) return send(400, INVALID_JSON);
  if (r.qpic && r.foreignReferer) return send(200, HOTLINK_PLACEHOLDER, 'image/png');
  return serveFile(state, r.req, r.res, file, r.hit);
}

/** The legacy `gchatpic_new/0/0-0-<MD5>/0` path, served for the canonical form only. */
function handleLegacy(state: TwinState, r: TwinRequest, legacy: RegExpExecArray) {
  const [, kind, uin, prefix, md5] = legacy;
  const canonical = r.host === 'gchat.qpic.cn' && kind === 'gchatpic_new' && uin === '0' && prefix === '0-0-';
  const file = Object.values(state.files).find((f) => f.md5 === md5!.toUpperCase());
  if (!canonical || !file) return r.send(404, '<html><body>404 Not Found</body></html>', 'text/html');
  if (r.foreignReferer) return r.send(200, HOTLINK_PLACEHOLDER, 'image/png');
  return serveFile(state, r.req, r.res, file, r.hit);
}

function handleTwin(state: TwinState, req: IncomingMessage, res: ServerResponse, port: number) {
  const r = openTwinRequest(state, req, res, port);
  if (r.rawPath.includes('//')) return r.send(400, '<html><body>400 Bad Request</body></html>', 'text/html');
  if (r.rawPath === '/download' && DOWNLOAD_HOSTS.has(r.host)) return handleDownload(state, r);
  const legacy = /^\/(gchatpic_new|offpic_new)\/([^/]+)\/([^/]*?)([0-9A-F]{32})\/(\d+)$/i.exec(r.rawPath);
  if (legacy && r.qpic) return handleLegacy(state, r, legacy);
  return r.send(404, '<html><body>404 Not Found</body></html>', 'text/html');
}

/** The rkey actions NapCat / LLOneBot answer, in the chosen flavour's shape. */
function rkeyActions(state: TwinState, flavor: string, ttl: number): Record<string, OneBotAction> {
  const now = () => Math.floor(Date.now() / 1000);
  const actions: Record<string, OneBotAction> = {
    get_rkey: () =>
      flavor === 'napcat'
        ? [
            { type: 'private', rkey: `&rkey=${state.keys.private}`, created_at: now(), ttl: String(ttl) },
            { type: 'group', rkey: `&rkey=${state.keys.group}`, created_at: now(), ttl: String(ttl) },
          ]
        : {
            private_key: `&rkey=${state.keys.private}`,
            group_key: `&rkey=${state.keys.group}`,
            expired_time: now() + ttl,
            updated_time: now(),
          },
  };
  if (flavor === 'napcat') {
    actions.nc_get_rkey = () => [
      { rkey: `&rkey=${state.keys.private}`, ttl: String(ttl), time: now(), type: 10 },
      { rkey: `&rkey=${state.keys.group}`, ttl: String(ttl), time: now(), type: 20 },
    ];
  }
  return actions;
}

export async function startTencentTwin(options: TencentTwinOptions = {}): Promise<TencentTwin> {
  const certs = labCerts();
  const state: TwinState = {
    files: twinFiles(options.files),
    byFileId: new Map(),
    keys: { private: newRkey(), group: newRkey() },
    expired: new Set(),
    hits: [],
    fullAnswers: new Map(),
  };
  const handle = (req: IncomingMessage, res: ServerResponse, port: number) =>
    handleTwin(state, req, res, port);

  const modern = createHttpsServer({ cert: certs.tencent.cert, key: certs.tencent.key }, (req, res) =>
    handle(req, res, modernPort),
  );
  // The edge behind SSLV3_ALERT_HANDSHAKE_FAILURE in Python 3.10+: TLS 1.2, static RSA, one cipher.
  const rsa = createHttpsServer(
    {
      cert: certs.tencentRsa.cert,
      key: certs.tencentRsa.key,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'AES128-GCM-SHA256',
    },
    (req, res) => handle(req, res, rsaPort),
  );
  // The OneBot implementation beside the CDN: the lab's one fake OneBot (event stream + API) with
  // the rkey actions NapCat / LLOneBot answer.
  const actions = rkeyActions(state, options.onebotFlavor ?? 'napcat', options.rkeyTtlSeconds ?? 3420);
  const onebot = await startOneBot({
    actions,
    ...(options.onebotToken ? { token: options.onebotToken } : {}),
  });

  let m: Listening;
  let r: Listening;
  try {
    [m, r] = await Promise.all([listenTracked(modern), listenTracked(rsa)]);
  } catch (error) {
    await onebot.close();
    throw error;
  }
  const modernPort = m.port;
  const rsaPort = r.port;

  return twinHandle(state, modernPort, rsaPort, onebot, async () => {
    await Promise.all([m.close(), r.close(), onebot.close()]);
  });
}

/** The public face of a started twin over its state and ports. */
function twinHandle(
  state: TwinState,
  modernPort: number,
  rsaPort: number,
  onebot: OneBot,
  close: () => Promise<void>,
): TencentTwin {
  const { files, hits, byFileId } = state;
  const twin: TencentTwin = {
    port: modernPort,
    rsaPort,
    files,
    placeholder: HOTLINK_PLACEHOLDER,
    hits,
    onebot,
    get rkeys() {
      return state.keys;
    },
    rotateKeys() {
      state.expired.add(state.keys.private);
      state.expired.add(state.keys.group);
      state.keys = { private: newRkey(), group: newRkey() };
    },
    fileId(name, opts = {}) {
      const file = files[name];
      if (!file) throw new Error(`twin: no file ${name}`);
      const id = encodeFileId({
        digest: file.digest,
        size: file.bytes.length,
        appid: file.appid,
        uploadTimeMicros: (opts.uploadTime ?? Date.now()) * 1000 + Math.floor(Math.random() * 1000),
        retentionSeconds: opts.retentionSeconds ?? 2_678_400,
      });
      byFileId.set(id, file);
      return id;
    },
    downloadUrl(name, opts = {}) {
      const file = files[name];
      if (!file) throw new Error(`twin: no file ${name}`);
      const host = opts.host ?? 'multimedia.nt.qq.com.cn';
      const port = opts.rsaEdge ? rsaPort : modernPort;
      const rkey = opts.rkey ?? (file.appid === 1406 ? state.keys.private : state.keys.group);
      const fileid = twin.fileId(name, opts);
      return `https://${host}:${port}/download?appid=${file.appid}&fileid=${fileid}&spec=0${opts.amp ? '&amp;' : '&'}rkey=${rkey}`;
    },
    origin: (host = 'multimedia.nt.qq.com.cn') => `https://${host}:${modernPort}`,
    hitsFor(name) {
      const file = files[name];
      if (!file) return [];
      return hits.filter(
        (h) => byFileId.get(h.query.fileid ?? '') === file || h.path.toUpperCase().includes(file.md5),
      );
    },
    close,
  };
  return twin;
}
