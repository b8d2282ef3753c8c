import { noSystemProxy, proxyUrl, type SystemProxy } from './types.js';

/** kioslaverc (an INI file) → the `[Proxy Settings]` group. */
export function parseKioslaverc(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  let inGroup = false;
  for (const line of text.split(/\r?\n/)) {
    const group = /^\s*\[(.+)\]\s*$/.exec(line);
    if (group) {
      inGroup = group[1] === 'Proxy Settings';
      continue;
    }
    if (!inGroup) continue;
    const pair = /^\s*([^=#]+?)\s*=\s*(.*)$/.exec(line);
    if (pair) values[pair[1]!] = pair[2]!.trim();
  }
  return values;
}

/** KDE writes `http://127.0.0.1 8080`: host and port separated by a space. */
function kdeProxy(value: string | undefined, scheme: string): string | null {
  const text = value?.trim();
  if (!text) return null;
  const spaced = /^(.*\S)\s+(\d+)$/.exec(text);
  const joined = spaced ? `${spaced[1]}:${spaced[2]}` : text;
  return proxyUrl(joined.replace(/^socks:\/\//i, 'socks5://'), scheme);
}

/**
 * KDE `ProxyType`: 0 none, 1 manual, 2 PAC script (`Proxy Config Script`), 3 WPAD, 4 use the
 * environment variables. `NoProxyFor` is comma-separated.
 */
export function parseKdeProxy(text: string): SystemProxy {
  const v = parseKioslaverc(text);
  const result = noSystemProxy('kde-kioslaverc');
  const type = Number(v.ProxyType ?? 0);
  result.bypass = (v.NoProxyFor ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (type === 1) {
    result.http = kdeProxy(v.httpProxy, 'http');
    result.https = kdeProxy(v.httpsProxy, 'http');
    result.socks = kdeProxy(v.socksProxy, 'socks5');
    result.enabled = !!(result.http || result.https || result.socks);
  } else if (type === 2) {
    result.pacUrl = v['Proxy Config Script'] || null;
    result.enabled = !!result.pacUrl;
  } else if (type === 3) {
    result.pacUrl = 'http://wpad/wpad.dat';
    result.enabled = true;
  } else if (type === 4) {
    result.fromEnvironment = true;
  }
  return result;
}
