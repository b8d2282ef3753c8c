/**
 * Capture REAL error objects for the core classifier: run every failure scenario of the lab
 * through node `https`, raw `tls`, `got` (with hpagent / socks-proxy-agent for proxies) and the
 * `curl` binary, and write what each threw to test/lab/captured-errors.json.
 *
 *   npx tsx packages/lab/scripts/capture-errors.ts   (from the repository root)
 *
 * got, hpagent and socks-proxy-agent are resolved from packages/core (their only install).
 * Messages are normalised so the file is stable: lab ports → PORT, OpenSSL thread ids → TID.
 * `expectedClass` is the FailureClass this lab author expects; the run also prints where the
 * current `classifyError` of packages/core disagrees (not written to the file).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createRequire } from 'node:module';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokenTlsServer } from '../src/broken-tls.js';
import { freePort } from '../src/child.js';
import { LAB_PROXY_AUTH, type Lab, startLab } from '../src/lab.js';
import { RELAXED_TLS } from '../src/legacy.js';
import { curl } from '../src/probe.js';
import { startTinyproxy } from '../src/proxies.js';

const CORE = fileURLToPath(new URL('../../core/', import.meta.url));
const OUT = fileURLToPath(new URL('../../core/test/fixtures/captured-errors.json', import.meta.url));
const require = createRequire(import.meta.url);
const load = async (name: string) => import(pathToFileURL(require.resolve(name, { paths: [CORE] })).href);

type Json = Record<string, unknown>;
type Run = () => Promise<unknown>;

interface Scenario {
  readonly name: string;
  readonly expectedClass: string;
  readonly note?: string;
  readonly runs: Record<string, Run>;
}

function normalise(text: string): string {
  return text
    .replace(/\b[0-9A-F]{12,16}:error:/g, 'TID:error:')
    .replace(/(localhost|127\.0\.0\.1|\[::1\]|::1)([:\s]+(?:port )?)\d{2,5}/g, '$1$2PORT')
    .replace(/port \d{2,5}/g, 'port PORT')
    .replace(/after \d+ (ms|milliseconds)/g, 'after N $1');
}

function serialize(error: unknown, depth = 0): Json | string {
  if (!error || typeof error !== 'object') return String(error);
  const e = error as Record<string, unknown>;
  const out: Json = {};
  for (const key of [
    'name',
    'code',
    'message',
    'errno',
    'syscall',
    'event',
    'reason',
    'library',
    'statusCode',
  ]) {
    const value = e[key];
    if (value !== undefined) out[key] = typeof value === 'string' ? normalise(value) : value;
  }
  const response = e.response as { statusCode?: number } | undefined;
  if (response?.statusCode) out.responseStatus = response.statusCode;
  if (e.cause && depth < 3) {
    const cause = serialize(e.cause, depth + 1);
    if (typeof cause === 'string' || Object.keys(cause).length > 0) out.cause = cause;
  }
  return out;
}

function withDeadline(run: Run, ms = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`capture: no outcome within ${ms} ms`)), ms);
    run().then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

async function outcome(run: Run): Promise<Json> {
  try {
    const value = await withDeadline(run);
    return { ok: true, ...(value && typeof value === 'object' ? (value as Json) : { value }) };
  } catch (error) {
    return { ok: false, error: serialize(error) };
  }
}

// ---- clients ---------------------------------------------------------------------------------

function nodeHttps(url: string, options: RequestOptions = {}): Run {
  return () =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(url, { agent: false, ...options }, (res) => {
        res.on('error', reject);
        res.on('data', () => {});
        res.on('end', () => resolve({ status: res.statusCode }));
      });
      req.on('error', reject).end();
    });
}

function rawTls(port: number, options: ConnectionOptions = {}): Run {
  return () =>
    new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: 'localhost', port, servername: 'localhost', ...options });
      socket.once('secureConnect', () => {
        resolve({ protocol: socket.getProtocol() });
        socket.destroy();
      });
      socket.once('error', reject);
    });
}

function curlRun(args: string[]): Run {
  return async () => {
    const res = await curl(['-o', '/dev/null', '--max-time', '3', ...args]);
    if (res.exitCode === 0) return { exitCode: 0 };
    const firstLine = res.stderr.trim().split('\n')[0] ?? '';
    throw Object.assign(new Error(normalise(firstLine)), {
      name: 'CurlError',
      code: `CURLE_${res.exitCode}`,
    });
  };
}

/** A port where TCP connect never completes: python3 listen(0) with its accept queue kept full. */
async function startBlackhole(): Promise<{ port: number; close(): void } | undefined> {
  const child = spawn('python3', ['-c', BLACKHOLE], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number | undefined>((resolve) => {
    setTimeout(() => resolve(undefined), 5000).unref();
    child.once('error', () => resolve(undefined));
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  if (!port) {
    child.kill('SIGKILL');
    return undefined;
  }
  return { port, close: () => child.kill('SIGKILL') };
}
const BLACKHOLE = `
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
fill = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False); c.connect_ex(('127.0.0.1', s.getsockname()[1])); fill.append(c)
time.sleep(0.2)
print(s.getsockname()[1], flush=True)
time.sleep(60)
`;

// ---- scenarios -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { default: got } = await load('got');
  const { HttpsProxyAgent, HttpProxyAgent } = await load('hpagent');
  const { SocksProxyAgent } = await load('socks-proxy-agent');
  const lab: Lab = await startLab();
  const modes = ['no-renegotiation-info', 'http-response', 'reset', 'close', 'silent', 'alert'] as const;
  const broken = Object.fromEntries(
    await Promise.all(modes.map(async (m) => [m, await startBrokenTlsServer(m)])),
  );
  const tinyproxyPorts = await startTinyproxy({ connectPorts: [443] });
  const blackhole = await startBlackhole();
  const closedPort = await freePort();
  const ca = lab.ca;

  const gotGet = (url: string, extra: Json = {}): Run => {
    const { https: tls, ...rest } = extra as { https?: Json };
    return async () => {
      const res = await got(url, {
        retry: { limit: 0 },
        timeout: { request: 5000 },
        https: { certificateAuthority: ca, ...tls },
        ...rest,
      });
      return { status: res.statusCode };
    };
  };
  const viaHttpProxy = (proxy: string) => ({
    agent: {
      https: new HttpsProxyAgent({ proxy, ca: [ca], keepAlive: false }),
      http: new HttpProxyAgent({ proxy, keepAlive: false }),
    },
  });
  const viaSocks = (proxy: string) => {
    const agent = new SocksProxyAgent(proxy);
    return { agent: { https: agent, http: agent } };
  };
  const portOf = (url: string) => Number(new URL(url).port);
  const img = (base: string) => `${base}/image.png`;
  const httpsTrio = (base: string, tls: ConnectionOptions = {}) => ({
    'node-https': nodeHttps(img(base), { ca, ...(tls as RequestOptions) }),
    'node-tls': rawTls(portOf(base), { ca, ...tls }),
    got: gotGet(img(base), { https: tlsForGot(tls) }),
  });

  const scenarios: Scenario[] = [
    {
      name: 'tls-alert-handshake-failure (legacy sha1-signatures origin)',
      expectedClass: 'tls-handshake',
      note: 'the seed bug; rescued by ciphers DEFAULT:@SECLEVEL=0',
      runs: {
        ...httpsTrio(lab.legacy.sha1Signatures.url),
        'got-relaxed': gotGet(img(lab.legacy.sha1Signatures.url), { https: tlsForGot(RELAXED_TLS) }),
        curl: curlRun(['--cacert', lab.caPath, img(lab.legacy.sha1Signatures.url)]),
      },
    },
    {
      name: 'tls-alert-handshake-failure (legacy-cipher origin, CAMELLIA only)',
      expectedClass: 'tls-handshake',
      note: 'NOT rescued by DEFAULT:@SECLEVEL=0; needs ALL:@SECLEVEL=0',
      runs: {
        ...httpsTrio(lab.legacy.legacyCipher.url),
        'got-relaxed': gotGet(img(lab.legacy.legacyCipher.url), { https: tlsForGot(RELAXED_TLS) }),
        curl: curlRun(['--cacert', lab.caPath, img(lab.legacy.legacyCipher.url)]),
      },
    },
    {
      name: 'tls-alert-protocol-version (TLS 1.0-only origin)',
      expectedClass: 'tls-protocol',
      runs: {
        ...httpsTrio(lab.legacy.tls10.url),
        curl: curlRun(['--cacert', lab.caPath, '--tlsv1.2', img(lab.legacy.tls10.url)]),
      },
    },
    {
      name: 'tls-legacy-sigalg (TLS 1.0-only origin, client minVersion TLSv1 without SECLEVEL=0)',
      expectedClass: 'tls-handshake',
      runs: {
        ...httpsTrio(lab.legacy.tls10.url, { minVersion: 'TLSv1' }),
        curl: curlRun(['--cacert', lab.caPath, img(lab.legacy.tls10.url)]),
      },
    },
    {
      name: 'tls-unsafe-legacy-renegotiation (ServerHello without renegotiation_info)',
      expectedClass: 'tls-protocol',
      runs: {
        ...httpsTrio(broken['no-renegotiation-info'].url),
        curl: curlRun(['-k', img(broken['no-renegotiation-info'].url)]),
      },
    },
    {
      name: 'tls-wrong-version-number (plain HTTP answer on the TLS port)',
      expectedClass: 'tls-protocol',
      runs: {
        ...httpsTrio(broken['http-response'].url),
        curl: curlRun(['-k', img(broken['http-response'].url)]),
      },
    },
    {
      name: 'tls-alert-handshake-failure (raw alert record after ClientHello)',
      expectedClass: 'tls-handshake',
      runs: { ...httpsTrio(broken.alert.url), curl: curlRun(['-k', img(broken.alert.url)]) },
    },
    {
      name: 'tls-reset-during-handshake (RST after ClientHello)',
      expectedClass: 'connect-reset',
      runs: { ...httpsTrio(broken.reset.url), curl: curlRun(['-k', img(broken.reset.url)]) },
    },
    {
      name: 'tls-closed-before-handshake (FIN right after accept)',
      expectedClass: 'connect-reset',
      runs: { ...httpsTrio(broken.close.url), curl: curlRun(['-k', img(broken.close.url)]) },
    },
    ...(['expired', 'selfSigned', 'wrongHost'] as const).map((kind) => ({
      name: `cert-${kind}`,
      expectedClass: 'tls-certificate',
      runs: {
        ...httpsTrio(lab.certOrigins[kind].url),
        curl: curlRun(['--cacert', lab.caPath, img(lab.certOrigins[kind].url)]),
      },
    })),
    {
      name: 'cert-untrusted-root (lab CA not trusted)',
      expectedClass: 'tls-certificate',
      runs: {
        'node-https': nodeHttps(img(lab.https.url)),
        'node-tls': rawTls(lab.https.port),
        got: gotGet(img(lab.https.url), { https: { certificateAuthority: undefined } }),
        curl: curlRun([img(lab.https.url)]),
      },
    },
    {
      name: 'connect-refused (closed port)',
      expectedClass: 'connect-refused',
      runs: {
        'node-https': nodeHttps(`https://localhost:${closedPort}/image.png`),
        got: gotGet(`https://localhost:${closedPort}/image.png`),
        curl: curlRun([`https://localhost:${closedPort}/image.png`]),
      },
    },
    {
      name: 'dns-not-found (.invalid name)',
      expectedClass: 'dns',
      runs: {
        'node-https': nodeHttps('https://detour-lab.invalid/image.png'),
        got: gotGet('https://detour-lab.invalid/image.png'),
        curl: curlRun(['https://detour-lab.invalid/image.png']),
      },
    },
    {
      name: 'body-reset-mid-body (RST after part of the body)',
      expectedClass: 'connect-reset',
      runs: {
        'node-https': nodeHttps(`${lab.https.url}/reset-mid-body`, { ca }),
        got: gotGet(`${lab.https.url}/reset-mid-body`),
        'got-http': gotGet(`${lab.http.url}/reset-mid-body`),
        curl: curlRun(['--cacert', lab.caPath, `${lab.https.url}/reset-mid-body`]),
      },
    },
    {
      name: 'body-lying-length (Content-Length larger than the body, then FIN)',
      expectedClass: 'connect-reset',
      runs: {
        'node-https': nodeHttps(`${lab.https.url}/lying-length`, { ca }),
        got: gotGet(`${lab.https.url}/lying-length`),
        curl: curlRun(['--cacert', lab.caPath, `${lab.https.url}/lying-length`]),
      },
    },
    {
      name: 'http-404',
      expectedClass: 'http-status',
      runs: {
        got: gotGet(`${lab.https.url}/status/404`),
        curl: curlRun(['--fail', '--cacert', lab.caPath, `${lab.https.url}/status/404`]),
      },
    },
    {
      name: 'http-503',
      expectedClass: 'http-status',
      runs: {
        got: gotGet(`${lab.https.url}/status/503`),
        curl: curlRun(['--fail', '--cacert', lab.caPath, `${lab.https.url}/status/503`]),
      },
    },
    {
      name: 'redirect-loop',
      expectedClass: 'http-status',
      runs: {
        got: gotGet(`${lab.https.url}/redirect-loop`),
        curl: curlRun(['-L', '--max-redirs', '10', '--cacert', lab.caPath, `${lab.https.url}/redirect-loop`]),
      },
    },
    {
      name: 'redirect-to-file-scheme',
      expectedClass: 'blocked',
      runs: {
        got: gotGet(`${lab.https.url}/redirect-to?url=${encodeURIComponent('file:///etc/passwd')}`),
        curl: curlRun(['-L', '--cacert', lab.caPath, `${lab.https.url}/redirect-to?url=file:///etc/passwd`]),
      },
    },
    {
      name: 'proxy-connect-407 (tinyproxy BasicAuth, no credentials)',
      expectedClass: 'proxy',
      runs: {
        'got+hpagent': gotGet(img(lab.https.url), viaHttpProxy(lab.proxies.httpAuth.url)),
        'got+hpagent-http': gotGet(img(lab.http.url), viaHttpProxy(lab.proxies.httpAuth.url)),
        curl: curlRun(['--cacert', lab.caPath, '-x', lab.proxies.httpAuth.url, img(lab.https.url)]),
      },
    },
    {
      name: 'proxy-connect-401 (tinyproxy BasicAuth, wrong credentials)',
      expectedClass: 'proxy',
      note: 'tinyproxy 1.11 answers wrong credentials with 401, not 407',
      runs: {
        'got+hpagent': gotGet(img(lab.https.url), viaHttpProxy(wrongCreds(lab.proxies.httpAuth.url))),
        curl: curlRun([
          '--cacert',
          lab.caPath,
          '-x',
          wrongCreds(lab.proxies.httpAuth.url),
          img(lab.https.url),
        ]),
      },
    },
    {
      name: 'proxy-connect-403 (tinyproxy ConnectPort 443 only)',
      expectedClass: 'proxy',
      runs: {
        'got+hpagent': gotGet(img(lab.https.url), viaHttpProxy(tinyproxyPorts.url)),
        curl: curlRun(['--cacert', lab.caPath, '-x', tinyproxyPorts.url, img(lab.https.url)]),
      },
    },
    {
      name: 'proxy-connect-target-refused (tinyproxy CONNECT to a closed port)',
      expectedClass: 'proxy',
      runs: {
        'got+hpagent': gotGet(
          `https://localhost:${closedPort}/image.png`,
          viaHttpProxy(lab.proxies.http.url),
        ),
        curl: curlRun(['-x', lab.proxies.http.url, `https://localhost:${closedPort}/image.png`]),
      },
    },
    {
      name: 'proxy-down (HTTP proxy port closed)',
      expectedClass: 'connect-refused',
      note: 'indistinguishable from a refused origin by the error alone: the caller knows a proxy was used',
      runs: {
        'got+hpagent': gotGet(img(lab.https.url), viaHttpProxy(`http://127.0.0.1:${closedPort}`)),
        curl: curlRun(['-x', `http://127.0.0.1:${closedPort}`, img(lab.https.url)]),
      },
    },
    {
      name: 'accelerator-alert (CONNECT 200, then handshake_failure alert)',
      expectedClass: 'tls-handshake',
      runs: {
        'got+hpagent': gotGet(img(lab.https.url), viaHttpProxy(lab.proxies.accelerator.url)),
        curl: curlRun(['--cacert', lab.caPath, '-x', lab.proxies.accelerator.url, img(lab.https.url)]),
      },
    },
    {
      name: 'accelerator-reset (CONNECT 200, then RST)',
      expectedClass: 'connect-reset',
      runs: {
        'got+hpagent': gotGet(img(lab.https.url), viaHttpProxy(lab.proxies.acceleratorReset.url)),
        curl: curlRun(['--cacert', lab.caPath, '-x', lab.proxies.acceleratorReset.url, img(lab.https.url)]),
      },
    },
    {
      name: 'socks-auth-missing (microsocks with -u/-P, no credentials)',
      expectedClass: 'proxy',
      runs: {
        'got+socks': gotGet(img(lab.https.url), viaSocks(lab.proxies.socksAuth.url)),
        curl: curlRun(['--cacert', lab.caPath, '-x', lab.proxies.socksAuth.url, img(lab.https.url)]),
      },
    },
    {
      name: 'socks-auth-wrong (microsocks with -u/-P, wrong password)',
      expectedClass: 'proxy',
      runs: {
        'got+socks': gotGet(img(lab.https.url), viaSocks(wrongCreds(lab.proxies.socksAuth.authUrl))),
        curl: curlRun([
          '--cacert',
          lab.caPath,
          '-x',
          wrongCreds(lab.proxies.socksAuth.authUrl),
          img(lab.https.url),
        ]),
      },
    },
    {
      name: 'socks-target-refused (microsocks to a closed port)',
      expectedClass: 'proxy',
      runs: {
        'got+socks': gotGet(`https://localhost:${closedPort}/image.png`, viaSocks(lab.proxies.socks.url)),
        curl: curlRun(['-x', lab.proxies.socks.url, `https://localhost:${closedPort}/image.png`]),
      },
    },
    {
      name: 'socks-down (SOCKS port closed)',
      expectedClass: 'connect-refused',
      runs: {
        'got+socks': gotGet(img(lab.https.url), viaSocks(`socks5://127.0.0.1:${closedPort}`)),
        curl: curlRun(['-x', `socks5://127.0.0.1:${closedPort}`, img(lab.https.url)]),
      },
    },
    {
      name: 'timeout-stall-after-headers',
      expectedClass: 'timeout',
      runs: {
        'node-https+AbortSignal.timeout': nodeHttps(`${lab.https.url}/stall-after-headers`, {
          ca,
          signal: AbortSignal.timeout(500),
        }),
        'got timeout.request': gotGet(`${lab.https.url}/stall-after-headers`, { timeout: { request: 500 } }),
        curl: curlRun(['--cacert', lab.caPath, '--max-time', '1', `${lab.https.url}/stall-after-headers`]),
      },
    },
    {
      name: 'timeout-tls-silent (TCP accepted, no ServerHello)',
      expectedClass: 'timeout',
      runs: {
        'got timeout.secureConnect': gotGet(img(broken.silent.url), { timeout: { secureConnect: 500 } }),
        'got timeout.request': gotGet(img(broken.silent.url), { timeout: { request: 500 } }),
        curl: curlRun(['-k', '--max-time', '1', img(broken.silent.url)]),
      },
    },
    ...(blackhole
      ? [
          {
            name: 'timeout-connect (accept queue full: SYN never answered)',
            expectedClass: 'timeout',
            runs: {
              'got timeout.connect': gotGet(`https://127.0.0.1:${blackhole.port}/image.png`, {
                timeout: { connect: 500 },
              }),
              curl: curlRun(['--connect-timeout', '1', `https://127.0.0.1:${blackhole.port}/image.png`]),
            },
          },
        ]
      : []),
  ];

  const results: Json[] = [];
  for (const scenario of scenarios) {
    const runs: Record<string, Json> = {};
    for (const [client, run] of Object.entries(scenario.runs)) runs[client] = await outcome(run);
    results.push({
      scenario: scenario.name,
      expectedClass: scenario.expectedClass,
      ...(scenario.note ? { note: scenario.note } : {}),
      runs,
    });
    process.stdout.write('.');
  }
  process.stdout.write('\n');

  await Promise.all([lab.close(), tinyproxyPorts.close(), ...Object.values(broken).map((s) => s.close())]);
  blackhole?.close();

  const { versions } = process;
  const curlVersion = (await curl(['--version'])).stdout.toString().split('\n')[0];
  const file = {
    about:
      'Real errors captured from the Detour lab by test/lab/capture-errors.ts. Ports → PORT, OpenSSL thread ids → TID.',
    environment: {
      node: versions.node,
      openssl: versions.openssl,
      curl: curlVersion,
      platform: process.platform,
    },
    scenarios: results,
  };
  writeFileSync(OUT, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`wrote ${results.length} scenarios to ${OUT}`);
  await compareWithClassifier(results);
}

function wrongCreds(url: string): string {
  const u = new URL(url);
  u.username = LAB_PROXY_AUTH.user;
  u.password = 'wrong-password';
  return u.href.replace(/\/$/, '');
}

function tlsForGot(tls: ConnectionOptions): Json {
  const out: Json = {};
  if (tls.minVersion) out.minVersion = tls.minVersion;
  if (tls.ciphers) out.ciphers = tls.ciphers;
  return out;
}

/** Print where packages/core's classifyError disagrees with expectedClass (best effort). */
async function compareWithClassifier(results: Json[]): Promise<void> {
  let classifyError: (e: unknown) => { failureClass: string; code: string };
  try {
    ({ classifyError } = await import(pathToFileURL(`${CORE}src/classify.ts`).href));
  } catch {
    return;
  }
  for (const r of results) {
    for (const [client, o] of Object.entries(r.runs as Record<string, Json>)) {
      if (o.ok || client === 'curl') continue;
      const got = classifyError(revive(o.error));
      if (got.failureClass !== r.expectedClass) {
        console.log(
          `classifier: ${r.scenario} [${client}] → ${got.failureClass} (${got.code}), expected ${r.expectedClass}`,
        );
      }
    }
  }
}

function revive(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const v = value as Json;
  return Object.assign(new Error(String(v.message ?? '')), v, v.cause ? { cause: revive(v.cause) } : {});
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
