/**
 * A lab in its own process (run with tsx): the servers a figure asks for, so that they do not share
 * the event loop, nor the CPU time, of the clients being measured.
 *
 * Protocol (IPC): the parent sends `{ spec }`; this process answers `{ ready: servers }` or
 * `{ unavailable: reason }`, and closes everything and exits on `{ close: true }` or when the
 * parent goes away.
 */
import type { LabServerInfo, LabServerSpec } from '../lib/lab-process.js';

type LabModule = typeof import('../../packages/lab/src/index.js');

interface Closable {
  close(): Promise<void>;
}

const running: Closable[] = [];

async function start(
  lab: LabModule,
  specs: Record<string, LabServerSpec>,
): Promise<Record<string, LabServerInfo>> {
  const info: Record<string, LabServerInfo> = {};
  // Origins first: an accelerator breaks the TLS of an origin started here.
  const ordered = Object.entries(specs).sort(
    ([, a], [, b]) => Number(a.kind === 'accelerator') - Number(b.kind === 'accelerator'),
  );
  for (const [name, spec] of ordered) {
    switch (spec.kind) {
      case 'https': {
        const origin = await lab.startHttpsOrigin();
        running.push(origin);
        info[name] = { url: origin.url, ipUrl: origin.ipUrl, port: origin.port };
        break;
      }
      case 'legacy': {
        if (typeof lab.startLegacyHttpsOrigin !== 'function')
          throw new Error('the lab has no startLegacyHttpsOrigin');
        const origin = await lab.startLegacyHttpsOrigin(spec.profile as never);
        running.push(origin);
        info[name] = { url: origin.url, ipUrl: origin.ipUrl, port: origin.port };
        break;
      }
      case 'accelerator': {
        if (typeof lab.startAcceleratorProxy !== 'function')
          throw new Error('the lab has no startAcceleratorProxy');
        const target = info[spec.breaks];
        if (!target) throw new Error(`accelerator ${name}: no origin ${spec.breaks} to break`);
        const proxy = await lab.startAcceleratorProxy({ mode: spec.mode as never, break: [target.port] });
        running.push(proxy);
        info[name] = { url: proxy.url, ipUrl: proxy.url, port: proxy.port };
        break;
      }
      case 'black-hole': {
        if (typeof lab.startBlackHoleProxy !== 'function')
          throw new Error('the lab has no startBlackHoleProxy');
        const proxy = await lab.startBlackHoleProxy();
        running.push(proxy);
        info[name] = { url: proxy.url, ipUrl: proxy.url, port: proxy.port };
        break;
      }
    }
  }
  return info;
}

async function closeAll(): Promise<void> {
  await Promise.allSettled(running.map((part) => part.close()));
  running.length = 0;
}

async function main(): Promise<void> {
  const send = (message: unknown) => process.send?.(message);
  process.on('disconnect', () => {
    void closeAll().finally(() => process.exit(0));
  });
  process.on('message', (message: { spec?: Record<string, LabServerSpec>; close?: boolean }) => {
    if (message.close) {
      void closeAll().finally(() => {
        process.disconnect?.();
        process.exit(0);
      });
      return;
    }
    if (!message.spec) return;
    const spec = message.spec;
    void (async () => {
      let lab: LabModule;
      try {
        lab = await import('../../packages/lab/src/index.js');
      } catch (error) {
        return send({ unavailable: `the lab does not load: ${(error as Error).message.split('\n')[0]}` });
      }
      try {
        const servers = await start(lab, spec);
        const certs = lab.labCerts();
        send({ ready: { servers, caPem: certs.ca.cert, caPath: certs.ca.certPath } });
      } catch (error) {
        await closeAll();
        send({ unavailable: (error as Error).message.split('\n')[0] });
      }
    })();
  });
  send({ hello: true });
}

void main();
