// Call stacks leading to a function (by name substring) in a .cpuprofile, weighted by self time:
// node callers.mjs FILE NAME [depth]
import { readFileSync } from 'node:fs';

const [file, name, depth = '8'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
for (const [i, s] of profile.samples.entries())
  self.set(s, (self.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0));
const label = (n) =>
  `${n.callFrame.functionName || '(anon)'}@${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
const stacks = new Map();
for (const [id, us] of self) {
  const n = byId.get(id);
  if (!n.callFrame.functionName.includes(name)) continue;
  const chain = [];
  for (let cur = parent.get(id); cur !== undefined && chain.length < Number(depth); cur = parent.get(cur))
    chain.push(label(byId.get(cur)));
  const k = chain.join(' < ');
  stacks.set(k, (stacks.get(k) ?? 0) + us);
}
for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`${(us / 1000).toFixed(1)} ms  ${k}\n`);
