// Self time of a .cpuprofile grouped by area (Detour's packages, got and its deps, Node, GC, idle):
// node by-area.mjs FILE [requests]
import { readFileSync } from 'node:fs';

const [file, requests] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const area = (n) => {
  const { url, functionName } = n.callFrame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (/packages\/[^/]+\/src\//.test(url)) return `detour ${url.match(/packages\/([^/]+)\/src/)[1]}`;
  if (
    /tsx|esm\/(hooks|worker|loader|utils)|modules\/(cjs|esm)|cjs-module-lexer/.test(url) ||
    functionName === 'compileSourceTextModule'
  )
    return 'module loading (startup)';
  const dep = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/);
  if (dep) return `dep ${dep[1]}`;
  if (url.startsWith('node:')) return 'node';
  return functionName.startsWith('(') ? functionName : 'native';
};
const totals = new Map();
let sum = 0;
for (const [i, id] of profile.samples.entries()) {
  const k = area(byId.get(id));
  const us = profile.timeDeltas[i] ?? 0;
  totals.set(k, (totals.get(k) ?? 0) + us);
  if (k !== 'idle') sum += us;
}
for (const [k, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  const per = requests ? `  ${(us / Number(requests)).toFixed(1).padStart(7)} µs/request` : '';
  console.log(
    `${(us / 1000).toFixed(0).padStart(7)} ms ${k === 'idle' ? '     ' : `${((us / sum) * 100).toFixed(1).padStart(4)}%`}${per}  ${k}`,
  );
}
