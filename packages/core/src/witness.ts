/**
 * What the clients saw of one attempt, whatever the strategy says: every exchange the pipeline's
 * transport made for it, and every one another client (curl) reported. The result's `downgraded`,
 * `insecure` and `degraded` come from this (D47): a strategy cannot under-report.
 */
import type { AttemptResponse, HopReport, HttpTransport, Stage } from './types.js';

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
    return {
      request: async (req, signal) => {
        const response = await inner.request(req, signal);
        this.report({
          url: req.url,
          insecure: req.url.protocol === 'https:' && req.tls.rejectUnauthorized === false,
        });
        return response;
      },
      openSockets: () => inner.openSockets(),
      close: () => inner.close(),
    };
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
