/**
 * Issue 25, through the real `detour serve` bin: `--state-dir DIR` keeps what the service learned in
 * DIR/state.json and a restarted service reuses it; `--cache-dir DIR --cache-max-size SIZE` keeps
 * the disk cache under its bound while the service runs, and a restarted service answers from it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directorySize } from '@detour/core/internal';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { type RunningServe, startServe } from './serve-run.js';

let lab: Lab;
let root: string;
const running: RunningServe[] = [];

beforeAll(async () => {
  lab = await startLab();
  root = mkdtempSync(join(tmpdir(), 'detour-serve-state-'));
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop('SIGKILL')));
  await lab?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const CAP = 64 * 1024;

async function serve(stateDir: string, cacheDir: string): Promise<RunningServe> {
  const args = ['--allow-private', '--no-proxy', '--state-dir', stateDir, '--cache-dir', cacheDir];
  const server = await startServe([...args, '--cache-max-size', '64KiB'], {
    NODE_EXTRA_CA_CERTS: lab.caPath,
    // Where the state would go without --state-dir: it must stay empty.
    XDG_STATE_HOME: join(root, 'xdg'),
  });
  running.push(server);
  return server;
}

const fetchVia = (server: RunningServe, url: string) =>
  call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}`);
const steps = (headers: Record<string, string | string[] | undefined>) =>
  (JSON.parse(String(headers['x-detour-attempts'])) as Array<{ strategy: string; outcome: string }>)
    .filter((a) => a.outcome !== 'skipped')
    .map((a) => `${a.strategy}:${a.outcome}`);

describe('detour serve --state-dir and --cache-max-size (the real bin, restarted)', () => {
  it('the state file is written in the given directory and reused after a restart; the disk cache stays under its bound', async () => {
    const stateDir = join(root, 'state');
    const cacheDir = join(root, 'cache');
    const legacy = lab.legacy.sha1Signatures;
    const first = await serve(stateDir, cacheDir);

    // A host that needs tls-relaxed: one failed attempt, and the winner is saved in DIR/state.json.
    const rescued = await fetchVia(first, `${legacy.url}/image.png?n=learn`);
    expect(rescued.status).toBe(200);
    expect(steps(rescued.headers)).toEqual(['direct:failed', 'tls-relaxed:ok']);
    const file = join(stateDir, 'state.json');
    await expect
      .poll(() => existsSync(file) && readFileSync(file, 'utf8'), { timeout: 5_000 })
      .toContain('tls-relaxed');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 'detour-state', v: 1 });

    // Eight files of ~15 KB into a 64 KiB cache: pruned after each write, in the background.
    for (let i = 0; i < 8; i++) {
      const big = await fetchVia(first, `${lab.https.url}/big?bytes=${15000 + i}`);
      expect(big.status).toBe(200);
      expect(big.headers['x-detour-from-cache']).toBe('false');
      await expect.poll(() => directorySize(cacheDir), { timeout: 5_000 }).toBeLessThanOrEqual(CAP);
    }
    expect(await directorySize(cacheDir)).toBeGreaterThan(0);
    expect(await first.stop('SIGTERM')).toBe(0);

    // A restarted service with the same directories: no failed attempt for the rescued host, the
    // newest file from the disk cache (no request), the oldest one pruned (a request).
    const second = await serve(stateDir, cacheDir);
    const remembered = await fetchVia(second, `${legacy.url}/image.png?n=after-restart`);
    expect(remembered.status).toBe(200);
    expect(steps(remembered.headers)).toEqual(['tls-relaxed:ok']);
    const hits = lab.https.routes.hits('/big');
    const newest = await fetchVia(second, `${lab.https.url}/big?bytes=15007`);
    expect(newest.headers['x-detour-from-cache']).toBe('true');
    expect(JSON.parse(String(newest.headers['x-detour-attempts']))).toMatchObject([
      { strategy: 'cache', route: 'disk', outcome: 'ok' },
    ]);
    const oldest = await fetchVia(second, `${lab.https.url}/big?bytes=15000`);
    expect(oldest.headers['x-detour-from-cache']).toBe('false');
    expect(lab.https.routes.hits('/big') - hits).toBe(1);
    expect(await second.stop('SIGTERM')).toBe(0);

    // Nothing went to the default state directory.
    expect(existsSync(join(root, 'xdg', 'detour'))).toBe(false);
  }, 120_000);
});
