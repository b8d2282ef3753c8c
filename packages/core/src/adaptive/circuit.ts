import { DetourError } from '../errors.js';
import { toKeyValueStore } from '../store/keyv-store.js';
import type { Clock, KeyValueStore, KeyvLike } from '../store/store-types.js';

export interface CircuitOptions {
  /** Fetches in a row for which every strategy failed before the circuit opens (default 5). */
  threshold?: number;
  /** How long an open circuit refuses requests before letting one probe through (default 30 s). */
  cooldownMs?: number;
  /** Most hosts tracked; the oldest is forgotten first (default 10 000). */
  maxHosts?: number;
  /**
   * Share open circuits with other instances (a Keyv instance or KeyValueStore, e.g. Redis): a
   * circuit opened by one instance is open for all until its cool-down ends; a success anywhere
   * closes it. Failures are counted per instance. Default: in process only.
   */
  store?: KeyValueStore | KeyvLike;
  /**
   * With `store`, also keep the count of failed fetches in a row there, so that fetches made by
   * different processes one after the other (a CLI run per file) count together. Default false:
   * counting stays in the instance (several live instances sharing Redis).
   */
  persistCounts?: boolean;
  now?: Clock;
}

export const CIRCUIT_DEFAULTS = { threshold: 5, cooldownMs: 30_000, maxHosts: 10_000 } as const;

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What `inspect` tells about one host. */
export interface CircuitInfo {
  state: CircuitState;
  /** Whole-fetch failures counted in a row (this instance). */
  failures: number;
  /** Open or half-open: when the cool-down ends (ms since the epoch). */
  retryAt?: number;
}

/** Handed out by `enter`; give it back to exactly one of `success`, `failure` or `neutral`. */
export interface CircuitTicket {
  readonly key: string;
  /** This request is the one probe of a half-open circuit. */
  readonly probe: boolean;
}

/** A request refused without touching the network: the host's circuit is open. */
export class CircuitOpenError extends DetourError {
  /** When the circuit lets a probe through (ms since the epoch). */
  readonly retryAt: number;

  constructor(key: string, retryAt: number, failures: number, now: number, probing: boolean) {
    const origin = key.slice(key.indexOf('|') + 1);
    const wait = probing
      ? 'one probe request is in flight'
      : `no request is made for another ${Math.ceil(Math.max(0, retryAt - now) / 1000)} s`;
    super(`circuit open for ${origin}: every strategy failed ${failures} fetches in a row; ${wait}`, {
      failureClass: 'unavailable',
      code: 'DETOUR_CIRCUIT_OPEN',
    });
    this.retryAt = retryAt;
  }
}

interface HostState {
  failures: number;
  /** Set while open or half-open. */
  openUntil?: number;
  /** A half-open probe is in flight. */
  probing: boolean;
}

/**
 * Per-host circuit breaker. Closed: requests pass, consecutive whole-fetch failures are counted.
 * `threshold` in a row → open: `enter` throws CircuitOpenError (no network) for `cooldownMs`.
 * Then half-open: exactly one request goes through; its success closes the circuit, its failure
 * opens it for another cool-down. Outcomes that say nothing about the host (the caller aborted)
 * are `neutral`. With `store`, open circuits are shared (see `admit`); counting stays local.
 */
export class CircuitBreaker {
  readonly threshold: number;
  readonly cooldownMs: number;
  readonly #maxHosts: number;
  readonly #now: Clock;
  readonly #hosts = new Map<string, HostState>();
  readonly #store: KeyValueStore | undefined;
  readonly #pending = new Set<Promise<void>>();
  readonly #persistCounts: boolean;

  constructor(options: CircuitOptions = {}) {
    this.threshold = Math.max(1, options.threshold ?? CIRCUIT_DEFAULTS.threshold);
    this.cooldownMs = Math.max(0, options.cooldownMs ?? CIRCUIT_DEFAULTS.cooldownMs);
    this.#maxHosts = Math.max(1, options.maxHosts ?? CIRCUIT_DEFAULTS.maxHosts);
    this.#now = options.now ?? Date.now;
    this.#store = options.store ? toKeyValueStore(options.store) : undefined;
    this.#persistCounts = !!options.persistCounts && this.#store !== undefined;
  }

  /** Whether open circuits are shared with other instances. */
  get shared(): boolean {
    return this.#store !== undefined;
  }

  /**
   * `enter`, after taking in what the shared store knows: a circuit another instance opened is
   * open here too (until its cool-down ends). Without a store, the same as `enter`. A store that
   * fails is read as "nothing shared".
   */
  async admit(key: string): Promise<CircuitTicket> {
    if (this.#store) {
      const shared = await this.#store.get(PREFIX + key).catch(() => undefined);
      const open = shared === undefined ? undefined : parseShared(shared);
      const host = this.#hosts.get(key);
      if (
        open &&
        open.openUntil > this.#now() &&
        !(host?.openUntil !== undefined && host.openUntil >= open.openUntil)
      ) {
        this.#hosts.delete(key);
        this.#hosts.set(key, {
          failures: Math.max(open.failures, host?.failures ?? 0),
          openUntil: open.openUntil,
          probing: false,
        });
        this.#trim();
      } else if (open && this.#persistCounts && open.failures > (host?.failures ?? 0) && !host?.openUntil) {
        this.#hosts.set(key, { failures: open.failures, probing: false });
        this.#trim();
      }
    }
    return this.enter(key);
  }

  state(key: string): CircuitState {
    const host = this.#hosts.get(key);
    if (host?.openUntil === undefined) return 'closed';
    return this.#now() < host.openUntil ? 'open' : 'half-open';
  }

  /** One host's circuit for inspection: its state, failures counted, and when an open one lets a probe through. */
  inspect(key: string): CircuitInfo {
    const host = this.#hosts.get(key);
    return {
      state: this.state(key),
      failures: host?.failures ?? 0,
      ...(host?.openUntil !== undefined ? { retryAt: host.openUntil } : {}),
    };
  }

  /** Close a host's circuit by hand (an operator's "forget"): counts dropped, shared state too. */
  reset(key: string): void {
    this.#hosts.delete(key);
    if (this.#store) this.#share(key, undefined);
  }

  /** Let a request through, or throw CircuitOpenError. */
  enter(key: string): CircuitTicket {
    const host = this.#hosts.get(key);
    if (host?.openUntil === undefined) return { key, probe: false };
    const now = this.#now();
    if (now < host.openUntil || host.probing) {
      throw new CircuitOpenError(key, Math.max(now, host.openUntil), host.failures, now, host.probing);
    }
    host.probing = true;
    return { key, probe: true };
  }

  /** The host answered: close the circuit. */
  success(ticket: CircuitTicket): void {
    const known = this.#hosts.delete(ticket.key);
    if (this.#store && (known || ticket.probe)) this.#share(ticket.key, undefined);
  }

  /** Every strategy failed for this fetch. */
  failure(ticket: CircuitTicket): void {
    const host = this.#hosts.get(ticket.key) ?? { failures: 0, probing: false };
    if (ticket.probe) {
      host.probing = false;
      host.failures++;
      host.openUntil = this.#now() + this.cooldownMs;
    } else if (host.openUntil === undefined) {
      host.failures++;
      if (host.failures >= this.threshold) host.openUntil = this.#now() + this.cooldownMs;
    } else {
      return; // a request let in before the circuit opened: already counted enough
    }
    this.#hosts.delete(ticket.key);
    this.#hosts.set(ticket.key, host);
    this.#trim();
    if (this.#store && (host.openUntil !== undefined || this.#persistCounts)) this.#share(ticket.key, host);
  }

  /** The outcome says nothing about the host (caller aborted, blocked by policy). */
  neutral(ticket: CircuitTicket): void {
    if (!ticket.probe) return;
    const host = this.#hosts.get(ticket.key);
    if (host) host.probing = false;
  }

  #trim(): void {
    while (this.#hosts.size > this.#maxHosts) this.#hosts.delete(this.#hosts.keys().next().value as string);
  }

  /** Publish an opened circuit (or its closing) to the shared store; a failing store only loses the sharing. */
  #share(key: string, host: HostState | undefined): void {
    const store = this.#store;
    if (!store) return;
    const work =
      host === undefined || (host.openUntil === undefined && !this.#persistCounts)
        ? store.delete(PREFIX + key)
        : store.set(
            PREFIX + key,
            JSON.stringify({ v: 1, openUntil: host.openUntil ?? 0, failures: host.failures }),
            host.openUntil === undefined ? COUNT_TTL_MS : Math.max(1, host.openUntil - this.#now()),
          );
    this.#pending.add(work);
    void work.catch(() => {}).finally(() => this.#pending.delete(work));
  }

  /** Wait for writes to the shared store still in flight (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }
}

const PREFIX = 'circuit:v1:';
/** How long a persisted count of failures in a row is kept without a new failure. */
const COUNT_TTL_MS = 10 * 60_000;

function parseShared(raw: string): { openUntil: number; failures: number } | undefined {
  try {
    const entry = JSON.parse(raw) as { v?: number; openUntil?: unknown; failures?: unknown };
    if (entry?.v !== 1 || typeof entry.openUntil !== 'number') return undefined;
    return { openUntil: entry.openUntil, failures: typeof entry.failures === 'number' ? entry.failures : 0 };
  } catch {
    return undefined;
  }
}
