import { constants } from 'node:crypto';
import {
  type AttemptRecord,
  type AttemptRequest,
  asPlugin,
  createPipeline,
  type FailureClass,
  RELAXED_CIPHERS,
} from '@detour/core/internal';
import { describe, expect, it } from 'vitest';
import { relaxTls, TlsRelaxedStrategy, tlsRelaxed } from '../src/index.js';

const LEGACY = constants.SSL_OP_LEGACY_SERVER_CONNECT;

describe('relaxTls', () => {
  const strict = { rejectUnauthorized: true, ca: ['CA-PEM'], extraCaPem: 'CA-PEM' };

  it('widens the handshake and keeps the caller’s trust', () => {
    expect(relaxTls(strict, {}, false)).toEqual({
      ...strict,
      minVersion: 'TLSv1',
      ciphers: RELAXED_CIPHERS,
      secureOptions: LEGACY,
      rejectUnauthorized: true,
    });
  });

  it.each([
    [{}, false, true],
    [{}, true, false],
    [{ insecureHosts: ['x'] }, false, true],
  ] as const)('options %j, insecure=%s → rejectUnauthorized=%s', (options, insecure, expected) => {
    expect(relaxTls(strict, options, insecure).rejectUnauthorized).toBe(expected);
  });

  it('takes a configured list, minimum version and no legacy renegotiation', () => {
    const tls = relaxTls(
      { ...strict, secureOptions: 4 },
      { ciphers: 'DEFAULT:@SECLEVEL=0', minVersion: 'TLSv1.1', legacyServerConnect: false },
      false,
    );
    expect(tls).toMatchObject({ ciphers: 'DEFAULT:@SECLEVEL=0', minVersion: 'TLSv1.1', secureOptions: 4 });
  });

  it('adds the legacy flag to options already set', () => {
    expect(relaxTls({ ...strict, secureOptions: 4 }, {}, false).secureOptions).toBe(4 | LEGACY);
  });

  it('never turns certificate checks off by itself: the strict input stays strict', () => {
    expect(relaxTls(strict, { ciphers: 'ALL:@SECLEVEL=0' }, false).rejectUnauthorized).toBe(true);
  });
});

describe('TlsRelaxedStrategy.applies', () => {
  const failure = (failureClass: FailureClass): AttemptRecord => ({
    strategy: 'direct',
    route: 'direct',
    outcome: 'failed',
    failureClass,
    ms: 1,
  });
  const request = (url: string, failures: AttemptRecord[]) =>
    ({ url: new URL(url), failures }) as unknown as AttemptRequest;
  const strategy = new TlsRelaxedStrategy({ insecureHosts: ['*.legacy.test'] });

  it.each([
    ['https://a.example/', [], true],
    ['https://a.example/', ['tls-handshake'], true],
    ['https://a.example/', ['tls-protocol'], true],
    ['https://a.example/', ['connect-reset'], true],
    ['https://a.example/', ['tls-certificate'], 'certificate failures are rescued only for insecureHosts'],
    ['https://a.example/', ['tls-certificate', 'tls-handshake'], true],
    ['https://cdn.legacy.test/', ['tls-certificate'], true],
    ['https://legacy.test/', ['tls-certificate'], 'certificate failures are rescued only for insecureHosts'],
    ['http://a.example/', [], 'not an https: URL'],
  ] as const)('%s after %j → %s', (url, classes, expected) => {
    expect(strategy.applies(request(url, classes.map(failure)))).toBe(expected);
  });

  it('rescues handshake, protocol, reset (and certificates, gated by applies)', () => {
    expect([...(strategy.rescues as Set<string>)].sort()).toEqual([
      'connect-reset',
      'tls-certificate',
      'tls-handshake',
      'tls-protocol',
    ]);
  });
});

describe('register', () => {
  it('adds tls-relaxed after core’s strategies', async () => {
    const pipeline = createPipeline({
      use: [(container) => asPlugin(tlsRelaxed)(container, { insecureHosts: [] })],
    });
    expect(pipeline.strategyNames.slice(0, 1)).toEqual(['direct']);
    expect(pipeline.strategyNames.at(-1)).toBe('tls-relaxed');
    await pipeline.close();
  });
});
