/**
 * An origin for the http-downgrade strategy: plain HTTP works, TLS is broken.
 * - two ports: `httpUrl` (a lab HTTP origin) and `httpsUrl` (a broken TLS server), and
 * - one shared port that sniffs the first byte: a TLS ClientHello gets the broken-TLS treatment,
 *   anything else is served as HTTP. So `https://localhost:P/x` fails and `http://localhost:P/x`
 *   works on the SAME port, which is what a scheme-only downgrade needs.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { answerClientHello, type BrokenTlsMode, startBrokenTlsServer } from './broken-tls.js';
import { listenTracked } from './listen.js';
import { createRoutes, type Routes } from './routes.js';
import { type Origin, startHttpOrigin } from './servers.js';
import { looksLikeTls } from './tls-records.js';

export interface DowngradeOrigin {
  /** `http://localhost:P1`: a working lab HTTP origin. */
  readonly httpUrl: string;
  /** `https://localhost:P2`: TCP accepted, TLS broken per `mode`. */
  readonly httpsUrl: string;
  readonly http: Origin;
  /** The shared port: `http://localhost:P3` works, `https://localhost:P3` is broken. */
  readonly shared: {
    readonly port: number;
    readonly httpUrl: string;
    readonly httpsUrl: string;
    readonly routes: Pick<Routes, 'counts' | 'hits' | 'resetCounts'>;
  };
  readonly mode: BrokenTlsMode;
  close(): Promise<void>;
}

async function startSharedPort(mode: BrokenTlsMode) {
  const routes = createRoutes();
  const http = createHttpServer((req, res) => routes.handle(req, res));
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (first: Buffer) => {
      if (looksLikeTls(first)) return answerClientHello(socket, mode);
      socket.pause();
      socket.unshift(first);
      http.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  const listening = await listenTracked(server);
  return { ...listening, routes };
}

export async function startDowngradeOrigin(mode: BrokenTlsMode = 'alert'): Promise<DowngradeOrigin> {
  const [http, broken, shared] = await Promise.all([
    startHttpOrigin(),
    startBrokenTlsServer(mode),
    startSharedPort(mode),
  ]);
  return {
    httpUrl: http.url,
    httpsUrl: broken.url,
    http,
    shared: {
      port: shared.port,
      httpUrl: `http://localhost:${shared.port}`,
      httpsUrl: `https://localhost:${shared.port}`,
      routes: shared.routes,
    },
    mode,
    close: async () => {
      await Promise.all([http.close(), broken.close(), shared.close()]);
    },
  };
}
