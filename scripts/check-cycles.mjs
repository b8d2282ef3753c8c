#!/usr/bin/env node
/**
 * Import-cycle check (run by `pnpm run lint`, so by CI): every relative import and re-export in
 * packages/<name>/src, type-only ones included (a type cycle is still a design cycle), and every
 * `@detour/<pkg>` import between packages. Prints each cycle and exits 1 when there is one.
 * Small on purpose: madge would pull a TypeScript detective and ~100 packages for the same answer.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function walk(dir, out = []) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** file → files it imports (modules), and package → packages it imports. */
const fileEdges = new Map();
const packageEdges = new Map();
const packages = readdirSync(packagesDir).filter((p) => {
  try {
    return statSync(join(packagesDir, p, 'src')).isDirectory();
  } catch {
    return false;
  }
});
const packageName = new Map();
for (const p of packages) {
  try {
    packageName.set(JSON.parse(readFileSync(join(packagesDir, p, 'package.json'), 'utf8')).name, p);
  } catch {}
}

for (const p of packages) {
  const deps = new Set();
  for (const file of walk(join(packagesDir, p, 'src'))) {
    const text = stripComments(readFileSync(file, 'utf8'));
    const targets = new Set();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) {
        let target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        try {
          if (statSync(target).isDirectory()) target = join(target, 'index.ts');
        } catch {}
        targets.add(target);
      } else {
        const pkg = /^(@detour\/[^/]+)/.exec(spec)?.[1];
        const dir = pkg && packageName.get(pkg);
        if (dir && dir !== p) deps.add(dir);
      }
    }
    fileEdges.set(file, targets);
  }
  packageEdges.set(p, deps);
}

/** Strongly connected components with more than one node (or a self-loop): Tarjan. */
function cycles(edges) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const found = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)?.has(v)) found.push(scc.reverse());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const fileCycles = cycles(fileEdges);
const packageCycles = cycles(packageEdges);
for (const scc of fileCycles) {
  console.error(`import cycle (${scc.length} files): ${scc.map((f) => relative(root, f)).join(' ↔ ')}`);
}
for (const scc of packageCycles) console.error(`package cycle: ${scc.join(' ↔ ')}`);
if (fileCycles.length || packageCycles.length) process.exit(1);
console.log(`no import cycle (${fileEdges.size} files in ${packages.length} packages)`);
