import { DetourError } from './errors.js';
import { FAILURE_CLASSES, type FailureClass } from './types/index.js';

export interface Classification {
  failureClass: FailureClass;
  /** The most specific raw code found (`ERR_SSL_…`, `ECONNRESET`, `ETIMEDOUT:connect`, `HTTP_404`). */
  code: string;
  /** Nothing can rescue this failure: stop trying other strategies. */
  terminal: boolean;
  message: string;
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  event?: unknown;
  reason?: unknown;
  status?: unknown;
  failureClass?: unknown;
}

const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
  'ERR_SSL_CERTIFICATE_VERIFY_FAILED',
]);
const DNS_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
  'ESERVFAIL',
  'ENODATA',
]);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ABORT_ERR_TIMEOUT',
]);

/** OpenSSL reasons, matched in codes and messages, case-insensitive; `SSLV3_`/`SSL/TLS_` prefixes both count. */
const TLS_PROTOCOL_PATTERNS = [
  /unsupported[ _]protocol/i,
  /protocol[ _]version/i,
  /wrong[ _]version[ _]number/i,
  /unsafe[ _]legacy[ _]renegotiation/i,
  /version[ _]too[ _]low/i,
  /no[ _]protocols[ _]available/i,
  /unknown[ _]protocol/i,
  /packet[ _]length[ _]too[ _]long/i,
  /record[ _]layer[ _]failure/i,
];
const TLS_HANDSHAKE_PATTERNS = [
  /alert[ _]handshake[ _]failure/i,
  /handshake[ _]failure/i,
  /no[ _]shared[ _]cipher/i,
  /no[ _]ciphers[ _]available/i,
  /no[ _]cipher[ _]match/i,
  /insufficient[ _]security/i,
  /dh[ _]key[ _]too[ _]small/i,
  /ee[ _]key[ _]too[ _]small/i,
  /ca[ _]md[ _]too[ _]weak/i,
  /signature digest algorithm too weak/i, // Node: X509_V_ERR_CA_MD_TOO_WEAK, code UNSPECIFIED
  /certificate key too weak/i, // Node: X509_V_ERR_EE_KEY_TOO_SMALL / CA_KEY_TOO_SMALL
  /illegal[ _]parameter/i,
  /decode[ _]error/i,
  /bad[ _]record[ _]mac/i,
  /tlsv1[ _]alert/i,
  /sslv3[ _]alert/i,
  /ssl\/tls[ _]alert/i,
  /ERR_SSL_/,
];
const CERT_MESSAGE_PATTERNS = [/certificate/i, /self[- ]signed/i, /altnames/i];
const PROXY_PATTERNS = [
  /^Bad response: \d+/, // hpagent: CONNECT answered with a non-200 status
  /socks\d?a?h? proxy rejected/i,
  /socks\d?a?h? authentication failed/i,
  /socks.*(?:failed|rejected|refused)/i,
  /invalid socks\d? (?:initial|final) handshake/i,
];

/** `PROXY_HTTP_407` for a CONNECT refusal, `PROXY_SOCKS_AUTH` / `PROXY_SOCKS_REJECTED` for SOCKS (called when a PROXY_PATTERNS entry matched). */
function proxyCode(text: string): string {
  const status = /Bad response: (\d+)/.exec(text);
  if (status) return `PROXY_HTTP_${status[1]}`;
  if (/authentication failed/i.test(text)) return 'PROXY_SOCKS_AUTH';
  // Every PROXY_PATTERNS entry but the first (answered above) names SOCKS.
  return 'PROXY_SOCKS_REJECTED';
}

/** Walk an error and its causes, most specific (innermost) last. */
function chain(error: unknown): ErrorLike[] {
  // Stryker disable next-line ArrayDeclaration: a string in the chain has none of the fields (name, code, message, event) the rules read.
  const out: ErrorLike[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    out.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  return out;
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

const KNOWN_CLASSES: ReadonlySet<string> = new Set(FAILURE_CLASSES);

/** `String(value)`, except for values that cannot be converted (a null-prototype object). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Map anything a Node client can throw to one FailureClass. Reads `code`, `cause` and `message`:
 * through got a handshake alert arrives as `EPROTO` with the OpenSSL reason only in the message,
 * raw `tls` gives `ERR_SSL_*` codes, and OpenSSL 3.2+ spells `SSLV3_ALERT_…` as `SSL/TLS_ALERT_…`.
 */
export function classifyError(error: unknown): Classification {
  const links = chain(error);
  const detour = links.find((e): e is DetourError => e instanceof DetourError);
  if (detour) return fromDetourError(detour);
  const evidence = gather(links, error);
  const result = (failureClass: FailureClass, code = evidence.specific ?? 'UNKNOWN'): Classification => ({
    failureClass,
    code,
    terminal: isTerminal(failureClass),
    message: evidence.message,
  });
  return fromEvents(links, result) ?? fromCodes(evidence, result);
}

/** A DetourError in the chain already says what happened. */
function fromDetourError(detour: DetourError): Classification {
  // A custom strategy may throw a DetourError with a class of its own invention (plain JS):
  // the answer is always one of the known classes.
  const known = KNOWN_CLASSES.has(detour.failureClass);
  return {
    failureClass: known ? detour.failureClass : 'unknown',
    code: typeof detour.code === 'string' && detour.code ? detour.code : 'UNKNOWN',
    terminal: isTerminal(detour.failureClass, detour.status) || detour.code === 'ERR_TOO_MANY_REDIRECTS',
    message: detour.message,
  };
}

/** What an error chain says, in the shapes the rules read. */
interface Evidence {
  /** Every code in the chain and in the messages, `SSL/TLS_ALERT` spelled `SSLV3_ALERT`. */
  codes: string[];
  messages: string[];
  /** Codes and messages in one string, for the pattern tables. */
  text: string;
  /** The outermost message (or the error itself as a string). */
  message: string;
  /** The first code more telling than `EPROTO` / got's wrapper code. */
  specific: string | undefined;
}

function gather(links: ErrorLike[], error: unknown): Evidence {
  const messages = links.map((e) => str(e.message)).filter((m): m is string => !!m);
  // OpenSSL 3.2+ writes SSL/TLS_ALERT_… where 3.0 wrote SSLV3_ALERT_…: one spelling for both.
  // Some agents (socks-proxy-agent) put the errno only in the message: read it from there too.
  const codes = [
    ...links.map((e) => str(e.code)).filter((c): c is string => !!c),
    ...messages.flatMap((m) => [...m.matchAll(/\b(E[A-Z]{4,}|EAI_[A-Z]+)\b/g)].map((x) => x[1]!)),
  ].map((c) => c.replace('SSL/TLS_ALERT', 'SSLV3_ALERT'));
  return {
    codes,
    messages,
    text: [...codes, ...messages].join(' | '),
    message: messages[0] ?? safeString(error),
    specific: codes.find((c) => c !== 'EPROTO' && c !== 'ERR_GOT_REQUEST_ERROR') ?? codes[0],
  };
}

type Result = (failureClass: FailureClass, code?: string) => Classification;

/** Timeouts, aborts and got's HTTPError: recognised by name or code anywhere in the chain. */
function fromEvents(links: ErrorLike[], result: Result): Classification | undefined {
  // A timeout first: `AbortSignal.timeout()` aborts with a TimeoutError as the cause.
  // Stryker disable next-line StringLiteral: with no code, neither '' nor any other non-code is a timeout code.
  const timeout = links.find((e) => e.name === 'TimeoutError' || TIMEOUT_CODES.has(str(e.code) ?? ''));
  if (timeout) {
    const event = str(timeout.event);
    return result('timeout', event ? `ETIMEDOUT:${event}` : (str(timeout.code) ?? 'ETIMEDOUT'));
  }
  if (links.some((e) => e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'ERR_ABORTED')) {
    return result('aborted', 'ABORT_ERR');
  }
  // got's HTTPError (only with throwHttpErrors, which the transport turns off; callers may not).
  const httpError = links.find((e) => e.name === 'HTTPError' || e.code === 'ERR_NON_2XX_3XX_RESPONSE');
  if (httpError) {
    // Stryker disable next-line StringLiteral: with no message, neither '' nor any text without "status code" gives a status.
    const status = Number(/status code (\d{3})/.exec(str(httpError.message) ?? '')?.[1] ?? 0);
    return {
      ...result('http-status', status ? `HTTP_${status}` : 'ERR_NON_2XX_3XX_RESPONSE'),
      terminal: isTerminal('http-status', status),
    };
  }
  return undefined;
}

/** Everything else, by code and message, most specific rule first. */
function fromCodes({ codes, messages, text }: Evidence, result: Result): Classification {
  if (codes.includes('ERR_UNSUPPORTED_PROTOCOL')) return result('blocked', 'ERR_UNSUPPORTED_PROTOCOL');
  if (codes.includes('ERR_TOO_MANY_REDIRECTS')) {
    return { ...result('http-status', 'ERR_TOO_MANY_REDIRECTS'), terminal: true };
  }
  const certCode = codes.find((c) => CERTIFICATE_CODES.has(c));
  if (certCode) return result('tls-certificate', certCode);
  const dnsCode = codes.find((c) => DNS_CODES.has(c));
  if (dnsCode) return result('dns', dnsCode);
  if (messages.some((m) => PROXY_PATTERNS.some((p) => p.test(m)))) return result('proxy', proxyCode(text));
  if (TLS_PROTOCOL_PATTERNS.some((p) => p.test(text))) return result('tls-protocol', tlsCode(codes, text));
  if (TLS_HANDSHAKE_PATTERNS.some((p) => p.test(text))) return result('tls-handshake', tlsCode(codes, text));
  const refusedCode = codes.find((c) => REFUSED_CODES.has(c));
  if (refusedCode) return result('connect-refused', refusedCode);
  if (codes.some((c) => RESET_CODES.has(c)) || /socket hang up|disconnected before secure TLS/i.test(text)) {
    return result('connect-reset', codes.find((c) => RESET_CODES.has(c)) ?? 'ECONNRESET');
  }
  if (codes.includes('EPROTO') && CERT_MESSAGE_PATTERNS.some((p) => p.test(text))) {
    return result('tls-certificate');
  }
  if (codes.includes('EPROTO')) return result('tls-handshake', tlsCode(codes, text));
  return result('unknown');
}

/** A stable code for a TLS failure: the `ERR_SSL_*` code when there is one, else the OpenSSL reason. */
function tlsCode(codes: string[], text: string): string {
  // Weak-chain verdicts come as code UNSPECIFIED with only a message: name them.
  if (/signature digest algorithm too weak/i.test(text)) return 'CA_MD_TOO_WEAK';
  if (/EE certificate key too weak/i.test(text)) return 'EE_KEY_TOO_SMALL';
  if (/CA certificate key too weak/i.test(text)) return 'CA_KEY_TOO_SMALL';
  const ssl = codes.find((c) => c.startsWith('ERR_SSL_'));
  if (ssl) return ssl;
  // OpenSSL's format: `error:0A000410:SSL routines:<function>:<reason>:<file>:<line>`.
  const reason = /SSL routines:[^:]*:([^:]+):/i.exec(text);
  const fromMessage =
    /(?:sslv3|ssl\/tls|tlsv1) alert [a-z ]+|unsafe legacy renegotiation disabled|unsupported protocol|wrong version number|no shared cipher|no ciphers available|no protocols available/i.exec(
      text,
    );
  if (fromMessage) {
    const reason = fromMessage[0].toUpperCase().replace('SSL/TLS ALERT', 'SSLV3 ALERT').replaceAll(' ', '_');
    return `ERR_SSL_${reason}`;
  }
  if (reason?.[1]) return `ERR_SSL_${reason[1].trim().toUpperCase().replaceAll(/[ /]/g, '_')}`;
  return codes[0] ?? 'EPROTO';
}

/** Failures no other strategy can rescue: the caller aborted, policy blocked it, the server said so, or the URL expired. */
export function isTerminal(failureClass: FailureClass, status?: number): boolean {
  if (
    failureClass === 'aborted' ||
    failureClass === 'blocked' ||
    failureClass === 'too-large' ||
    failureClass === 'url-expired' ||
    failureClass === 'local-io'
  )
    return true;
  // Stryker disable next-line ConditionalExpression: an undefined status fails `>= 400` below anyway; the test is there for the type.
  if (failureClass === 'http-status' && status !== undefined) {
    return status >= 400 && status < 500 && status !== 408 && status !== 429;
  }
  return false;
}

/** The FailureClass for an HTTP status that ends an attempt (>= 400). */
export function statusError(status: number, url: string): DetourError {
  return new DetourError(`HTTP ${status} from ${url}`, {
    failureClass: 'http-status',
    code: `HTTP_${status}`,
    status,
  });
}

/** A classifier: a failed attempt's raw error in, its class, code, terminal verdict and message out. */
export type Classifier = (error: unknown) => Classification;

/**
 * What a classifier hook says about a failed attempt. Only `failureClass` is required: `code` and
 * `message` default to the built-in classifier's, `terminal` to `isTerminal(failureClass)`.
 */
export interface ClassifierVerdict {
  failureClass: FailureClass;
  code?: string | undefined;
  terminal?: boolean | undefined;
  message?: string | undefined;
}

/**
 * Sees a failed attempt's raw error (whatever the strategy threw: a Node/got error, a DetourError
 * from core or a strategy) before `classifyError` does. Return a verdict to decide the attempt's
 * class, or `undefined` to leave it to the next hook and finally to the built-in classifier.
 */
export type ClassifierHook = (error: unknown) => ClassifierVerdict | undefined;

export interface ClassifierWithOptions {
  /** What runs when no hook has a verdict, and fills what a verdict leaves out (default `classifyError`). */
  base?: Classifier;
  /** Told when a hook throws; that hook is then treated as having no verdict. */
  onHookError?: (error: unknown, index: number) => void;
}

/**
 * A classifier that asks `hooks` in order and takes the first verdict, else answers as `base`.
 * A hook that throws is skipped (and reported to `onHookError`), so a faulty hook can never turn
 * a failed attempt into an unclassified crash. A class outside `FAILURE_CLASSES` reads as `unknown`.
 */
export function classifierWith(
  hooks: readonly ClassifierHook[],
  options: ClassifierWithOptions = {},
): Classifier {
  const base = options.base ?? classifyError;
  if (hooks.length === 0) return base;
  return (error) => {
    for (const [index, hook] of hooks.entries()) {
      let verdict: ClassifierVerdict | undefined;
      try {
        verdict = hook(error);
      } catch (hookError) {
        options.onHookError?.(hookError, index);
        continue;
      }
      if (verdict && typeof verdict === 'object') return completeVerdict(verdict, () => base(error));
    }
    return base(error);
  };
}

/** A hook's verdict with the fields it left out taken from the built-in answer (computed only if needed). */
function completeVerdict(verdict: ClassifierVerdict, builtIn: () => Classification): Classification {
  let fallback: Classification | undefined;
  const built = () => {
    fallback ??= builtIn();
    return fallback;
  };
  const failureClass = KNOWN_CLASSES.has(verdict.failureClass) ? verdict.failureClass : 'unknown';
  return {
    failureClass,
    code: typeof verdict.code === 'string' && verdict.code ? verdict.code : built().code,
    terminal: typeof verdict.terminal === 'boolean' ? verdict.terminal : isTerminal(failureClass),
    message: typeof verdict.message === 'string' && verdict.message ? verdict.message : built().message,
  };
}
