/** Lab origins: node http/https servers on 127.0.0.1, port 0, serving the lab routes. */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { type CertPair, labCerts } from './certs.js';
import { listenTracked } from './listen.js';
import { createRoutes, type Routes } from './routes.js';

export interface Origin {
  /** `http://localhost:PORT` or `https://localhost:PORT` (no trailing slash). */
  readonly url: string;
  /** The same origin addressed by IP: `http(s)://127.0.0.1:PORT`. */
  readonly ipUrl: string;
  readonly port: number;
  /** Hit counters of this origin (also served as JSON at `/count`). */
  readonly routes: Pick<Routes, 'counts' | 'hits' | 'resetCounts'>;
  /** The Node server itself, for what the routes do not count (an HTTPS one emits `secureConnection`). */
  readonly server: NetServer;
  close(): Promise<void>;
}

export interface HttpsOriginOptions {
  /** Certificate to present; default the CA-signed `localhost` EC leaf. */
  readonly cert?: CertPair;
  /** Default 'TLSv1.2'. */
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** OpenSSL cipher string (TLS <= 1.2); default Node's. */
  readonly ciphers?: string;
  /** Signature algorithms the server accepts, e.g. 'RSA+SHA1'. */
  readonly sigalgs?: string;
  /** Fixed port (default 0: any free port). */
  readonly port?: number;
}

/** A plain HTTP origin serving every lab route. */
export async function startHttpOrigin(options: { port?: number } = {}): Promise<Origin> {
  const routes = createRoutes();
  const server = createHttpServer((req, res) => routes.handle(req, res));
  const { port, close } = await listenTracked(server, options.port);
  return { url: `http://localhost:${port}`, ipUrl: `http://127.0.0.1:${port}`, port, routes, server, close };
}

/** A modern HTTPS origin (TLS 1.2+, CA-signed `localhost` cert by default) serving every lab route. */
export async function startHttpsOrigin(options: HttpsOriginOptions = {}): Promise<Origin> {
  const cert = options.cert ?? labCerts().localhost;
  const routes = createRoutes();
  const server = createHttpsServer(
    {
      cert: cert.cert,
      key: cert.key,
      minVersion: options.minVersion ?? 'TLSv1.2',
      ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
      ...(options.ciphers ? { ciphers: options.ciphers } : {}),
      ...(options.sigalgs ? { sigalgs: options.sigalgs } : {}),
    },
    (req, res) => routes.handle(req, res),
  );
  const { port, close } = await listenTracked(server, options.port);
  return {
    url: `https://localhost:${port}`,
    ipUrl: `https://127.0.0.1:${port}`,
    port,
    routes,
    server,
    close,
  };
}
