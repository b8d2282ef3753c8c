import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlackHoleProxy, startBlackHoleProxy } from '../src/index.js';

let hole: BlackHoleProxy;
beforeAll(async () => {
  hole = await startBlackHoleProxy();
});
afterAll(async () => {
  await hole?.close();
});

describe('black hole proxy', () => {
  it('accepts a connection, reads the CONNECT, never answers; counts open connections', async () => {
    const socket = connect(hole.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
    });
    socket.write('CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toBe(0);
    expect(socket.destroyed).toBe(false);
    expect(hole.accepted()).toBe(1);
    expect(hole.open()).toBe(1);
    socket.destroy();
    for (let i = 0; i < 50 && hole.open() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(hole.open()).toBe(0);
    expect(hole.socksUrl).toBe(`socks5://127.0.0.1:${hole.port}`);
  });
});
