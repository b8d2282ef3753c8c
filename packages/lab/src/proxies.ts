/** Real proxies as child processes on loopback: Debian `tinyproxy` (HTTP CONNECT) and `microsocks` (SOCKS5). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild } from './child.js';
import { makeTempDir } from './tmp.js';

export interface ProxyAuth {
  readonly user: string;
  readonly pass: string;
}

export interface RunningProxy {
  /** `http://127.0.0.1:PORT` or `socks5://127.0.0.1:PORT`, without credentials. */
  readonly url: string;
  /** The same URL with `user:pass@` when the proxy requires auth (else equal to `url`). */
  readonly authUrl: string;
  readonly port: number;
  readonly auth?: ProxyAuth;
  /** Child process id (for tests that check it is gone after close). */
  readonly pid: number;
  /** The proxy's own log so far (tinyproxy: its LogFile; microsocks: empty). */
  log(): string;
  close(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Require `Proxy-Authorization: Basic` (tinyproxy `BasicAuth`); wrong or missing → 407. */
  readonly auth?: ProxyAuth;
  /**
   * Ports CONNECT may reach (tinyproxy `ConnectPort`); others get 403. Default: no ConnectPort
   * line, which tinyproxy treats as "every port allowed".
   */
  readonly connectPorts?: readonly number[];
}

function withAuth(scheme: string, port: number, auth?: ProxyAuth): string {
  if (!auth) return `${scheme}://127.0.0.1:${port}`;
  return `${scheme}://${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@127.0.0.1:${port}`;
}

function tail(path: string, max = 2000): string {
  try {
    return readFileSync(path, 'utf8').slice(-max);
  } catch {
    return '';
  }
}

/** tinyproxy 1.11, foreground (`-d`), config/log/pid in its own temp dir. */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<RunningProxy> {
  const dir = makeTempDir('tinyproxy');
  const conf = join(dir.path, 'tinyproxy.conf');
  const log = join(dir.path, 'tinyproxy.log');
  const running = await startChild({
    bin: 'tinyproxy',
    pkg: 'tinyproxy',
    args: (port) => {
      const lines = [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 60',
        'Allow 127.0.0.1',
        'MaxClients 100',
        'LogLevel Info',
        `LogFile "${log}"`,
        `PidFile "${join(dir.path, 'tinyproxy.pid')}"`,
        ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
        ...(options.auth ? [`BasicAuth ${options.auth.user} ${options.auth.pass}`] : []),
      ];
      writeFileSync(conf, `${lines.join('\n')}\n`);
      return ['-d', '-c', conf];
    },
    diagnose: () => tail(log),
  }).catch((error: unknown) => {
    dir.remove();
    throw error;
  });
  return {
    url: withAuth('http', running.port),
    authUrl: withAuth('http', running.port, options.auth),
    port: running.port,
    ...(options.auth ? { auth: options.auth } : {}),
    pid: running.child.pid ?? -1,
    log: () => tail(log, 100_000),
    close: async () => {
      await running.close();
      dir.remove();
    },
  };
}

/** microsocks (SOCKS5), `-i 127.0.0.1 -p PORT`, with `-u/-P` when `auth` is given. */
export async function startMicrosocks(options: { auth?: ProxyAuth } = {}): Promise<RunningProxy> {
  const { auth } = options;
  const running = await startChild({
    bin: 'microsocks',
    pkg: 'microsocks',
    args: (port) => [
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      ...(auth ? ['-u', auth.user, '-P', auth.pass] : []),
    ],
  });
  return {
    url: withAuth('socks5', running.port),
    authUrl: withAuth('socks5', running.port, auth),
    port: running.port,
    ...(auth ? { auth } : {}),
    pid: running.child.pid ?? -1,
    log: () => '',
    close: () => running.close(),
  };
}
