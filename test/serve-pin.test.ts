/**
 * Issue 22, item 8: `detour serve --pin-resolved-address` (the built CLI, a child process) behind a
 * real HTTP CONNECT proxy: with the flag the proxy is asked for the address Detour resolved and
 * checked, never the name; without it, for the name (what Clash-style rules match on).
 */
import { type AcceleratorProxy, LAB_PNG, type Lab, startAcceleratorProxy, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { type RunningServe, startServe } from './serve-run.js';

let lab: Lab;
let proxy: AcceleratorProxy;
const running: RunningServe[] = [];

beforeAll(async () => {
  lab = await startLab();
  proxy = await startAcceleratorProxy({});
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop('SIGKILL')));
  await proxy?.close();
  await lab?.close();
});

async function fetchThroughProxy(flags: string[], tag: string) {
  const server = await startServe(
    ['--allow-private', '--proxy', proxy.url, '--strategies', 'direct', ...flags],
    { NODE_EXTRA_CA_CERTS: lab.caPath },
  );
  running.push(server);
  const url = `${lab.https.url}/image.png?n=${tag}`; // https://localhost:PORT
  const answer = await call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}`);
  expect(answer.status).toBe(200);
  expect(answer.body.equals(LAB_PNG)).toBe(true);
  return new URL(url).port;
}

describe('detour serve --pin-resolved-address', () => {
  it('the CONNECT proxy gets the checked IP with the flag, the name without it', async () => {
    const port = await fetchThroughProxy(['--pin-resolved-address'], 'pinned');
    const pinned = Object.keys(proxy.stats().connects);
    expect(pinned.length).toBeGreaterThan(0);
    for (const target of pinned)
      expect(target).toMatch(new RegExp(`^(127\\.0\\.0\\.1|\\[?::1\\]?):${port}$`));

    await fetchThroughProxy([], 'named');
    expect(proxy.stats().connects[`localhost:${port}`]).toBeGreaterThan(0);
  });
});
