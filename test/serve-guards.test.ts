/**
 * Issue 22, items 3 and 9: `detour serve` (the built CLI, a child process) against real slow
 * sockets. Unauthenticated clients are answered 401 and cut off before their body is read; slow
 * headers and bodies run into deadlines; the connection cap refuses and logs; under a flood of
 * slow unauthenticated clients /healthz and authorized fetches keep answering. Without a token,
 * the DNS-rebinding guard: only the service's own address or localhost as Host, no foreign page.
 */
import { connect, type Socket } from 'node:net';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { type RunningServe, startServe } from './serve-run.js';

let lab: Lab;
const running: RunningServe[] = [];
const sockets = new Set<Socket>();
const serve = async (args: string[]) => {
  const server = await startServe(['--allow-private', '--no-proxy', ...args], {
    NODE_EXTRA_CA_CERTS: lab.caPath,
  });
  running.push(server);
  return server;
};
const portOf = (server: RunningServe) => Number(new URL(server.url).port);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(running.map((s) => s.stop('SIGKILL')));
  await lab?.close();
});

/** A raw TCP connection to the service; tracks what it receives and when it is closed. */
interface Raw {
  socket: Socket;
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
}
function raw(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    let text = '';
    let closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {}); // a reset by the server is one of the expected ends
    const done = new Promise<void>((r) =>
      socket.once('close', () => {
        closed = true;
        sockets.delete(socket);
        r();
      }),
    );
    socket.once('connect', () =>
      resolve({ socket, received: () => text, closed: done, isClosed: () => closed }),
    );
    socket.once('error', reject);
  });
}

/** Write `text` one byte every `ms` until the socket closes or `stop` says so; returns bytes sent. */
async function trickle(conn: Raw, text: string, ms: number, stop: () => boolean = () => false) {
  let sent = 0;
  for (const byte of text) {
    if (conn.isClosed() || stop()) break;
    conn.socket.write(byte);
    sent++;
    await sleep(ms);
  }
  return sent;
}

const postHead = (port: number, bytes: number, extra = '') =>
  `POST /v1/fetch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\n${extra}\r\n`;

describe('detour serve with a token: unauthenticated clients are dropped at once', () => {
  it('answers 401 and closes while the client is still sending its body (never reads it)', async () => {
    const server = await serve(['--token', 'sekrit']);
    const port = portOf(server);
    const conn = await raw(port);
    conn.socket.write(postHead(port, 1_000_000));
    const sent = await trickle(conn, 'x'.repeat(200), 20);
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(conn.received()).toMatch(/connection: close/i);
    expect(conn.received()).toContain('DETOUR_UNAUTHORIZED');
    // Closed long before the 200 body bytes (one per 20 ms) went out: the body was not waited for.
    expect(sent).toBeLessThan(200);
  });

  it('slow headers and slow bodies run into --header-timeout and --body-timeout', async () => {
    const server = await serve(['--token', 'sekrit', '--header-timeout', '800', '--body-timeout', '800']);
    const port = portOf(server);
    const slowHead = await raw(port);
    const headSent = await trickle(slowHead, postHead(port, 10).repeat(20), 50);
    await slowHead.closed;
    expect(headSent).toBeLessThan(postHead(port, 10).length * 20);

    const slowBody = await raw(port);
    slowBody.socket.write(postHead(port, 1000, 'Authorization: Bearer sekrit\r\n'));
    const bodySent = await trickle(slowBody, 'y'.repeat(1000), 20);
    await slowBody.closed;
    expect(bodySent).toBeLessThan(1000);
    expect(slowBody.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 30_000);

  it('the connection cap refuses new connections and says so on stderr', async () => {
    const server = await serve(['--token', 'sekrit', '--max-connections', '8']);
    const port = portOf(server);
    const held = await Promise.all(Array.from({ length: 12 }, () => raw(port)));
    await sleep(300);
    expect(held.filter((c) => c.isClosed()).length).toBeGreaterThanOrEqual(4);
    expect(server.stderr()).toMatch(/connection cap reached \(8 open, --max-connections\)/);
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await sleep(100);
    expect((await call(`${server.url}/healthz`)).status).toBe(200);
  });

  it('under a flood of slow unauthenticated clients, /healthz and authorized fetches keep answering', async () => {
    const server = await serve(['--token', 'sekrit', '--max-connections', '300', '--header-timeout', '1000']);
    const port = portOf(server);
    let flooding = true;
    let bodyFloods = 0;
    let headFloods = 0;
    // 10 clients that each open a connection every 10 ms, send headers without a token and trickle
    // a 1 MB body on it, never hanging up themselves: without the cut-off they reach the cap in
    // under a second and /healthz is refused.
    const trickles: Promise<unknown>[] = [];
    const bodyConns: Array<Raw & { at: number }> = [];
    const bodyFlooders = Array.from({ length: 10 }, async () => {
      while (flooding) {
        const conn = await raw(port).catch(() => undefined);
        if (conn) {
          bodyConns.push({ ...conn, at: Date.now() });
          conn.socket.write(postHead(port, 1_000_000));
          trickles.push(trickle(conn, 'z'.repeat(10_000), 50, () => !flooding));
        }
        await sleep(10);
      }
    });
    // 150 slowloris clients: headers one byte every 100 ms, never complete within the deadline.
    const headFlooders = Array.from({ length: 150 }, async () => {
      while (flooding) {
        const conn = await raw(port).catch(() => undefined);
        if (!conn) continue;
        await trickle(conn, postHead(port, 10).repeat(10), 100, () => !flooding);
        conn.socket.destroy();
        headFloods++;
      }
    });
    await sleep(1500);
    const health: number[] = [];
    const fetches: number[] = [];
    const slowest = { health: 0, fetch: 0 };
    for (let i = 0; i < 8; i++) {
      let started = Date.now();
      health.push((await call(`${server.url}/healthz`)).status);
      slowest.health = Math.max(slowest.health, Date.now() - started);
      started = Date.now();
      const answer = await call(
        `${server.url}/v1/fetch?url=${encodeURIComponent(`${lab.https.url}/image.png?n=${i}`)}`,
        { headers: { authorization: 'Bearer sekrit' } },
      );
      slowest.fetch = Math.max(slowest.fetch, Date.now() - started);
      fetches.push(answer.status);
      expect(answer.body.equals(LAB_PNG)).toBe(true);
      await sleep(250);
    }
    // Connections opened more than 2 s ago and still open: kept while they trickle.
    const stillOpen = bodyConns.filter((c) => !c.isClosed() && Date.now() - c.at > 2000).length;
    const answered401 = bodyConns.filter((c) => c.isClosed() && /^HTTP\/1\.1 401 /.test(c.received())).length;
    bodyFloods = bodyConns.length;
    flooding = false;
    await Promise.all([...bodyFlooders, ...headFlooders]);
    await Promise.all(trickles);
    for (const c of bodyConns) c.socket.destroy();
    console.log(
      `flood: ${bodyFloods} body-flood connections (${answered401} answered 401 and closed by the service, ${stillOpen} older than 2 s still open), ${headFloods} slowloris connections cut; slowest /healthz ${slowest.health} ms, slowest fetch ${slowest.fetch} ms`,
    );
    expect(health).toEqual(Array(8).fill(200));
    expect(fetches).toEqual(Array(8).fill(200));
    // Every slowloris connection was cut by the header deadline at least once; the body flooders'
    // connections were answered 401 and closed, not kept while they trickled.
    expect(headFloods).toBeGreaterThanOrEqual(150);
    expect(answered401).toBeGreaterThan(100);
    expect(stillOpen).toBeLessThanOrEqual(10);
    expect(await server.stop('SIGTERM')).toBe(0);
  }, 60_000);
});

describe('detour serve without a token: the DNS-rebinding guard', () => {
  it('accepts only its own address or localhost as Host (421 otherwise); with a token any Host', async () => {
    const server = await serve([]);
    const port = portOf(server);
    const health = (headers: Record<string, string>) => call(`${server.url}/healthz`, { headers });
    expect((await health({})).status).toBe(200);
    expect((await health({ host: `localhost:${port}` })).status).toBe(200);
    expect((await health({ host: `LOCALHOST.:${port}` })).status).toBe(200);
    for (const host of [
      `rebind.example:${port}`,
      `127.0.0.2:${port}`,
      `[::1]:${port}`,
      'localhost.rebind.example',
    ]) {
      const refused = await health({ host });
      expect(refused.status, host).toBe(421);
      expect(refused.json().error).toMatchObject({ code: 'DETOUR_FOREIGN_HOST' });
    }
    const before = lab.https.routes.hits('/image.png');
    const fetched = await call(
      `${server.url}/v1/fetch?url=${encodeURIComponent(`${lab.https.url}/image.png`)}`,
      { headers: { host: `attacker.example:${port}` } },
    );
    expect(fetched.status).toBe(421);
    expect(lab.https.routes.hits('/image.png')).toBe(before);

    const withToken = await serve(['--token', 'sekrit']);
    const foreign = await call(`${withToken.url}/healthz`, { headers: { host: 'service.lan:7070' } });
    expect(foreign.status).toBe(200);
  });

  it('refuses browser requests from a foreign page (Origin, Sec-Fetch-Site): 403', async () => {
    const server = await serve([]);
    const port = portOf(server);
    const post = (headers: Record<string, string>) =>
      call(`${server.url}/v1/fetch`, { headers, body: { url: `${lab.https.url}/image.png?n=origin` } });
    const before = lab.https.routes.hits('/image.png');
    for (const headers of [
      { origin: 'http://rebind.example' },
      { origin: `http://rebind.example:${port}` },
      { origin: 'null' },
      { origin: `https://127.0.0.1:${port}` },
      { origin: `http://127.0.0.1:${port + 1}` },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      const refused = await post(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(refused.json().error).toMatchObject({ code: 'DETOUR_FOREIGN_ORIGIN' });
    }
    expect(lab.https.routes.hits('/image.png')).toBe(before);
    // Its own pages (an operator page served by the service) and tools that send no Origin pass.
    expect((await post({ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(
      200,
    );
    expect((await post({ origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await post({ 'sec-fetch-site': 'none' })).status).toBe(200);
  });
});
