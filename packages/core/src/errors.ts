import type { AttemptRecord, FailureClass } from './types/index.js';

export interface DetourErrorOptions {
  failureClass: FailureClass;
  code?: string | undefined;
  attempts?: AttemptRecord[] | undefined;
  status?: number | undefined;
  cause?: unknown;
  /** The origin's own error number and text (QQ: `retcode`, `retmsg`), when a preset read them. */
  retcode?: number | undefined;
  retmsg?: string | undefined;
}

/** The one error type Detour throws. `failureClass` says what kind of failure; `code` the raw code. */
export class DetourError extends Error {
  override readonly name = 'DetourError';
  readonly failureClass: FailureClass;
  readonly code: string;
  readonly status: number | undefined;
  readonly retcode: number | undefined;
  readonly retmsg: string | undefined;
  attempts: AttemptRecord[];
  /** The strategy names the fetch planned, in order (set by the pipeline when every one failed). */
  plan: string[] = [];
  /** The attempt this failure is (strategy and route), when it is one: the most telling (D48). */
  strategy?: string | undefined;
  route?: string | undefined;

  constructor(message: string, options: DetourErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.failureClass = options.failureClass;
    this.code = options.code ?? defaultCode(options.failureClass);
    this.status = options.status;
    this.retcode = options.retcode;
    this.retmsg = options.retmsg;
    this.attempts = options.attempts ?? [];
  }
}

function defaultCode(failureClass: FailureClass): string {
  return `DETOUR_${failureClass.toUpperCase().replaceAll('-', '_')}`;
}

/** Bad input from the caller (URL, options). Never reaches the network. */
export class DetourUsageError extends DetourError {
  constructor(message: string, code = 'DETOUR_BAD_INPUT') {
    super(message, { failureClass: 'blocked', code });
  }
}

/** The one attempt record of a refusal made before any request (an open circuit, a preset, an expired link). */
export function refusalRecord(strategy: string, error: DetourError): AttemptRecord {
  const { failureClass, code, message } = error;
  return { strategy, route: 'none', outcome: 'failed', failureClass, code, ms: 0, message };
}

export function isDetourError(error: unknown): error is DetourError {
  return error instanceof DetourError;
}

/** The error of an aborted wait or fetch. */
export function abortedError(reason?: unknown): DetourError {
  // An abort Detour itself gave a reason for (close(): DETOUR_CLOSED) keeps its code and message.
  if (reason instanceof DetourError && reason.failureClass === 'aborted') {
    return new DetourError(reason.message, { failureClass: 'aborted', code: reason.code, cause: reason });
  }
  return new DetourError('aborted by the caller', {
    failureClass: 'aborted',
    code: 'ABORT_ERR',
    cause: reason,
  });
}

/**
 * Failures that say nothing about the origin: the caller aborted, a policy blocked the request, the
 * link expired, or our own disk failed. The circuit does not count them; the negative cache does not
 * remember them.
 */
export function blamesNotTheOrigin(failureClass: FailureClass): boolean {
  return (
    failureClass === 'aborted' ||
    failureClass === 'blocked' ||
    failureClass === 'url-expired' ||
    failureClass === 'local-io'
  );
}
