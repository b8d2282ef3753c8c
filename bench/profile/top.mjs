// Top self-time (and, with --total, inclusive time) functions of a .cpuprofile: node top.mjs FILE [N] [--total]
import { readFileSync } from 'node:fs';

const [file, count = '40'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const total = process.argv.includes('--total');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const key = (n) => {
  const f = n.callFrame;
  const where = f.url.replace(/^.*\/(node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?|packages\/)/, '');
  return `${f.functionName || '(anon)'} ${where}:${f.lineNumber + 1}`;
};
const agg = new Map();
let sum = 0;
for (const [id, us] of self) {
  sum += us;
  const n = byId.get(id);
  if (!total) {
    agg.set(key(n), (agg.get(key(n)) ?? 0) + us);
    continue;
  }
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    agg.set(k, (agg.get(k) ?? 0) + us);
  }
}
const rows = [...agg].sort((a, b) => b[1] - a[1]).slice(0, Number(count));
console.log(`total ${(sum / 1000).toFixed(0)} ms`);
for (const [k, us] of rows)
  console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((us / sum) * 100).toFixed(1).padStart(5)}%  ${k}`);
