import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createPipeline, DetourError } from '../src/internal.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('attempt logging', () => {
  it('logs every attempt with strategy, route, class, code, ms — and never a credential or rkey', async () => {
    const { logger, lines } = capture();
    // Port 9 on loopback: nothing listens, so the proxy refuses for real.
    const pipeline = createPipeline({
      logger,
      allowPrivateNetwork: true,
      proxy: 'http://alice:hunter2@127.0.0.1:9',
      maxRetries: 0,
    });
    const error = await pipeline
      .fetch('https://127.0.0.1:9/pic?fileid=1&rkey=TOPSECRETRKEY', { expect: 'image' })
      .catch((e: unknown) => e);
    await pipeline.close();
    expect(error).toBeInstanceOf(DetourError);
    const detourError = error as DetourError;
    expect(detourError.attempts[0]).toMatchObject({
      strategy: 'direct',
      route: 'http://127.0.0.1:9',
      outcome: 'failed',
      failureClass: 'proxy',
    });
    const text = lines.join('');
    expect(text).toContain('"strategy":"direct"');
    expect(text).toContain('"failureClass":"proxy"');
    expect(text).toMatch(/"ms":\d+/);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('alice');
    expect(text).not.toContain('TOPSECRETRKEY');
    expect(JSON.stringify(detourError.attempts)).not.toContain('hunter2');
  });
});
