/**
 * The SOCKS agent (see proxy-agents.ts for the deadline and pinning rules). A module of its own
 * because `socks` and `socks-proxy-agent` weigh ~10 MiB of memory once loaded: AgentPool loads it
 * on the first SOCKS route (`AgentPool.prepare`), so a process that never uses SOCKS never pays.
 */
import dns from 'node:dns';
import type http from 'node:http';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import { SocksClient, type SocksClientOptions } from 'socks';
import { SocksProxyAgent, type SocksProxyAgentOptions } from 'socks-proxy-agent';
import {
  type Lookup,
  PendingTunnels,
  type ProxyConnectSettings,
  resolveOnce,
  untilAborted,
} from './proxy-agents.js';

interface SocksConnectOptions extends Omit<tls.ConnectionOptions, 'host' | 'port' | 'lookup' | 'path'> {
  host?: string | null;
  port?: number | string | null;
  lookup?: Lookup;
  secureEndpoint?: boolean;
  path?: string | null;
  servername?: string;
}

/**
 * socks-proxy-agent's `connect`, rewritten for two reasons: its `timeout` option also kills an
 * established tunnel after that much idle time (a slow body), and its local lookup for
 * `socks5://` happened after — and apart from — our private-address check (a DNS rebinding
 * window). Here the name is resolved once with the request's lookup (the guard), and the checked
 * address goes to the proxy; the SOCKS handshake alone is under the tunnel deadline.
 */
export class DeadlineSocksAgent extends SocksProxyAgent {
  readonly #tunnels: PendingTunnels;
  readonly #pin: boolean;

  constructor(proxyUrl: string, options: SocksProxyAgentOptions, settings: ProxyConnectSettings) {
    super(proxyUrl, options);
    this.#tunnels = new PendingTunnels(proxyUrl, settings.timeoutMs);
    this.#pin = settings.pin;
  }

  override async connect(_req: http.ClientRequest, opts: never): Promise<Socket> {
    const options = opts as SocksConnectOptions;
    if (!options.host) throw new Error('No `host` defined!');
    const name = options.host;
    const port = typeof options.port === 'number' ? options.port : Number.parseInt(String(options.port), 10);
    const { signal, settle } = this.#tunnels.begin();
    let socket: Socket;
    try {
      const destination =
        this.shouldLookup || this.#pin
          ? await untilAborted(
              resolveOnce(
                options.lookup ?? (dns.lookup as Lookup),
                name,
                this.proxy.type === 4 ? 4 : undefined,
              ),
              signal,
            )
          : name;
      socket = await this.#handshake(
        { proxy: this.proxy, destination: { host: destination, port }, command: 'connect' },
        signal,
      );
    } catch (error) {
      settle();
      throw signal.aborted ? signal.reason : error;
    }
    if (!settle()) {
      socket.destroy();
      throw signal.reason;
    }
    if (!options.secureEndpoint) return socket;
    const { host: _host, path: _path, port: _port, lookup: _lookup, secureEndpoint: _s, ...rest } = options;
    return tls.connect({
      ...rest,
      ...(options.servername === undefined && !isIP(name) ? { servername: name } : {}),
      socket,
    });
  }

  /** The SOCKS handshake, torn down (socket destroyed) when `signal` aborts. */
  #handshake(options: SocksClientOptions, signal: AbortSignal): Promise<Socket> {
    return new Promise((resolve, reject) => {
      // socks' own timer is a backstop only (unref'd); the tunnel deadline is `signal`.
      const client = new SocksClient({ ...options, timeout: this.#tunnels.timeoutMs + 1_000 });
      let settled = false;
      const finish = (error: unknown, socket?: Socket) => {
        if (settled) return void socket?.destroy();
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (socket) resolve(socket);
        else reject(error);
      };
      const onAbort = () => {
        finish(signal.reason);
        (client as unknown as { socket?: Socket }).socket?.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // Listeners stay attached: socks emits one 'error' when its socket closes, even after us.
      client.on('established', ({ socket }) => finish(undefined, socket));
      client.on('error', (error) => finish(proxySide(error, options.proxy)));
      client.connect();
    });
  }

  override destroy(): void {
    this.#tunnels.destroyAll();
    super.destroy();
  }
}

/**
 * socks reports a failed connection to the proxy itself (`connect ECONNREFUSED 127.0.0.1:1080`)
 * with the errno only in its message. Give it back its code, address and port, as Node's own
 * socket errors have them, so the transport names it a `proxy` failure (a dead SOCKS proxy is
 * one, as a dead HTTP proxy is) rather than the origin's `connect-refused`.
 */
function proxySide(error: Error, proxy: SocksClientOptions['proxy']): Error {
  const errno = /^connect (E[A-Z]{4,}) /.exec(error.message)?.[1];
  if (!errno) return error;
  return Object.assign(error, { code: errno, address: proxy.host ?? proxy.ipaddress, port: proxy.port });
}
