/** Listen on 127.0.0.1 (port 0 by default) and close with every open socket destroyed. */
import type { AddressInfo, Server, Socket } from 'node:net';

export const LOOPBACK = '127.0.0.1';

export interface Listening {
  readonly port: number;
  /** Stops accepting, destroys every open socket, resolves when the server has closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Tracks every socket the server accepts (raw TCP sockets, also for TLS servers) so `close()`
 * never waits on a keep-alive, stalled or tunnelled connection.
 */
export async function listenTracked(server: Server, port = 0): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      });
      return closing;
    },
  };
}

/** Register a socket created outside the server's `connection` event (e.g. a tunnel's upstream). */
export function trackExtra(owner: Socket, extra: Socket): void {
  owner.once('close', () => extra.destroy());
  extra.once('close', () => owner.destroy());
}
