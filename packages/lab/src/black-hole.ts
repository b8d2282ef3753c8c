/**
 * A "black hole" proxy: a loopback TCP server that accepts every connection and never answers —
 * what a stuck Clash/v2rayN process looks like to a client ("every QQ image ConnectTimeout"). It
 * reads and discards whatever arrives (a CONNECT, a SOCKS greeting), so the client waits forever.
 */
import { createServer, type Socket } from 'node:net';
import { listenTracked } from './listen.js';

export interface BlackHoleProxy {
  /** `http://127.0.0.1:PORT` (the same port answers nothing in any protocol). */
  readonly url: string;
  /** `socks5://127.0.0.1:PORT` */
  readonly socksUrl: string;
  readonly port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections open now (a client that gave up closed its socket). */
  open(): number;
  close(): Promise<void>;
}

export async function startBlackHoleProxy(): Promise<BlackHoleProxy> {
  let accepted = 0;
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on('data', () => {}); // swallow the request; never write a byte
    socket.on('error', () => {});
    socket.once('close', () => open.delete(socket));
  });
  const listening = await listenTracked(server);
  return {
    url: `http://127.0.0.1:${listening.port}`,
    socksUrl: `socks5://127.0.0.1:${listening.port}`,
    port: listening.port,
    accepted: () => accepted,
    open: () => open.size,
    close: () => listening.close(),
  };
}
