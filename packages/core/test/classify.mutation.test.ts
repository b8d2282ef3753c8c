/**
 * The rules of the error classifier that classify.test.ts's tables of real error shapes leave
 * implicit, one case each (issue 29: `pnpm mutate classify` checks these and the other classifier
 * tests kill every mutant of classify.ts): where codes are read from, which rule wins when an error
 * carries evidence for two, how a TLS failure's code is named, what is terminal, and how hook
 * verdicts are completed.
 */
import { describe, expect, it } from 'vitest';
import {
  type Classification,
  classifierWith,
  classifyError,
  isTerminal,
  statusError,
} from '../src/classify.js';
import { DetourError } from '../src/errors.js';
import { FAILURE_CLASSES, type FailureClass } from '../src/types/index.js';

function err(message: string | undefined, fields: Record<string, unknown> = {}, cause?: unknown): Error {
  const error = new Error(message ?? '', cause === undefined ? undefined : { cause });
  if (message === undefined) delete (error as { message?: string }).message;
  return Object.assign(error, fields);
}
const brief = (c: Classification) => [c.failureClass, c.code, c.terminal];

describe('classifyError: where the evidence is read', () => {
  it.each<[string, unknown, [FailureClass, string, boolean]]>([
    // An errno written only in the message counts as a code (socks-proxy-agent does this).
    [
      'errno in the message',
      err('connect ECONNREFUSED 127.0.0.1:1'),
      ['connect-refused', 'ECONNREFUSED', false],
    ],
    ['EAI_ code in the message', err('getaddrinfo EAI_AGAIN x'), ['dns', 'EAI_AGAIN', false]],
    ['EPIPE in the message', err('write EPIPE'), ['connect-reset', 'EPIPE', false]],
    ['not a word of its own', err('xECONNREFUSED'), ['unknown', 'UNKNOWN', false]],
    ['too short for an errno', err('ENOT'), ['unknown', 'UNKNOWN', false]],
    // Codes that are not strings are not codes; a cause is read too.
    ['a numeric code', err('x', { code: -111 }), ['unknown', 'UNKNOWN', false]],
    [
      'a code in the cause',
      err('outer', {}, err('inner', { code: 'ENOTFOUND' })),
      ['dns', 'ENOTFOUND', false],
    ],
    ['the cause chain is read 8 deep', nest(7, { code: 'ENOTFOUND' }), ['dns', 'ENOTFOUND', false]],
    ['and no deeper', nest(8, { code: 'ENOTFOUND' }), ['unknown', 'UNKNOWN', false]],
    [
      'a cause that is not an object ends the chain',
      err('x', {}, 'ENOTFOUND'),
      ['unknown', 'UNKNOWN', false],
    ],
    [
      'a function is not read as an error',
      err(
        'x',
        {},
        Object.assign(() => {}, { code: 'ENOTFOUND' }),
      ),
      ['unknown', 'UNKNOWN', false],
    ],
    [
      'a reason is not read across two messages',
      err('unsafe legacy ', { code: 'EX' }, err('renegotiation disabled')),
      ['unknown', 'EX', false],
    ],
    [
      'EPROTO is not the most telling code',
      err('self signed', { code: 'EPROTO' }, err('y', { code: 'EODD' })),
      ['tls-certificate', 'EODD', false],
    ],
    // The most telling code names an unknown failure: not got's wrapper code, not EPROTO.
    ['an unknown code', err('x', { code: 'EWHATEVER' }), ['unknown', 'EWHATEVER', false]],
    [
      "under got's wrapper code",
      err('x', { code: 'ERR_GOT_REQUEST_ERROR' }, err('y', { code: 'EODD' })),
      ['unknown', 'EODD', false],
    ],
    [
      "got's wrapper code alone",
      err('x', { code: 'ERR_GOT_REQUEST_ERROR' }),
      ['unknown', 'ERR_GOT_REQUEST_ERROR', false],
    ],
    // Not an Error at all.
    ['a plain object', { code: 'ECONNRESET' }, ['connect-reset', 'ECONNRESET', false]],
    ['a string', 'ECONNRESET happened', ['unknown', 'UNKNOWN', false]],
  ])('%s', (_name, error, expected) => {
    expect(brief(classifyError(error))).toEqual(expected);
  });

  it('the message is the outermost one, or the thrown value as a string', () => {
    expect(classifyError(err('outer', {}, err('inner'))).message).toBe('outer');
    expect(classifyError(err(undefined, {}, err('inner'))).message).toBe('inner');
    expect(classifyError(err('', { code: 'X' }, err('inner'))).message).toBe('inner');
    expect(classifyError('plain text').message).toBe('plain text');
    expect(classifyError(null).message).toBe('null');
    expect(classifyError(Object.create(null)).message).toBe('[object Object]');
    expect(classifyError({ message: 42 }).message).toBe('[object Object]');
  });
});

/** An error whose code sits `depth` causes down. */
function nest(depth: number, fields: Record<string, unknown>): Error {
  let error = err('bottom', fields);
  for (let i = 0; i < depth; i++) error = err(`level ${i}`, {}, error);
  return error;
}

describe('classifyError: which rule wins', () => {
  it.each<[string, unknown, [FailureClass, string, boolean]]>([
    ['a timeout by name', err('x', { name: 'TimeoutError' }), ['timeout', 'ETIMEDOUT', false]],
    [
      'a timeout by undici code',
      err('x', { code: 'UND_ERR_CONNECT_TIMEOUT' }),
      ['timeout', 'UND_ERR_CONNECT_TIMEOUT', false],
    ],
    [
      'a timeout under an abort',
      err('x', { name: 'AbortError' }, err('t', { name: 'TimeoutError' })),
      ['timeout', 'ETIMEDOUT', false],
    ],
    [
      'a timeout event',
      err('x', { code: 'ESOCKETTIMEDOUT', event: 'lookup' }),
      ['timeout', 'ETIMEDOUT:lookup', false],
    ],
    ['an abort by code', err('x', { code: 'ABORT_ERR' }), ['aborted', 'ABORT_ERR', true]],
    ["an abort by got's code", err('x', { code: 'ERR_ABORTED' }), ['aborted', 'ABORT_ERR', true]],
    [
      'an abort over a reset',
      err('x', { name: 'AbortError' }, err('y', { code: 'ECONNRESET' })),
      ['aborted', 'ABORT_ERR', true],
    ],
    [
      'an HTTPError with a 4xx',
      err('Request failed with status code 404', { name: 'HTTPError' }),
      ['http-status', 'HTTP_404', true],
    ],
    [
      'an HTTPError with a 5xx',
      err('Request failed with status code 503', { code: 'ERR_NON_2XX_3XX_RESPONSE' }),
      ['http-status', 'HTTP_503', false],
    ],
    [
      'an HTTPError without a status',
      err('Response code 404 (Not Found)', { name: 'HTTPError' }),
      ['http-status', 'ERR_NON_2XX_3XX_RESPONSE', false],
    ],
    [
      'an unsupported protocol',
      err('x', { code: 'ERR_UNSUPPORTED_PROTOCOL' }),
      ['blocked', 'ERR_UNSUPPORTED_PROTOCOL', true],
    ],
    [
      'a redirect limit',
      err('Redirected 10 times', { code: 'ERR_TOO_MANY_REDIRECTS' }),
      ['http-status', 'ERR_TOO_MANY_REDIRECTS', true],
    ],
    [
      'a certificate code over a DNS code',
      err('x', { code: 'ENOTFOUND' }, err('y', { code: 'CERT_HAS_EXPIRED' })),
      ['tls-certificate', 'CERT_HAS_EXPIRED', false],
    ],
    [
      'a DNS code over a proxy message',
      err('Bad response: 407', { code: 'ENOTFOUND' }),
      ['dns', 'ENOTFOUND', false],
    ],
    [
      'a proxy message over a TLS reason',
      err('Bad response: 502 wrong version number'),
      ['proxy', 'PROXY_HTTP_502', false],
    ],
    [
      'a proxy pattern in a message, not a code',
      err('x', { code: 'Bad response: 407' }),
      ['unknown', 'Bad response: 407', false],
    ],
    [
      'SOCKS handshake refused',
      err('invalid socks5 initial handshake response'),
      ['proxy', 'PROXY_SOCKS_REJECTED', false],
    ],
    ['SOCKS auth', err('Socks4a authentication failed'), ['proxy', 'PROXY_SOCKS_AUTH', false]],
    [
      'a protocol reason over a handshake reason',
      err('x', { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }, err('handshake failure')),
      ['tls-protocol', 'ERR_SSL_WRONG_VERSION_NUMBER', false],
    ],
    [
      'a handshake reason over a refused code',
      err('sslv3 alert bad record mac', { code: 'ECONNREFUSED' }),
      ['tls-handshake', 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC', false],
    ],
    [
      'a refused code over a reset code',
      err('x', { code: 'ECONNRESET' }, err('y', { code: 'ENETUNREACH' })),
      ['connect-refused', 'ENETUNREACH', false],
    ],
    ['a reset by message alone', err('socket hang up'), ['connect-reset', 'ECONNRESET', false]],
    [
      'a reset code found after another',
      err('x', { code: 'EODD' }, err('y', { code: 'ECONNABORTED' })),
      ['connect-reset', 'ECONNABORTED', false],
    ],
    [
      'EPROTO about a certificate',
      err('self signed thing', { code: 'EPROTO' }),
      ['tls-certificate', 'EPROTO', false],
    ],
    [
      'EPROTO about altnames',
      err('altnames mismatch', { code: 'EPROTO' }),
      ['tls-certificate', 'EPROTO', false],
    ],
    ['a certificate message without EPROTO', err('certificate trouble'), ['unknown', 'UNKNOWN', false]],
    ['EPROTO alone', err('x', { code: 'EPROTO' }), ['tls-handshake', 'EPROTO', false]],
  ])('%s', (_name, error, expected) => {
    expect(brief(classifyError(error))).toEqual(expected);
  });
});

describe('classifyError: the code of a TLS failure', () => {
  it.each<[string, unknown, string]>([
    [
      'a weak CA signature',
      err('CA signature digest algorithm too weak', { code: 'EPROTO' }),
      'CA_MD_TOO_WEAK',
    ],
    ['a weak leaf key', err('EE certificate key too weak', { code: 'EPROTO' }), 'EE_KEY_TOO_SMALL'],
    ['a weak CA key', err('CA certificate key too weak', { code: 'EPROTO' }), 'CA_KEY_TOO_SMALL'],
    [
      'the first ERR_SSL_ code',
      err('x', { code: 'EPROTO' }, err('handshake failure', { code: 'ERR_SSL_A' })),
      'ERR_SSL_A',
    ],
    [
      'an OpenSSL 3.2 alert',
      err('ssl/tls alert handshake failure', { code: 'EPROTO' }),
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    ],
    [
      'a TLS 1 alert',
      err('TLSV1 ALERT internal error', { code: 'EPROTO' }),
      'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR',
    ],
    ['no shared cipher', err('no shared cipher', { code: 'EPROTO' }), 'ERR_SSL_NO_SHARED_CIPHER'],
    ['no protocols available', err('no protocols available'), 'ERR_SSL_NO_PROTOCOLS_AVAILABLE'],
    [
      'the reason of an OpenSSL line',
      err('error:0A000139:SSL routines:fn: record layer failure :../ssl.c:1', { code: 'EPROTO' }),
      'ERR_SSL_RECORD_LAYER_FAILURE',
    ],
    [
      'a reason with a slash',
      err('error:0A000139:SSL routines:fn:bad length/type:../ssl.c:1', { code: 'EPROTO' }),
      'ERR_SSL_BAD_LENGTH_TYPE',
    ],
    ['no reason: the first code', err('handshake failure', { code: 'ESOMETHING' }), 'ESOMETHING'],
    ['no reason, no code', err('handshake failure'), 'EPROTO'],
  ])('%s', (_name, error, code) => {
    expect(classifyError(error).code).toBe(code);
  });
});

describe('classifyError: a DetourError says what happened', () => {
  it.each<[DetourError, [FailureClass, string, boolean]]>([
    [new DetourError('x', { failureClass: 'dns', code: 'E1' }), ['dns', 'E1', false]],
    [new DetourError('x', { failureClass: 'made-up' as FailureClass, code: 'E1' }), ['unknown', 'E1', false]],
    [new DetourError('x', { failureClass: 'dns', code: '' }), ['dns', 'UNKNOWN', false]],
    [new DetourError('x', { failureClass: 'dns', code: 5 as never }), ['dns', 'UNKNOWN', false]],
    [new DetourError('x', { failureClass: 'blocked', code: 'B' }), ['blocked', 'B', true]],
    [
      new DetourError('x', { failureClass: 'http-status', code: 'HTTP_404', status: 404 }),
      ['http-status', 'HTTP_404', true],
    ],
    [
      new DetourError('x', { failureClass: 'http-status', code: 'HTTP_500', status: 500 }),
      ['http-status', 'HTTP_500', false],
    ],
    [
      new DetourError('x', { failureClass: 'proxy', code: 'ERR_TOO_MANY_REDIRECTS' }),
      ['proxy', 'ERR_TOO_MANY_REDIRECTS', true],
    ],
  ])('%s', (error, expected) => {
    const c = classifyError(err('wrapper', { code: 'ECONNRESET' }, error));
    expect(brief(c)).toEqual(expected);
    expect(c.message).toBe('x');
  });
});

describe('isTerminal', () => {
  const terminal = new Set(['aborted', 'blocked', 'too-large', 'url-expired', 'local-io']);
  it.each(FAILURE_CLASSES.filter((c) => c !== 'http-status'))('%s', (failureClass) => {
    expect(isTerminal(failureClass)).toBe(terminal.has(failureClass));
    expect(isTerminal(failureClass, 404)).toBe(terminal.has(failureClass));
  });
  it.each([
    [undefined, false],
    [399, false],
    [400, true],
    [407, true],
    [408, false],
    [429, false],
    [499, true],
    [500, false],
  ])('http-status %s → %s', (status, expected) => {
    expect(isTerminal('http-status', status)).toBe(expected);
  });
});

describe('statusError', () => {
  it('names the status and the URL', () => {
    expect(statusError(503, 'https://a.example/x')).toMatchObject({
      message: 'HTTP 503 from https://a.example/x',
      failureClass: 'http-status',
      code: 'HTTP_503',
      status: 503,
    });
  });
});

describe('classifierWith', () => {
  const raw = err('read ECONNRESET', { code: 'ECONNRESET' });

  it('without hooks is the base classifier itself', () => {
    expect(classifierWith([])).toBe(classifyError);
    const base = () => ({ failureClass: 'dns' as const, code: 'B', terminal: false, message: 'b' });
    expect(classifierWith([], { base })).toBe(base);
  });

  it('the first verdict wins; a hook that throws is reported and skipped; a non-object is no verdict', () => {
    const reported: Array<[unknown, number]> = [];
    const boom = new Error('hook bug');
    const classify = classifierWith(
      [
        () => {
          throw boom;
        },
        () => 'dns' as never,
        () => undefined,
        () => ({ failureClass: 'proxy', code: 'H', terminal: true, message: 'm' }),
        () => ({ failureClass: 'dns' }),
      ],
      { onHookError: (e, i) => reported.push([e, i]) },
    );
    expect(classify(raw)).toEqual({ failureClass: 'proxy', code: 'H', terminal: true, message: 'm' });
    expect(reported).toEqual([[boom, 0]]);
    // Without onHookError the throwing hook is skipped all the same.
    expect(
      classifierWith([
        () => {
          throw boom;
        },
      ])(raw).failureClass,
    ).toBe('connect-reset');
  });

  it('no verdict from any hook: the base answers', () => {
    expect(classifierWith([() => undefined])(raw)).toEqual(classifyError(raw));
  });

  it('a verdict is completed from the base, which is asked at most once and only when needed', () => {
    let calls = 0;
    const base = () => {
      calls++;
      return { failureClass: 'dns' as const, code: 'BASE', terminal: false, message: 'base' };
    };
    const complete = classifierWith(
      [() => ({ failureClass: 'aborted', code: 'C', terminal: false, message: 'm' })],
      { base },
    );
    expect(complete(raw)).toEqual({ failureClass: 'aborted', code: 'C', terminal: false, message: 'm' });
    expect(calls).toBe(0);
    const sparse = classifierWith([() => ({ failureClass: 'aborted', code: '', message: '' })], { base });
    expect(sparse(raw)).toEqual({ failureClass: 'aborted', code: 'BASE', terminal: true, message: 'base' });
    expect(calls).toBe(1);
    const odd = classifierWith(
      [
        () => ({
          failureClass: 'nonsense' as FailureClass,
          code: 7 as never,
          terminal: 'yes' as never,
          message: 9 as never,
        }),
      ],
      { base },
    );
    expect(odd(raw)).toEqual({ failureClass: 'unknown', code: 'BASE', terminal: false, message: 'base' });
  });
});
