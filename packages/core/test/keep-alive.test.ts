// The keep-alive race (D38): a server closes an idle kept-alive connection just as the client
// sends its next request on it. Nothing was received, and a GET may go out again: the transport
// sends it on another connection. Not a failure of the route, so no strategy falls over and no
// retry with backoff is spent on it. The lab's `/drop-reused` route answers the
// first request on a connection and closes the connection, unanswered, on the next one.
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError, createPipeline, type Pipeline, type PipelineOptions } from '../src/internal.js';
import { STALE_CONNECTION_RESENDS, Transport } from '../src/transport/transport.js';

let lab: Lab;
const pipelines: Pipeline[] = [];
let serial = 0;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await lab?.close();
});

function pipeline(options: PipelineOptions = {}): Pipeline {
  const p = createPipeline({ allowPrivateNetwork: true, ca: lab.ca, ...options });
  pipelines.push(p);
  return p;
}

const url = () => `${lab.https.url}/drop-reused?n=${serial++}`;

describe('a kept-alive connection the server closed as it was reused', () => {
  it.each([
    ['direct', () => ({})],
    ['through a real HTTP CONNECT proxy (tinyproxy)', () => ({ proxy: lab.proxies.http.url })],
    ['through a real SOCKS5 proxy (microsocks)', () => ({ proxy: lab.proxies.socks.url })],
  ])(
    '%s: the next fetch is sent again on a new connection, by the same strategy, with no retry spent',
    async (_name, options) => {
      const p = pipeline(options());
      const hits = () => lab.https.routes.hits('/drop-reused');
      const before = hits();
      const first = await p.fetch(url(), { expect: 'image' });
      expect(first.strategy).toBe('direct');
      expect(p.openSockets()).toBeGreaterThan(0);
      // The pooled connection is reused: the server closes it unanswered, the transport sends again.
      const second = await p.fetch(url(), { expect: 'image' });
      expect(second.body.equals(LAB_PNG)).toBe(true);
      expect(second.strategy).toBe('direct');
      expect(second.attempts).toEqual([
        expect.objectContaining({ strategy: 'direct', route: first.attempts[0]!.route, outcome: 'ok' }),
        expect.objectContaining({ strategy: 'direct-bypass', outcome: 'skipped' }),
      ]);
      expect(second.attempts[0]!.retries).toBeUndefined();
      // Three requests reached the origin: the first, the one on the reused connection, the one sent again.
      expect(hits() - before).toBe(3);
    },
  );
});

describe('what the transport does not send again', () => {
  // One settings object for every request, as a pipeline hands them: the agents are chosen by it.
  const tls = { rejectUnauthorized: true, ca: [] as string[] };
  beforeAll(() => {
    tls.ca.push(lab.ca);
  });
  const request = (transport: Transport, base: string, path: string) =>
    transport.request(
      {
        url: new URL(`${base}${path}`),
        headers: {},
        route: { kind: 'direct' },
        tls,
        allowPrivateNetwork: true,
      },
      new AbortController().signal,
    );

  it('a connection closed on a new connection is thrown at once (the kit and the strategies judge it)', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const transport = new Transport();
    try {
      const { port } = server.address() as AddressInfo;
      const error = await request(transport, `https://127.0.0.1:${port}`, '/image.png').catch(
        (e: unknown) => e,
      );
      expect(classifyError(error).failureClass).toBe('connect-reset');
      expect(connections).toBe(1);
    } finally {
      transport.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it(`a pool of closed connections costs at most ${STALE_CONNECTION_RESENDS} sends more, then the reset is thrown`, async () => {
    const transport = new Transport();
    try {
      // Six connections, each with one answered request, wait in the pool.
      const first = await Promise.all(
        Array.from({ length: 6 }, () => request(transport, lab.https.url, `/drop-reused?n=${serial++}`)),
      );
      await Promise.all(first.map((res) => once(res.body.resume(), 'end')));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(transport.openSockets()).toBe(6);
      const before = lab.https.routes.hits('/drop-reused');
      const error = await request(transport, lab.https.url, `/drop-reused?n=${serial++}`).catch(
        (e: unknown) => e,
      );
      expect(classifyError(error).failureClass).toBe('connect-reset');
      expect(lab.https.routes.hits('/drop-reused') - before).toBe(1 + STALE_CONNECTION_RESENDS);
    } finally {
      transport.close();
    }
  });
});
