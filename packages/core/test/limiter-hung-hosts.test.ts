/**
 * Issue 22 item 6: hosts that hang cannot starve other hosts. Eight real servers on 127.0.0.2 …
 * 127.0.0.9 accept connections and never answer; 64 fetches to them (8 each, the default
 * per-host limit) must leave global slots for a healthy origin on 127.0.0.1, whose fetch starts
 * at once, and a healthy host still uses every slot of its own.
 */

import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { LAB_PNG } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyLimiter, createPipeline, type DetourError } from '../src/internal.js';

const hung: Array<{ server: Server; url: string; sockets: Set<Socket> }> = [];
let healthy: HttpServer;
let healthyUrl: string;

beforeAll(async () => {
  for (let i = 2; i <= 9; i++) {
    const sockets = new Set<Socket>();
    // Accepts, reads the request, never answers.
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, `127.0.0.${i}`, resolve));
    const { port } = server.address() as AddressInfo;
    hung.push({ server, url: `http://127.0.0.${i}:${port}/image.png`, sockets });
  }
  healthy = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(LAB_PNG);
  });
  await new Promise<void>((resolve) => healthy.listen(0, '127.0.0.1', resolve));
  healthyUrl = `http://127.0.0.1:${(healthy.address() as AddressInfo).port}/image.png`;
});
afterAll(async () => {
  for (const { server, sockets } of hung) {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
  healthy.closeAllConnections();
  await new Promise((resolve) => healthy.close(resolve));
});

const connected = () => hung.reduce((n, h) => n + h.sockets.size, 0);

describe('hung hosts and the limiter (issue 22 item 6)', () => {
  it('64 fetches to 8 hanging origins leave a healthy origin its slot: its fetch starts at once', async () => {
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      proxy: false,
      strategies: ['direct'],
      cache: false,
      circuit: false,
    });
    const stop = new AbortController();
    const stuck = hung.flatMap(({ url }) =>
      Array.from({ length: 8 }, (_, i) =>
        pipeline.fetch(`${url}?n=${i}`, { signal: stop.signal, timeoutMs: 60_000 }).then(
          () => 'answered',
          (e: DetourError) => e.failureClass,
        ),
      ),
    );
    // Wait until the hanging servers hold every connection the limiter lets through.
    for (let i = 0; i < 200 && connected() < 50; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 200)); // and nothing more comes
    const held = connected();
    // Hosts with a fetch running take slots only up to global - reserve (64 - 16 = 48: six hosts of
    // eight); the last two hosts get their first slot each (50), and 14 slots stay free.
    expect(held).toBe(50);
    // The healthy origin's fetch starts at once (a queue wait would fail this 3 s deadline).
    const started = performance.now();
    const ok = await pipeline.fetch(healthyUrl, { timeoutMs: 3000 });
    const ms = performance.now() - started;
    expect(ok.body.equals(LAB_PNG)).toBe(true);
    console.log(`healthy fetch beside ${held} hung connections: ${ms.toFixed(1)} ms`);
    stop.abort();
    expect(new Set(await Promise.all(stuck))).toEqual(new Set(['aborted']));
    await pipeline.close();
  }, 30_000);

  it('a healthy host still uses the reserved slots once it has answered', async () => {
    const limiter = new ConcurrencyLimiter({ global: 4, perHost: 4, reserve: 2 });
    const first = await limiter.acquire('a');
    const second = await limiter.acquire('a');
    // 2 running, 2 free, both reserved: host a has not answered yet, so it waits.
    let third: ((ok?: boolean) => void) | undefined;
    const waiting = limiter.acquire('a').then((r) => {
      third = r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBeUndefined();
    first(true); // a fetch of host a finished well: a answers
    await waiting;
    expect(limiter.active).toBe(2);
    const fourth = await limiter.acquire('a'); // in the reserved zone, granted at once now
    expect(limiter.activeFor('a')).toBe(3);
    second(true);
    third!(true);
    fourth(true);
    expect(limiter.active).toBe(0);
  });
});
