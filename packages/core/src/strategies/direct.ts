import { requestWithRetry } from '../transport/retry.js';
import {
  type AttemptRequest,
  type AttemptResponse,
  DIRECT,
  type FailureClass,
  type Strategy,
} from '../types.js';

/** The strict request an AttemptRequest describes, through `route`: used by direct and its variants. */
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
      maxRedirects: req.limits.maxRedirects,
      allowPrivateNetwork: req.allowPrivateNetwork,
      timeouts: req.timeouts,
      pinResolvedAddress: req.pinResolvedAddress,
    },
    req.limits,
    signal,
  );
}

/** `direct`: the request as asked, strict TLS, through whatever route the environment chose. */
export class DirectStrategy implements Strategy {
  readonly name = 'direct';
  readonly rescues = 'first' as const;

  attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    return strictAttempt(req, signal);
  }
}

/** Failures a proxy in the way can cause, and so going around it can rescue. */
export const PROXY_CAUSED: ReadonlySet<FailureClass> = new Set<FailureClass>([
  'proxy',
  'tls-handshake',
  'tls-protocol',
  'connect-reset',
  'connect-refused',
  'timeout',
  'dns',
  'http-status',
  'content-invalid',
]);

/**
 * `direct-bypass`: the same strict request with the proxy bypassed for this host — the code form of
 * the "DIRECT rule for qq.com" fix. Only applies when a proxy is in the way.
 */
export class DirectBypassStrategy implements Strategy {
  readonly name = 'direct-bypass';
  readonly rescues = PROXY_CAUSED;

  applies(req: AttemptRequest): true | string {
    return req.route.kind === 'direct' ? 'no proxy in the way' : true;
  }

  attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    return strictAttempt(req, signal, { route: DIRECT });
  }
}
