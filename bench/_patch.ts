import https from 'node:https';
const ids = new WeakMap<object, number>(); let next = 0;
const orig = https.Agent.prototype.getName;
https.Agent.prototype.getName = function (this: https.Agent, options: Record<string, unknown> = {}) {
  const { ca, ...rest } = options;
  let id = '';
  if (ca && typeof ca === 'object') { if (!ids.has(ca)) ids.set(ca, next++); id = `ca#${ids.get(ca)}`; } else if (ca) id = String(ca);
  return `${orig.call(this, rest as never)}:${id}`;
} as never;
