/** Temp dirs for generated config, logs and pid files; removed on `remove()` and on process exit. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
let hooked = false;

export interface TempDir {
  readonly path: string;
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  const path = mkdtempSync(join(tmpdir(), `detour-lab-${prefix}-`));
  dirs.add(path);
  return {
    path,
    remove() {
      dirs.delete(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
