import type { Route } from './types/index.js';

/** The built-in secret query names (every registry starts with them). */
const BUILT_IN_QUERY_PARAMS = [
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
];

/** Query parameters whose values are secrets (Tencent's `rkey`, signed-URL tokens, ...), process-wide. */
export const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set(BUILT_IN_QUERY_PARAMS);

const MASK = '***';

/**
 * A preset's secret path segments: a pattern (a whole segment that matches, decoded, has its first
 * capture group masked, or all of it without a group; `/^bot(.+)$/` turns `bot123:AB` into
 * `bot***`; flags `g`, `y`, `m` are ignored), or a function giving the masked segment (undefined:
 * not secret).
 */
export type SecretPathSegments = RegExp | ((segment: string) => string | undefined);

/** What a preset declares secret (see `Preset.secretQueryParams` / `secretPathSegments`). */
export interface SecretDeclaration {
  queryParams?: readonly string[] | undefined;
  pathSegments?: SecretPathSegments | undefined;
}

/**
 * A registry of secrets and the redaction it gives. The process-wide one backs `registerSecrets`,
 * `redactUrl` and `redactText`; `createRedactor` makes a separate one (tests check each rule on a
 * fresh registry, see docs/testing.md).
 */
export interface Redactor {
  /** Declare more secrets for this registry (idempotent: a declaration given again changes nothing). */
  register(declaration: SecretDeclaration): void;
  /** `redactUrl` with this registry's secrets. */
  url(input: string | URL): string;
  /** `redactText` with this registry's secrets. */
  text(text: string): string;
}

type PathMasker = (segment: string) => string | undefined;

/**
 * The masker of a pattern: anchored to the whole segment (`a|ab` matches all of `ab`; `m` is
 * dropped, so a decoded line break does not end it), its first capture group masked where it
 * matched (`d` gives the group's place: a search for its text could find an earlier copy).
 * `g` and `y` are dropped too (their `lastIndex` would carry from one segment to the next).
 */
function patternMasker(declared: RegExp): PathMasker {
  const pattern = new RegExp(`^(?:${declared.source})$`, `${declared.flags.replace(/[dgmy]/g, '')}d`);
  return (segment) => {
    const match = pattern.exec(segment);
    if (!match) return undefined;
    // `d` is always set, so `indices` is there; [1] is undefined without a group or when it did not take part.
    const group = match.indices![1];
    if (group === undefined) return MASK;
    return `${segment.slice(0, group[0])}${MASK}${segment.slice(group[1])}`;
  };
}

/** Text with its percent-escapes decoded (as written when they do not decode). */
function decoded(text: string): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: text without `%` decodes to itself (`''` would decode every text); the test only saves the call.
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A word of free text that may be a path segment quoted outside a URL. */
const BARE_SEGMENT = /[^\s"'<>`/?#&;=(),]+/g;

/**
 * Text that cannot hold a secret parameter name: none of these substrings (every name in
 * SECRET_QUERY_PARAMS contains one), and no escape (`%`, `+`) that could spell one.
 */
const MAYBE_SECRET = /key|token|auth|sig|pass|secret|session|credential|[%+]/i;
/** The shortcut holds for the built-in names only (a name added at run time disables it). */
const BUILT_IN_NAMES = SECRET_QUERY_PARAMS.size;

/**
 * A parameter name as a server reads it: `+` is a space, percent-escapes decoded, any case (a name
 * whose escapes do not decode keeps its `%`, which no secret name has).
 */
function paramName(raw: string): string {
  return decoded(raw.replaceAll('+', ' ')).toLowerCase();
}

/** URLs in free text (`scheme://…` up to a space or quote). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/** `name=value` for a secret name anywhere else in free text. */
const SECRET_PAIR = /(^|[?&;#\s"'(,])([^\s=?&;#"'(,]+)=([^\s&;#"'<>`)]*)/g;

class Registry implements Redactor {
  /** Path rules, one per declaration (a pattern by its text, a function by itself), in order. */
  readonly #pathRules = new Map<unknown, PathMasker>();

  /** `names`: the secret query names, lower case (the process-wide registry's is SECRET_QUERY_PARAMS). */
  constructor(readonly names: Set<string>) {}

  register(declaration: SecretDeclaration): void {
    if (declaration.queryParams)
      for (const name of declaration.queryParams) this.names.add(name.toLowerCase());
    const declared = declaration.pathSegments;
    if (declared === undefined) return;
    // Registered again, a rule keeps its place (a Map's order) and its answers.
    if (typeof declared === 'function') this.#pathRules.set(declared, declared);
    else this.#pathRules.set(`/${declared.source}/${declared.flags}`, patternMasker(declared));
  }

  /** The masked form of a segment (already decoded), or undefined when no rule calls it secret. */
  #maskSegment(segment: string): string | undefined {
    for (const mask of this.#pathRules.values()) {
      const masked = mask(segment);
      if (masked !== undefined) return masked;
    }
    return undefined;
  }

  /** A path with every secret segment masked (each judged decoded; an empty segment is never secret). */
  #maskPath(path: string): string {
    // Stryker disable next-line ConditionalExpression: a shortcut; with no rule every segment is kept as it is.
    if (this.#pathRules.size === 0) return path;
    const segments = path.split('/');
    // Stryker disable next-line BooleanLiteral: starting true only joins the unchanged segments, which gives the path back.
    let masked = false;
    for (const [i, segment] of segments.entries()) {
      if (segment === '') continue;
      const secret = this.#maskSegment(decoded(segment));
      if (secret === undefined) continue;
      segments[i] = secret;
      masked = true;
    }
    return masked ? segments.join('/') : path;
  }

  /**
   * `a=1&rkey=S;token=T` with the values of secret names masked. `&` and `;` both separate (some
   * servers split on `;`); everything else is kept byte for byte.
   */
  #maskParams(text: string): string {
    // Stryker disable next-line ConditionalExpression: a shortcut, taken only with the built-in names and a text holding none of their substrings and no escape: no part below could be masked.
    if (this.names.size === BUILT_IN_NAMES && !MAYBE_SECRET.test(text)) return text;
    return text
      .split(/([&;])/)
      .map((part) => {
        // A separator has no `=`: kept as it is, like any part without one.
        const eq = part.indexOf('=');
        const name = part.slice(0, eq);
        // Stryker disable next-line EqualityOperator: at 0 the name is empty, and no secret name is: `>= 0` and `> 0` agree.
        return eq >= 0 && this.names.has(paramName(name)) ? `${name}=${MASK}` : part;
      })
      .join('');
  }

  url(input: string | URL): string {
    let url: URL;
    // Stryker disable next-line ConditionalExpression: parsing a URL's own href gives an equal URL; the branch only saves the parse.
    if (input instanceof URL) url = input;
    else {
      try {
        url = new URL(String(input));
      } catch {
        const text = String(input);
        return !/[:/?=@]/.test(text) ? '[invalid url]' : this.text(text);
      }
    }
    const query = url.search.slice(1);
    const search = query && this.#maskParams(query);
    const fragment = url.hash.slice(1);
    const hash = fragment && this.#maskParams(fragment);
    const path = this.#maskPath(url.pathname);
    // Nothing to mask (the common case on a fetch's path): the href as it is, no copy of the URL.
    // Stryker disable next-line ConditionalExpression: a shortcut; with nothing to mask, the setters below leave the href as it was.
    if (!url.username && !url.password && search === query && hash === fragment && path === url.pathname)
      return url.href;
    // Stryker disable next-line ConditionalExpression: copying a URL parsed here changes nothing but the cost.
    const copy = url === input ? new URL(url.href) : url;
    copy.pathname = path; // unchanged, the setter gives the same path back
    if (copy.username) copy.username = MASK;
    if (copy.password) copy.password = MASK;
    if (search !== query) copy.search = search;
    if (hash !== fragment) copy.hash = hash;
    return copy.href;
  }

  text(text: string): string {
    const urls = text.replace(URL_IN_TEXT, (match) => {
      try {
        new URL(match);
      } catch {
        // Not parseable (a broken URL echoed back): mask `user:pass@` and the pairs below.
        // Every `://user:pass@` in it, also one nested in its query (whatever scheme is before it).
        return match.replace(/:\/\/[^/?#@\s]*@/g, `://${MASK}@`);
      }
      return this.url(match);
    });
    const pairs = urls.replace(SECRET_PAIR, (match, lead: string, name: string) =>
      this.names.has(paramName(name)) ? `${lead}${name}=${MASK}` : match,
    );
    // Secret path segments outside a URL (a path quoted alone, `bot123:AB/photos/x.jpg`).
    // Stryker disable next-line ConditionalExpression: a shortcut; with no rule every word is kept.
    if (this.#pathRules.size === 0) return pairs;
    return pairs.replace(BARE_SEGMENT, (word) => this.#maskSegment(word) ?? word);
  }
}

/**
 * A registry of its own, apart from the process-wide one: the built-in query names (a copy) and
 * the declarations given. For tests that check a rule on fresh state.
 */
export function createRedactor(...declarations: SecretDeclaration[]): Redactor {
  const redactor = new Registry(new Set(BUILT_IN_QUERY_PARAMS));
  for (const declaration of declarations) redactor.register(declaration);
  return redactor;
}

/** The process-wide registry: what every output of this process masks. */
const processRedactor = new Registry(SECRET_QUERY_PARAMS as Set<string>);

/**
 * Declare more secrets for every redaction in this process (a preset's query names and path
 * segments; pipelines register their presets' declarations when created). Idempotent.
 */
export function registerSecrets(declaration: SecretDeclaration): void {
  processRedactor.register(declaration);
}

/**
 * A URL fit for a log line: credentials masked, the values of secret query (and fragment)
 * parameters masked, secret path segments masked, the rest kept as written. Never throws; a string
 * that is not a URL is masked as text (see `redactText`).
 */
export function redactUrl(input: string | URL): string {
  return processRedactor.url(input);
}

/**
 * Free text (an error message, a usage line) with every URL redacted as `redactUrl` does, any
 * other `secret=value` pair masked, and secret path segments quoted alone masked. For messages
 * that may quote a URL the caller gave.
 */
export function redactText(text: string): string {
  return processRedactor.text(text);
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
