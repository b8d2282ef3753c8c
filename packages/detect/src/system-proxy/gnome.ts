import { noSystemProxy, proxyUrl, type SystemProxy } from './types.js';

/** `gsettings list-recursively org.gnome.system.proxy` → `schema key` → value (GVariant text). */
export function parseGsettings(output: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of output.split(/\r?\n/)) {
    const match = /^(org\.gnome\.system\.proxy(?:\.[a-z]+)?)\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (match) values[`${match[1]} ${match[2]}`] = match[3]!.trim();
  }
  return values;
}

/** GVariant string `'text'` → text; array `['a', 'b']` → list. */
const unquote = (value: string | undefined) => value?.replace(/^'(.*)'$/, '$1') ?? '';
function list(value: string | undefined): string[] {
  if (!value || value.startsWith('@as')) return [];
  return [...value.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!);
}

/** GNOME: `mode` none|manual|auto, per-scheme `host`/`port`, `ignore-hosts`, `autoconfig-url`. */
export function parseGnomeProxy(output: string): SystemProxy {
  const v = parseGsettings(output);
  const result = noSystemProxy('gnome-gsettings');
  const mode = unquote(v['org.gnome.system.proxy mode']);
  result.bypass = list(v['org.gnome.system.proxy ignore-hosts']);
  if (mode === 'auto') {
    result.pacUrl = unquote(v['org.gnome.system.proxy autoconfig-url']) || null;
    result.enabled = true;
    return result;
  }
  if (mode !== 'manual') return result;
  const entry = (schema: string, scheme: string) => {
    const host = unquote(v[`org.gnome.system.proxy.${schema} host`]);
    const port = Number(v[`org.gnome.system.proxy.${schema} port`] ?? 0);
    return host && port > 0 ? proxyUrl(`${host}:${port}`, scheme) : null;
  };
  result.http = entry('http', 'http');
  result.https = entry('https', 'http');
  result.socks = entry('socks', 'socks5');
  result.enabled = !!(result.http || result.https || result.socks);
  return result;
}
