import { strictAttempt } from '../kit/strict-attempt.js';
import {
  type AttemptRequest,
  type AttemptResponse,
  DIRECT,
  type FailureClass,
  type Route,
  type Strategy,
} from '../types/index.js';

/** `direct`: the request as asked, strict TLS, through whatever route the environment chose. */
export class DirectStrategy implements Strategy {
  readonly name = 'direct';
  readonly stage = 'strict' as const;
  readonly reason = 'strict TLS';
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
  readonly stage = 'route' as const;
  readonly reason = 'same strict request around the proxy, for the host only (the "DIRECT rule" fix)';
  readonly rescues = PROXY_CAUSED;

  applies(req: AttemptRequest): true | string {
    return req.route.kind === 'direct' ? 'no proxy in the way' : true;
  }

  attemptRoute(): Route {
    return DIRECT;
  }

  attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    return strictAttempt(req, signal, { route: DIRECT });
  }
}

/** The `direct` strategy (core registers it in every pipeline). */
export function direct(): Strategy {
  return new DirectStrategy();
}

/** The `direct-bypass` strategy (core registers it in every pipeline). */
export function directBypass(): Strategy {
  return new DirectBypassStrategy();
}
