/**
 * Issue 22, end to end: what a hostile caller sends to the built `detour` binary and to a real
 * `detour serve` child (framing and hop-by-hop headers), and a FIFO nobody reads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('a FIFO nobody reads (item 12)', () => {
  it('detour fetch -o FIFO: one download, local-io naming the path, exit 1, no network blame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detour-fifo-'));
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    try {
      const before = origin.routes.hits('/image.png');
      const run = await detour([
        'fetch',
        `${origin.url}/image.png`,
        '--allow-private',
        '--no-proxy',
        '--timeout',
        '1500',
        '-o',
        fifo,
        '--json',
      ]);
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout.toString());
      expect(report.error).toMatchObject({ failureClass: 'local-io', code: 'DETOUR_FIFO_UNREAD' });
      expect(report.error.message).toContain(fifo);
      expect(report.error.message).toMatch(/nobody is reading it/);
      expect(report.error.hint ?? '').not.toMatch(/proxy|route|timeout/i);
      expect(report.attempts.filter((a: { outcome: string }) => a.outcome === 'failed')).toHaveLength(1);
      expect(origin.routes.hits('/image.png')).toBe(before + 1); // asked once
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a caller's header is part of the cache key in detour serve (item 1)", () => {
  it("Bob, without Alice's X-Api-Key, never gets the answer fetched with it", async () => {
    const url = `${origin.url}/headers?probe=cache-key`;
    const alice = await call(`${server.url}/v1/fetch`, {
      body: { url, headers: { 'X-Api-Key': 'alice-secret' } },
    });
    expect(alice.status).toBe(200);
    expect(alice.body.toString()).toContain('alice-secret');
    const bob = await call(`${server.url}/v1/fetch`, { body: { url } });
    expect(bob.status).toBe(200);
    expect(bob.body.toString()).not.toContain('alice-secret');
    const again = await call(`${server.url}/v1/fetch`, {
      body: { url, headers: { 'x-api-key': 'alice-secret' } },
    });
    expect(again.body.toString()).toContain('alice-secret');
  });
});
