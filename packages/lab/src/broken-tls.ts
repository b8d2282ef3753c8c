/**
 * A TCP server on 127.0.0.1 that accepts connections and breaks TLS on purpose. Modes:
 * - `alert`: after the ClientHello, a fatal handshake_failure alert, then FIN
 * - `protocol-alert`: after the ClientHello, a fatal protocol_version alert, then FIN
 * - `reset`: after the ClientHello, TCP RST
 * - `close`: FIN right after accept, before any byte
 * - `http-response`: answers the ClientHello with a plain-text HTTP 400 (an HTTP server on a TLS port)
 * - `silent`: reads and never answers (handshake timeout)
 * - `no-renegotiation-info`: a TLS 1.2 ServerHello without renegotiation_info
 */
import { createServer, type Socket } from 'node:net';
import { listenTracked } from './listen.js';
import { resetSocket } from './sockets.js';
import {
  HANDSHAKE_FAILURE_ALERT,
  PROTOCOL_VERSION_ALERT,
  serverHelloWithoutRenegotiationInfo,
} from './tls-records.js';

export type BrokenTlsMode =
  | 'alert'
  | 'protocol-alert'
  | 'reset'
  | 'close'
  | 'http-response'
  | 'silent'
  | 'no-renegotiation-info';

export interface BrokenTlsServer {
  readonly port: number;
  /** `https://localhost:PORT` */
  readonly url: string;
  readonly mode: BrokenTlsMode;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

const HTTP_400 = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

/** Break the TLS handshake on `socket` (a fresh TCP connection, or a CONNECT tunnel) per `mode`. */
export function breakTls(socket: Socket, mode: BrokenTlsMode): void {
  socket.on('error', () => {});
  if (mode === 'close') {
    socket.end();
    return;
  }
  socket.once('data', () => answerClientHello(socket, mode));
}

/** The reply to a ClientHello that has already been read from `socket`. */
export function answerClientHello(socket: Socket, mode: BrokenTlsMode): void {
  socket.on('error', () => {});
  switch (mode) {
    case 'close':
      socket.end();
      break;
    case 'alert':
      socket.end(HANDSHAKE_FAILURE_ALERT);
      break;
    case 'protocol-alert':
      socket.end(PROTOCOL_VERSION_ALERT);
      break;
    case 'reset':
      resetSocket(socket);
      break;
    case 'http-response':
      socket.end(HTTP_400);
      break;
    case 'no-renegotiation-info':
      socket.write(serverHelloWithoutRenegotiationInfo());
      socket.resume();
      break;
    case 'silent':
      socket.resume();
      break;
  }
}

export async function startBrokenTlsServer(mode: BrokenTlsMode = 'alert'): Promise<BrokenTlsServer> {
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    breakTls(socket, mode);
  });
  const { port, close } = await listenTracked(server);
  return { port, url: `https://localhost:${port}`, mode, connections: () => count, close };
}
