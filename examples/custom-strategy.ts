/**
 * A custom strategy in a few lines, without touching @detour/core: `mirror` retries a failed
 * download from a mirror host. It starts its own two servers on 127.0.0.1 — an origin that resets
 * every connection and a mirror that serves the file — and shows the mirror rescuing the download.
 *
 *   npx tsx examples/custom-strategy.ts
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import {
  type AttemptRequest,
  type AttemptResponse,
  createPipeline,
  type FailureClass,
  type Strategy,
  strictAttempt,
} from '@detour/core';

/** Same request, another host: for CDNs with a mirror (`origin host:port` → `mirror host:port`). */
class MirrorStrategy implements Strategy {
  readonly name = 'mirror';
  /** Worth trying when the origin itself (or the path to it) failed; not after a 404 (terminal anyway). */
  readonly rescues = new Set<FailureClass>([
    'connect-reset',
    'connect-refused',
    'timeout',
    'dns',
    'tls-handshake',
    'http-status',
  ]);

  constructor(private readonly mirrors: Readonly<Record<string, string>>) {}

  applies(req: AttemptRequest): true | string {
    return this.mirrors[req.url.host] ? true : `no mirror for ${req.url.host}`;
  }

  attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    const url = new URL(req.url);
    url.host = this.mirrors[req.url.host]!;
    // strictAttempt: core's strict request (same route, TLS, limits, retries, private-network guard).
    return strictAttempt(req, signal, { url });
  }
}

// A 1×1 PNG served by the mirror.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR42mNgAAIAAAUAAen63NgAAAAASUVORK5CYII=',
  'base64',
);

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const origin = createTcpServer((socket) => socket.resetAndDestroy()); // a hostile path: every connection reset
const mirror = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
const [originPort, mirrorPort] = await Promise.all([listen(origin), listen(mirror)]);

const pipeline = createPipeline({
  allowPrivateNetwork: true, // the example's servers are on 127.0.0.1
  maxRetries: 0,
  use: [new MirrorStrategy({ [`127.0.0.1:${originPort}`]: `127.0.0.1:${mirrorPort}` })],
});
try {
  const result = await pipeline.fetch(`http://127.0.0.1:${originPort}/sticker.png`, { expect: 'image' });
  console.log(
    `got ${result.bytes} bytes of ${result.contentType} from ${result.finalUrl} with "${result.strategy}"`,
  );
  for (const a of result.attempts) {
    console.log(
      `  ${a.strategy.padEnd(14)} ${a.outcome.padEnd(8)} ${a.failureClass ?? ''} ${a.code ?? a.message ?? ''}`,
    );
  }
} finally {
  await pipeline.close();
  origin.close();
  mirror.close();
}
