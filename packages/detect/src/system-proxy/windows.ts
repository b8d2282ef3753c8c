import { noSystemProxy, proxyUrl, type SystemProxy } from './types.js';

/** The registry key Windows keeps per-user proxy settings in. */
export const WINDOWS_INTERNET_SETTINGS =
  'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';

/** `reg query` output → name → value (REG_SZ text, REG_DWORD as a number string). */
export function parseRegQuery(output: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of output.split(/\r?\n/)) {
    const match = /^\s+(\S.*?)\s+(REG_[A-Z_]+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, name, type, raw] = match;
    values[name!] = type === 'REG_DWORD' ? String(Number.parseInt(raw!.trim(), 16)) : raw!.trim();
  }
  return values;
}

/**
 * Windows `Internet Settings`: `ProxyEnable`, `ProxyServer` (`host:port` for every scheme, or
 * `http=h:p;https=h:p;socks=h:p`), `ProxyOverride` (`;`-separated, `<local>` = plain host names),
 * `AutoConfigURL` (PAC).
 */
export function parseWindowsProxy(output: string): SystemProxy {
  const values = parseRegQuery(output);
  const result = noSystemProxy('windows-registry');
  result.enabled = values.ProxyEnable === '1';
  result.pacUrl = values.AutoConfigURL?.trim() || null;
  result.bypass = (values.ProxyOverride ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  const server = values.ProxyServer?.trim() ?? '';
  if (server.includes('=')) {
    for (const part of server.split(';')) {
      const [scheme, address] = part.split('=').map((s) => s.trim()) as [string, string | undefined];
      const key = scheme.toLowerCase();
      if (key === 'http') result.http = proxyUrl(address, 'http');
      else if (key === 'https') result.https = proxyUrl(address, 'http');
      else if (key === 'socks') result.socks = proxyUrl(address, 'socks4');
    }
  } else if (server) {
    result.http = proxyUrl(server, 'http');
    result.https = result.http;
  }
  // ProxyEnable=0 switches the manual proxy off; a PAC URL stands on its own.
  return result.enabled ? result : { ...result, http: null, https: null, socks: null };
}
