import type { Logger } from 'pino';
import type { ExpectKind } from '../magic.js';
import type {
  AttemptResponse,
  HopReport,
  HttpTransport,
  Limits,
  PhaseTimeouts,
  Route,
  TlsOptions,
} from './exchange.js';
import type { FailureClass } from './failure.js';

/** What the orchestrator hands a strategy. A strategy may derive a new request from it but never mutates it. */
export interface AttemptRequest {
  /** The URL the caller asked for. */
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** The route the environment chose for this URL (direct, or the proxy in the way). */
  readonly route: Route;
  readonly tls: Readonly<TlsOptions>;
  readonly limits: Readonly<Limits>;
  readonly expect: ExpectKind;
  /** Deadline for this attempt, in ms since the epoch. */
  readonly deadline: number;
  readonly allowPrivateNetwork: boolean;
  /** The failures seen so far in this fetch, oldest first. */
  readonly failures: readonly AttemptRecord[];
  readonly logger: Logger;
  /** The pipeline's pooled HTTP client; strategies that speak HTTP in-process use it. */
  readonly transport: HttpTransport;
  readonly timeouts?: Partial<PhaseTimeouts> | undefined;
  /**
   * Through a proxy that resolves names, send the checked address instead of the name
   * (`PipelineOptions.pinResolvedAddress`).
   */
  readonly pinResolvedAddress?: boolean | undefined;
  /**
   * Where a client that is not `transport` reports each exchange it made (curl does, per hop).
   * The pipeline sets `downgraded`, `insecure` and `degraded` from these reports and from what
   * `transport` saw, whatever the response says: a body no exchange was reported for is not known
   * to be the origin's, and is marked `degraded`. Set by the orchestrator on every attempt.
   */
  readonly reportHop?: ((hop: HopReport) => void) | undefined;
}

/**
 * Which failures a strategy can rescue:
 * - `'first'`: a first-line strategy; it runs only while nothing has failed yet.
 * - a set: it runs first, or after a failure of one of these classes.
 * - `'any'`: it runs after any failure that is not terminal.
 */
export type Rescues = 'first' | ReadonlySet<FailureClass> | 'any';

/**
 * Where a strategy belongs in a plan, strictest first. Detection orders strategies by stage (and
 * the environment), never by name:
 * - `strict`: the request as asked, strict TLS, through the route the environment chose;
 * - `route`: the same strict request by another route (around the proxy in the way);
 * - `relaxed`: the same route with something relaxed (legacy TLS);
 * - `fallback`: another client or protocol (curl, plain HTTP, a mirror);
 * - `last-resort`: not the real file (a placeholder): runs last, marked `degraded`.
 */
export type Stage = 'strict' | 'route' | 'relaxed' | 'fallback' | 'last-resort';

export const STAGES: readonly Stage[] = ['strict', 'route', 'relaxed', 'fallback', 'last-resort'];

/** What a strategy says about itself: enough for a planner to order it without knowing its name. */
export interface StrategyInfo {
  readonly name: string;
  /** Default `fallback` (a custom strategy without one goes after the built-in relaxations). */
  readonly stage?: Stage;
  /** One human sentence: what it does differently (shown by `detour detect` and in plans). */
  readonly reason?: string;
  /** It may send the request in plaintext (planners apply the caller's downgrade host list to it). */
  readonly plaintext?: boolean;
}

export interface Strategy extends StrategyInfo {
  readonly name: string;
  readonly rescues: Rescues;
  /**
   * Whether the strategy can do anything for this request at all (e.g. http-downgrade only for
   * opted-in hosts, direct-bypass only when a proxy is in the way). Returns `true`, or the reason
   * it does not apply; the attempt is then recorded as `skipped` with that reason.
   */
  applies?(req: AttemptRequest): true | string;
  /**
   * The route this strategy's attempt takes when it is not `req.route` (direct-bypass goes direct
   * whatever the environment says). Attempt records show it, also when the attempt fails before a
   * response names its route, so a failed bypass is never listed as having used the proxy.
   */
  attemptRoute?(req: AttemptRequest): Route;
  attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse>;
  /** Free sockets, children, timers. */
  close?(): Promise<void> | void;
}

export type AttemptOutcome = 'ok' | 'failed' | 'skipped';

/** One line of the story a result tells. Field names are a public contract (CLI `--json`). */
export interface AttemptRecord {
  strategy: string;
  /** `direct`, or the proxy URL without credentials. */
  route: string;
  outcome: AttemptOutcome;
  failureClass?: FailureClass;
  code?: string;
  ms: number;
  /** Why it failed or was skipped, for humans. */
  message?: string;
  /** HTTP status, when one was received. */
  status?: number;
  retries?: number;
  /** Range requests that finished a body cut short (see body/resume.ts). */
  resumes?: number;
  /** Full downloads restarted because a range request was answered with the whole file. */
  restarts?: number;
  insecure?: boolean;
  downgraded?: boolean;
  /** The origin's own error number and text, when a preset read them from the response (QQ's `retcode`). */
  retcode?: number;
  retmsg?: string;
}
