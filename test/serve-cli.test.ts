import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { detour } from './cli-run.js';
import { type RunningServe, startServe } from './serve-run.js';

let lab: Lab;
const running: RunningServe[] = [];
const serve = async (args: string[], env: Record<string, string> = {}) => {
  const server = await startServe(args, { NODE_EXTRA_CA_CERTS: lab.caPath, ...env });
  running.push(server);
  return server;
};
const fetchUrl = (server: RunningServe, url: string) =>
  `${server.url}/v1/fetch?url=${encodeURIComponent(url)}`;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop('SIGKILL')));
  await lab?.close();
});

/** Peak resident memory of a process (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** Resident memory of a process now (VmRSS), in MiB. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

describe('detour serve (the built CLI)', () => {
  it('prints `listening on http://HOST:PORT`, answers, and exits 0 on SIGTERM', async () => {
    const server = await serve(['--allow-private', '--no-proxy']);
    expect(server.stderr()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/m);
    const answer = await call(fetchUrl(server, `${lab.https.url}/image.png`));
    expect(answer.status).toBe(200);
    expect(answer.body.equals(LAB_PNG)).toBe(true);
    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('takes the token from DETOUR_TOKEN', async () => {
    const server = await serve(['--allow-private', '--no-proxy'], { DETOUR_TOKEN: 'from-env' });
    expect((await call(fetchUrl(server, `${lab.https.url}/image.png`))).status).toBe(401);
    const ok = await call(fetchUrl(server, `${lab.https.url}/image.png`), {
      headers: { authorization: 'Bearer from-env' },
    });
    expect(ok.status).toBe(200);
    expect(await server.stop('SIGINT')).toBe(0);
  });

  it('refuses a non-loopback bind without a token: exit 2, one line', async () => {
    const run = await detour(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/without a token/);
    const badPort = await detour(['serve', '--port', '70000']);
    expect(badPort.code).toBe(2);
  });

  it('on SIGTERM lets an in-flight download finish, refuses new connections, then exits 0', async () => {
    const server = await serve(['--allow-private', '--no-proxy', '--grace', '10000']);
    // 40 bytes, one every 50 ms: about 2 s in flight.
    const slow = call(fetchUrl(server, `${lab.http.url}/slow-drip?bytes=40&ms=50`));
    await new Promise((r) => setTimeout(r, 500));
    const exited = server.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await expect(call(`${server.url}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(40);
    expect(await exited).toBe(0);
    expect(server.stderr()).toMatch(/SIGTERM: finishing in-flight fetches/);
  });

  it('after the grace period an unfinished download is cut and the service still exits 0', async () => {
    const server = await serve(['--allow-private', '--no-proxy', '--grace', '300']);
    const slow = call(fetchUrl(server, `${lab.http.url}/slow-drip?bytes=200&ms=50`)).then(
      (answer) => `status ${answer.status}, ${answer.body.length} bytes`,
      (error: NodeJS.ErrnoException) => `error ${error.code ?? error.message}`,
    );
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await slow).not.toBe('status 200, 200 bytes');
  });

  it('streams 1 GiB without buffering it: the service grows by tens of MiB, not by the file', {
    timeout: 180_000,
  }, async () => {
    // The package itself in a plain node process: the CLI has no flag for the 30 s per-attempt
    // deadline, which a 1 GiB body can outlast on a loaded machine.
    const server = await startServe([], { NODE_EXTRA_CA_CERTS: lab.caPath }, 30_000, [
      process.execPath,
      fileURLToPath(new URL('./fixtures/serve-long-deadline.mjs', import.meta.url)),
    ]);
    running.push(server);
    const idle = rssMiB(server.child.pid!);
    const size = 1024 ** 3;
    const received = await new Promise<number>((resolve, reject) => {
      const req = request(fetchUrl(server, `${lab.http.url}/big?bytes=${size}`), (res) => {
        if (res.statusCode !== 200 || res.headers['content-length'] !== String(size)) {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.once('end', () => reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 500)}`)));
          return;
        }
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.once('end', () => resolve(bytes));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end();
    });
    expect(received).toBe(size);
    const peak = peakRssMiB(server.child.pid!);
    console.log(
      `detour serve RSS: ${idle.toFixed(1)} MiB idle, ${peak.toFixed(1)} MiB peak while streaming 1 GiB`,
    );
    // Buffering the file would add 1024 MiB; streaming adds what GC lag leaves (~40-60 MiB).
    expect(peak - idle).toBeLessThan(96);
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});
