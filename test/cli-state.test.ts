/**
 * Issue 25 item 1, end to end: what `detour fetch` learns survives the process. Real CLI runs, a
 * real accelerator proxy on loopback that breaks TLS to the lab's origin (the classic case:
 * `direct` through it fails, `direct-bypass` rescues).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AcceleratorProxy, type Lab, startAcceleratorProxy, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
let accelerator: AcceleratorProxy;
let other: AcceleratorProxy;
let root: string;

beforeAll(async () => {
  lab = await startLab();
  const breaks = [lab.https.port];
  [accelerator, other] = await Promise.all([
    startAcceleratorProxy({ mode: 'alert', break: breaks }),
    startAcceleratorProxy({ mode: 'alert', break: breaks }),
  ]);
  root = mkdtempSync(join(tmpdir(), 'detour-cli-state-'));
});
afterAll(async () => {
  await Promise.all([lab?.close(), accelerator?.close(), other?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

const failed = (run: ReturnType<typeof json>) => run.attempts.filter((a) => a.outcome === 'failed');

function fetchThrough(proxy: AcceleratorProxy, args: string[], env: Record<string, string> = {}) {
  return detour(['fetch', `${lab.https.url}/image.png`, '--json', '--allow-private', ...args], {
    NODE_EXTRA_CA_CERTS: lab.caPath,
    https_proxy: proxy.url,
    ...env,
  });
}

describe('detour fetch remembers across runs (state directory)', () => {
  it('after one rescue, a second run with the same state makes no failed attempt; another network starts fresh', async () => {
    const state = join(root, 'a');
    const first = await fetchThrough(accelerator, ['--state-dir', state]);
    expect(first.code).toBe(0);
    expect(json(first).strategy).toBe('direct-bypass');
    expect(failed(json(first))).toMatchObject([{ strategy: 'direct', failureClass: 'tls-handshake' }]);
    const tunnels = accelerator.stats().connects[`localhost:${lab.https.port}`] ?? 0;
    expect(tunnels).toBeGreaterThan(0);

    const second = await fetchThrough(accelerator, ['--state-dir', state]);
    expect(second.code).toBe(0);
    expect(json(second).strategy).toBe('direct-bypass');
    expect(failed(json(second))).toEqual([]);
    // One attempt ran; the rest of the plan is listed after it, skipped (D83).
    expect(json(second).attempts.filter((a) => a.outcome !== 'skipped')).toHaveLength(1);
    // Not one more tunnel through the broken proxy.
    expect(accelerator.stats().connects[`localhost:${lab.https.port}`] ?? 0).toBe(tunnels);

    // Another accelerator (another proxy variable: another network fingerprint) starts fresh.
    const elsewhere = await fetchThrough(other, ['--state-dir', state]);
    expect(elsewhere.code).toBe(0);
    expect(failed(json(elsewhere))).toMatchObject([{ strategy: 'direct', failureClass: 'tls-handshake' }]);

    // The last detection is kept beside it (item 3), for the next start within 60 s.
    expect(JSON.parse(readFileSync(join(state, 'detect.json'), 'utf8')).format).toBe('detour-detect');
    const file = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    expect(file).toMatchObject({ format: 'detour-state', v: 1 });
    expect(Object.keys(file.networks)).toHaveLength(2);
  }, 90_000);

  it('the default is $XDG_STATE_HOME/detour; --no-state neither reads nor writes it', async () => {
    const home = join(root, 'xdg');
    const env = { XDG_STATE_HOME: home };
    const first = await fetchThrough(accelerator, [], env);
    expect(failed(json(first))).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(home, 'detour', 'state.json'), 'utf8')).format).toBe('detour-state');
    const without = await fetchThrough(accelerator, ['--no-state'], env);
    expect(failed(json(without))).toHaveLength(1); // learned, but not read
    const again = await fetchThrough(accelerator, [], env);
    expect(failed(json(again))).toEqual([]);
  }, 90_000);

  it('a corrupt state file is ignored with a warning, and replaced', async () => {
    const state = join(root, 'corrupt');
    await fetchThrough(accelerator, ['--state-dir', state]);
    writeFileSync(join(state, 'state.json'), '\u0000\u0001 not json');
    const run = await fetchThrough(accelerator, ['--state-dir', state]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^detour: warning: state file .*state\.json is not Detour state/m);
    expect(failed(json(run))).toHaveLength(1); // nothing remembered: learned again
    expect(JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).format).toBe('detour-state');
  }, 90_000);

  it('--state-dir and --no-state exclude each other; an empty --state-dir is bad usage', async () => {
    const both = await detour(['fetch', 'https://example.invalid/a', '--state-dir', root, '--no-state']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--state-dir and --no-state exclude each other/);
    const empty = await detour(['fetch', 'https://example.invalid/a', '--state-dir', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--state-dir takes a directory/);
  });
});
