import type { Route } from './types/index.js';

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
 * A preset's secret path segments: a pattern (a whole segment that matches has its first capture
 * group masked, or all of it without a group; `/^bot(.+)$/` turns `bot123:AB` into `bot***`), or a
 * function giving the masked segment (undefined: not secret).
 */
export type SecretPathSegments = RegExp | ((segment: string) => string | undefined);

/** What a preset declares secret (see `Preset.secretQueryParams` / `secretPathSegments`). */
export interface SecretDeclaration {
  queryParams?: readonly string[] | undefined;
  pathSegments?: SecretPathSegments | undefined;
}

/** Path maskers registered by presets (process-wide: every output masks them, as it does query secrets). */
const pathMaskers: Array<(segment: string) => string | undefined> = [];
const registeredPatterns = new Set<string>();
const registeredFunctions = new Set<SecretPathSegments>();

function maskerOf(declared: SecretPathSegments): (segment: string) => string | undefined {
  if (typeof declared === 'function') return declared;
  const pattern = new RegExp(declared.source, declared.flags.replace(/[gy]/g, ''));
  return (segment) => {
    const match = pattern.exec(segment);
    if (!match || match[0] !== segment) return undefined;
    if (match[1] === undefined) return MASK;
    const start = match.index + match[0].indexOf(match[1]);
    return `${segment.slice(0, start)}${MASK}${segment.slice(start + match[1].length)}`;
  };
}

/**
 * Declare more secrets for every redaction in this process (a preset's query names and path
 * segments; pipelines register their presets' declarations when created). Idempotent.
 */
export function registerSecrets(declaration: SecretDeclaration): void {
  const names = SECRET_QUERY_PARAMS as Set<string>;
  for (const name of declaration.queryParams ?? []) names.add(name.toLowerCase());
  const declared = declaration.pathSegments;
  if (declared === undefined) return;
  if (typeof declared === 'function') {
    // Stryker disable next-line ConditionalExpression,BlockStatement: a second copy of a masker gives the same answers (the first that matches wins); the check only keeps the list short.
    if (registeredFunctions.has(declared)) return;
    registeredFunctions.add(declared);
  } else {
    // Stryker disable next-line StringLiteral: the key only has to tell patterns apart, as the line below uses it.
    const key = `${declared.source}/${declared.flags}`;
    // Stryker disable next-line ConditionalExpression,BlockStatement: as above, a duplicate masker changes no answer.
    if (registeredPatterns.has(key)) return;
    registeredPatterns.add(key);
  }
  pathMaskers.push(maskerOf(declared));
}

/** A path with every secret segment masked (unchanged when no preset declared any). */
function maskPath(path: string): string {
  // Stryker disable next-line ConditionalExpression: a shortcut; with no masker the map below returns the same path.
  if (pathMaskers.length === 0) return path;
  return path
    .split('/')
    .map((segment) => {
      if (segment === '') return segment;
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {}
      for (const mask of pathMaskers) {
        const masked = mask(decoded);
        if (masked !== undefined) return masked;
      }
      return segment;
    })
    .join('/');
}

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
  const path = maskPath(url.pathname);
  // Nothing to mask (the common case on a fetch's path): the href as it is, no copy of the URL.
  // Stryker disable next-line ConditionalExpression: a shortcut; the lines below give the same href.
  if (!url.username && !url.password && search === query && hash === fragment && path === url.pathname)
    return url.href;
  // Stryker disable next-line ConditionalExpression: copying a URL parsed here changes nothing but the cost.
  const copy = url === input ? new URL(url.href) : url;
  if (path !== url.pathname) copy.pathname = path;
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
  const pairs = urls.replace(SECRET_PAIR, (match, lead: string, name: string) =>
    SECRET_QUERY_PARAMS.has(paramName(name)) ? `${lead}${name}=${MASK}` : match,
  );
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a shortcut; with no masker maskBareSegments returns its text.
  return pathMaskers.length === 0 ? pairs : maskBareSegments(pairs);
}

/** Secret path segments outside a URL (a path quoted alone, `bot123:AB/photos/x.jpg`). */
function maskBareSegments(text: string): string {
  return text.replace(/[^\s"'<>`/?#&;=(),]+/g, (word) => {
    for (const mask of pathMaskers) {
      const masked = mask(word);
      if (masked !== undefined) return masked;
    }
    return word;
  });
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
