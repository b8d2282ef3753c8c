import { createServer, type Server } from 'node:net';
import { type RunningProxy, startMicrosocks, startTinyproxy } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifyProxy, probeLocalProxies } from '../src/index.js';

let http: RunningProxy;
let socks: RunningProxy;
let silent: Server;
let silentPort: number;

beforeAll(async () => {
  [http, socks] = await Promise.all([startTinyproxy(), startMicrosocks()]);
  // A port that accepts and says nothing: not a proxy.
  silent = createServer((socket) => socket.on('error', () => {}).resume());
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  await Promise.all([http?.close(), socks?.close()]);
  await new Promise((resolve) => silent?.close(resolve));
});

describe('local proxy ports, identified by a real handshake', () => {
  it('tinyproxy speaks HTTP, microsocks SOCKS5', async () => {
    expect(await identifyProxy('127.0.0.1', http.port)).toEqual(['http']);
    expect(await identifyProxy('127.0.0.1', socks.port)).toEqual(['socks5']);
  });
  it('probes a list of ports; silent and closed ports are not proxies', async () => {
    const found = await probeLocalProxies({
      ports: [{ port: http.port, tool: 'test http' }, socks.port, silentPort, 9],
      timeoutMs: 300,
    });
    expect(found).toEqual([
      {
        host: '127.0.0.1',
        port: http.port,
        protocols: ['http'],
        url: `http://127.0.0.1:${http.port}`,
        tool: 'test http',
      },
      { host: '127.0.0.1', port: socks.port, protocols: ['socks5'], url: `socks5://127.0.0.1:${socks.port}` },
    ]);
  });
});
