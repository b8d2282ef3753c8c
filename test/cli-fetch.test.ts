import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
let dir: string;

beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'detour-cli-'));
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The lab CA is trusted through NODE_EXTRA_CA_CERTS, like Node does for any program. */
const cli = (args: string[]) => detour(args, { NODE_EXTRA_CA_CERTS: lab.caPath });

describe('detour fetch', () => {
  it('prints the JSON contract on success', async () => {
    const result = await cli([
      'fetch',
      `${lab.https.url}/image.png`,
      '--json',
      '--allow-private',
      '--no-proxy',
    ]);
    expect(result.code).toBe(0);
    const out = json(result);
    expect(out).toMatchObject({
      ok: true,
      url: `${lab.https.url}/image.png`,
      finalUrl: `${lab.https.url}/image.png`,
      strategy: 'direct',
      degraded: false,
      fromCache: false,
      bytes: LAB_PNG.length,
      contentType: 'image/png',
      sha256: createHash('sha256').update(LAB_PNG).digest('hex'),
    });
    const attempts = out.attempts as Array<Record<string, unknown>>;
    expect(attempts[0]).toMatchObject({ strategy: 'direct', route: 'direct', outcome: 'ok' });
    expect(typeof attempts[0]!.ms).toBe('number');
  });

  it('-o FILE writes the file; -o - writes the body to stdout and the report to stderr', async () => {
    const target = join(dir, 'a.png');
    const file = await cli([
      'fetch',
      `${lab.https.url}/image.png`,
      '-o',
      target,
      '--allow-private',
      '--no-proxy',
    ]);
    expect(file.code).toBe(0);
    expect(readFileSync(target).equals(LAB_PNG)).toBe(true);
    const piped = await cli([
      'fetch',
      `${lab.https.url}/image.png`,
      '-o',
      '-',
      '--json',
      '--allow-private',
      '--no-proxy',
      '--log-level',
      'info',
    ]);
    expect(piped.code).toBe(0);
    expect(piped.stdout.equals(LAB_PNG)).toBe(true);
    expect(piped.stderr).toContain('"strategy":"direct"');
  });

  it('goes through --proxy and reports the route without credentials', async () => {
    const result = await cli([
      'fetch',
      `${lab.https.url}/image.png`,
      '--json',
      '--allow-private',
      '--proxy',
      lab.proxies.httpAuth.authUrl,
    ]);
    expect(result.code).toBe(0);
    const attempts = json(result).attempts as Array<Record<string, unknown>>;
    expect(attempts[0]!.route).toBe(lab.proxies.httpAuth.url);
    expect(result.stdout.toString() + result.stderr).not.toContain('lab-secret');
  });

  it('exits 1 with a JSON error when every strategy failed, and leaves no file', async () => {
    const target = join(dir, 'never.png');
    const result = await cli([
      'fetch',
      `${lab.https.url}/html`,
      '--expect',
      'image',
      '--json',
      '--allow-private',
      '--no-proxy',
      '-o',
      target,
    ]);
    expect(result.code).toBe(1);
    const out = json(result);
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ failureClass: 'content-invalid' });
    expect(readdirSync(dir)).not.toContain('never.png');
    expect(readdirSync(dir).filter((f) => f.includes('detour-part'))).toEqual([]);
  });

  it('refuses loopback without --allow-private (blocked, exit 1)', async () => {
    const result = await cli(['fetch', `${lab.https.url}/image.png`, '--json', '--no-proxy']);
    expect(result.code).toBe(1);
    expect(json(result).error).toMatchObject({ failureClass: 'blocked' });
  });

  it('--attempt-timeout bounds each strategy, below --timeout; a longer one lets a slow body finish', async () => {
    // 30 bytes, one every 40 ms: ~1.2 s of body, under a total deadline of 20 s.
    const slow = `${lab.https.url}/slow-drip?ms=40&bytes=30`;
    const base = [
      'fetch',
      '--json',
      '--allow-private',
      '--no-proxy',
      '--strategies',
      'direct',
      '--timeout',
      '20000',
    ];
    const started = performance.now();
    const cut = await cli([...base, `${slow}&n=1`, '--attempt-timeout', '300']);
    expect(cut.code).toBe(1);
    expect(json(cut).error).toMatchObject({ failureClass: 'timeout' });
    expect(performance.now() - started).toBeLessThan(10_000);
    const whole = await cli([...base, `${slow}&n=2`, '--attempt-timeout', '15000']);
    expect(whole.code).toBe(0);
    expect(json(whole)).toMatchObject({ ok: true, bytes: 30, strategy: 'direct' });
  });

  it('sends -H headers', async () => {
    const result = await cli([
      'fetch',
      `${lab.https.url}/headers`,
      '-o',
      '-',
      '--allow-private',
      '--no-proxy',
      '-H',
      'X-Bot: koishi',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.toString())['x-bot']).toBe('koishi');
  });
});

describe('detour fetch --cache-dir / --no-cache', () => {
  it('answers the second run from the disk cache, truthfully flagged, without touching the origin', async () => {
    const cacheDir = join(dir, 'cache');
    const url = `${lab.https.url}/image.png?fileid=cached`;
    const before = lab.https.routes.hits('/image.png');
    const first = await cli([
      'fetch',
      url,
      '--json',
      '--allow-private',
      '--no-proxy',
      '--cache-dir',
      cacheDir,
    ]);
    expect(json(first)).toMatchObject({ ok: true, fromCache: false, strategy: 'direct' });
    const second = await cli([
      'fetch',
      url,
      '--json',
      '--allow-private',
      '--no-proxy',
      '--cache-dir',
      cacheDir,
    ]);
    const out = json(second);
    expect(out).toMatchObject({ ok: true, fromCache: true, strategy: 'direct', bytes: LAB_PNG.length });
    expect(out.attempts).toEqual([
      expect.objectContaining({ strategy: 'cache', route: 'disk', outcome: 'ok' }),
    ]);
    expect(lab.https.routes.hits('/image.png')).toBe(before + 1);
    const bypass = await cli(['fetch', url, '--json', '--allow-private', '--no-proxy', '--no-cache']);
    expect(json(bypass)).toMatchObject({ ok: true, fromCache: false });
    expect(lab.https.routes.hits('/image.png')).toBe(before + 2);
  });

  it('--cache-dir and --no-cache together are bad usage', async () => {
    const result = await cli(['fetch', `${lab.https.url}/image.png`, '--cache-dir', dir, '--no-cache']);
    expect(result.code).toBe(2);
  });
});
