/** What a public call returns, built from a run's outcome (see `Pipeline#fetch`, `toFile`, `stream`). */
import type { Outcome } from './layers/types.js';
import type { FetchResultInfo } from './types.js';

/**
 * A result's fields, written out: on Node 20, `{ ...info, bytes, sha256, body }` costs ~1 µs for
 * each key added after the spread (a slow path of V8's); a literal, then keys set on it, costs
 * ~50 ns. A key added to FetchResultInfo must be added here too (the type checks required ones).
 */
export function resultOf(info: Outcome<unknown>['info']): Omit<FetchResultInfo, 'bytes' | 'sha256'> {
  const result: Omit<FetchResultInfo, 'bytes' | 'sha256'> = {
    ok: info.ok,
    url: info.url,
    finalUrl: info.finalUrl,
    strategy: info.strategy,
    degraded: info.degraded,
    fromCache: info.fromCache,
    contentType: info.contentType,
    attempts: info.attempts,
    plan: info.plan,
    insecure: info.insecure,
    downgraded: info.downgraded,
    status: info.status,
    format: info.format,
  };
  if (info.degradedReason !== undefined) result.degradedReason = info.degradedReason;
  return result;
}
