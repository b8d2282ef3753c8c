import { DetourUsageError } from './errors.js';

/** A named set of request headers, and the Referer to retry a 403 with. */
export interface HeaderProfile {
  readonly headers: Readonly<Record<string, string>>;
  /** Referer sent on the one retry after a 403: a fixed URL, or derived from the target. */
  readonly referer?: string | ((url: URL) => string);
}

const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
export const IMAGE_ACCEPT = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';

const origin = (url: URL) => `${url.protocol}//${url.host}/`;

/**
 * Built-in profiles. `detour` is honest about who is asking; `chrome`/`firefox` look like a
 * browser loading an image (bot frameworks do this for Tencent's CDN, which refuses odd clients).
 */
export const HEADER_PROFILES: Readonly<Record<string, HeaderProfile>> = {
  detour: { headers: { 'accept-encoding': 'gzip, deflate, br' } },
  chrome: {
    headers: {
      'user-agent': CHROME_UA,
      accept: IMAGE_ACCEPT,
      'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8',
      'accept-encoding': 'gzip, deflate, br',
      'sec-fetch-dest': 'image',
      'sec-fetch-mode': 'no-cors',
      'sec-fetch-site': 'cross-site',
    },
    referer: origin,
  },
  firefox: {
    headers: {
      'user-agent': FIREFOX_UA,
      accept: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
      'accept-language': 'zh-CN,zh;q=0.8,en-US;q=0.5,en;q=0.3',
      'accept-encoding': 'gzip, deflate, br',
    },
    referer: origin,
  },
};

export function resolveProfile(
  name: string,
  custom: Readonly<Record<string, HeaderProfile>> = {},
): HeaderProfile {
  const profile = custom[name] ?? HEADER_PROFILES[name];
  if (!profile) {
    const known = [...new Set([...Object.keys(HEADER_PROFILES), ...Object.keys(custom)])].join(', ');
    throw new DetourUsageError(`unknown headers profile ${name} (known: ${known})`, 'DETOUR_BAD_PROFILE');
  }
  return profile;
}

export function refererFor(profile: HeaderProfile, url: URL): string | undefined {
  if (!profile.referer) return undefined;
  return typeof profile.referer === 'string' ? profile.referer : profile.referer(url);
}

/** RFC 9110 token: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The first character a header value may not carry, as `U+XXXX`, or undefined: control
 * characters other than tab (CR and LF would split the request), DEL, and anything above U+00FF
 * (not a byte: Node refuses it, curl would send it as UTF-8).
 */
function badValueChar(value: string): { at: number; char: string } | undefined {
  // Stryker disable next-line EqualityOperator: one step past the end, charCodeAt gives NaN, which fails every test below.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff) {
      return { at: i, char: `U+${code.toString(16).toUpperCase().padStart(4, '0')}` };
    }
  }
  return undefined;
}

/**
 * Headers only the transport may set: the message's framing (`Content-Length`,
 * `Transfer-Encoding`), the connection's own (`Connection`, `Keep-Alive`, `Upgrade`, `TE`,
 * `Trailer`, `Proxy-*`) and `Host`, which follows the URL (the address the guard checked and the
 * TLS name). A caller's value would desynchronise a pooled connection shared with other fetches,
 * or reach a virtual host the URL does not name.
 */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'host',
]);

/** Whether a header name (any case) is one only the transport may set (see TRANSPORT_HEADERS). */
export function isTransportHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return TRANSPORT_HEADERS.has(lower) || lower.startsWith('proxy-');
}

/** One header, checked: a usage error naming the header and the bad character (never the value, it may be a secret). */
export function checkHeader(name: string, value: unknown, where = 'headers'): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new DetourUsageError(
      `${where}: ${JSON.stringify(String(name).slice(0, 64))} is not a valid header name`,
      'DETOUR_BAD_HEADER',
    );
  }
  if (isTransportHeader(name)) {
    throw new DetourUsageError(
      `${where}: header ${name} is set by the transport, never by a caller (framing, hop-by-hop and Host headers are refused)`,
      'DETOUR_BAD_HEADER',
    );
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new DetourUsageError(`${where}: header ${name} has no string value`, 'DETOUR_BAD_HEADER');
  }
  const bad = badValueChar(String(value));
  if (bad) {
    throw new DetourUsageError(
      `${where}: header ${name} has a forbidden character (${bad.char}) at position ${bad.at} of its value`,
      'DETOUR_BAD_HEADER',
    );
  }
}

/**
 * Refuse header names that are not tokens and values with control characters, before any
 * strategy runs: Node refuses such a request with its own error, curl would send it as is.
 */
export function checkHeaders(
  headers: Readonly<Record<string, unknown>> | undefined,
  where = 'headers',
): void {
  if (headers === undefined || headers === null) return;
  if (typeof headers !== 'object') {
    throw new DetourUsageError(`${where} must be an object of header names to values`, 'DETOUR_BAD_HEADER');
  }
  for (const [name, value] of Object.entries(headers)) checkHeader(name, value, where);
}
