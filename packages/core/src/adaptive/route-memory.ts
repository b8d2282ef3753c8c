import { toKeyValueStore } from '../store/keyv-store.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Clock, KeyValueStore, KeyvLike } from '../store/store-types.js';
import type { AttemptRecord, FailureClass } from '../types/index.js';
import { routeKey } from './origin-key.js';

export interface RouteMemoryOptions {
  /** How long a learned winner is trusted before the host is planned from scratch (default 1 h). */
  ttlMs?: number;
  /**
   * After this long since the last full try, one request runs the whole plan again (strict
   * first), so a host that was fixed goes back to strict TLS (default 10 min; 0 = never).
   */
  reprobeAfterMs?: number;
  /**
   * Every N-th request that would start at the remembered winner runs the whole plan instead
   * (default 0 = never). Costs one store write per request when set.
   */
  reprobeEvery?: number;
  /** Where entries live: in process by default; a Keyv instance or KeyValueStore to share them. */
  store?: KeyValueStore | KeyvLike;
  now?: Clock;
}

export const ROUTE_MEMORY_DEFAULTS = {
  ttlMs: 60 * 60_000,
  reprobeAfterMs: 10 * 60_000,
  reprobeEvery: 0,
} as const;

/** What the memory knows about one origin in one environment. Stored as JSON. */
export interface RouteEntry {
  v: 1;
  /** The strategy that last delivered (or reached the origin). */
  winner: string;
  /** What failed before the winner when it was learned. */
  failed: Array<{ strategy: string; failureClass?: FailureClass; code?: string }>;
  learnedAt: number;
  expiresAt: number;
  /** Last time the whole plan ran (learning or re-probe). */
  probedAt: number;
  /** Requests started at the winner since `probedAt` (counted only with `reprobeEvery`). */
  uses: number;
}

/** The order chosen for one fetch, handed back to `record` with its outcome. */
export interface RoutePlan {
  /** Strategy names in the order to try. */
  order: string[];
  /** The plan before memory touched it. */
  plan: string[];
  /** `plan`: nothing remembered; `remembered`: winner moved first; `reprobe`: the whole plan, on purpose. */
  source: 'plan' | 'remembered' | 'reprobe';
  /** The remembered winner, when there is one. */
  winner?: string;
}

export interface RouteOutcome {
  /** The strategy that reached the origin (see `routeWinner`); undefined when none did. */
  winner: string | undefined;
  attempts: readonly AttemptRecord[];
}

/** Remembers per origin and environment which strategy works, so the next fetch starts there. */
export interface RouteMemory {
  order(url: URL, fingerprint: string, plan: readonly string[]): Promise<RoutePlan>;
  record(url: URL, fingerprint: string, route: RoutePlan, outcome: RouteOutcome): Promise<void>;
  /** The entry for an origin, if any (inspection, tests, `detour` diagnostics). */
  inspect(url: URL, fingerprint: string): Promise<RouteEntry | undefined>;
  forget(url: URL, fingerprint: string): Promise<void>;
  close?(): Promise<void>;
}

/**
 * The strategy that proved it reaches the origin: the one that delivered a real (not degraded)
 * body, or that got a definitive 4xx answer (a 404 through tls-relaxed still proves tls-relaxed
 * gets through). Undefined when none did.
 */
export function routeWinner(attempts: readonly AttemptRecord[], degraded = false): string | undefined {
  // The last attempt that ran: strategies the run never reached are listed after it as skipped.
  const last = attempts.findLast((a) => a.outcome !== 'skipped');
  if (!last) return undefined;
  if (last.outcome === 'ok') return degraded ? undefined : last.strategy;
  if (last.outcome === 'failed' && last.failureClass === 'url-expired' && last.status !== undefined) {
    return last.strategy; // the origin answered: the link, not the route, was bad
  }
  if (last.outcome === 'failed' && last.failureClass === 'local-io') {
    return last.strategy; // the body came; our own disk failed
  }
  if (
    last.outcome === 'failed' &&
    last.failureClass === 'http-status' &&
    last.status !== undefined &&
    last.status >= 400 &&
    last.status < 500 &&
    last.status !== 408 &&
    last.status !== 429
  ) {
    return last.strategy;
  }
  return undefined;
}

const PREFIX = 'route:v1:';

/** RouteMemory over a KeyValueStore: in process by default, Redis (via Keyv) to share it. */
export class StoreRouteMemory implements RouteMemory {
  readonly ttlMs: number;
  readonly reprobeAfterMs: number;
  readonly reprobeEvery: number;
  readonly #store: KeyValueStore;
  readonly #ownsStore: boolean;
  readonly #now: Clock;

  constructor(options: RouteMemoryOptions = {}) {
    this.ttlMs = Math.max(1, options.ttlMs ?? ROUTE_MEMORY_DEFAULTS.ttlMs);
    this.reprobeAfterMs = Math.max(0, options.reprobeAfterMs ?? ROUTE_MEMORY_DEFAULTS.reprobeAfterMs);
    this.reprobeEvery = Math.max(0, Math.floor(options.reprobeEvery ?? ROUTE_MEMORY_DEFAULTS.reprobeEvery));
    this.#now = options.now ?? Date.now;
    this.#ownsStore = options.store === undefined;
    this.#store = options.store ? toKeyValueStore(options.store) : new MemoryStore({ now: this.#now });
  }

  async order(url: URL, fingerprint: string, plan: readonly string[]): Promise<RoutePlan> {
    const key = PREFIX + routeKey(url, fingerprint);
    const entry = await this.#read(key);
    // One copy serves as both `plan` and `order` when memory changes nothing (neither is changed later).
    // Literals, not `{ ...base, order }`: a key added after a spread costs ~1 µs on Node 20.
    const copy = [...plan];
    if (!entry || !plan.includes(entry.winner)) return { plan: copy, order: copy, source: 'plan' };
    const now = this.#now();
    const winner = entry.winner;
    if (winner === plan[0]) return { plan: copy, order: copy, source: 'remembered', winner };
    const dueByTime = this.reprobeAfterMs > 0 && now - entry.probedAt >= this.reprobeAfterMs;
    const dueByCount = this.reprobeEvery > 0 && entry.uses + 1 >= this.reprobeEvery;
    if (dueByTime || dueByCount) {
      // Claim the probe, so that concurrent requests keep using the winner meanwhile.
      await this.#write(key, { ...entry, probedAt: now, uses: 0 });
      return { plan: copy, order: copy, source: 'reprobe', winner };
    }
    if (this.reprobeEvery > 0) await this.#write(key, { ...entry, uses: entry.uses + 1 });
    return {
      plan: copy,
      order: [winner, ...plan.filter((name) => name !== winner)],
      source: 'remembered',
      winner,
    };
  }

  async record(url: URL, fingerprint: string, route: RoutePlan, outcome: RouteOutcome): Promise<void> {
    const { winner } = outcome;
    if (winner === undefined) return; // nothing learned; the circuit breaker counts whole failures
    if (winner === route.plan[0]) {
      // The strictest strategy works (again): nothing to remember, the plan is right as it is.
      if (route.winner !== undefined) await this.#store.delete(PREFIX + routeKey(url, fingerprint));
      return;
    }
    if (route.source === 'remembered' && route.winner === winner) return; // confirmed, nothing new
    const key = PREFIX + routeKey(url, fingerprint);
    const now = this.#now();
    const entry: RouteEntry = {
      v: 1,
      winner,
      failed: outcome.attempts
        .filter((a) => a.outcome === 'failed')
        .map((a) => ({
          strategy: a.strategy,
          ...(a.failureClass ? { failureClass: a.failureClass } : {}),
          ...(a.code ? { code: a.code } : {}),
        })),
      learnedAt: now,
      expiresAt: now + this.ttlMs,
      probedAt: now,
      uses: 0,
    };
    await this.#write(key, entry);
  }

  async inspect(url: URL, fingerprint: string): Promise<RouteEntry | undefined> {
    return this.#read(PREFIX + routeKey(url, fingerprint));
  }

  async forget(url: URL, fingerprint: string): Promise<void> {
    await this.#store.delete(PREFIX + routeKey(url, fingerprint));
  }

  async close(): Promise<void> {
    if (this.#ownsStore) await this.#store.close?.();
  }

  async #read(key: string): Promise<RouteEntry | undefined> {
    const raw = await this.#store.get(key);
    if (raw === undefined) return undefined;
    let entry: RouteEntry;
    try {
      entry = JSON.parse(raw) as RouteEntry;
    } catch {
      await this.#store.delete(key);
      return undefined;
    }
    if (entry?.v !== 1 || typeof entry.winner !== 'string' || !(entry.expiresAt > this.#now())) {
      await this.#store.delete(key);
      return undefined;
    }
    return entry;
  }

  async #write(key: string, entry: RouteEntry): Promise<void> {
    const ttl = entry.expiresAt - this.#now();
    if (ttl <= 0) return;
    await this.#store.set(key, JSON.stringify(entry), ttl);
  }
}
