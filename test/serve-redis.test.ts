import { freePort, LAB_PNG, type Lab, type RunningRedis, startLab, startRedis } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { type RunningServe, startServe } from './serve-run.js';

/** Two `detour serve` processes on one real redis-server: what one learns, the other knows. */
let lab: Lab;
let redis: RunningRedis;
let first: RunningServe;
let second: RunningServe;

const fetchVia = (server: RunningServe, url: string) =>
  call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}`);
const attemptsOf = (headers: Record<string, string | string[] | undefined>) =>
  JSON.parse(String(headers['x-detour-attempts'])) as Array<{ strategy: string; outcome: string }>;

beforeAll(async () => {
  [lab, redis] = await Promise.all([startLab(), startRedis()]);
  const args = ['--allow-private', '--no-proxy', '--redis', redis.url];
  const env = { NODE_EXTRA_CA_CERTS: lab.caPath };
  [first, second] = await Promise.all([startServe(args, env), startServe(args, env)]);
});
afterAll(async () => {
  const codes = await Promise.all([first?.stop('SIGTERM'), second?.stop('SIGTERM')]);
  await Promise.all([lab?.close(), redis?.close()]);
  expect(codes).toEqual([0, 0]); // Redis connections closed, nothing left hanging
});

describe('detour serve --redis: two processes, one redis-server', () => {
  it('a download through the first is a cache hit through the second (origin hit once)', async () => {
    const url = `${lab.https.url}/image.png?n=shared-cache`;
    const a = await fetchVia(first, url);
    expect(a.status).toBe(200);
    expect(a.headers['x-detour-from-cache']).toBe('false');
    const b = await fetchVia(second, url);
    expect(b.status).toBe(200);
    expect(b.body.equals(LAB_PNG)).toBe(true);
    expect(b.headers['x-detour-from-cache']).toBe('true');
    expect(attemptsOf(b.headers)).toMatchObject([{ strategy: 'cache', route: 'shared', outcome: 'ok' }]);
    expect(lab.https.routes.hits('/image.png')).toBe(1);
  });

  it('a host rescued on the first costs the second no failed attempt', async () => {
    const origin = lab.legacy.sha1Signatures;
    const a = await fetchVia(first, `${origin.url}/image.png?n=rescue-1`);
    expect(a.status).toBe(200);
    expect(attemptsOf(a.headers).map((x) => `${x.strategy}:${x.outcome}`)).toEqual([
      'direct:failed',
      'tls-relaxed:ok',
      'curl:skipped', // planned after the winner (D83)
    ]);
    const b = await fetchVia(second, `${origin.url}/image.png?n=rescue-2`); // another URL: not a cache hit
    expect(b.status).toBe(200);
    expect(b.headers['x-detour-from-cache']).toBe('false');
    // The remembered winner went first: direct and curl are listed after it, not needed.
    expect(attemptsOf(b.headers).map((x) => `${x.strategy}:${x.outcome}`)).toEqual([
      'tls-relaxed:ok',
      'direct:skipped',
      'curl:skipped',
    ]);
  });

  it('a host whose circuit opened on the first is short-circuited on the second', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/image.png`;
    for (let i = 0; i < 5; i++) {
      const failed = await fetchVia(first, `${dead}?n=${i}`);
      expect(failed.status).toBe(502);
      expect(failed.json().error).toMatchObject({ failureClass: 'connect-refused' });
    }
    const refused = await fetchVia(second, `${dead}?n=second`);
    expect(refused.status).toBe(502);
    const body = refused.json();
    expect(body.error).toMatchObject({ failureClass: 'unavailable', code: 'DETOUR_CIRCUIT_OPEN' });
    expect(body.attempts).toEqual([]); // no network attempt at all
    const metrics = (await call(`${second.url}/metrics`)).body.toString();
    expect(metrics).toMatch(/^detour_circuit_rejections_total [1-9]/m);
  });
});
