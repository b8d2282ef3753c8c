import type { AttemptRecord } from '@detour/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What `/metrics` exposes (Prometheus text, prom-client): one registry per server. */
export class ServeMetrics {
  readonly registry = new Registry();
  readonly #fetches: Counter<'strategy' | 'outcome' | 'failure_class'>;
  readonly #duration: Histogram<'outcome'>;
  readonly #cacheHits: Counter<'tier'>;
  readonly #inFlight: Gauge;
  readonly #circuitRejections: Counter;
  /** Origins seen refused by an open circuit, and until when (ms since the epoch). */
  readonly #openCircuits = new Map<string, number>();

  constructor() {
    const registers = [this.registry];
    this.#fetches = new Counter({
      name: 'detour_fetches_total',
      help: 'Fetches answered, by winning strategy (none on failure), outcome (ok, degraded, failed) and failure class',
      labelNames: ['strategy', 'outcome', 'failure_class'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'detour_fetch_duration_seconds',
      help: 'Time from request to the last byte sent (or the failure), by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#cacheHits = new Counter({
      name: 'detour_cache_hits_total',
      help: 'Fetches answered from the cache, by tier (memory, disk, shared)',
      labelNames: ['tier'],
      registers,
    });
    this.#inFlight = new Gauge({
      name: 'detour_fetches_in_flight',
      help: 'Fetches being downloaded or streamed right now',
      registers,
    });
    this.#circuitRejections = new Counter({
      name: 'detour_circuit_rejections_total',
      help: 'Fetches refused without network because the host circuit was open',
      registers,
    });
    const open = this.#openCircuits;
    new Gauge({
      name: 'detour_circuits_open',
      help: 'Origins whose circuit this instance last saw open (cool-down not over)',
      registers,
      collect() {
        const now = Date.now();
        for (const [origin, until] of open) if (until <= now) open.delete(origin);
        this.set(open.size);
      },
    });
  }

  started(): () => number {
    this.#inFlight.inc();
    const start = performance.now();
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.#inFlight.dec();
      }
      return (performance.now() - start) / 1000;
    };
  }

  succeeded(
    origin: string,
    result: { strategy: string; degraded: boolean; fromCache: boolean; attempts: AttemptRecord[] },
    seconds: number,
  ): void {
    const outcome = result.degraded ? 'degraded' : 'ok';
    this.#fetches.inc({ strategy: result.strategy, outcome, failure_class: '' });
    this.#duration.observe({ outcome }, seconds);
    if (result.fromCache) this.#cacheHits.inc({ tier: result.attempts[0]?.route ?? 'unknown' });
    if (result.attempts.some((a) => a.code === 'DETOUR_CIRCUIT_OPEN')) this.#circuitRejections.inc();
    else if (!result.degraded) this.#openCircuits.delete(origin);
  }

  failed(origin: string, failureClass: string, code: string, seconds: number, retryAt?: number): void {
    this.#fetches.inc({ strategy: 'none', outcome: 'failed', failure_class: failureClass });
    this.#duration.observe({ outcome: 'failed' }, seconds);
    if (code === 'DETOUR_CIRCUIT_OPEN') {
      this.#circuitRejections.inc();
      this.#openCircuits.set(origin, retryAt ?? Date.now() + 30_000);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
