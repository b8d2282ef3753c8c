import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_PNG, type Lab, PNG_MAGIC, startLab } from '../src/index.js';
import { curl, probe } from '../src/probe.js';

let lab: Lab;
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

describe('certs', () => {
  it('writes the CA and leaves as PEM files', () => {
    for (const pair of [lab.certs.ca, lab.certs.localhost, lab.certs.expired, lab.certs.selfSigned]) {
      expect(pair.cert).toContain('BEGIN CERTIFICATE');
      expect(existsSync(pair.keyPath)).toBe(true);
    }
  });
});

describe.each(['http', 'https'] as const)('%s origin', (kind) => {
  const origin = () => lab[kind];
  const get = (path: string) => probe(`${origin().url}${path}`, { ca: lab.ca });

  it('serves a real PNG', async () => {
    const res = await get('/image.png');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.body.equals(LAB_PNG)).toBe(true);
  });

  it('serves /big with PNG magic and the asked length', async () => {
    const res = await get('/big?bytes=300000');
    expect(res.body.length).toBe(300000);
    expect(res.body.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
  });

  it('serves html, statuses and redirects', async () => {
    expect((await get('/html')).headers['content-type']).toMatch(/^text\/html/);
    expect((await get('/status/418')).status).toBe(418);
    const hop = await get('/redirect/3');
    expect([hop.status, hop.headers.location]).toEqual([302, '/redirect/2']);
    expect((await get('/redirect/1')).headers.location).toBe('/image.png');
    expect((await get('/redirect-loop')).headers.location).toBe('/redirect-loop');
    expect((await get('/redirect-to?url=file:///etc/passwd')).headers.location).toBe('file:///etc/passwd');
  });

  it('breaks bodies: reset mid-body and lying length', async () => {
    await expect(get('/reset-mid-body')).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(get('/lying-length')).rejects.toMatchObject({ code: 'ECONNRESET', message: 'aborted' });
  });

  it('stalls after headers', async () => {
    const controller = new AbortController();
    const pending = probe(`${origin().url}/stall-after-headers`, { ca: lab.ca, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('drips slowly but completely', async () => {
    const res = await get('/slow-drip?ms=2&bytes=20');
    expect(res.body.length).toBe(20);
    expect(res.body.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
  });

  it('answers 503 with Retry-After N times per key, then the image', async () => {
    const path = `/retry-after?fail=2&key=${kind}`;
    const first = await get(path);
    expect([first.status, first.headers['retry-after']]).toEqual([503, '0']);
    expect((await get(path)).status).toBe(503);
    expect((await get(path)).status).toBe(200);
  });

  it('counts hits per path', async () => {
    origin().routes.resetCounts();
    await get('/image.png');
    await get('/image.png');
    const counted = JSON.parse((await get('/count')).body.toString());
    expect(counted.counts['/image.png']).toBe(2);
    expect(origin().routes.hits('/image.png')).toBe(2);
  });

  it('is reachable with the real curl', async () => {
    const res = await curl(['--cacert', lab.caPath, `${origin().url}/image.png`]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout.equals(LAB_PNG)).toBe(true);
  });
});

describe('https origin TLS', () => {
  it('is untrusted without the lab CA', async () => {
    await expect(probe(`${lab.https.url}/image.png`)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });
  it('accepts the IP address (SAN IP:127.0.0.1)', async () => {
    expect((await probe(`${lab.https.ipUrl}/image.png`, { ca: lab.ca })).status).toBe(200);
  });
});

describe('tinyproxy', () => {
  it('tunnels https with CONNECT (node and curl)', async () => {
    const url = `${lab.https.url}/image.png`;
    const res = await probe(url, { ca: lab.ca, proxy: lab.proxies.http.url });
    expect(res.body.equals(LAB_PNG)).toBe(true);
    expect(lab.proxies.http.log()).toContain(`CONNECT localhost:${lab.https.port}`);
    const viaCurl = await curl(['--cacert', lab.caPath, '-x', lab.proxies.http.url, url]);
    expect(viaCurl.exitCode).toBe(0);
    expect(viaCurl.stdout.equals(LAB_PNG)).toBe(true);
  });

  it('forwards plain http', async () => {
    const res = await probe(`${lab.http.url}/headers`, { proxy: lab.proxies.http.url });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString()).via).toMatch(/tinyproxy/);
  });

  // Measured with tinyproxy 1.11.1: no credentials → 407, WRONG credentials → 401 (not 407).
  it('requires Basic auth on the auth variant: 407 without, 401 wrong, 200 right', async () => {
    const proxy = lab.proxies.httpAuth;
    const url = `${lab.https.url}/image.png`;
    await expect(probe(url, { ca: lab.ca, proxy: proxy.url })).rejects.toMatchObject({ statusCode: 407 });
    await expect(
      probe(url, { ca: lab.ca, proxy: proxy.url, proxyAuthorization: basic('detour', 'wrong') }),
    ).rejects.toMatchObject({ statusCode: 401 });
    const { user, pass } = proxy.auth!;
    const ok = await probe(url, { ca: lab.ca, proxy: proxy.url, proxyAuthorization: basic(user, pass) });
    expect(ok.status).toBe(200);
    const viaCurl = await curl(['--cacert', lab.caPath, '-x', proxy.authUrl, url]);
    expect(viaCurl.exitCode).toBe(0);
  });
});

describe('microsocks', () => {
  it('proxies SOCKS5 (curl, remote DNS)', async () => {
    const url = `${lab.https.url}/image.png`;
    const socksH = lab.proxies.socks.url.replace('socks5:', 'socks5h:');
    const res = await curl(['--cacert', lab.caPath, '-x', socksH, url]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout.equals(LAB_PNG)).toBe(true);
  });

  it('enforces user/pass on the auth variant', async () => {
    const url = `${lab.http.url}/image.png`;
    const proxy = lab.proxies.socksAuth;
    const denied = await curl(['-x', proxy.url, url]);
    expect(denied.exitCode).toBe(97); // CURLE_PROXY: SOCKS5 authentication failed
    const ok = await curl(['-x', proxy.authUrl, url]);
    expect(ok.exitCode).toBe(0);
  });
});
