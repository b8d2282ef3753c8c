import type {
  AttemptRequest,
  AttemptResponse,
  HttpTransport,
  Limits,
  TransportRequest,
} from '../types/index.js';
import { followWithRetries } from './follow.js';

/**
 * One request through the pipeline's transport with core's redirect and retry rules
 * (`followWithRetries`): what every in-process strategy sends.
 */
export async function requestWithRetry(
  transport: HttpTransport,
  req: TransportRequest,
  limits: Pick<Limits, 'maxRedirects' | 'maxRetries' | 'maxRetryAfterMs'>,
  signal: AbortSignal,
): Promise<AttemptResponse> {
  const { response, retries } = await followWithRetries<AttemptResponse>(
    {
      url: req.url,
      headers: req.headers,
      route: req.route,
      limits,
      send: (hop, hopSignal) => transport.request({ ...req, url: hop.url, headers: hop.headers }, hopSignal),
      discard: (r) => {
        r.body.destroy();
      },
    },
    signal,
  );
  return retries ? { ...response, retries } : response;
}

/**
 * The strict request an AttemptRequest describes, through `route`: the building block of `direct`,
 * `direct-bypass`, `tls-relaxed`, `http-downgrade` and custom strategies (override the URL, the
 * route or the TLS settings; everything else — limits, retries, private-network guard — is core's).
 */
export function strictAttempt(
  req: AttemptRequest,
  signal: AbortSignal,
  overrides: { route?: AttemptRequest['route']; url?: URL; tls?: AttemptRequest['tls'] } = {},
): Promise<AttemptResponse> {
  return requestWithRetry(
    req.transport,
    {
      url: overrides.url ?? req.url,
      headers: req.headers,
      route: overrides.route ?? req.route,
      tls: overrides.tls ?? req.tls,
      allowPrivateNetwork: req.allowPrivateNetwork,
      timeouts: req.timeouts,
      pinResolvedAddress: req.pinResolvedAddress,
    },
    req.limits,
    signal,
  );
}
