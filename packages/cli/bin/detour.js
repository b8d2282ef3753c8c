#!/usr/bin/env node
// The installed `detour` command. It exists before the build (pnpm links bins at install time),
// and loads the compiled CLI; run `pnpm build` first. It prefers the bundle of the start-up path
// (dist/bundle/, scripts/bundle-cli.mjs: a few files to read instead of hundreds of modules), and
// falls back to tsc's output when the bundle is missing or older than it (a `tsc -b` alone).
import { statSync } from 'node:fs';

const mtime = (name) => {
  try {
    return statSync(new URL(`../dist/${name}`, import.meta.url)).mtimeMs;
  } catch {
    return -1;
  }
};
const bundle = mtime('bundle/bin.js');
const entry = bundle >= 0 && bundle >= mtime('main.js') ? '../dist/bundle/bin.js' : '../dist/bin.js';

import(entry).catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write('detour: the CLI is not built yet; run `npx -y pnpm@10 build` first\n');
    process.exitCode = 1;
    return;
  }
  throw error;
});
