#!/usr/bin/env node
/**
 * Bundle the `detour` command's start-up path into packages/cli/dist/bundle/ (issue 25 item 4):
 * `detour fetch` then reads a few files instead of resolving and reading some 600 modules
 * (Detour's packages, got, pino, tsyringe, ...) one by one. Split by command: the entry
 * (bin.js: main, the definitions, the parser) holds no library code, so `detour --version` and
 * `--help` load nothing else; `fetch` and `cache` are chunks of their own, loaded when they run.
 *
 * What goes in: main and the commands a per-file caller runs (`fetch`, `cache`), with everything
 * they import. What stays out: the commands that pull in the heavy, rarely used parts (`serve`
 * with fastify, `doctor`, `demo` with the lab, `detect`): the bundle imports their compiled
 * modules (dist/commands/*.js, from `tsc -b`) when one of them runs. Run after `tsc -b` (the
 * root `build` script does).
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLI = fileURLToPath(new URL('../packages/cli/', import.meta.url));
const LAZY = /^\.\/commands\/(serve|doctor|demo|detect)\.js$/;

// Chunks are named by their content's hash: old ones would pile up.
rmSync(`${CLI}dist/bundle`, { recursive: true, force: true });

await build({
  entryPoints: [`${CLI}dist/bin.js`],
  outdir: `${CLI}dist/bundle`,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  plugins: [
    {
      name: 'lazy-commands',
      setup(b) {
        // Left as imports of tsc's compiled modules (dist/commands/*.js, beside dist/bundle/).
        b.onResolve({ filter: LAZY }, (args) => ({ path: `.${args.path}`, external: true }));
      },
    },
  ],
  // CommonJS dependencies (pino, tsyringe, cacache, ...) call require() on Node built-ins.
  banner: {
    js: "import { createRequire as __detourRequire } from 'node:module'; const require = __detourRequire(import.meta.url);",
  },
});
