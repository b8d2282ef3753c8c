// Self time of a bundled client's .cpuprofile (bench/profile/bundle.mjs), each sample charged to its
// nearest owner on the stack: a Detour function (by the bundle's `// packages/...` file markers),
// got and its dependencies, the bench, or none ("other": the event loop, sockets, TLS reads). Node's
// own functions count for whoever called them, so the list says what each part of Detour costs:
//   node by-owner.mjs FILE.cpuprofile BUNDLE.mjs [requests] [rows]
import { readFileSync } from 'node:fs';

const [file, bundle, requests = '1', rows = '40'] = process.argv.slice(2);
const marks = [];
readFileSync(bundle, 'utf8')
  .split('\n')
  .forEach((line, i) => {
    const m = line.match(/^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/);
    if (m) marks.push([i, m[1]]);
  });
const fileAt = (line) => {
  let lo = 0;
  let hi = marks.length - 1;
  let found = '?';
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid][0] <= line) {
      found = marks[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
const owners = new Map();
const ownerOf = (id) => {
  if (owners.has(id)) return owners.get(id);
  const { url, functionName, lineNumber } = byId.get(id).callFrame;
  let owner;
  if (functionName === '(root)') owner = 'other';
  else if (functionName === '(garbage collector)') owner = 'gc';
  else if (functionName === '(idle)') owner = 'idle';
  else if (url.includes('.profile-build')) {
    const source = fileAt(lineNumber);
    if (source.includes('packages/')) owner = `${functionName} (${source.replace(/.*src\//, '')})`;
    else owner = source.includes('node_modules') ? 'got and its dependencies' : 'bench';
  }
  owner ??= parent.has(id) ? ownerOf(parent.get(id)) : 'other';
  owners.set(id, owner);
  return owner;
};
const totals = new Map();
let busy = 0;
profile.samples.forEach((id, i) => {
  const owner = ownerOf(id);
  const us = profile.timeDeltas[i] ?? 0;
  totals.set(owner, (totals.get(owner) ?? 0) + us);
  if (owner !== 'idle') busy += us;
});
const per = (us) => (us / Number(requests)).toFixed(1).padStart(7);
console.log(`${per(busy)} µs/request busy`);
for (const [owner, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(rows)))
  console.log(`${per(us)}  ${owner}`);
