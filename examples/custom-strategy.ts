/**
 * A custom strategy in a few lines, without touching @detour/core: `mirror` retries a failed
 * download from a mirror host. It starts its own two servers on 127.0.0.1 — an origin that resets
 * every connection and a mirror that serves the file — and shows the mirror rescuing the download.
 *
 *   npx tsx examples/custom-strategy.ts
 *
 * The strategy is exported, and test/examples-conformance.test.ts runs core's conformance suite
 * (`@detour/core/testing`) on it, as every strategy package does.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  type AttemptRequest,
  type AttemptResponse,
  createPipeline,
  type FailureClass,
  type Strategy,
  strictAttempt,
} from '@detour/core';

/** Same request, another host: for CDNs with a mirror (`origin host:port` → `mirror host:port`). */
export class MirrorStrategy implements Strategy {
  readonly name = 'mirror';
  /** Where a planner puts it: another way to the file once the strict ones failed. */
  readonly stage = 'fallback' as const;
  readonly reason = 'the same request to a mirror host';
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

/** A plain factory, as the strategy packages have (`tlsRelaxed(options)`, `curl(options)`). */
export function mirror(mirrors: Readonly<Record<string, string>>): Strategy {
  return new MirrorStrategy(mirrors);
}

async function main(): Promise<void> {
  const origin = createTcpServer((socket) => socket.resetAndDestroy()); // a hostile path: every connection reset
  const mirrorHost = createHttpServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'image/png' }).end(PNG),
  );
  const [originPort, mirrorPort] = await Promise.all([listen(origin), listen(mirrorHost)]);

  const pipeline = createPipeline({
    allowPrivateNetwork: true, // the example's servers are on 127.0.0.1
    maxRetries: 0,
    use: [mirror({ [`127.0.0.1:${originPort}`]: `127.0.0.1:${mirrorPort}` })],
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
    mirrorHost.close();
  }
}

// Run when executed (`npx tsx examples/custom-strategy.ts`), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
