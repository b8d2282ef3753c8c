import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrokenTlsMode,
  LAB_PNG,
  type Lab,
  type LegacyOrigin,
  RELAXED_TLS,
  RELAXED_TLS_ALL_CIPHERS,
  startAcceleratorProxy,
  startBrokenTlsServer,
  startLab,
  startNginxLegacyOrigin,
  startNginxOrigin,
} from '../src/index.js';
import { curl, probe } from '../src/probe.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

/** Raw TLS handshake; resolves with the error (or 'ok'), so codes can be compared exactly. */
function handshake(port: number, options: ConnectionOptions = {}): Promise<NodeJS.ErrnoException | 'ok'> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: 'localhost', port, servername: 'localhost', ca: lab.ca, ...options });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (error) => resolve(error));
  });
}

const image = (url: string, extra = {}) => probe(`${url}/image.png`, { ca: lab.ca, ...extra });

describe('legacy HTTPS origins', () => {
  const cases: [keyof Lab['legacy'], string, string, boolean][] = [
    // profile, tls.connect code, reason in https error message, rescued by RELAXED_TLS
    ['sha1Signatures', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure', true],
    ['tls10', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version', true],
    ['tls10Rsa', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version', true],
    ['legacyCipher', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure', false],
  ];
  const origin = (name: keyof Lab['legacy']): LegacyOrigin => lab.legacy[name];

  it.each(cases)('%s: default node client fails with %s', async (name, code, reason) => {
    expect(await handshake(origin(name).port)).toMatchObject({ code });
    // node https (and got) report the same failure as EPROTO from the request write
    await expect(image(origin(name).url)).rejects.toMatchObject({
      code: 'EPROTO',
      message: expect.stringContaining(reason),
    });
  });

  it.each(cases)(
    '%s: relaxed client (min TLSv1, DEFAULT:@SECLEVEL=0) rescued=%s',
    async (name, _c, _r, rescued) => {
      if (rescued) expect((await image(origin(name).url, RELAXED_TLS)).body.equals(LAB_PNG)).toBe(true);
      else await expect(image(origin(name).url, RELAXED_TLS)).rejects.toMatchObject({ code: 'EPROTO' });
      expect((await image(origin(name).url, RELAXED_TLS_ALL_CIPHERS)).body.equals(LAB_PNG)).toBe(true);
    },
  );

  it('tls1.0 needs SECLEVEL=0 too: minVersion alone fails on the legacy signature', async () => {
    expect(await handshake(lab.legacy.tls10.port, { minVersion: 'TLSv1' })).toMatchObject({
      code: 'ERR_SSL_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED',
    });
  });

  it('curl: default fails with exit 35, --tlsv1 --ciphers DEFAULT@SECLEVEL=0 rescues', async () => {
    const url = `${lab.legacy.sha1Signatures.url}/image.png`;
    const plain = await curl(['--cacert', lab.caPath, url]);
    expect(plain.exitCode).toBe(35);
    expect(plain.stderr).toContain('alert handshake failure');
    const relaxed = await curl(['--cacert', lab.caPath, '--tlsv1', '--ciphers', 'DEFAULT@SECLEVEL=0', url]);
    expect(relaxed.exitCode).toBe(0);
    expect(relaxed.stdout.equals(LAB_PNG)).toBe(true);
  });
});

describe('legacy TLS on a real nginx', () => {
  it.each([
    ['sha1-signatures', 'sslv3 alert handshake failure', true],
    ['tls1.0', 'tlsv1 alert protocol version', true],
    ['legacy-cipher', 'sslv3 alert handshake failure', false],
  ] as const)('%s: default fails with "%s", relaxed rescued=%s', async (profile, reason, rescued) => {
    const nginx = await startNginxLegacyOrigin(profile);
    try {
      await expect(image(nginx.url)).rejects.toMatchObject({ message: expect.stringContaining(reason) });
      if (rescued) expect((await image(nginx.url, RELAXED_TLS)).body.equals(LAB_PNG)).toBe(true);
      else await expect(image(nginx.url, RELAXED_TLS)).rejects.toMatchObject({ code: 'EPROTO' });
      expect((await image(nginx.url, RELAXED_TLS_ALL_CIPHERS)).body.equals(LAB_PNG)).toBe(true);
    } finally {
      await nginx.close();
    }
  });
});

describe('a fast modern nginx origin', () => {
  it('serves its files under strict TLS (1.3) on localhost and 127.0.0.1, and keeps the connection alive', async () => {
    const body = Buffer.alloc(12 * 1024, 7);
    const nginx = await startNginxOrigin({ 'image.png': LAB_PNG, 'k12.bin': body });
    try {
      expect((await image(nginx.url)).body.equals(LAB_PNG)).toBe(true);
      const agent = new HttpsAgent({ keepAlive: true, ca: lab.ca });
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        const got = await new Promise<{ body: Buffer; protocol: string | null }>((resolve, reject) => {
          httpsGet(`${nginx.ipUrl}/k12.bin?n=${i}`, { agent }, (res) => {
            sockets.add(res.socket);
            const tls = res.socket as TLSSocket;
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ body: Buffer.concat(chunks), protocol: tls.getProtocol() }));
          }).on('error', reject);
        });
        expect(got.body.equals(body)).toBe(true);
        expect(got.protocol).toBe('TLSv1.3');
      }
      expect(sockets.size).toBe(1); // one kept-alive connection for the three requests
      agent.destroy();
    } finally {
      await nginx.close();
    }
  });
});

describe('certificate problems', () => {
  it.each([
    ['expired', 'CERT_HAS_EXPIRED'],
    ['selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['wrongHost', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ] as const)('%s: %s by default, served when verification is off', async (name, code) => {
    const origin = lab.certOrigins[name];
    await expect(image(origin.url)).rejects.toMatchObject({ code });
    expect((await image(origin.url, { rejectUnauthorized: false })).body.equals(LAB_PNG)).toBe(true);
  });
});

describe('downgrade origin', () => {
  it('https fails with a handshake alert, http works (separate ports and one shared port)', async () => {
    const { downgrade } = lab;
    for (const url of [downgrade.httpsUrl, downgrade.shared.httpsUrl]) {
      await expect(image(url)).rejects.toMatchObject({
        message: expect.stringContaining('alert handshake failure'),
      });
    }
    for (const url of [downgrade.httpUrl, downgrade.shared.httpUrl]) {
      expect((await image(url)).body.equals(LAB_PNG)).toBe(true);
    }
    expect(downgrade.shared.routes.hits('/image.png')).toBeGreaterThan(0);
  });
});

describe('broken accelerator proxy', () => {
  it('answers CONNECT 200 then a handshake_failure alert for listed targets', async () => {
    const proxy = lab.proxies.accelerator.url;
    await expect(image(lab.https.url, { proxy })).rejects.toMatchObject({
      message: expect.stringContaining('alert handshake failure'),
    });
    const viaCurl = await curl(['--cacert', lab.caPath, '-x', proxy, `${lab.https.url}/image.png`]);
    expect([viaCurl.exitCode, viaCurl.stderr]).toEqual([
      35,
      expect.stringContaining('alert handshake failure'),
    ]);
    expect(lab.proxies.accelerator.stats().connects[`localhost:${lab.https.port}`]).toBeGreaterThan(0);
  });

  it('resets the tunnel in reset mode', async () => {
    await expect(image(lab.https.url, { proxy: lab.proxies.acceleratorReset.url })).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
  });

  it('tunnels unlisted targets and forwards plain http', async () => {
    const proxy = lab.proxies.accelerator.url;
    expect((await image(lab.certOrigins.expired.url, { proxy, rejectUnauthorized: false })).status).toBe(200);
    const forwarded = await probe(`${lab.http.url}/headers`, { proxy });
    expect(JSON.parse(forwarded.body.toString()).via).toBe('1.1 detour-lab-accelerator');
  });

  it('can require proxy auth', async () => {
    const auth = { user: 'u', pass: 'p' };
    const proxy = await startAcceleratorProxy({ auth });
    try {
      await expect(image(lab.https.url, { proxy: proxy.url })).rejects.toMatchObject({ statusCode: 407 });
      const ok = await image(lab.https.url, { proxy: proxy.url, proxyAuthorization: 'Basic dTpw' });
      expect(ok.status).toBe(200);
      expect(
        (await curl(['--cacert', lab.caPath, '-x', proxy.authUrl, `${lab.https.url}/image.png`])).exitCode,
      ).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});

describe('broken TLS server modes', () => {
  it.each([
    ['alert', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'],
    ['protocol-alert', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'],
    ['reset', 'ECONNRESET'],
    ['close', 'ECONNRESET'],
    ['http-response', 'ERR_SSL_WRONG_VERSION_NUMBER'],
    ['no-renegotiation-info', 'ERR_SSL_UNSAFE_LEGACY_RENEGOTIATION_DISABLED'],
  ] as [BrokenTlsMode, string][])('%s → %s', async (mode, code) => {
    const server = await startBrokenTlsServer(mode);
    try {
      expect(await handshake(server.port)).toMatchObject({ code });
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
