/** A plain node:http client for the tests: status, headers, trailers and the raw body. */
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  trailers: Record<string, string | undefined>;
  body: Buffer;
  json: () => Record<string, unknown> & { error?: Record<string, unknown>; attempts?: unknown[] };
}

export function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
    const req = request(
      url,
      {
        method: init.method ?? (payload ? 'POST' : 'GET'),
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...init.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            trailers: res.trailers,
            body,
            json: () => JSON.parse(body.toString()),
          });
        });
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}
