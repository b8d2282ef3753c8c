/**
 * The one rule that picks the failure a user should hear about when every strategy failed (D48):
 * the pipeline's error is built from it, so the CLI, `detour serve`'s failure body (and the Python
 * client's exception message built from it) and the Koishi plugin all say the same thing.
 */
import type { AttemptRecord, FailureClass } from '../types/index.js';

/** A failure as a user sees it: where it happened, its class, code and message. */
export interface Failure {
  strategy?: string | undefined;
  route?: string | undefined;
  failureClass: FailureClass;
  code: string;
  message: string;
}

/**
 * How much a failure class says about the cause, most telling first. Failures that stop a fetch
 * come first (they are its answer); then a certificate or handshake failure names the problem,
 * where a later strategy's timeout or curl's exit code usually only echoes it.
 */
export const TELLING: readonly FailureClass[] = [
  'url-expired',
  'blocked',
  'too-large',
  'local-io',
  'tls-certificate',
  'tls-handshake',
  'tls-protocol',
  'proxy',
  'http-status',
  'content-invalid',
  'dns',
  'connect-refused',
  'connect-reset',
  'timeout',
  'aborted',
  'unavailable',
  'unknown',
];

/** Lower is more telling. curl's exit codes and Detour's own deadline tell less than a Node error of the same class. */
export function tellingRank(f: Pick<Failure, 'failureClass' | 'code'>): number {
  const at = TELLING.indexOf(f.failureClass);
  const vague = /^CURL_E\d+$/.test(f.code) || f.code === 'DETOUR_DEADLINE' ? 0.5 : 0;
  return (at < 0 ? TELLING.length : at) + vague;
}

/** The failure a record tells, with the record it came from. */
export interface TellingPick extends Failure {
  record?: AttemptRecord;
}

/**
 * The most telling failure: among failed attempts, the first of the most telling rank, unless
 * `final` (the error the fetch ended with, when it is not an attempt's) tells more. Skipped
 * attempts never count, and neither do those `ignore` picks out (a last resort's failure, e.g. a
 * placeholder that did not fit, says nothing about the origin). Undefined when nothing is left.
 */
export function mostTelling(
  attempts: readonly AttemptRecord[],
  options: { final?: Failure | undefined; ignore?: (record: AttemptRecord) => boolean } = {},
): TellingPick | undefined {
  let best: TellingPick | undefined;
  for (const a of attempts) {
    if (a.outcome !== 'failed' || !a.failureClass || options.ignore?.(a)) continue;
    const f: TellingPick = {
      strategy: a.strategy,
      route: a.route,
      failureClass: a.failureClass,
      code: a.code ?? '',
      message: a.message ?? '',
      record: a,
    };
    if (!best || tellingRank(f) < tellingRank(best)) best = f;
  }
  const { final } = options;
  if (!best) return final;
  return final && tellingRank(final) < tellingRank(best) ? final : best;
}
