/**
 * Which relaxed client settings really rescue which legacy servers. Starts one real
 * `openssl s_server` per legacy profile on 127.0.0.1 (certificates from the lab CA), connects with
 * Node (the way tls-relaxed does) and with curl (the way @detour/curl's `relaxTls` does) under each
 * candidate cipher list, and prints a Markdown table. Certificate checks stay ON throughout.
 *
 *   npx tsx packages/tls-relaxed/scripts/measure-ciphers.ts
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { constants } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type SecureVersion } from 'node:tls';
import { classifyError } from '../../core/src/classify.js';
import { labCerts } from '../../lab/src/certs.js';

const certs = labCerts();
const work = mkdtempSync(join(tmpdir(), 'detour-measure-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A leaf for localhost signed by the lab CA with a chosen key and digest. */
function leaf(name: string, keyArgs: string[], digest: string): { cert: string; key: string } {
  openssl([
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(join(work, `${name}.ext`), 'subjectAltName = DNS:localhost,IP:127.0.0.1\n');
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    certs.ca.certPath,
    '-CAkey',
    certs.ca.keyPath,
    '-set_serial',
    String(Date.now()),
    '-days',
    '30',
    `-${digest}`,
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
  return { cert: join(work, `${name}.pem`), key: join(work, `${name}.key`) };
}

openssl(['dhparam', '-dsaparam', '-out', 'dh1024.pem', '1024']);
const rsa = { cert: certs.localhostRsa.certPath, key: certs.localhostRsa.keyPath };
const ec = { cert: certs.localhost.certPath, key: certs.localhost.keyPath };
const rsa1024 = leaf('rsa1024', ['-newkey', 'rsa:1024'], 'sha256');
const sha1Leaf = leaf('sha1', ['-newkey', 'rsa:2048'], 'sha1');

interface ServerProfile {
  name: string;
  cert: { cert: string; key: string };
  args: string[];
}

const SERVERS: ServerProfile[] = [
  { name: 'modern (control)', cert: ec, args: [] },
  {
    name: 'TLS 1.0 only, ECDHE-RSA-AES128-SHA',
    cert: rsa,
    args: ['-tls1', '-cipher', 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'],
  },
  { name: 'TLS 1.1 only', cert: rsa, args: ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'] },
  { name: 'TLS 1.0, ECDSA cert', cert: ec, args: ['-tls1', '-cipher', 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0'] },
  {
    name: 'TLS 1.2, RSA key exchange only (AES128-SHA)',
    cert: rsa,
    args: ['-tls1_2', '-cipher', 'AES128-SHA'],
  },
  { name: 'TLS 1.2, AES256-SHA256 only', cert: rsa, args: ['-tls1_2', '-cipher', 'AES256-SHA256'] },
  {
    name: 'TLS 1.2, CAMELLIA128-SHA only',
    cert: rsa,
    args: ['-tls1_2', '-cipher', 'CAMELLIA128-SHA:@SECLEVEL=0'],
  },
  {
    name: 'TLS 1.2, SHA-1 signatures only',
    cert: rsa,
    args: ['-tls1_2', '-sigalgs', 'RSA+SHA1', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0'],
  },
  {
    name: 'TLS 1.2, DHE with 1024-bit group',
    cert: rsa,
    args: [
      '-tls1_2',
      '-cipher',
      'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0',
      '-dhparam',
      join(work, 'dh1024.pem'),
    ],
  },
  {
    name: 'TLS 1.2, anonymous DH only (no certificate)',
    cert: rsa,
    args: ['-tls1_2', '-nocert', '-cipher', 'ADH-AES128-SHA:@SECLEVEL=0'],
  },
  { name: 'RSA-1024 leaf certificate', cert: rsa1024, args: ['-cipher', 'DEFAULT:@SECLEVEL=0'] },
  { name: 'SHA-1-signed leaf certificate', cert: sha1Leaf, args: ['-cipher', 'DEFAULT:@SECLEVEL=0'] },
];

interface Client {
  name: string;
  minVersion?: SecureVersion;
  ciphers?: string;
  secureOptions?: number;
  curlArgs?: string[];
}

const LEGACY = constants.SSL_OP_LEGACY_SERVER_CONNECT;
const NODE_CLIENTS: Client[] = [
  { name: 'Node strict (defaults)' },
  {
    name: "Node's default list:@SECLEVEL=0, TLSv1",
    minVersion: 'TLSv1',
    ciphers: `${tls.DEFAULT_CIPHERS}:@SECLEVEL=0`,
    secureOptions: LEGACY,
  },
  { name: 'DEFAULT (level 1), TLSv1', minVersion: 'TLSv1', ciphers: 'DEFAULT', secureOptions: LEGACY },
  {
    name: 'DEFAULT:@SECLEVEL=0, TLSv1',
    minVersion: 'TLSv1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
    secureOptions: LEGACY,
  },
  { name: 'ALL:@SECLEVEL=0, TLSv1', minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', secureOptions: LEGACY },
  {
    name: 'ALL:!aNULL:!eNULL:@SECLEVEL=0, TLSv1',
    minVersion: 'TLSv1',
    ciphers: 'ALL:!aNULL:!eNULL:@SECLEVEL=0',
    secureOptions: LEGACY,
  },
];
const CURL_CLIENTS: Client[] = [
  { name: 'curl strict', curlArgs: [] },
  {
    name: 'curl --tlsv1 --ciphers DEFAULT@SECLEVEL=0',
    curlArgs: ['--tlsv1', '--ciphers', 'DEFAULT@SECLEVEL=0'],
  },
  { name: 'curl --tlsv1 --ciphers ALL@SECLEVEL=0', curlArgs: ['--tlsv1', '--ciphers', 'ALL@SECLEVEL=0'] },
  {
    name: 'curl --tlsv1 --ciphers ALL:!aNULL:!eNULL:@SECLEVEL=0',
    curlArgs: ['--tlsv1', '--ciphers', 'ALL:!aNULL:!eNULL:@SECLEVEL=0'],
  },
];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startServer(profile: ServerProfile): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      profile.cert.cert,
      '-key',
      profile.cert.key,
      '-www',
      '-quiet',
      ...profile.args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = tls.connect({
        port,
        host: '127.0.0.1',
        rejectUnauthorized: false,
        minVersion: 'TLSv1',
        ciphers: 'ALL:@SECLEVEL=0',
      });
      s.once('secureConnect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        s.destroy();
        resolve(e.code !== 'ECONNREFUSED');
      });
    });
    if (up) return { port, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`s_server for ${profile.name} did not start`);
}

function nodeConnect(port: number, client: Client): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: [certs.ca.cert],
      rejectUnauthorized: true,
      ...(client.minVersion ? { minVersion: client.minVersion } : {}),
      ...(client.ciphers ? { ciphers: client.ciphers } : {}),
      ...(client.secureOptions ? { secureOptions: client.secureOptions } : {}),
    });
    socket.setTimeout(5000, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      const cipher = socket.getCipher();
      resolve(`ok (${socket.getProtocol()} ${cipher.name})`);
      socket.destroy();
    });
    socket.once('error', (error) => {
      const c = classifyError(error);
      resolve(`✗ ${c.failureClass} ${c.code}`);
    });
  });
}

function curlConnect(port: number, client: Client): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(
      'curl',
      [
        '-q',
        '-sS',
        '-o',
        '/dev/null',
        '--max-time',
        '5',
        '--cacert',
        certs.ca.certPath,
        '-w',
        '%{ssl_verify_result}',
        ...(client.curlArgs ?? []),
        `https://localhost:${port}/`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      if (code === 0) return resolve('ok');
      const reason =
        /curl: \(\d+\) (.*)/.exec(stderr)?.[1]?.replace(/^.*error:[0-9A-F]+:SSL routines::/, '') ?? '';
      resolve(`✗ E${code} ${reason.slice(0, 40)}`);
    });
  });
}

const header = ['server profile', ...NODE_CLIENTS.map((c) => c.name), ...CURL_CLIENTS.map((c) => c.name)];
const rows: string[][] = [];
for (const profile of SERVERS) {
  const { port, child } = await startServer(profile);
  try {
    const row = [profile.name];
    for (const client of NODE_CLIENTS) row.push(await nodeConnect(port, client));
    for (const client of CURL_CLIENTS) row.push(await curlConnect(port, client));
    rows.push(row);
  } finally {
    child.kill('SIGKILL');
  }
}
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log(
  `\nNode ${process.version}, OpenSSL ${process.versions.openssl}; ${execFileSync('curl', ['--version']).toString().split('\n')[0]}`,
);
