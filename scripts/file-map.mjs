#!/usr/bin/env node
// Writes the core README's map of files (lines per file under packages/core/src) between the
// `file-map` markers. `--check` only says whether it is current (exit 1 when not).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'packages/core/src');
const readme = join(root, 'packages/core/README.md');
const START = '<!-- file-map:start -->';
const END = '<!-- file-map:end -->';

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.ts')) files.push(path);
  }
};
walk(src);
const rows = files.map((path) => {
  const text = readFileSync(path, 'utf8');
  return { file: relative(src, path), lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) };
});
const total = rows.reduce((sum, row) => sum + row.lines, 0);
const table = [
  START,
  `Line counts (\`pnpm run docs:map\` writes them; \`wc -l\`): ${total} lines in ${rows.length} files.`,
  '',
  '| file | lines |',
  '|---|---:|',
  ...rows.map(({ file, lines }) => `| \`${file}\` | ${lines} |`),
  END,
].join('\n');

const text = readFileSync(readme, 'utf8');
const from = text.indexOf(START);
const to = text.indexOf(END);
if (from < 0 || to < 0) {
  console.error(`no ${START} … ${END} markers in ${readme}`);
  process.exit(1);
}
const next = text.slice(0, from) + table + text.slice(to + END.length);
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('packages/core/README.md: the map of files is out of date (run pnpm run docs:map)');
    process.exit(1);
  }
  console.log('map of files is current');
} else {
  writeFileSync(readme, next);
  console.log(`map of files: ${rows.length} files, ${total} lines`);
}
