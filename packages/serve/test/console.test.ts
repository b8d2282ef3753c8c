/**
 * The API behind the operator's page, against real loopback origins from the lab: the ring buffer
 * (masked), the event stream, hosts with their learned route and circuit, "forget", cache totals,
 * the doctor route's refusals, and the page's own files (public, under a strict CSP).
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DetourServer, type RecentFetch, RecentFetches, startServer } from '../src/index.js';
import { call } from './http.js';

interface HostRow {
  host: string;
  origin: string;
  route: { winner: string } | null;
  circuit: { state: string; failures: number } | null;
}

const TOKEN = 'console-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let lab: Lab;
let server: DetourServer;
let refusedPort: number;
/** Anything loaded from another origin: a src/href, a CSS url() or @import, a module import of a URL. */
const ELSEWHERE =
  /(?:src|href)\s*=\s*["']?(?:[a-z]+:)?\/\/|url\(\s*["']?(?:[a-z]+:)?\/\/|@import|from\s+["'](?:[a-z]+:)?\/\/|import\(/i;

const fetchVia = (url: string) =>
  call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}`, { headers: auth });
const json = async (path: string, init: { method?: string; body?: unknown } = {}) =>
  call(`${server.url}${path}`, { ...init, headers: auth });

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  lab = await startLab();
  refusedPort = await closedPort();
  server = await startServer({
    port: 0,
    token: TOKEN,
    redetectMs: 0,
    detour: {
      allowPrivateNetwork: true,
      proxy: false,
      ca: lab.ca,
      env: {},
      logLevel: 'silent',
      pipeline: { circuit: { threshold: 2, cooldownMs: 60_000 } },
    },
  });
});
afterAll(async () => {
  await server?.close(1000);
  await lab?.close();
});

describe('the page', () => {
  it('is served without the token, holds no data, under a strict Content-Security-Policy', async () => {
    const page = await call(`${server.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = page.body.toString();
    expect(html).not.toMatch(/<script>|\sstyle=/); // nothing inline
    expect(html).not.toMatch(ELSEWHERE);
    for (const asset of ['/ui/app.js', '/ui/app.css']) {
      const answer = await call(`${server.url}${asset}`);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-security-policy']).toBe(csp);
      expect(answer.body.toString()).not.toMatch(ELSEWHERE);
    }
  });

  it('every /v1 route of the page refuses a missing or wrong token', async () => {
    for (const [method, path] of [
      ['GET', '/v1/recent'],
      ['GET', '/v1/events'],
      ['GET', '/v1/hosts'],
      ['DELETE', '/v1/hosts/localhost'],
      ['GET', '/v1/cache'],
      ['POST', '/v1/doctor'],
    ] as const) {
      const none = await call(`${server.url}${path}`, { method });
      expect(none.status, `${method} ${path}`).toBe(401);
      const wrong = await call(`${server.url}${path}`, { method, headers: { authorization: 'Bearer nope' } });
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
  });
});

describe('/v1/recent and /v1/events', () => {
  it('a fetch reaches an event stream at once and the ring buffer, newest first, its secrets masked', async () => {
    const events: RecentFetch[] = [];
    const stream = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(`${server.url}/v1/events`, { headers: auth }, resolve);
      req.once('error', reject);
      req.end();
    });
    expect(stream.statusCode).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    let buffer = '';
    const got = new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (const block of buffer.split('\n\n').slice(0, -1)) {
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (block.includes('event: fetch') && data) events.push(JSON.parse(data.slice(6)));
        }
        buffer = buffer.slice(buffer.lastIndexOf('\n\n') + 2);
        if (events.length >= 2) resolve();
      });
    });
    const first = await fetchVia(`${lab.https.url}/image.png?rkey=SECRET-KEY&n=1`);
    expect(first.status).toBe(200);
    const second = await fetchVia(`${lab.https.url}/html?n=2`);
    expect(second.status).toBe(200);
    await got;
    stream.destroy();
    expect(events.map((e) => e.url)).toEqual([
      expect.stringContaining('rkey=***'),
      expect.stringContaining('/html?n=2'),
    ]);
    const recent = (await json('/v1/recent')).json() as { size: number; fetches: RecentFetch[] };
    expect(recent.size).toBe(100);
    const [newest, older] = recent.fetches;
    expect(newest).toMatchObject({ url: expect.stringContaining('/html?n=2'), ok: true, strategy: 'direct' });
    expect(older).toMatchObject({
      host: new URL(lab.https.url).host,
      ok: true,
      strategy: 'direct',
      degraded: false,
      downgraded: false,
      insecure: false,
      fromCache: false,
      bytes: first.body.length,
      attempts: [
        { strategy: 'direct', route: 'direct', outcome: 'ok', failureClass: null },
        // The rest of the plan, not needed after direct (D83).
        {
          strategy: 'tls-relaxed',
          outcome: 'skipped',
          failureClass: null,
          ms: 0,
          reason: 'not needed: direct succeeded',
        },
        {
          strategy: 'curl',
          outcome: 'skipped',
          failureClass: null,
          ms: 0,
          reason: 'not needed: direct succeeded',
        },
      ],
      error: null,
    });
    expect(JSON.stringify(recent)).not.toContain('SECRET-KEY');
    expect(older!.id).toBeLessThan(newest!.id);
  });

  it('the ring buffer keeps only the newest `size` fetches', () => {
    const ring = new RecentFetches({ size: 3 });
    const result = {
      ok: true as const,
      url: '',
      finalUrl: '',
      strategy: 'direct',
      degraded: false,
      fromCache: false,
      contentType: null,
      attempts: [],
      insecure: false,
      downgraded: false,
      status: 200,
      format: null,
      expectedBytes: null,
    };
    for (let i = 1; i <= 5; i++) ring.succeeded(`https://example.invalid/${i}?token=t${i}`, result, i, 0.001);
    expect(ring.list().map((f) => f.url)).toEqual([
      'https://example.invalid/5?token=***',
      'https://example.invalid/4?token=***',
      'https://example.invalid/3?token=***',
    ]);
    expect(ring.totals.fetches).toBe(5);
  });

  it('a skipped row keeps its reason (masked, at most 200 characters); a failed row keeps no message', () => {
    const ring = new RecentFetches({ size: 3 });
    const attempts = [
      {
        strategy: 'direct',
        route: 'direct',
        outcome: 'failed' as const,
        failureClass: 'http-status' as const,
        code: 'HTTP_403',
        ms: 3,
        message: 'origin says: SECRET-PAGE',
      },
      { strategy: 'tls-relaxed', route: 'direct', outcome: 'ok' as const, ms: 4 },
      {
        strategy: 'curl',
        route: 'direct',
        outcome: 'skipped' as const,
        ms: 0,
        message: 'not needed: tls-relaxed succeeded',
      },
      {
        strategy: 'mine',
        route: 'direct',
        outcome: 'skipped' as const,
        ms: 0,
        message: `only for https://u:pw@a.example/?token=T ${'x'.repeat(300)}`,
      },
    ];
    const result = {
      ok: true as const,
      url: '',
      finalUrl: '',
      strategy: 'tls-relaxed',
      degraded: false,
      fromCache: false,
      contentType: null,
      attempts,
      insecure: false,
      downgraded: false,
      status: 200,
      format: null,
      expectedBytes: null,
    };
    ring.succeeded('https://a.example/x', result, 1, 0.001);
    const [failed, ok, notNeeded, long] = ring.list()[0]!.attempts;
    expect(failed).not.toHaveProperty('reason');
    expect(JSON.stringify(failed)).not.toContain('SECRET-PAGE');
    expect(ok).not.toHaveProperty('reason');
    expect(notNeeded!.reason).toBe('not needed: tls-relaxed succeeded');
    expect(long!.reason).toHaveLength(200);
    expect(long!.reason).not.toContain('pw');
    expect(long!.reason).not.toContain('token=T ');
  });
});

describe('/v1/hosts', () => {
  it('shows the learned route; DELETE forgets it, and the next fetch plans afresh (strict first)', async () => {
    const legacy = lab.legacy.legacyCipher;
    const first = await fetchVia(`${legacy.url}/image.png?n=learn`);
    expect(first.status).toBe(200);
    expect(first.headers['x-detour-strategy']).toBe('tls-relaxed');
    const host = new URL(legacy.url).host;
    const hosts = (await json('/v1/hosts')).json() as { hosts: HostRow[] };
    const entry = hosts.hosts.find((h) => h.host === host);
    expect(entry).toMatchObject({ route: { winner: 'tls-relaxed' }, circuit: { state: 'closed' } });

    const remembered = await fetchVia(`${legacy.url}/image.png?n=remembered`);
    expect(JSON.parse(String(remembered.headers['x-detour-attempts']))[0].strategy).toBe('tls-relaxed');

    const forgot = await json(`/v1/hosts/${encodeURIComponent(host)}`, { method: 'DELETE' });
    expect(forgot.status).toBe(200);
    expect(forgot.json()).toMatchObject({ ok: true, host, forgotten: [new URL(legacy.url).origin] });
    const after = (await json('/v1/hosts')).json() as { hosts: HostRow[] };
    expect(after.hosts.find((h) => h.host === host)?.route).toBeNull();

    const afresh = await fetchVia(`${legacy.url}/image.png?n=afresh`);
    const attempts = JSON.parse(String(afresh.headers['x-detour-attempts']));
    expect(attempts.map((a: { strategy: string }) => a.strategy).slice(0, 2)).toEqual([
      'direct',
      'tls-relaxed',
    ]);
  });

  it('shows an open circuit; DELETE closes it and the next fetch goes to the network again', async () => {
    const url = `http://127.0.0.1:${refusedPort}/image.png`;
    for (let i = 0; i < 2; i++) expect((await fetchVia(`${url}?n=${i}`)).status).toBe(502);
    const refused = await fetchVia(`${url}?n=refused`);
    expect(refused.json().error).toMatchObject({ code: 'DETOUR_CIRCUIT_OPEN' });
    const host = `127.0.0.1:${refusedPort}`;
    const open = (await json('/v1/hosts')).json() as { hosts: HostRow[] };
    expect(open.hosts.find((h) => h.host === host)?.circuit).toMatchObject({ state: 'open', failures: 2 });

    expect((await json(`/v1/hosts/${host}`, { method: 'DELETE' })).status).toBe(200);
    const closed = (await json('/v1/hosts')).json() as { hosts: HostRow[] };
    expect(closed.hosts.find((h) => h.host === host)?.circuit).toMatchObject({
      state: 'closed',
      failures: 0,
    });
    const again = await fetchVia(`${url}?n=again`);
    expect(again.json().error).not.toMatchObject({ code: 'DETOUR_CIRCUIT_OPEN' });
    expect(again.json().attempts?.some((a) => (a as { strategy: string }).strategy === 'direct')).toBe(true);
  });

  it('refuses what is not a host name', async () => {
    const bad = await json(`/v1/hosts/${encodeURIComponent('a b/../c')}`, { method: 'DELETE' });
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'DETOUR_BAD_REQUEST' });
  });
});

describe('/v1/cache and /v1/doctor', () => {
  it('counts hits and the memory tier', async () => {
    const url = `${lab.https.url}/image.png?n=cached`;
    await fetchVia(url);
    const hit = await fetchVia(url);
    expect(hit.headers['x-detour-from-cache']).toBe('true');
    const cache = (await json('/v1/cache')).json() as {
      hits: number;
      bytesFromCache: number;
      hitsByTier: Record<string, number>;
      tiers: Array<{ name: string; entries: number | null; bytes: number | null }>;
    };
    expect(cache.hits).toBeGreaterThanOrEqual(1);
    expect(cache.bytesFromCache).toBeGreaterThanOrEqual(hit.body.length);
    expect(cache.hitsByTier.memory).toBeGreaterThanOrEqual(1);
    const memory = cache.tiers.find((t) => t.name === 'memory')!;
    expect(memory.entries).toBeGreaterThanOrEqual(1);
    expect(memory.bytes).toBeGreaterThanOrEqual(hit.body.length);
  });

  it('answers 501 without a doctor, 400 for a URL that is not http(s) or an unknown field', async () => {
    const none = await json('/v1/doctor', { body: { url: `${lab.https.url}/image.png` } });
    expect(none.status).toBe(501);
    expect(none.json().error).toMatchObject({ code: 'DETOUR_NO_DOCTOR' });
    expect((await json('/v1/doctor', { body: { url: 'file:///etc/passwd' } })).status).toBe(400);
    expect((await json('/v1/doctor', { body: { url: 'https://a.invalid', x: 1 } })).status).toBe(400);
  });
});
