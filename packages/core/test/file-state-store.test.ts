/**
 * Issue 25 item 1: the state directory's store. Pure file logic is tested in process; "two
 * processes writing at once" runs two real Node processes against one directory.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker, defaultStateDir, FileStateStore } from '../src/internal.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'detour-state-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('FileStateStore', () => {
  it('keeps entries across instances (a restart), per namespace', async () => {
    const dir = tempDir();
    const a = new FileStateStore(dir, { namespace: 'net-a' });
    await a.set('route:v1:x', 'winner', 60_000);
    await a.flush();
    expect(await new FileStateStore(dir, { namespace: 'net-a' }).get('route:v1:x')).toBe('winner');
    // Another network starts fresh, and its save keeps the first network's entries.
    const b = new FileStateStore(dir, { namespace: 'net-b' });
    expect(await b.get('route:v1:x')).toBeUndefined();
    await b.set('route:v1:y', 'other', 60_000);
    await b.flush();
    const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    expect(file.format).toBe('detour-state');
    expect(Object.keys(file.networks).sort()).toEqual(['net-a', 'net-b']);
  });

  it('honours the TTL, and deletions reach the file', async () => {
    const dir = tempDir();
    let now = 1_000_000;
    const store = new FileStateStore(dir, { now: () => now });
    await store.set('k', 'v', 1_000);
    await store.set('gone', 'v', 60_000);
    await store.delete('gone');
    await store.flush();
    expect(await store.get('k')).toBe('v');
    now += 1_001;
    expect(await store.get('k')).toBeUndefined();
    const fresh = new FileStateStore(dir, { now: () => now });
    expect(await fresh.get('gone')).toBeUndefined();
    expect(await fresh.get('k')).toBeUndefined();
  });

  it('merges on save: two instances writing one file both keep their entries', async () => {
    const dir = tempDir();
    const one = new FileStateStore(dir);
    const two = new FileStateStore(dir);
    await one.get('load-now'); // both read the (empty) file before either saves
    await two.get('load-now');
    await one.set('a', '1', 60_000);
    await two.set('b', '2', 60_000);
    await Promise.all([one.flush(), two.flush()]);
    const after = new FileStateStore(dir);
    expect([await after.get('a'), await after.get('b')]).toEqual(['1', '2']);
  });

  it.each([
    ['corrupt', '{"format":"detour-st'],
    ['foreign', JSON.stringify({ some: 'other program' })],
    ['another version', JSON.stringify({ format: 'detour-state', v: 99, networks: {} })],
  ])('a %s file is ignored with a warning and replaced on the next save', async (_name, text) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.json'), text);
    const warnings: string[] = [];
    const store = new FileStateStore(dir, { warn: (m) => warnings.push(m) });
    expect(await store.get('anything')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is not Detour state \(corrupt or foreign\); ignored/);
    await store.set('k', 'v', 60_000);
    await store.flush();
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).format).toBe('detour-state');
  });

  it('a directory it cannot create is a warning, never a failed call', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'file'), '');
    const warnings: string[] = [];
    const store = new FileStateStore(join(parent, 'file', 'state'), { warn: (m) => warnings.push(m) });
    await store.set('k', 'v', 60_000);
    await store.flush();
    expect(warnings.join('\n')).toMatch(/state not saved to .*ENOTDIR/);
    expect(await store.get('k')).toBe('v'); // still known in process
  });

  it('two processes writing at once leave a readable state with every entry', async () => {
    const dir = tempDir();
    const writer = (name: string) => `
      import { FileStateStore } from './packages/core/src/store/file-store.ts';
      const store = new FileStateStore(${JSON.stringify(dir)}, { namespace: 'shared', saveDelayMs: 0 });
      for (let i = 0; i < 60; i++) {
        await store.set('${name}-' + i, 'v' + i, 600_000);
        if (i % 3 === 0) await store.flush();
      }
      await store.close();
    `;
    const run = (script: string) =>
      new Promise<void>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          { cwd: ROOT, timeout: 60_000 },
          (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve()),
        ),
      );
    await Promise.all([run(writer('p1')), run(writer('p2'))]);
    const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    const keys = Object.keys(file.networks.shared);
    expect(keys.filter((k) => k.startsWith('p1-'))).toHaveLength(60);
    expect(keys.filter((k) => k.startsWith('p2-'))).toHaveLength(60);
  }, 60_000);

  it('a circuit with persistCounts counts failures in a row across instances (processes)', async () => {
    const dir = tempDir();
    for (let run = 0; run < 3; run++) {
      const store = new FileStateStore(dir);
      const circuit = new CircuitBreaker({ threshold: 3, store, persistCounts: true });
      const ticket = await circuit.admit('fp|https://dead.example');
      circuit.failure(ticket);
      await circuit.flush();
      await store.flush(); // what a pipeline's close() does
    }
    const store = new FileStateStore(dir);
    const next = new CircuitBreaker({ threshold: 3, store, persistCounts: true });
    await expect(next.admit('fp|https://dead.example')).rejects.toMatchObject({
      code: 'DETOUR_CIRCUIT_OPEN',
    });
  });
});

describe('defaultStateDir', () => {
  it('follows XDG, then ~/.local/state, and %LOCALAPPDATA% on Windows', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }, 'linux')).toBe('/x/state/detour');
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative', HOME: '/home/u' }, 'linux')).toBe(
      '/home/u/.local/state/detour',
    );
    expect(defaultStateDir({ HOME: '/home/u' }, 'darwin')).toBe('/home/u/.local/state/detour');
    expect(defaultStateDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32')).toBe(
      'C:\\Users\\u\\AppData\\Local\\detour',
    );
    expect(defaultStateDir({}, 'linux')).toBeUndefined();
  });
});
