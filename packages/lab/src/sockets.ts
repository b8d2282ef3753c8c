/** Ways to end a connection badly, for servers that simulate broken networks. */
import type { Socket } from 'node:net';

/**
 * Close with a TCP RST (the peer sees ECONNRESET). A TLS socket cannot be reset itself, so the raw
 * TCP socket under it (`_parent`) is reset instead; falls back to a plain destroy.
 */
export function resetSocket(socket: Socket): void {
  const raw = (socket as Socket & { _parent?: Socket })._parent ?? socket;
  try {
    raw.resetAndDestroy();
  } catch {
    raw.destroy();
  }
  socket.destroy();
}
