import { noSystemProxy, proxyUrl, type SystemProxy } from './types.js';

/** `scutil --proxy` output (a CFDictionary dump) → flat keys; arrays become lists. */
export function parseScutil(output: string): {
  values: Record<string, string>;
  lists: Record<string, string[]>;
} {
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  let list: string | undefined;
  for (const line of output.split(/\r?\n/)) {
    const open = /^\s*(\S+)\s*:\s*<array>\s*\{/.exec(line);
    if (open) {
      list = open[1]!;
      lists[list] = [];
      continue;
    }
    if (list && /^\s*\}/.test(line)) {
      list = undefined;
      continue;
    }
    const pair = /^\s*(\S+)\s*:\s*(.*?)\s*$/.exec(line);
    if (!pair) continue;
    if (list) lists[list]!.push(pair[2]!);
    else values[pair[1]!] = pair[2]!;
  }
  return { values, lists };
}

/** macOS: `HTTPEnable/HTTPProxy/HTTPPort`, `HTTPS…`, `SOCKS…`, `ExceptionsList`, `ProxyAutoConfigURLString`. */
export function parseMacosProxy(output: string): SystemProxy {
  const { values, lists } = parseScutil(output);
  const result = noSystemProxy('macos-scutil');
  const entry = (prefix: string, scheme: string) =>
    values[`${prefix}Enable`] === '1' && values[`${prefix}Proxy`]
      ? proxyUrl(
          `${values[`${prefix}Proxy`]}${values[`${prefix}Port`] ? `:${values[`${prefix}Port`]}` : ''}`,
          scheme,
        )
      : null;
  result.http = entry('HTTP', 'http');
  result.https = entry('HTTPS', 'http');
  result.socks = entry('SOCKS', 'socks5');
  result.bypass = lists.ExceptionsList ?? [];
  result.pacUrl = values.ProxyAutoConfigEnable === '1' ? values.ProxyAutoConfigURLString || null : null;
  result.enabled = !!(result.http || result.https || result.socks || result.pacUrl);
  return result;
}
