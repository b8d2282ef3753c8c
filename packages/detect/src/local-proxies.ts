import { connect, type Socket } from 'node:net';

/** Where desktop proxy tools listen by default. */
export const KNOWN_PROXY_PORTS: ReadonlyArray<{ port: number; tool: string }> = [
  { port: 7890, tool: 'Clash / mihomo (mixed)' },
  { port: 7891, tool: 'Clash / mihomo (socks)' },
  { port: 7897, tool: 'Clash Verge Rev (mixed)' },
  { port: 7898, tool: 'Clash Verge Rev (socks)' },
  { port: 7899, tool: 'Clash Verge Rev (http)' },
  { port: 10808, tool: 'v2rayN (socks)' },
  { port: 10809, tool: 'v2rayN (http)' },
  { port: 2080, tool: 'sing-box / NekoRay (mixed)' },
  { port: 2334, tool: 'Clash for Windows / Hiddify' },
  { port: 1080, tool: 'SOCKS (common)' },
  { port: 8080, tool: 'HTTP proxy (common)' },
];

export interface LocalProxy {
  host: string;
  port: number;
  /** What the handshake proved: a SOCKS5 greeting answered, an HTTP proxy answering CONNECT, or both (mixed ports). */
  protocols: Array<'socks5' | 'http'>;
  url: string;
  tool?: string;
}

export interface LocalProxyProbe {
  host?: string;
  ports?: ReadonlyArray<number | { port: number; tool: string }>;
  /** Per connection. */
  timeoutMs?: number;
}

/** Send `hello`, collect the first bytes of the answer, bounded in time. Resolves null on no answer. */
function exchange(host: string, port: number, hello: Buffer, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    const done = (value: Buffer | null) => {
      clearTimeout(timer);
      socket?.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket = connect({ host, port });
    socket.once('connect', () => socket!.write(hello));
    socket.once('data', (data: Buffer) => done(data));
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
  });
}

const SOCKS5_GREETING = Buffer.from([0x05, 0x01, 0x00]);
// CONNECT to a loopback port nothing listens on: any HTTP proxy answers with a status line, and the probe never leaves the machine.
const HTTP_PROBE = Buffer.from('CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n');

/** Which proxy protocol a port speaks, by a real handshake (never by the port number). */
export async function identifyProxy(
  host: string,
  port: number,
  timeoutMs = 500,
): Promise<LocalProxy['protocols']> {
  const protocols: LocalProxy['protocols'] = [];
  const socks = await exchange(host, port, SOCKS5_GREETING, timeoutMs);
  if (socks && socks.length >= 2 && socks[0] === 0x05 && (socks[1] === 0x00 || socks[1] === 0x02))
    protocols.push('socks5');
  const http = await exchange(host, port, HTTP_PROBE, timeoutMs);
  if (http && /^HTTP\/1\.[01] \d{3}/.test(http.subarray(0, 16).toString('latin1'))) protocols.push('http');
  return protocols;
}

/** Probe the usual local proxy ports (off by default in `detect`). Bounded: every port in parallel, each with its own timeout. */
export async function probeLocalProxies(probe: LocalProxyProbe = {}): Promise<LocalProxy[]> {
  const host = probe.host ?? '127.0.0.1';
  const ports = (probe.ports ?? KNOWN_PROXY_PORTS).map((p) =>
    typeof p === 'number' ? { port: p, tool: undefined } : p,
  );
  const found = await Promise.all(
    ports.map(async ({ port, tool }) => {
      const protocols = await identifyProxy(host, port, probe.timeoutMs ?? 500);
      if (protocols.length === 0) return undefined;
      const scheme = protocols.includes('http') ? 'http' : 'socks5';
      return {
        host,
        port,
        protocols,
        url: `${scheme}://${host}:${port}`,
        ...(tool ? { tool } : {}),
      } satisfies LocalProxy;
    }),
  );
  return found.filter((p): p is LocalProxy => p !== undefined);
}
