/**
 * The public entry stays small (issue 24 item 4): at most 60 values, every one also reachable from
 * '@detour/core/internal' as the same object, so our packages and users share one class identity.
 * What the docs and the examples show users importing from '@detour/core' must be there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as publicEntry from '../src/index.js';
import * as internal from '../src/internal.js';

describe('@detour/core', () => {
  it('exports at most 60 values', () => {
    expect(Object.keys(publicEntry).length).toBeLessThanOrEqual(60);
  });

  it('exports what a user builds a pipeline and a plugin with', () => {
    for (const name of [
      'createPipeline',
      'Pipeline',
      'asPlugin',
      'decorate',
      'STRATEGY',
      'TRANSPORT',
      'LAYER',
    ]) {
      expect(publicEntry).toHaveProperty(name);
    }
  });

  it('re-exports the same objects as the internal entry, which holds more', () => {
    const all = new Map(Object.entries(internal));
    for (const [name, value] of Object.entries(publicEntry)) expect(all.get(name)).toBe(value);
    expect(Object.keys(internal).length).toBeGreaterThan(Object.keys(publicEntry).length);
    expect(publicEntry).not.toHaveProperty('followWithRetries');
  });

  it('exports every value the docs and the examples import from it; examples use no internals', () => {
    const imports = userFacingImports();
    // The scan reads what it should: the README's quick start and the custom strategy example.
    expect(imports.map((i) => i.name)).toEqual(expect.arrayContaining(['createPipeline', 'strictAttempt']));
    const missing = imports.filter((i) => i.from === '@detour/core' && !(i.name in publicEntry));
    expect(missing).toEqual([]);
    const internalInExamples = imports.filter(
      (i) => i.from !== '@detour/core' && i.file.startsWith('examples/'),
    );
    expect(internalInExamples).toEqual([]);
  });

  it('tests and benches import from it only what it exports (a missing name is undefined at run time, not a build error)', () => {
    const files = [
      'test',
      'bench',
      ...readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/test`),
    ].flatMap((dir) => sourceFiles(dir));
    expect(files).toEqual(expect.arrayContaining(['test/pack-install.test.ts']));
    const missing = importsIn(files).filter((i) => i.from === '@detour/core' && !(i.name in publicEntry));
    expect(missing).toEqual([]);
  });
});

/** The .ts files under `dir` (relative to the repository), recursively; none when it is absent. */
function sourceFiles(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'fixtures' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const ROOT = join(import.meta.dirname, '../../..');

/** Value names (not `type` ones) imported from '@detour/core' or its internal subpath, per file. */
function userFacingImports(): Array<{ file: string; name: string; from: string }> {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
    ...readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/README.md`),
    ...readdirSync(join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `examples/${f}`),
  ];
  return importsIn(files);
}

/** Value names (not `type` ones) that `files` import from '@detour/core' or its internal subpath. */
function importsIn(files: string[]): Array<{ file: string; name: string; from: string }> {
  const found: Array<{ file: string; name: string; from: string }> = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(join(ROOT, file), 'utf8');
    } catch {
      continue; // a package without a README
    }
    for (const m of text.matchAll(
      /import\s+(type\s+)?\{([^}]*)\}\s+from\s+'(@detour\/core(?:\/internal)?)'/g,
    )) {
      if (m[1]) continue;
      for (const part of m[2]!.split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0]!;
        if (name && !name.startsWith('type ')) found.push({ file, name, from: m[3]! });
      }
    }
  }
  return found;
}
