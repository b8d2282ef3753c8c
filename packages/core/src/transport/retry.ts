import { setTimeout as sleep } from 'node:timers/promises';
import { classifyError } from '../classify.js';
import type { AttemptResponse, HeaderValue, Limits } from '../types.js';
import type { Transport, TransportRequest } from './transport.js';

/** Statuses worth the same request again: the server said "later" or broke for a moment. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Delay before retry number `retry` (0-based): `Retry-After` when given, else capped exponential backoff with jitter. */
export function retryDelay(retry: number, retryAfter: HeaderValue, now = Date.now()): number {
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (header !== undefined && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const base = Math.min(100 * 2 ** retry, 2_000);
  return base / 2 + Math.random() * (base / 2);
}

/**
 * One request with bounded retries for 408/429/5xx and resets, honouring `Retry-After` up to
 * `limits.maxRetryAfterMs` (a longer wait returns the response as it is: the attempt then fails).
 * Resets through a proxy are not retried (see below).
 */
export async function requestWithRetry(
  transport: Transport,
  req: TransportRequest,
  limits: Pick<Limits, 'maxRetries' | 'maxRetryAfterMs'>,
  signal: AbortSignal,
): Promise<AttemptResponse> {
  for (let retry = 0; ; retry++) {
    let response: AttemptResponse;
    try {
      response = await transport.request(req, signal);
    } catch (error) {
      const { failureClass } = classifyError(error);
      // A reset before the response through a proxy is what a broken accelerator does, every
      // time: fail over (direct-bypass) at once instead of retrying into the same wall.
      const viaProxy = req.route.kind !== 'direct';
      if (failureClass !== 'connect-reset' || viaProxy || retry >= limits.maxRetries || signal.aborted)
        throw error;
      await sleep(retryDelay(retry, undefined), undefined, { signal });
      continue;
    }
    if (!RETRYABLE_STATUS.has(response.status) || retry >= limits.maxRetries) {
      return retry ? { ...response, retries: retry } : response;
    }
    const delay = retryDelay(retry, response.headers['retry-after']);
    if (delay > limits.maxRetryAfterMs) return retry ? { ...response, retries: retry } : response;
    response.body.destroy();
    await sleep(delay, undefined, { signal });
  }
}
