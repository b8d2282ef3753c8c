/**
 * The front-end kit's failure report: the most telling failure (core's one rule, D48), one line on
 * what to do about it, and the failure JSON that `detour fetch --json` (one URL and `-O DIR`),
 * `detour serve`'s failure body and the Koishi plugin's error share. Pure functions over the error
 * and its attempt records (table-tested).
 */
import {
  type AttemptRecord,
  CachedFailureError,
  type Failure as CoreFailure,
  type DetourError,
  redactText,
  redactUrl,
} from '@detour/core';
import { mostTelling as coreMostTelling } from '@detour/core/internal';
/** The failure a user should hear about (core's `Failure`). */
export type Failure = CoreFailure;

/**
 * The most telling failure, by core's one rule (`mostTelling`, D48). A pipeline's error already is
 * that failure and names its attempt (`strategy`, `route`); other errors (a cached failure, an open
 * circuit, doctor's own runs) are weighed against their attempts by the same rule.
 */
export function mostTelling(
  final: Failure & { strategy?: string | undefined; route?: string | undefined },
  attempts: readonly AttemptRecord[],
): Failure {
  if (final.strategy !== undefined) {
    const { strategy, route, failureClass, code, message } = final;
    return { strategy, route, failureClass, code, message };
  }
  if (!attempts.some((a) => a.outcome === 'failed')) {
    // Nothing ran: say why (a curl-only plan without curl is the common case).
    const noCurl = attempts.find(
      (a) =>
        a.outcome === 'skipped' &&
        a.strategy === 'curl' &&
        /curl not found|not executable|mkfifo/i.test(a.message ?? ''),
    );
    if (final.code === 'DETOUR_NO_STRATEGY' && noCurl) {
      return {
        strategy: 'curl',
        route: noCurl.route,
        failureClass: 'unavailable',
        code: 'CURL_NOT_FOUND',
        message: noCurl.message!,
      };
    }
  }
  const pick = coreMostTelling(attempts, { final }) ?? final;
  const { strategy, route, failureClass, code, message } = pick;
  return { strategy, route, failureClass, code, message };
}

const UNKNOWN_CA =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CURL_E60)$/;
const EXPIRED = /^(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)$/;
const NAME_MISMATCH = /^(ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_FORMAT)$/;

/** One line on what to do next, or undefined when there is nothing better than the message. */
export function adviceFor(f: Failure, host: string): string | undefined {
  const via = f.route && f.route !== 'direct' && f.route !== 'none' ? f.route : undefined;
  if (f.code === 'DETOUR_PRIVATE_ADDRESS' || (f.failureClass === 'blocked' && /private/i.test(f.message))) {
    return `${host} is a private/loopback address, refused by default: add --allow-private if you trust it`;
  }
  if (f.failureClass === 'tls-certificate') {
    if (EXPIRED.test(f.code) || /expired|not yet valid/i.test(f.message)) {
      return `the certificate of ${host} is outside its validity period (check the clock: \`date\`); tell the server's operator, or --insecure-host ${host} to accept the risk`;
    }
    if (
      NAME_MISMATCH.test(f.code) ||
      /altname|does not match|no alternative certificate subject name/i.test(f.message)
    ) {
      return `the certificate is not for ${host} (a proxy or captive portal intercepting?); --insecure-host ${host} accepts the risk`;
    }
    if (UNKNOWN_CA.test(f.code) || /issuer|self[- ]signed|unable to get local issuer/i.test(f.message)) {
      return `the certificate of ${host} is signed by an unknown CA: trust it with --ca FILE (PEM) or NODE_EXTRA_CA_CERTS=FILE, or skip checks for this host with --insecure-host ${host}`;
    }
    return `the certificate of ${host} was refused: --ca FILE if its CA is yours, --insecure-host ${host} to accept the risk`;
  }
  if (f.code === 'CURL_NOT_FOUND')
    return 'curl was not found: install it (apt install curl) or pass --curl PATH';
  if (f.code === 'CURL_SPAWN_FAILED') return 'curl could not be started: check --curl PATH';
  if (
    f.code === 'DETOUR_PROXY_TIMEOUT' ||
    (f.failureClass === 'proxy' && /timed? ?out|deadline/i.test(f.message))
  ) {
    return `the proxy ${via ?? ''} accepted the connection and never answered (a stuck accelerator?): restart or fix it, or --no-proxy`.replace(
      '  ',
      ' ',
    );
  }
  if (f.failureClass === 'proxy') {
    if (/407/.test(f.code))
      return `the proxy ${via ?? ''} wants other credentials: fix them in --proxy / *_proxy, or --no-proxy`.replace(
        '  ',
        ' ',
      );
    return `the proxy ${via ?? ''} refused or failed (${f.code}): check --proxy / *_proxy (is it running?), or --no-proxy`.replace(
      '  ',
      ' ',
    );
  }
  if (f.failureClass === 'tls-handshake' || f.failureClass === 'tls-protocol') {
    return `TLS to ${host} failed${via ? ` through ${via}` : ''}: \`detour doctor URL\` tells whether a proxy rule, --insecure-host or --allow-downgrade would help`;
  }
  if (f.failureClass === 'timeout')
    return `no answer in time: raise --attempt-timeout (one strategy) and --timeout (the whole download), or \`detour doctor URL\` to see which route hangs`;
  if (f.failureClass === 'dns')
    return `${host} does not resolve: check the name (under fake-IP DNS, \`detour doctor URL\`)`;
  if (f.code === 'DETOUR_NOT_AN_IMAGE')
    return 'the body is not an image (a block page or an expired link?): open the URL in a browser';
  if (f.failureClass === 'too-large') return 'raise --max-bytes if the file is legitimate';
  if (f.code === 'DETOUR_CIRCUIT_OPEN')
    return 'this host failed every strategy several times in a row: wait, or `detour doctor URL`';
  return undefined;
}

/** Strategies that exist only with a flag: `--strategies` naming them without it is bad usage. */
export const STRATEGY_FLAGS: Readonly<Record<string, string>> = {
  placeholder: '--placeholder',
  'http-downgrade': '--allow-downgrade HOST',
};

/** How a surface prints URLs and text: masked (the default) or as they are (`--show-secrets`). */
export interface SecretPolicy {
  url(url: string): string;
  text(text: string): string;
}

export const MASK_SECRETS: SecretPolicy = { url: redactUrl, text: redactText };
export const SHOW_SECRETS: SecretPolicy = { url: (u) => u, text: (t) => t };

/** Attempts as shown to callers: messages masked (they may quote a URL with its `rkey`). */
export function maskedAttempts<T extends { message?: string }>(
  attempts: readonly T[],
  secrets: SecretPolicy = MASK_SECRETS,
): T[] {
  return attempts.map((a) => (a.message === undefined ? a : { ...a, message: secrets.text(a.message) }));
}

/** The failure JSON: `detour fetch --json`'s failure, `detour serve`'s failure body. A contract. */
export interface FailureJson {
  ok: false;
  url: string | null;
  strategy: null;
  degraded: false;
  /** True only when the negative cache answered (no request was made this time). */
  fromCache: boolean;
  plan: string[];
  attempts: AttemptRecord[];
  error: {
    failureClass: string;
    code: string;
    message: string;
    retcode?: number;
    retmsg?: string;
    /** One line on what to do next (`adviceFor`), when there is one. */
    hint?: string;
  };
}

/**
 * The one failure JSON. The error's own class, code and message (a pipeline's error already is
 * the most telling failure, D48); the hint from the most telling failure among its attempts; URL,
 * message, `retmsg` and attempt messages masked unless `secrets` says otherwise. `url` is the URL
 * as given (null when there was none, e.g. a refused request).
 */
export function failureJson(
  error: DetourError,
  url: string | null,
  secrets: SecretPolicy = MASK_SECRETS,
): FailureJson {
  let host: string | undefined;
  try {
    host = url === null ? undefined : new URL(url).hostname;
  } catch {
    host = undefined;
  }
  const hint = host === undefined ? undefined : adviceFor(mostTelling(error, error.attempts), host);
  return {
    ok: false,
    url: url === null ? null : secrets.url(url),
    strategy: null,
    degraded: false,
    fromCache: error instanceof CachedFailureError,
    plan: error.plan,
    attempts: maskedAttempts(error.attempts, secrets),
    error: {
      failureClass: error.failureClass,
      code: error.code,
      message: secrets.text(error.message),
      // An expired/invalid download URL: the origin's own answer (Tencent's retcode, retmsg).
      ...(error.retcode !== undefined ? { retcode: error.retcode } : {}),
      ...(error.retmsg !== undefined ? { retmsg: secrets.text(error.retmsg) } : {}),
      ...(hint ? { hint } : {}),
    },
  };
}
