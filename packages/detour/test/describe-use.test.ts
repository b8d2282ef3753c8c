/**
 * `describeStrategies(options)` names what a pipeline built from the same options registers,
 * strategies added with `use` (instances and plugins) included (issue 23 item 11): the pipeline
 * `createDetour` really builds is the reference, and a real fetch shows the added strategy runs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttemptRequest,
  type AttemptResponse,
  asPlugin,
  type Strategy,
  strictAttempt,
} from '@detour/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetour, type DetourOptions, describeStrategies } from '../src/index.js';

/** A strategy of a caller's own: the same request to another port (a mirror). */
function mirror(name: string, port: () => number): Strategy {
  return {
    name,
    stage: 'fallback',
    reason: 'the same request to a mirror',
    rescues: 'any',
    attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
      const url = new URL(req.url);
      url.port = String(port());
      return strictAttempt(req, signal, { url });
    },
  };
}

let origin: Server;
let mirrorServer: Server;
beforeAll(async () => {
  origin = createServer((_req, res) => res.writeHead(503).end());
  mirrorServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/plain' }).end('mirror'),
  );
  await Promise.all(
    [origin, mirrorServer].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))),
  );
});
afterAll(async () => {
  await Promise.all(
    [origin, mirrorServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

describe('describeStrategies(options) with `use`', () => {
  it('lists instances and plugins added with use, as the pipeline built from the same options holds them', async () => {
    const port = () => (mirrorServer.address() as AddressInfo).port;
    const options: DetourOptions = {
      proxy: false,
      env: {},
      allowPrivateNetwork: true,
      use: [mirror('mirror-a', port), asPlugin(mirror('mirror-b', port))],
    };
    const described = describeStrategies(options);
    expect(described.map((s) => s.name)).toContain('mirror-a');
    expect(described.map((s) => s.name)).toContain('mirror-b');
    expect(described.find((s) => s.name === 'mirror-b')).toEqual({
      name: 'mirror-b',
      stage: 'fallback',
      reason: 'the same request to a mirror',
    });
    const detour = await createDetour(options);
    try {
      expect(described).toEqual(detour.describeStrategies());
      // The added strategies are planned and run: the origin fails, the mirror answers.
      const result = await detour.fetch(`http://127.0.0.1:${(origin.address() as AddressInfo).port}/x`, {
        strategies: ['direct', 'mirror-b'],
      });
      expect(result.strategy).toBe('mirror-b');
      expect(result.body.toString()).toBe('mirror');
    } finally {
      await detour.close();
    }
  });
});
