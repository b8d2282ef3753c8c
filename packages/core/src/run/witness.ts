/**
 * What the clients saw of one attempt, whatever the strategy says: every exchange the pipeline's
 * transport made for it, and every one another client (curl) reported. The result's `downgraded`,
 * `insecure` and `degraded` come from this (D47): a strategy cannot under-report.
 */
import type { AttemptResponse, HopReport, HttpTransport, Stage, TransportRequest } from '../types/index.js';

export class Witness {
  /** Exchanges that got a response. */
  hops = 0;
  /** One of them went over plain http:. */
  plaintext = false;
  /** One of them accepted a certificate unchecked. */
  insecure = false;

  readonly report = (hop: HopReport): void => {
    this.hops++;
    if (hop.url.protocol === 'http:') this.plaintext = true;
    if (hop.insecure) this.insecure = true;
  };

  /** The transport an attempt is handed: the pipeline's own, each exchange reported here. */
  transport(inner: HttpTransport): HttpTransport {
    return new WitnessedTransport(inner, this);
  }
}

/**
 * The pipeline's transport seen through a witness. A class, not a literal of closures: one is made
 * per attempt on every fetch's path, and methods on the prototype cost one small object each.
 */
class WitnessedTransport implements HttpTransport {
  readonly #inner: HttpTransport;
  readonly #witness: Witness;

  constructor(inner: HttpTransport, witness: Witness) {
    this.#inner = inner;
    this.#witness = witness;
  }

  async request(req: TransportRequest, signal: AbortSignal): Promise<AttemptResponse> {
    const response = await this.#inner.request(req, signal);
    this.#witness.report({
      url: req.url,
      insecure: req.url.protocol === 'https:' && req.tls.rejectUnauthorized === false,
    });
    return response;
  }

  openSockets(): number {
    return this.#inner.openSockets();
  }

  close(): void {
    this.#inner.close();
  }
}

/** The flags of a successful attempt: what the strategy said, or more when the facts say more. */
export interface Flags {
  degraded: boolean;
  degradedReason?: string;
  insecure: boolean;
  downgraded: boolean;
}

export function flagsOf(
  asked: URL,
  response: AttemptResponse,
  stage: Stage | undefined,
  witness: Witness,
): Flags {
  const downgraded =
    !!response.downgraded ||
    (asked.protocol === 'https:' && (witness.plaintext || response.finalUrl.startsWith('http:')));
  const flags: Flags = {
    degraded: !!response.degraded || stage === 'last-resort' || witness.hops === 0,
    insecure: !!response.insecure || witness.insecure,
    downgraded,
  };
  if (flags.degraded) {
    flags.degradedReason =
      response.degradedReason ??
      (response.degraded || stage === 'last-resort'
        ? 'not the real file'
        : 'no client reported an exchange for this body: it is not known to be the origin’s');
  }
  return flags;
}
