/**
 * Test certificates made with the real `openssl` binary. Generated once into
 * `$TMPDIR/detour-lab-certs-v<N>-<uid>-<week>` (built in a scratch dir, then renamed into place, so
 * parallel test workers share one set and nothing is left per process) and cached in memory per
 * process. A new set is made each week; sets from other weeks are pruned after a day.
 *
 * - `ca`: the lab root CA (trust it with `ca: certs.ca.cert` / `curl --cacert certs.ca.certPath`)
 * - `localhost`: CA-signed EC P-256 leaf, SAN DNS:localhost, IP:127.0.0.1, IP:::1
 * - `localhostRsa`: same names, RSA 2048 (needed for RSA-key-exchange ciphers such as AES128-SHA)
 * - `expired`: CA-signed, valid 2020-01-01 .. 2021-01-01 (made with `openssl ca -startdate/-enddate`)
 * - `selfSigned`: localhost names, signed by its own key (not by the CA)
 * - `wrongHost`: CA-signed, SAN only DNS:wrong.example.test
 * - `tencent`: CA-signed EC leaf for Tencent's media names (TENCENT_SAN), for the Tencent twin
 *   reached through those real names resolved to loopback
 * - `tencentRsa`: the same names, RSA 2048 (the static-RSA `AES128-GCM-SHA256` edge)
 * - `platforms`: CA-signed EC leaf for Discord's and Telegram's names (PLATFORM_CERT_NAMES), for their twins
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  /** PEM text of the certificate. */
  readonly cert: string;
  /** PEM text of the private key. */
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface LabCerts {
  readonly dir: string;
  readonly ca: CertPair;
  readonly localhost: CertPair;
  readonly localhostRsa: CertPair;
  readonly expired: CertPair;
  readonly selfSigned: CertPair;
  readonly wrongHost: CertPair;
  readonly tencent: CertPair;
  readonly tencentRsa: CertPair;
  readonly platforms: CertPair;
}

/** The Tencent media names the twin's certificates cover. */
export const TENCENT_CERT_NAMES: readonly string[] = [
  'multimedia.nt.qq.com.cn',
  '*.nt.qq.com.cn',
  'qpic.cn',
  '*.qpic.cn',
  '*.photo.store.qq.com',
  'grouptalk.c2c.qq.com',
];
const TENCENT_SAN = TENCENT_CERT_NAMES.map((n) => `DNS:${n}`).join(',');

/** Discord's and Telegram's names the platform twins' certificate covers. */
export const PLATFORM_CERT_NAMES: readonly string[] = [
  'cdn.discordapp.com',
  'media.discordapp.net',
  'discord.com',
  'api.telegram.org',
];
const PLATFORM_SAN = PLATFORM_CERT_NAMES.map((n) => `DNS:${n}`).join(',');

const LOCAL_SAN = 'DNS:localhost,IP:127.0.0.1,IP:::1';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const RSA_KEY = ['-newkey', 'rsa:2048'];

const VERSION = 3;
const PREFIX = 'detour-lab-certs-';
const WEEK_MS = 7 * 24 * 3600 * 1000;

let cached: LabCerts | undefined;

/** The lab certificate set; generated on first use (or reused from disk), then kept in memory. */
export function labCerts(): LabCerts {
  cached ??= loadOrGenerate();
  return cached;
}

function loadOrGenerate(): LabCerts {
  const name = `${PREFIX}v${VERSION}-${process.getuid?.() ?? 0}-${Math.floor(Date.now() / WEEK_MS)}`;
  const dir = join(tmpdir(), name);
  if (!existsSync(join(dir, 'complete'))) {
    const scratch = mkdtempSync(join(tmpdir(), `${PREFIX}scratch-`));
    try {
      generate(scratch);
      writeFileSync(join(scratch, 'complete'), '');
      renameSync(scratch, dir);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      if (!existsSync(join(dir, 'complete'))) throw error; // else another process won the race
    }
    prune(name);
  }
  return load(dir);
}

/** Remove other weeks' sets and abandoned scratch dirs, once they are a day old. */
function prune(keep: string): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(PREFIX) || entry === keep) continue;
    const path = join(tmpdir(), entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > 24 * 3600 * 1000)
        rmSync(path, { recursive: true, force: true });
    } catch {}
  }
}

function load(dir: string): LabCerts {
  return {
    dir,
    ca: pair(dir, 'ca'),
    localhost: pair(dir, 'localhost'),
    localhostRsa: pair(dir, 'localhost-rsa'),
    expired: pair(dir, 'expired'),
    selfSigned: pair(dir, 'self-signed'),
    wrongHost: pair(dir, 'wrong-host'),
    tencent: pair(dir, 'tencent'),
    tencentRsa: pair(dir, 'tencent-rsa'),
    platforms: pair(dir, 'platforms'),
  };
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('lab: `openssl` not found; install the Debian package openssl');
    throw new Error(`lab: openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

function pair(dir: string, name: string): CertPair {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
}

function extFile(dir: string, name: string, san: string): string {
  const path = join(dir, `${name}.ext`);
  writeFileSync(
    path,
    [
      '[v3]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${san}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  return path;
}

function csr(dir: string, name: string, cn: string, keyArgs: string[]): void {
  openssl(dir, [
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
}

function signed(dir: string, name: string, cn: string, san: string, keyArgs = EC_KEY): void {
  csr(dir, name, cn, keyArgs);
  const ext = extFile(dir, name, san);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    serial(),
    '-days',
    '825',
    '-sha256',
    '-extfile',
    ext,
    '-extensions',
    'v3',
    '-out',
    `${name}.pem`,
  ]);
}

function serial(): string {
  return `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
}

/** `openssl ca` is the only 3.0 tool that takes an explicit start/end date. */
function expiredLeaf(dir: string): void {
  const caDir = join(dir, 'ca-db');
  mkdirSync(caDir);
  writeFileSync(join(caDir, 'index.txt'), '');
  writeFileSync(join(caDir, 'serial'), '1000\n');
  const cnf = join(dir, 'ca.cnf');
  writeFileSync(
    cnf,
    [
      '[ca]',
      'default_ca = lab',
      '[lab]',
      `dir = ${caDir}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir',
      'serial = $dir/serial',
      'certificate = ca.pem',
      'private_key = ca.key',
      'default_md = sha256',
      'policy = anything',
      'unique_subject = no',
      'copy_extensions = none',
      '[anything]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  csr(dir, 'expired', 'localhost', EC_KEY);
  const ext = extFile(dir, 'expired', LOCAL_SAN);
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    cnf,
    '-notext',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20210101000000Z',
    '-in',
    'expired.csr',
    '-out',
    'expired.pem',
    '-extfile',
    ext,
    '-extensions',
    'v3',
  ]);
}

function generate(dir: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '3650',
    '-sha256',
    '-subj',
    '/CN=Detour Lab Root CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  signed(dir, 'localhost', 'localhost', LOCAL_SAN);
  signed(dir, 'localhost-rsa', 'localhost', LOCAL_SAN, RSA_KEY);
  signed(dir, 'wrong-host', 'wrong.example.test', 'DNS:wrong.example.test');
  signed(dir, 'tencent', 'multimedia.nt.qq.com.cn', TENCENT_SAN);
  signed(dir, 'tencent-rsa', 'multimedia.nt.qq.com.cn', TENCENT_SAN, RSA_KEY);
  signed(dir, 'platforms', 'cdn.discordapp.com', PLATFORM_SAN);
  expiredLeaf(dir);
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-nodes',
    '-keyout',
    'self-signed.key',
    '-out',
    'self-signed.pem',
    '-days',
    '825',
    '-sha256',
    '-subj',
    '/CN=localhost',
    '-addext',
    `subjectAltName=${LOCAL_SAN}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
}
