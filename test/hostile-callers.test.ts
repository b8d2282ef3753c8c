/**
 * Issue 22, end to end: what a hostile caller sends to the built `detour` binary and to a real
 * `detour serve` child (framing and hop-by-hop headers).
 */
import { type Origin, startHttpOrigin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { detour } from './cli-run.js';
import { type RunningServe, startServe } from './serve-run.js';

let origin: Origin;
let server: RunningServe;

beforeAll(async () => {
  origin = await startHttpOrigin();
  server = await startServe(['--allow-private', '--no-proxy']);
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  await origin?.close();
});

const FRAMING = ['Content-Length: 40', 'Transfer-Encoding: chunked', 'Connection: close', 'Host: internal'];

describe('framing and hop-by-hop headers from callers (item 5)', () => {
  it.each(FRAMING)('detour fetch -H %j: exit 2, DETOUR_BAD_HEADER, no request', async (header) => {
    const before = origin.routes.hits('/image.png');
    const run = await detour([
      'fetch',
      `${origin.url}/image.png`,
      '--allow-private',
      '--no-proxy',
      '-H',
      header,
      '-o',
      '-',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(header.split(':')[0]!);
    expect(run.stderr).toMatch(/set by the transport/);
    expect(origin.routes.hits('/image.png')).toBe(before);
  });

  it('detour serve answers 400 DETOUR_BAD_HEADER, and the next client is served intact', async () => {
    const before = origin.routes.hits('/image.png');
    for (const header of FRAMING) {
      const [name, value] = header.split(': ') as [string, string];
      const answer = await call(`${server.url}/v1/fetch`, {
        body: { url: `${origin.url}/image.png`, headers: { [name]: value } },
      });
      expect(answer.status).toBe(400);
      expect(answer.json().error).toMatchObject({ code: 'DETOUR_BAD_HEADER' });
    }
    expect(origin.routes.hits('/image.png')).toBe(before);
    const ok = await call(`${server.url}/v1/fetch`, { body: { url: `${origin.url}/image.png` } });
    expect(ok.status).toBe(200);
  });
});
