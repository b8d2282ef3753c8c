/**
 * Errors that say what to do next (one line each, through the real CLI), the most telling failure
 * in the summary line, and the route each attempt really took.
 */
import { type BlackHoleProxy, freePort, LAB_PNG, type Lab, startBlackHoleProxy, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
let blackHole: BlackHoleProxy;
beforeAll(async () => {
  [lab, blackHole] = await Promise.all([startLab(), startBlackHoleProxy()]);
});
afterAll(async () => {
  await Promise.all([lab?.close(), blackHole?.close()]);
});

const trusted = (args: string[]) => detour(args, { NODE_EXTRA_CA_CERTS: lab.caPath });
const firstLine = (stderr: string) => stderr.split('\n')[0]!;

describe('the route shown per attempt is the one really used', () => {
  it('a failed direct-bypass is listed as direct, not as the proxy', async () => {
    const result = await trusted([
      'fetch',
      `${lab.legacy.sha1Signatures.url}/image.png`,
      '--json',
      '--allow-private',
      '--proxy',
      lab.proxies.http.url,
      '--strategies',
      'direct,direct-bypass',
    ]);
    expect(result.code).toBe(1);
    const attempts = json(result).attempts;
    expect(attempts.map((a) => [a.strategy, a.route, a.outcome])).toEqual([
      ['direct', lab.proxies.http.url, 'failed'],
      ['direct-bypass', 'direct', 'failed'],
    ]);
  });
});

describe('errors that say what to do', () => {
  it('private address → --allow-private', async () => {
    const result = await trusted(['fetch', `${lab.https.url}/image.png`, '--no-proxy']);
    expect(result.code).toBe(1);
    expect(firstLine(result.stderr)).toMatch(/^detour: blocked: .*--allow-private/);
    const asJson = await trusted(['fetch', `${lab.https.url}/image.png`, '--no-proxy', '--json']);
    expect((json(asJson).error as { hint: string }).hint).toContain('--allow-private');
  });

  it('unknown CA → --ca FILE / NODE_EXTRA_CA_CERTS / --insecure-host; and --ca FILE fixes it, for curl too', async () => {
    const url = `${lab.https.url}/image.png`;
    const untrusted = await detour(['fetch', url, '--allow-private', '--no-proxy']);
    expect(untrusted.code).toBe(1);
    const line = firstLine(untrusted.stderr);
    expect(line).toMatch(/^detour: tls-certificate: /);
    expect(line).toContain('--ca FILE');
    expect(line).toContain('NODE_EXTRA_CA_CERTS');
    expect(line).toContain('--insecure-host localhost');
    // the first (most telling) failure, not curl's exit code from the last attempt
    expect(line).toMatch(/\(UNABLE_TO_VERIFY_LEAF_SIGNATURE, in direct\)/);
    for (const strategies of ['direct', 'curl']) {
      const fixed = await detour([
        'fetch',
        url,
        '--allow-private',
        '--no-proxy',
        '--json',
        '--strategies',
        strategies,
        '--ca',
        lab.caPath,
      ]);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(json(fixed)).toMatchObject({ strategy: strategies, bytes: LAB_PNG.length });
    }
  });

  it('--ca with a file that is not PEM is bad usage', async () => {
    const result = await detour(['fetch', `${lab.https.url}/`, '--ca', '/etc/hostname']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--ca \/etc\/hostname: not a PEM/);
  });

  it('expired certificate → the clock, the operator, --insecure-host', async () => {
    const result = await trusted([
      'fetch',
      `${lab.certOrigins.expired.url}/image.png`,
      '--allow-private',
      '--no-proxy',
    ]);
    expect(result.code).toBe(1);
    expect(firstLine(result.stderr)).toMatch(
      /^detour: tls-certificate: .*CERT_HAS_EXPIRED.*validity period.*--insecure-host localhost/,
    );
  });

  it('certificate name mismatch → interception?, --insecure-host', async () => {
    const result = await trusted([
      'fetch',
      `${lab.certOrigins.wrongHost.url}/image.png`,
      '--allow-private',
      '--no-proxy',
    ]);
    expect(result.code).toBe(1);
    expect(firstLine(result.stderr)).toMatch(
      /^detour: tls-certificate: .*ERR_TLS_CERT_ALTNAME_INVALID.*not for localhost.*--insecure-host/,
    );
  });

  it.each([
    ['placeholder', '--placeholder'],
    ['http-downgrade', '--allow-downgrade'],
  ])('--strategies %s without its flag → exit 2 naming %s', async (strategy, flag) => {
    const result = await detour(['fetch', `${lab.https.url}/`, '--strategies', `direct,${strategy}`]);
    expect(result.code).toBe(2);
    expect(firstLine(result.stderr)).toBe(
      `detour fetch: --strategies ${strategy} needs ${flag}${flag === '--allow-downgrade' ? ' HOST' : ''}`,
    );
  });

  it('proxy refused → its address, check it or --no-proxy', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await trusted([
      'fetch',
      `${lab.https.url}/image.png`,
      '--allow-private',
      '--proxy',
      closed,
      '--strategies',
      'direct',
    ]);
    expect(result.code).toBe(1);
    expect(firstLine(result.stderr)).toMatch(
      new RegExp(`^detour: proxy: .*the proxy ${closed}/? refused or failed.*--no-proxy`),
    );
  });

  it('proxy stuck (accepts, never answers) → says so, with its address', async () => {
    const result = await trusted([
      'fetch',
      `${lab.https.url}/image.png`,
      '--allow-private',
      '--proxy',
      blackHole.url,
      '--strategies',
      'direct',
      '--timeout',
      '8000',
    ]);
    expect(result.code).toBe(1);
    expect(firstLine(result.stderr)).toMatch(
      new RegExp(`the proxy ${blackHole.url}/? accepted the connection and never answered`),
    );
  });

  it('no curl found → install it or --curl PATH', async () => {
    const result = await trusted([
      'fetch',
      `${lab.https.url}/image.png`,
      '--allow-private',
      '--no-proxy',
      '--strategies',
      'curl',
      '--curl',
      '/nonexistent/curl',
    ]);
    expect(result.code).toBe(1);
    expect(firstLine(result.stderr)).toMatch(/curl was not found: install it .* or pass --curl PATH/);
  });
});
