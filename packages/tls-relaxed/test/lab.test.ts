/** tls-relaxed against the lab's real legacy and broken servers on 127.0.0.1. */
import { createPipeline, type DetourError, type PipelineOptions } from '@detour/core';
import { type BrokenTlsServer, LAB_PNG, type Lab, startBrokenTlsServer, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TlsRelaxedOptions, TlsRelaxedStrategy } from '../src/index.js';

let lab: Lab;
let noRenegotiationInfo: BrokenTlsServer;
beforeAll(async () => {
  [lab, noRenegotiationInfo] = await Promise.all([startLab(), startBrokenTlsServer('no-renegotiation-info')]);
});
afterAll(async () => {
  await Promise.all([lab?.close(), noRenegotiationInfo?.close()]);
});

/** fetch through [direct, tls-relaxed]; returns the result or the DetourError, pipeline closed either way. */
async function run(url: string, relaxed: TlsRelaxedOptions = {}, options: PipelineOptions = {}) {
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    ca: lab.ca,
    use: [new TlsRelaxedStrategy(relaxed)],
    strategies: ['direct', 'tls-relaxed'],
    ...options,
  });
  try {
    return await pipeline.fetch(url);
  } catch (error) {
    return error as DetourError;
  } finally {
    await pipeline.close();
    expect(pipeline.openSockets()).toBe(0);
  }
}

describe('legacy servers', () => {
  it.each([
    ['sha1Signatures', 'tls-handshake', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'],
    ['tls10', 'tls-protocol', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'],
    ['tls10Rsa', 'tls-protocol', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'],
    ['legacyCipher', 'tls-handshake', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'],
  ] as const)(
    '%s: direct fails with %s, tls-relaxed wins with certificates checked',
    async (name, failureClass, code) => {
      const result = await run(`${lab.legacy[name].url}/image.png`);
      if (result instanceof Error) throw result;
      expect(result.strategy).toBe('tls-relaxed');
      expect(result.body.equals(LAB_PNG)).toBe(true);
      expect(result.insecure).toBe(false);
      expect(result.attempts.map((a) => [a.strategy, a.outcome, a.failureClass, a.code])).toEqual([
        ['direct', 'failed', failureClass, code],
        ['tls-relaxed', 'ok', undefined, undefined],
      ]);
    },
  );

  it('measured: DEFAULT:@SECLEVEL=0 leaves the Camellia-only server out, the default list takes it', async () => {
    const narrow = await run(`${lab.legacy.legacyCipher.url}/image.png`, { ciphers: 'DEFAULT:@SECLEVEL=0' });
    expect(narrow).toBeInstanceOf(Error);
    expect((narrow as DetourError).attempts.map((a) => [a.strategy, a.failureClass])).toEqual([
      ['direct', 'tls-handshake'],
      ['tls-relaxed', 'tls-handshake'],
    ]);
    const tls10 = await run(`${lab.legacy.tls10.url}/image.png`, { ciphers: 'DEFAULT:@SECLEVEL=0' });
    expect(tls10).not.toBeInstanceOf(Error);
  });

  it('a TLS 1.2 floor (minVersion option) does not rescue a TLS 1.0-only server', async () => {
    const result = await run(`${lab.legacy.tls10.url}/image.png`, { minVersion: 'TLSv1.2' });
    expect((result as DetourError).attempts.at(-1)).toMatchObject({
      strategy: 'tls-relaxed',
      failureClass: 'tls-protocol',
    });
  });

  it('keeps the caller’s CA: without it the legacy server’s lab certificate is refused', async () => {
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      use: [new TlsRelaxedStrategy()],
      strategies: ['tls-relaxed'],
    });
    await expect(pipeline.fetch(`${lab.legacy.tls10.url}/image.png`)).rejects.toMatchObject({
      failureClass: 'tls-certificate',
    });
    await pipeline.close();
  });
});

describe('legacy renegotiation (a ServerHello without renegotiation_info)', () => {
  const options = { attemptTimeoutMs: 1500 };

  it('strict OpenSSL 3 refuses at once; with SSL_OP_LEGACY_SERVER_CONNECT the handshake goes on', async () => {
    const result = (await run(`${noRenegotiationInfo.url}/x`, {}, options)) as DetourError;
    const [direct, relaxed] = result.attempts;
    expect(direct).toMatchObject({
      failureClass: 'tls-protocol',
      code: expect.stringMatching(/UNSAFE_LEGACY_RENEGOTIATION/),
    });
    // The lab server stops after its ServerHello: past that point the only way to fail is to wait.
    expect(relaxed).toMatchObject({ strategy: 'tls-relaxed', failureClass: 'timeout' });
  });

  it('legacyServerConnect: false keeps the refusal', async () => {
    const result = (await run(
      `${noRenegotiationInfo.url}/x`,
      { legacyServerConnect: false },
      options,
    )) as DetourError;
    expect(result.attempts.at(-1)).toMatchObject({
      strategy: 'tls-relaxed',
      failureClass: 'tls-protocol',
      code: expect.stringMatching(/UNSAFE_LEGACY_RENEGOTIATION/),
    });
  });
});

describe('certificates stay checked', () => {
  it.each([
    ['expired', 'CERT_HAS_EXPIRED'],
    ['selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['wrongHost', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ] as const)('%s: not rescued, tls-relaxed skipped', async (name, code) => {
    const result = await run(`${lab.certOrigins[name].url}/image.png`);
    expect(result).toBeInstanceOf(Error);
    const error = result as DetourError;
    expect(error.failureClass).toBe('tls-certificate');
    expect(error.attempts.map((a) => [a.strategy, a.outcome, a.failureClass ?? a.message])).toEqual([
      ['direct', 'failed', 'tls-certificate'],
      ['tls-relaxed', 'skipped', 'certificate failures are rescued only for insecureHosts'],
    ]);
    expect(error.attempts[0]?.code).toBe(code);
  });

  it.each(['expired', 'selfSigned', 'wrongHost'] as const)(
    '%s: rescued for insecureHosts, marked insecure',
    async (name) => {
      const result = await run(`${lab.certOrigins[name].url}/image.png`, { insecureHosts: ['localhost'] });
      if (result instanceof Error) throw result;
      expect(result).toMatchObject({ strategy: 'tls-relaxed', insecure: true });
      expect(result.attempts.at(-1)).toMatchObject({
        strategy: 'tls-relaxed',
        outcome: 'ok',
        insecure: true,
      });
      expect(result.body.equals(LAB_PNG)).toBe(true);
    },
  );

  it('insecureHosts is per host: another host keeps its checks', async () => {
    const result = await run(`${lab.certOrigins.expired.url}/image.png`, {
      insecureHosts: ['*.localhost', 'example.com'],
    });
    expect(result).toBeInstanceOf(Error);
  });

  it('a legacy server of an insecure host is relaxed and unchecked at once', async () => {
    const result = await run(
      `${lab.legacy.tls10.url}/image.png`,
      { insecureHosts: ['localhost'] },
      { ca: undefined },
    );
    if (result instanceof Error) throw result;
    expect(result).toMatchObject({ strategy: 'tls-relaxed', insecure: true });
  });
});

describe('through a proxy', () => {
  it('uses the same route: a legacy server through tinyproxy', async () => {
    const result = await run(
      `${lab.legacy.sha1Signatures.url}/image.png`,
      {},
      { proxy: lab.proxies.http.url },
    );
    if (result instanceof Error) throw result;
    expect(result.strategy).toBe('tls-relaxed');
    expect(result.attempts.map((a) => a.route)).toEqual([lab.proxies.http.url, lab.proxies.http.url]);
  });

  it('cannot rescue a broken accelerator: the alert comes from the proxy, whatever the client offers', async () => {
    const result = (await run(
      `${lab.https.url}/image.png`,
      {},
      { proxy: lab.proxies.accelerator.url },
    )) as DetourError;
    expect(result.attempts.map((a) => [a.strategy, a.failureClass])).toEqual([
      ['direct', 'tls-handshake'],
      ['tls-relaxed', 'tls-handshake'],
    ]);
  });
});
