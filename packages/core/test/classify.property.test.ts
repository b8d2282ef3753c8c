/**
 * Property tests (issue 9, item 10): the classifier never throws and always answers a known
 * failure class, whatever a strategy, an agent or a user callback throws at it.
 */
import { describe, it } from 'vitest';
import { classifyError, DetourError, FAILURE_CLASSES } from '../src/internal.js';
import { fc, fuzzRuns, fuzzTimeout, settings } from './helpers/fuzz.js';

const runs = fuzzRuns(500);
const known = new Set<string>(FAILURE_CLASSES);

const text = fc.oneof(
  fc.string(),
  fc.constantFrom(
    'ECONNRESET',
    'ETIMEDOUT',
    'EPROTO',
    'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    'Bad response: 407',
    'Socks5 proxy rejected connection - HostUnreachable',
    'certificate has expired',
    'socket hang up',
    'TimeoutError',
    'AbortError',
    'HTTPError',
    'Response code 503 (Service Unavailable) status code 503',
  ),
);

/** Error-shaped things, nested through `cause` (cycles included), plus anything at all. */
const { thrown } = fc.letrec((tie) => ({
  thrown: fc.oneof(
    { depthSize: 'small' },
    fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withSet: true }),
    tie('errorLike'),
    tie('realError'),
    tie('detourError'),
  ),
  errorLike: fc.record(
    {
      name: fc.oneof(text, fc.anything()),
      code: fc.oneof(text, fc.integer(), fc.anything()),
      message: fc.oneof(text, fc.anything()),
      cause: tie('thrown'),
      event: fc.oneof(text, fc.anything()),
      status: fc.oneof(fc.integer(), fc.anything()),
      failureClass: fc.oneof(fc.constantFrom(...FAILURE_CLASSES), fc.string()),
    },
    { requiredKeys: [] },
  ),
  realError: fc
    .tuple(text, fc.option(text), tie('thrown'))
    .map(([message, code, cause]) =>
      Object.assign(new Error(message, { cause }), code === null ? {} : { code }),
    ),
  detourError: fc
    .tuple(
      text,
      fc.oneof(fc.constantFrom(...FAILURE_CLASSES), fc.string()),
      fc.option(fc.string()),
      fc.option(fc.integer()),
    )
    .map(
      ([message, failureClass, code, status]) =>
        new DetourError(message, {
          failureClass: failureClass as never,
          code: code ?? undefined,
          status: status ?? undefined,
        }),
    ),
}));

/** An error whose cause chain loops back to itself. */
const cyclic = thrown.map((value) => {
  const error = new Error('loop') as Error & { cause?: unknown };
  error.cause = { code: 'ECONNRESET', cause: error, value };
  return error;
});

describe('classifyError (fast-check)', () => {
  it(
    'never throws, and answers a known class, a non-empty code, a boolean and a string',
    () => {
      fc.assert(
        fc.property(fc.oneof(thrown, cyclic), (error) => {
          const c = classifyError(error);
          return (
            known.has(c.failureClass) &&
            typeof c.code === 'string' &&
            c.code.length > 0 &&
            typeof c.terminal === 'boolean' &&
            typeof c.message === 'string'
          );
        }),
        settings(runs),
      );
    },
    fuzzTimeout(runs, 5),
  );
});
