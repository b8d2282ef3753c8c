import { setTimeout as sleep } from 'node:timers/promises';
import { classifyError } from '../classify.js';
import { DetourError } from '../errors.js';
import type { HeaderValue, Limits, Route } from '../types/index.js';
import { headerString, withoutCredentials } from './credential-headers.js';

/** Statuses worth the same request again: the server said "later" or broke for a moment. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

const REDIRECT_STATUS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Delay before retry number `retry` (0-based): `Retry-After` when given, else capped exponential backoff with jitter. */
export function retryDelay(retry: number, retryAfter: HeaderValue, now = Date.now()): number {
  const header = headerString(retryAfter);
  if (header !== undefined && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const base = Math.min(100 * 2 ** retry, 2_000);
  return base / 2 + Math.random() * (base / 2);
}

/** One hop of a request: where it goes and with which headers. */
export interface Hop {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
}

/** The least a response must say for redirects and retries to be decided. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: Readonly<Record<string, HeaderValue>>;
}

export interface FollowOptions<R extends ResponseHead> {
  /** The first hop. */
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Resets through a proxy are not retried (D11): a broken accelerator resets every tunnel. */
  readonly route: Route;
  readonly limits: Pick<Limits, 'maxRedirects' | 'maxRetries' | 'maxRetryAfterMs'>;
  /** One exchange, no redirect followed (the client's own redirect handling is off). */
  send(hop: Hop, signal: AbortSignal): Promise<R>;
  /** Drop a response whose body is not wanted (a redirect, a retried status); may wait for cleanup. */
  discard(response: R): Promise<void> | void;
}

export interface Followed<R> {
  readonly response: R;
  /** The URL of the last hop. */
  readonly url: URL;
  /** The headers of the last hop (credentials dropped after a cross-origin redirect). */
  readonly headers: Readonly<Record<string, string>>;
  /** Retries made (resets and retryable statuses). */
  readonly retries: number;
}

/**
 * The one redirect-and-retry loop every client shares (the in-process transport and curl):
 * - redirects (301/302/303/307/308 with a Location) are followed hop by hop up to `maxRedirects`,
 *   only to http(s), credentials dropped when the origin changes; each hop goes through `send`, so
 *   the private-network guard sees every hop;
 * - 408/429/5xx are retried up to `maxRetries` times, honouring `Retry-After` up to
 *   `maxRetryAfterMs` (a longer wait returns the response: the attempt then fails on its status);
 * - a reset before the response is retried with backoff on a direct route only (D11).
 */
export async function followWithRetries<R extends ResponseHead>(
  options: FollowOptions<R>,
  signal: AbortSignal,
): Promise<Followed<R>> {
  const { limits } = options;
  let url = options.url;
  let headers = options.headers;
  let redirects = 0;
  let retries = 0;
  for (;;) {
    signal.throwIfAborted();
    let response: R;
    try {
      response = await options.send({ url, headers }, signal);
    } catch (error) {
      if (!retriesReset(error, options.route, retries, limits.maxRetries, signal)) throw error;
      await sleep(retryDelay(retries++, undefined), undefined, { signal });
      continue;
    }
    const location = headerString(response.headers.location);
    if (REDIRECT_STATUS.has(response.status) && location !== undefined) {
      await options.discard(response);
      if (++redirects > limits.maxRedirects) throw tooManyRedirects(limits.maxRedirects);
      const next = redirectTarget(location, url);
      if (next.origin !== url.origin) headers = withoutCredentials(headers);
      url = next;
      continue;
    }
    if (RETRYABLE_STATUS.has(response.status) && retries < limits.maxRetries) {
      const delay = retryDelay(retries, response.headers['retry-after']);
      if (delay <= limits.maxRetryAfterMs) {
        await options.discard(response);
        retries++;
        await sleep(delay, undefined, { signal });
        continue;
      }
    }
    return { response, url, headers, retries };
  }
}

function retriesReset(
  error: unknown,
  route: Route,
  retries: number,
  maxRetries: number,
  signal: AbortSignal,
): boolean {
  if (signal.aborted || retries >= maxRetries || route.kind !== 'direct') return false;
  return classifyError(error).failureClass === 'connect-reset';
}

function redirectTarget(location: string, base: URL): URL {
  let next: URL;
  try {
    next = new URL(location, base);
  } catch (cause) {
    throw new DetourError('redirect to an invalid URL', {
      failureClass: 'http-status',
      code: 'ERR_INVALID_REDIRECT',
      cause,
    });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new DetourError(`redirect to ${next.protocol} refused`, {
      failureClass: 'blocked',
      code: 'ERR_UNSUPPORTED_PROTOCOL',
    });
  }
  return next;
}

function tooManyRedirects(max: number): DetourError {
  return new DetourError(`more than ${max} redirects`, {
    failureClass: 'http-status',
    code: 'ERR_TOO_MANY_REDIRECTS',
  });
}
