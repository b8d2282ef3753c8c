/**
 * docs/errors.md lists every failure class and every code Detour's source can produce, so that a
 * code a user sees can always be looked up. A new code in packages/STAR/src without an entry fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAILURE_CLASSES } from '@detour/core';
import { CURL_EXIT_CLASSES } from '@detour/curl';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
/** Backticked names in the document: `DETOUR_X`, `tls-handshake`, … */
const documented = new Set([...doc.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every `DETOUR_*` code in packages/STAR/src (a prefix like `DETOUR_BAD_` in a startsWith is not a code). */
function codesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  const packages = join(root, 'packages');
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, 'src');
    try {
      statSync(src);
    } catch {
      continue;
    }
    for (const file of sourceFiles(src)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/DETOUR_[A-Z0-9_]+/g)) {
        if (match[0].endsWith('_')) continue;
        if (!found.has(match[0])) found.set(match[0], file.slice(root.length));
      }
    }
  }
  return found;
}

describe('docs/errors.md', () => {
  it('lists every DETOUR_* code used in packages/*/src', () => {
    const codes = codesInSource();
    expect(codes.size).toBeGreaterThan(10); // the scan really found the source
    const missing = [...codes].filter(([code]) => !documented.has(code)).map(([c, f]) => `${c} (${f})`);
    expect(missing, 'add these codes to docs/errors.md').toEqual([]);
  });

  it('lists every failure class, and the default code DetourError gives each', () => {
    for (const failureClass of FAILURE_CLASSES) {
      expect(documented, failureClass).toContain(failureClass);
      expect(doc, failureClass).toContain(`DETOUR_${failureClass.toUpperCase().replaceAll('-', '_')}`);
    }
  });

  it('lists every curl exit code Detour maps, with its class', () => {
    for (const [exit, failureClass] of Object.entries(CURL_EXIT_CLASSES)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`CURL_E${exit}\` |`));
      expect(row, `CURL_E${exit}`).toBeDefined();
      expect(row).toContain(`\`${failureClass}\``);
    }
  });
});
