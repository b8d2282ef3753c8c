/**
 * nginx (Debian `nginx-light`) as a lab origin: a child process (`daemon off; master_process off;`)
 * with its config, pid, temp paths and web root in its own temp dir, serving static files.
 * - startNginxLegacyOrigin: the legacy TLS profiles of legacy.ts, served by nginx instead of node;
 *   each profile fails and is rescued exactly like the node version (see legacy.ts).
 * - startNginxOrigin: a fast modern origin (TLS 1.2/1.3, keep-alive), as a CDN edge is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labCerts } from './certs.js';
import { startChild } from './child.js';
import type { LegacyTlsProfile } from './legacy.js';
import { LAB_PNG } from './png.js';
import { makeTempDir } from './tmp.js';

export interface NginxOrigin {
  /** `https://localhost:PORT` */
  readonly url: string;
  readonly port: number;
  readonly profile: LegacyTlsProfile;
  readonly pid: number;
  close(): Promise<void>;
}

function tlsDirectives(profile: LegacyTlsProfile): string[] {
  const certs = labCerts();
  const rsa = certs.localhostRsa;
  const ec = certs.localhost;
  const files = (pair: typeof rsa) => [
    `ssl_certificate ${pair.certPath};`,
    `ssl_certificate_key ${pair.keyPath};`,
  ];
  switch (profile) {
    case 'sha1-signatures':
      return [
        ...files(rsa),
        'ssl_protocols TLSv1.2;',
        "ssl_ciphers 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:@SECLEVEL=0';",
        'ssl_conf_command SignatureAlgorithms RSA+SHA1;',
      ];
    case 'tls1.0':
      return [...files(ec), 'ssl_protocols TLSv1;', "ssl_ciphers 'DEFAULT:@SECLEVEL=0';"];
    case 'tls1.0-rsa':
      return [...files(rsa), 'ssl_protocols TLSv1;', "ssl_ciphers 'AES128-SHA:@SECLEVEL=0';"];
    case 'legacy-cipher':
      return [
        ...files(rsa),
        'ssl_protocols TLSv1 TLSv1.1 TLSv1.2;',
        "ssl_ciphers 'CAMELLIA128-SHA:@SECLEVEL=0';",
      ];
  }
}

export async function startNginxLegacyOrigin(profile: LegacyTlsProfile): Promise<NginxOrigin> {
  const files = { 'image.png': LAB_PNG, 'index.html': '<!doctype html><p>Detour lab legacy nginx</p>\n' };
  const running = await startNginx(files, tlsDirectives(profile));
  return { ...running, profile };
}

export interface FastNginxOrigin extends Omit<NginxOrigin, 'profile'> {
  /** `https://127.0.0.1:PORT` */
  readonly ipUrl: string;
}

/**
 * A fast, modern origin, as a CDN edge is: TLS 1.2/1.3 with the lab's EC certificate (localhost and
 * 127.0.0.1), keep-alive without a request cap, static files from memory-sized bodies. The bench
 * holds Detour against it (figure 1's nginx rows), where the origin's own cost is small.
 */
export async function startNginxOrigin(
  files: Record<string, Uint8Array | string> = { 'image.png': LAB_PNG },
): Promise<FastNginxOrigin> {
  const ec = labCerts().localhost;
  const running = await startNginx(files, [
    `ssl_certificate ${ec.certPath};`,
    `ssl_certificate_key ${ec.keyPath};`,
    'ssl_protocols TLSv1.2 TLSv1.3;',
    'ssl_session_cache shared:SSL:1m;',
    'keepalive_requests 1000000;',
    'keepalive_timeout 120s;',
  ]);
  return { ...running, ipUrl: `https://127.0.0.1:${running.port}` };
}

/** nginx as a child: its config, pid, temp paths and web root in a temp dir of its own. */
async function startNginx(
  files: Record<string, Uint8Array | string>,
  serverDirectives: string[],
): Promise<Omit<NginxOrigin, 'profile'>> {
  const dir = makeTempDir('nginx');
  const www = join(dir.path, 'www');
  mkdirSync(www);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(www, name), body);
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir.path, temp));
  const conf = join(dir.path, 'nginx.conf');
  const running = await startChild({
    bin: 'nginx',
    pkg: 'nginx-light',
    args: (port) => {
      const t = (name: string) => join(dir.path, name);
      const lines = [
        'daemon off;',
        'master_process off;',
        'worker_processes 1;',
        `pid ${t('nginx.pid')};`,
        'error_log stderr warn;',
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        `  client_body_temp_path ${t('body')}; proxy_temp_path ${t('proxy')}; fastcgi_temp_path ${t('fastcgi')};`,
        `  uwsgi_temp_path ${t('uwsgi')}; scgi_temp_path ${t('scgi')};`,
        '  types { image/png png; text/html html; application/octet-stream bin; }',
        '  server {',
        `    listen 127.0.0.1:${port} ssl;`,
        '    server_name localhost;',
        ...serverDirectives.map((d) => `    ${d}`),
        `    root ${www};`,
        '  }',
        '}',
      ];
      writeFileSync(conf, `${lines.join('\n')}\n`);
      return ['-p', dir.path, '-e', 'stderr', '-c', conf];
    },
  }).catch((error: unknown) => {
    dir.remove();
    throw error;
  });
  return {
    url: `https://localhost:${running.port}`,
    port: running.port,
    pid: running.child.pid ?? -1,
    close: async () => {
      await running.close();
      dir.remove();
    },
  };
}
