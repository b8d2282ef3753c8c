/**
 * A layer of your own, without touching @detour/core: `metrics` counts every fetch by how it was
 * answered (strategy, from the cache or not, failure class) and times it. It starts its own server
 * on 127.0.0.1 (an image and a 404), fetches a few times and prints what the layer saw.
 *
 *   npx tsx examples/metrics-layer.ts
 */
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createPipeline, DetourError, type Layer } from '@detour/core';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** Counts and total time per outcome label; a real bot would feed prom-client or OpenTelemetry. */
export class Metrics {
  readonly counts = new Map<string, { n: number; ms: number }>();

  /** The layer: it sees every fetch (cache hits and shared downloads included) and changes nothing. */
  readonly layer: Layer = (next) => async (call) => {
    const started = performance.now();
    try {
      const outcome = await next(call);
      const { strategy, fromCache, degraded } = outcome.info;
      this.#add(`ok ${strategy}${fromCache ? ' (cache)' : ''}${degraded ? ' (degraded)' : ''}`, started);
      return outcome;
    } catch (error) {
      this.#add(`failed ${error instanceof DetourError ? error.failureClass : 'unknown'}`, started);
      throw error;
    }
  };

  #add(label: string, started: number): void {
    const entry = this.counts.get(label) ?? { n: 0, ms: 0 };
    entry.n++;
    entry.ms += performance.now() - started;
    this.counts.set(label, entry);
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function main(): Promise<void> {
  const server = createServer((req, res) => {
    if (req.url === '/sticker.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else res.writeHead(404).end('not here');
  });
  const port = await listen(server);
  const metrics = new Metrics();
  const pipeline = createPipeline({
    allowPrivateNetwork: true, // the example's server is on 127.0.0.1
    layers: [metrics.layer],
  });
  try {
    for (let i = 0; i < 3; i++) await pipeline.fetch(`http://127.0.0.1:${port}/sticker.png`);
    await pipeline.fetch(`http://127.0.0.1:${port}/gone.png`).catch(() => {});
    for (const [label, { n, ms }] of metrics.counts) {
      console.log(
        `${label.padEnd(22)} ${String(n).padStart(3)} fetches, ${(ms / n).toFixed(1)} ms on average`,
      );
    }
  } finally {
    await pipeline.close();
    server.close();
  }
}

// Run when executed (`npx tsx examples/metrics-layer.ts`), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
