import { DetourError } from '../errors.js';
import type { Clock } from '../store/types.js';

export interface CircuitOptions {
  /** Fetches in a row for which every strategy failed before the circuit opens (default 5). */
  threshold?: number;
  /** How long an open circuit refuses requests before letting one probe through (default 30 s). */
  cooldownMs?: number;
  /** Most hosts tracked; the oldest is forgotten first (default 10 000). */
  maxHosts?: number;
  now?: Clock;
}

export const CIRCUIT_DEFAULTS = { threshold: 5, cooldownMs: 30_000, maxHosts: 10_000 } as const;

export type CircuitState = 'closed' | 'open' | 'half-open';

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
 * are `neutral`. In-process only: see the README for why it is not shared.
 */
export class CircuitBreaker {
  readonly threshold: number;
  readonly cooldownMs: number;
  readonly #maxHosts: number;
  readonly #now: Clock;
  readonly #hosts = new Map<string, HostState>();

  constructor(options: CircuitOptions = {}) {
    this.threshold = Math.max(1, options.threshold ?? CIRCUIT_DEFAULTS.threshold);
    this.cooldownMs = Math.max(0, options.cooldownMs ?? CIRCUIT_DEFAULTS.cooldownMs);
    this.#maxHosts = Math.max(1, options.maxHosts ?? CIRCUIT_DEFAULTS.maxHosts);
    this.#now = options.now ?? Date.now;
  }

  state(key: string): CircuitState {
    const host = this.#hosts.get(key);
    if (host?.openUntil === undefined) return 'closed';
    return this.#now() < host.openUntil ? 'open' : 'half-open';
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
    this.#hosts.delete(ticket.key);
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
    while (this.#hosts.size > this.#maxHosts) this.#hosts.delete(this.#hosts.keys().next().value as string);
  }

  /** The outcome says nothing about the host (caller aborted, blocked by policy). */
  neutral(ticket: CircuitTicket): void {
    if (!ticket.probe) return;
    const host = this.#hosts.get(ticket.key);
    if (host) host.probing = false;
  }
}
