import type { Route } from './types.js';

/** Query parameters whose values are secrets (Tencent's `rkey`, signed-URL tokens, ...). */
export const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'rkey',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'private_token',
  'auth',
  'authorization',
  'key',
  'apikey',
  'api_key',
  'sig',
  'sign',
  'signature',
  'password',
  'passwd',
  'secret',
  'client_secret',
  'session',
  'sessionid',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
]);

const MASK = '***';

/**
 * Text that cannot hold a secret parameter name: none of these substrings (every name in
 * SECRET_QUERY_PARAMS contains one), and no escape (`%`, `+`) that could spell one.
 */
const MAYBE_SECRET = /key|token|auth|sig|pass|secret|session|credential|[%+]/i;
/** The shortcut holds for the built-in names only (a name added to the set at run time disables it). */
const BUILT_IN_NAMES = SECRET_QUERY_PARAMS.size;

/** A parameter name as a server reads it: `+` is a space, percent-escapes decoded, any case. */
function paramName(raw: string): string {
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced).toLowerCase();
    // (A name whose escapes do not decode keeps a `%`, which no secret name has: the `catch` answer only needs to be "not secret".)
  } catch {
    return spaced;
  }
}

/**
 * `a=1&rkey=S;token=T` with the values of secret names masked. `&` and `;` both separate (some
 * servers split on `;`); everything else is kept byte for byte.
 */
function maskParams(text: string): string {
  // Stryker disable next-line ConditionalExpression: a shortcut; without it the loop below returns the same text.
  if (SECRET_QUERY_PARAMS.size === BUILT_IN_NAMES && !MAYBE_SECRET.test(text)) return text;
  return text
    .split(/([&;])/)
    .map((part) => {
      // A separator has no `=`: kept as it is, like any part without one.
      const eq = part.indexOf('=');
      const name = part.slice(0, eq);
      // Stryker disable next-line EqualityOperator: at 0 the name is empty, and no secret name is: `>= 0` and `> 0` agree.
      return eq >= 0 && SECRET_QUERY_PARAMS.has(paramName(name)) ? `${name}=${MASK}` : part;
    })
    .join('');
}

/**
 * A URL fit for a log line: credentials masked, the values of secret query (and fragment)
 * parameters masked, the rest kept as written. Never throws; a string that is not a URL is
 * masked as text (see `redactText`).
 */
export function redactUrl(input: string | URL): string {
  let url: URL;
  // Stryker disable next-line ConditionalExpression: parsing a URL's own href gives an equal URL; the branch only saves the parse.
  if (input instanceof URL) url = input;
  else {
    try {
      url = new URL(String(input));
    } catch {
      const text = String(input);
      return !/[:/?=@]/.test(text) ? '[invalid url]' : redactText(text);
    }
  }
  const query = url.search.slice(1);
  const search = query && maskParams(query);
  const fragment = url.hash.slice(1);
  const hash = fragment && maskParams(fragment);
  // Nothing to mask (the common case on a fetch's path): the href as it is, no copy of the URL.
  // Stryker disable next-line ConditionalExpression: a shortcut; the lines below give the same href.
  if (!url.username && !url.password && search === query && hash === fragment) return url.href;
  // Stryker disable next-line ConditionalExpression: copying a URL parsed here changes nothing but the cost.
  const copy = url === input ? new URL(url.href) : url;
  if (copy.username) copy.username = MASK;
  if (copy.password) copy.password = MASK;
  if (search !== query) copy.search = search;
  if (hash !== fragment) copy.hash = hash;
  return copy.href;
}

/** URLs in free text (`scheme://…` up to a space or quote). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/** `name=value` for a secret name anywhere else in free text. */
const SECRET_PAIR = /(^|[?&;#\s"'(,])([^\s=?&;#"'(,]+)=([^\s&;#"'<>`)]*)/g;

/**
 * Free text (an error message, a usage line) with every URL redacted as `redactUrl` does, and any
 * other `secret=value` pair masked. For messages that may quote a URL the caller gave.
 */
export function redactText(text: string): string {
  const urls = text.replace(URL_IN_TEXT, (match) => {
    try {
      new URL(match);
    } catch {
      // Not parseable (a broken URL echoed back): mask `user:pass@` and the pairs below.
      // Every `scheme://user:pass@` in it, also one nested in its query.
      return match.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi, `$1${MASK}@`);
    }
    return redactUrl(match);
  });
  return urls.replace(SECRET_PAIR, (match, lead: string, name: string) =>
    SECRET_QUERY_PARAMS.has(paramName(name)) ? `${lead}${name}=${MASK}` : match,
  );
}

/** A proxy URL without its credentials at all (the `route` field of an attempt). */
export function stripCredentials(input: string | URL): string {
  try {
    const url = new URL(String(input));
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '[invalid url]';
  }
}

export function describeRoute(route: Route): string {
  return route.kind === 'direct' ? 'direct' : stripCredentials(route.url);
}
