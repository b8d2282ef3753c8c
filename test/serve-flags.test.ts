/**
 * `detour serve` carries every flag (issue 23 item 2): X-Detour-Degraded, X-Detour-Insecure and
 * X-Detour-Downgraded on first answers and on cache hits, from the real service against the lab.
 */
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServe, startServe } from './serve-run.js';

let lab: Lab;
let serve: RunningServe;
beforeAll(async () => {
  lab = await startLab();
  serve = await startServe(
    [
      '--allow-private',
      '--no-proxy',
      '--allow-downgrade',
      'localhost',
      '--insecure-host',
      'localhost',
      '--placeholder',
    ],
    { NODE_EXTRA_CA_CERTS: lab.caPath },
  );
});
afterAll(async () => {
  await serve?.stop();
  await lab?.close();
});

async function get(
  url: string,
  extra = '',
): Promise<{ status: number; flags: Record<string, string | null>; body: Buffer }> {
  const response = await fetch(`${serve.url}/v1/fetch?url=${encodeURIComponent(url)}${extra}`);
  const body = Buffer.from(await response.arrayBuffer());
  const h = (name: string) => response.headers.get(name);
  return {
    status: response.status,
    body,
    flags: {
      strategy: h('x-detour-strategy'),
      degraded: h('x-detour-degraded'),
      insecure: h('x-detour-insecure'),
      downgraded: h('x-detour-downgraded'),
      fromCache: h('x-detour-from-cache'),
    },
  };
}

describe('serve carries every flag, first answer and cache hit', () => {
  it('a strict answer: every flag false', async () => {
    const first = await get(`${lab.https.url}/image.png?n=serve-flags-strict`);
    expect(first.status).toBe(200);
    expect(first.flags).toEqual({
      strategy: 'direct',
      degraded: 'false',
      insecure: 'false',
      downgraded: 'false',
      fromCache: 'false',
    });
  });

  it('https broken, plain http works: X-Detour-Downgraded: true, and never cached (issue 22: a body over plain http never fills an https entry)', async () => {
    const url = `${lab.downgrade.shared.httpsUrl}/image.png?n=serve-flags-downgrade`;
    const first = await get(url);
    expect(first.status).toBe(200);
    expect(first.body.equals(LAB_PNG)).toBe(true);
    expect(first.flags).toMatchObject({
      strategy: 'http-downgrade',
      downgraded: 'true',
      insecure: 'false',
      fromCache: 'false',
    });
    const again = await get(url);
    expect(again.flags).toMatchObject({
      strategy: 'http-downgrade',
      downgraded: 'true',
      insecure: 'false',
      fromCache: 'false',
    });
  });

  it('a self-signed certificate accepted for an insecure host: X-Detour-Insecure: true, kept by the cache', async () => {
    const url = `${lab.certOrigins.selfSigned.url}/image.png?n=serve-flags-insecure`;
    const first = await get(url);
    expect(first.status).toBe(200);
    expect(first.flags).toMatchObject({
      insecure: 'true',
      downgraded: 'false',
      degraded: 'false',
      fromCache: 'false',
    });
    const hit = await get(url);
    expect(hit.flags).toMatchObject({ insecure: 'true', downgraded: 'false', fromCache: 'true' });
  });

  it('a placeholder: X-Detour-Degraded: true (never cached)', async () => {
    const url = `${lab.https.url}/status/500?n=serve-flags-degraded`;
    const first = await get(url, '&expect=image');
    expect(first.status).toBe(200);
    expect(first.flags).toMatchObject({
      strategy: 'placeholder',
      degraded: 'true',
      insecure: 'false',
      downgraded: 'false',
    });
    const again = await get(url, '&expect=image');
    expect(again.flags).toMatchObject({ degraded: 'true', fromCache: 'false' });
  });
});

describe('serve tells the most telling failure (issue 23 item 3)', () => {
  it("a placeholder that cannot fit is not the answer: the server's 503 is, with its status", async () => {
    const url = `${lab.https.url}/status/503?n=serve-telling`;
    const response = await fetch(
      `${serve.url}/v1/fetch?url=${encodeURIComponent(url)}&expect=image&expectBytes=12345`,
    );
    expect(response.status).toBe(502);
    const body = (await response.json()) as {
      attempts: Array<{ strategy: string; outcome: string }>;
      error: { failureClass: string; code: string; message: string };
    };
    expect(body.error).toMatchObject({ failureClass: 'http-status', code: 'HTTP_503' });
    expect(body.error.message).toMatch(/HTTP 503/);
    expect(body.attempts.find((a) => a.strategy === 'placeholder')).toMatchObject({ outcome: 'failed' });
  });
});

describe("serve's failure body carries the plan (issue 23 item 4)", () => {
  it('every planned strategy is in attempts: failed, or skipped with why', async () => {
    const response = await fetch(`${serve.url}/v1/fetch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `${lab.https.url}/status/404?n=serve-plan`,
        strategies: ['direct', 'tls-relaxed', 'curl'],
      }),
    });
    expect(response.status).toBe(502);
    const body = (await response.json()) as {
      plan: string[];
      attempts: Array<{ strategy: string; outcome: string; message?: string }>;
    };
    expect(body.plan).toEqual(['direct', 'tls-relaxed', 'curl']);
    expect(body.attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['direct', 'failed'],
      ['tls-relaxed', 'skipped'],
      ['curl', 'skipped'],
    ]);
    expect(body.attempts[2]!.message).toBe('not tried: direct ended the fetch (http-status HTTP_404)');
  });
});
