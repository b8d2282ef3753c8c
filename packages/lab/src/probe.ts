/**
 * Minimal clients for checking the lab itself: plain node http/https (optionally through an HTTP
 * CONNECT proxy) and the real `curl` binary. Not the code under test: just enough to prove a
 * server does what it claims.
 */
import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as tlsConnect } from 'node:tls';

export interface ProbeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface ProbeOptions extends Omit<RequestOptions, 'host' | 'hostname' | 'port' | 'path'> {
  /** `http://127.0.0.1:PORT` HTTP proxy: absolute-URI GET for http, CONNECT tunnel for https. */
  readonly proxy?: string;
  /** Header sent to the proxy (CONNECT or forward GET). */
  readonly proxyAuthorization?: string;
}

type Settle = { resolve: (r: ProbeResponse) => void; reject: (e: unknown) => void };

/** Reads a response fully into a ProbeResponse. */
function collect({ resolve, reject }: Settle) {
  return (res: IncomingMessage) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
    );
  };
}

/** Plain http: direct, or an absolute-URI GET to the proxy. */
function probeHttp(target: URL, options: ProbeOptions, base: RequestOptions, settle: Settle): void {
  const { proxy, proxyAuthorization, ...rest } = options;
  const p = proxy ? new URL(proxy) : undefined;
  const req = httpRequest(
    p
      ? {
          ...base,
          host: p.hostname,
          port: p.port,
          path: target.href,
          headers: {
            ...rest.headers,
            ...(proxyAuthorization ? { 'proxy-authorization': proxyAuthorization } : {}),
          },
        }
      : { ...base, host: target.hostname, port: target.port },
    collect(settle),
  );
  req.on('error', settle.reject).end();
}

/** https through the proxy: a CONNECT tunnel, then TLS inside it. */
function probeTunnelled(
  target: URL,
  options: ProbeOptions,
  tlsOptions: RequestOptions,
  settle: Settle,
): void {
  const p = new URL(options.proxy!);
  const { proxyAuthorization } = options;
  const connectReq = httpRequest({
    host: p.hostname,
    port: p.port,
    method: 'CONNECT',
    path: `${target.hostname}:${target.port}`,
    agent: false,
    headers: proxyAuthorization ? { 'proxy-authorization': proxyAuthorization } : {},
  });
  connectReq.on('error', settle.reject);
  connectReq.on('connect', (res, socket) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      settle.reject(
        Object.assign(new Error(`proxy CONNECT answered ${res.statusCode}`), {
          statusCode: res.statusCode,
        }),
      );
      return;
    }
    // `agent: undefined`: with an agent (even `false`), node ignores `createConnection`.
    const tunnelled = {
      ...tlsOptions,
      agent: undefined,
      createConnection: () => tlsConnect({ ...(tlsOptions as object), socket }),
    };
    const req = httpsRequest(tunnelled as RequestOptions, collect(settle));
    req.on('error', settle.reject).end();
  });
  connectReq.end();
}

/** GET `url`; rejects with the raw node error (handy for asserting codes). Body is read fully. */
export function probe(url: string, options: ProbeOptions = {}): Promise<ProbeResponse> {
  const target = new URL(url);
  const { proxy, proxyAuthorization: _auth, ...rest } = options;
  return new Promise((resolve, reject) => {
    const settle = { resolve, reject };
    const base = { ...rest, agent: false as const, path: `${target.pathname}${target.search}` };
    if (target.protocol === 'http:') return probeHttp(target, options, base, settle);
    const port = Number(target.port || 443);
    const tlsOptions = { ...base, host: target.hostname, port, servername: servername(target) };
    if (!proxy) {
      httpsRequest(tlsOptions, collect(settle)).on('error', reject).end();
      return;
    }
    probeTunnelled(target, options, tlsOptions, settle);
  });
}

function servername(url: URL): string | undefined {
  return /^[\d.]+$|^\[/.test(url.hostname) ? undefined : url.hostname;
}

export interface CurlResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Run the real `curl` (async: the servers it talks to live in this same process). Never rejects. */
export function curl(args: readonly string[], timeoutMs = 20_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['--silent', '--show-error', '--noproxy', '', ...args],
      {
        encoding: 'buffer',
        timeout: timeoutMs,
        env: {
          ...process.env,
          http_proxy: '',
          https_proxy: '',
          all_proxy: '',
          HTTP_PROXY: '',
          HTTPS_PROXY: '',
          ALL_PROXY: '',
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ exitCode: code, stdout, stderr: stderr.toString() });
      },
    );
  });
}
