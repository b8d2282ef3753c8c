/**
 * What the operator's page shows about past fetches: a bounded ring buffer of the latest fetches
 * (secrets masked before anything is kept), the origins seen (for `/v1/hosts`), running totals,
 * and listeners for `/v1/events`. Nothing here changes how a fetch runs.
 */
import type { AttemptRecord, DetourError, FailureClass, StreamResult } from '@detour/core';
import { redactText, redactUrl } from '@detour/core';

export const RECENT_DEFAULTS = {
  /** Fetches kept for `/v1/recent`. */
  size: 100,
  /** Origins remembered for `/v1/hosts` (least recently seen dropped first). */
  maxOrigins: 256,
} as const;

/**
 * One attempt as the page shows it. A failed attempt carries no message (it may quote the
 * origin's answer); a skipped one carries `reason`, Detour's own words on why it was not tried.
 */
export interface RecentAttempt {
  strategy: string;
  route: string;
  outcome: AttemptRecord['outcome'];
  failureClass: FailureClass | null;
  code: string | null;
  ms: number;
  /** Only on `skipped`: why ("not needed: direct succeeded", "the deadline passed before its turn"), masked. */
  reason?: string;
}

/** The longest skip reason kept (a strategy's own `applies`/`canRescue` text may be long). */
const MAX_REASON = 200;

/** One finished fetch, as `/v1/recent` and `/v1/events` give it. Field names are a contract. */
export interface RecentFetch {
  /** Increasing per service (the events' `id`). */
  id: number;
  /** When it finished (ISO 8601). */
  at: string;
  /** The URL with credentials and secret query values masked (`rkey=***`). */
  url: string;
  /** `host[:port]` of the URL. */
  host: string;
  ok: boolean;
  /** The strategy that delivered, null on failure. */
  strategy: string | null;
  degraded: boolean;
  downgraded: boolean;
  insecure: boolean;
  fromCache: boolean;
  /** Bytes sent to the client (0 on failure). */
  bytes: number;
  /** From the request to the last byte sent (or the failure), in ms. */
  ms: number;
  attempts: RecentAttempt[];
  /** On failure: class, code and the message with URLs masked. */
  error: { failureClass: FailureClass; code: string; message: string } | null;
}

/** Totals since the service started (not only what the ring still holds). */
export interface RecentTotals {
  fetches: number;
  ok: number;
  failed: number;
  degraded: number;
  fromCache: number;
  /** Bytes sent that came from the cache. */
  cacheBytes: number;
  /** Bytes sent in all. */
  bytes: number;
  /** Cache hits by tier (`memory`, `disk`, `shared`). */
  cacheHitsByTier: Record<string, number>;
}

export type RecentListener = (fetch: RecentFetch) => void;

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

function originKey(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

function attemptsOf(attempts: readonly AttemptRecord[]): RecentAttempt[] {
  return attempts.map((a) => ({
    strategy: a.strategy,
    route: redactText(a.route),
    outcome: a.outcome,
    failureClass: a.failureClass ?? null,
    code: a.code ?? null,
    ms: a.ms,
    ...(a.outcome === 'skipped' && a.message ? { reason: redactText(a.message).slice(0, MAX_REASON) } : {}),
  }));
}

/** The ring buffer, the origins seen and the listeners of one service. */
export class RecentFetches {
  readonly size: number;
  readonly #maxOrigins: number;
  readonly #ring: RecentFetch[] = [];
  /** origin (`https://host:port` as URL.origin gives it) → last seen (ms since the epoch). */
  readonly #origins = new Map<string, number>();
  readonly #listeners = new Set<RecentListener>();
  #next = 1;
  readonly totals: RecentTotals = {
    fetches: 0,
    ok: 0,
    failed: 0,
    degraded: 0,
    fromCache: 0,
    cacheBytes: 0,
    bytes: 0,
    cacheHitsByTier: {},
  };

  constructor(options: { size?: number; maxOrigins?: number } = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? RECENT_DEFAULTS.size));
    this.#maxOrigins = Math.max(1, Math.floor(options.maxOrigins ?? RECENT_DEFAULTS.maxOrigins));
  }

  /** A fetch whose body was sent whole. */
  succeeded(url: string, result: Omit<StreamResult, 'body'>, bytes: number, seconds: number): void {
    const t = this.totals;
    t.ok++;
    t.bytes += bytes;
    if (result.degraded) t.degraded++;
    if (result.fromCache) {
      t.fromCache++;
      t.cacheBytes += bytes;
      const tier = result.attempts[0]?.route ?? 'unknown';
      t.cacheHitsByTier[tier] = (t.cacheHitsByTier[tier] ?? 0) + 1;
    }
    this.#add(url, {
      ok: true,
      strategy: result.strategy,
      degraded: result.degraded,
      downgraded: result.downgraded,
      insecure: result.insecure,
      fromCache: result.fromCache,
      bytes,
      ms: Math.round(seconds * 1000),
      attempts: attemptsOf(result.attempts),
      error: null,
    });
  }

  /** A fetch that failed before or while its body was sent (`attempts` from the result when it had started). */
  failed(url: string, error: DetourError, seconds: number, started?: Omit<StreamResult, 'body'>): void {
    this.totals.failed++;
    this.#add(url, {
      ok: false,
      strategy: null,
      degraded: started?.degraded ?? false,
      downgraded: started?.downgraded ?? false,
      insecure: started?.insecure ?? false,
      fromCache: started?.fromCache ?? false,
      bytes: 0,
      ms: Math.round(seconds * 1000),
      attempts: attemptsOf(started?.attempts ?? error.attempts),
      error: { failureClass: error.failureClass, code: error.code, message: redactText(error.message) },
    });
  }

  /** Newest first. */
  list(): RecentFetch[] {
    return [...this.#ring].reverse();
  }

  /** Origins seen, most recently seen first, as `{ origin, host, lastSeen }`. */
  origins(): Array<{ origin: string; host: string; lastSeen: number }> {
    return [...this.#origins]
      .reverse()
      .map(([origin, lastSeen]) => ({ origin, host: hostOf(origin), lastSeen }));
  }

  /** Hear every finished fetch; returns the way to stop listening. */
  subscribe(listener: RecentListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  #add(url: string, fields: Omit<RecentFetch, 'id' | 'at' | 'url' | 'host'>): void {
    this.totals.fetches++;
    const entry: RecentFetch = {
      id: this.#next++,
      at: new Date().toISOString(),
      url: redactUrl(url),
      host: hostOf(url),
      ...fields,
    };
    this.#ring.push(entry);
    if (this.#ring.length > this.size) this.#ring.shift();
    const origin = originKey(url);
    if (origin) {
      this.#origins.delete(origin);
      this.#origins.set(origin, Date.now());
      if (this.#origins.size > this.#maxOrigins) this.#origins.delete(this.#origins.keys().next().value!);
    }
    for (const listener of this.#listeners) {
      try {
        listener(entry);
      } catch {
        // a listener's failure (a closed event stream) never touches the fetch
      }
    }
  }
}
