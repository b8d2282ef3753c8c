/**
 * `detour serve` in its own process (run with tsx over the source packages) for figure 8: the
 * service as bots see it. Sends `{ url }` over IPC once listening; closes on `{ close: true }` or
 * when the parent goes away.
 */
import { startServer } from '@detour/serve';

const server = await startServer({
  port: 0,
  redetectMs: 0,
  detour: { allowPrivateNetwork: true, proxy: false, cache: false, logLevel: 'silent' },
});
const stop = async () => {
  await server.close(2000);
  process.exit(0);
};
process.on('message', (message: { close?: boolean }) => {
  if (message?.close) void stop();
});
process.on('disconnect', () => void stop());
process.send?.({ url: server.url });
