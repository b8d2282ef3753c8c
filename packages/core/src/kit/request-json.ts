/**
 * `requestJson`: one JSON call to a platform's API (a preset's refresh endpoint, Telegram's
 * `getFile`), over node:http/https with strict TLS (an extra `ca` allowed), a deadline and a size
 * cap. Errors carry no URL: the caller words them (an API URL may hold a token).
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

export interface JsonRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Extra trusted CA certificates (PEM), e.g. a local API server's; trusted besides Node's roots. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined;
  signal?: AbortSignal | undefined;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 1 MiB. */
  maxBytes?: number;
}

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The parsed body, or undefined when it is not JSON. */
  data: unknown;
}

export function requestJson(url: string | URL, options: JsonRequestOptions = {}): Promise<JsonResponse> {
  const target = new URL(url);
  const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000)];
  if (options.signal) signals.push(options.signal);
  const signal = AbortSignal.any(signals);
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: options.method ?? (body ? 'POST' : 'GET'),
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
          ...options.headers,
        },
        signal,
        agent: false,
        ...(options.ca
          ? { ca: [...rootCertificates, ...[options.ca].flat()] as Array<string | Buffer> }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new Error(`the API answer exceeds ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          let data: unknown;
          try {
            data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            data = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, data });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
