import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { BodyGuard, type BodyRules } from '../src/body/body.js';
import { readBody } from '../src/body/read-body.js';
import { AttemptSignal } from '../src/run/attempt-signal.js';

const PNG = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(100, 7)]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const rules = (extra: Partial<BodyRules> = {}): BodyRules => ({ maxBytes: 1 << 20, expect: 'any', ...extra });
/** A body in chunks of `size` bytes (a head smaller than SNIFF_BYTES is held back across chunks). */
const chunked = (body: Buffer, size: number) =>
  Readable.from(
    Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size)),
  );

/** What the stream path (the guard piped, as stream() and toFile() use it) makes of the same body. */
async function throughStream(body: Buffer, size: number, r: BodyRules, length: number | null) {
  const guard = new BodyGuard(r, length);
  const out: Buffer[] = [];
  const sink = new PassThrough().on('data', (c: Buffer) => out.push(c));
  await pipeline(chunked(body, size), guard, sink);
  return { body: Buffer.concat(out), sha256: guard.sha256, format: guard.format, bytes: guard.bytes };
}

describe('readBody (the guard without its stream)', () => {
  it.each([1, 7, 39, 40, 64, 1000])(
    'keeps, counts, hashes and sniffs like the stream path (chunks of %i)',
    async (size) => {
      for (const kind of ['any', 'image'] as const) {
        const guard = new BodyGuard(rules({ expect: kind }), PNG.length);
        const body = await readBody(chunked(PNG, size), guard, new AbortController().signal);
        const streamed = await throughStream(PNG, size, rules({ expect: kind }), PNG.length);
        expect(body.equals(PNG)).toBe(true);
        expect(guard.sha256).toBe(sha(PNG));
        expect({ sha256: guard.sha256, format: guard.format, bytes: guard.bytes }).toEqual({
          sha256: streamed.sha256,
          format: streamed.format,
          bytes: streamed.bytes,
        });
        await expect(guard.verdict).resolves.toBeUndefined();
      }
    },
  );

  it('an empty body hashes as empty', async () => {
    const guard = new BodyGuard(rules(), 0);
    const body = await readBody(Readable.from([]), guard, new AbortController().signal);
    expect(body.length).toBe(0);
    expect(guard.sha256).toBe(sha(Buffer.alloc(0)));
  });

  it.each([
    [
      'not the expected kind',
      rules({ expect: 'image' }),
      null,
      'DETOUR_NOT_AN_IMAGE',
      Buffer.from('<html>not an image at all, just some text here</html>'),
    ],
    ['over the limit', rules({ maxBytes: 50 }), null, 'DETOUR_TOO_LARGE', PNG],
    ['shorter than Content-Length', rules(), PNG.length + 1, 'DETOUR_LENGTH_MISMATCH', PNG],
    ['not the expected size', rules({ expectedBytes: 10 }), null, 'DETOUR_SIZE_MISMATCH', PNG],
  ])('fails with the rule (%s) and destroys the body', async (_name, r, length, code, bytes) => {
    const guard = new BodyGuard(r, length);
    const source = chunked(bytes, 16);
    await expect(readBody(source, guard, new AbortController().signal)).rejects.toMatchObject({ code });
    expect(source.destroyed).toBe(true);
  });

  it('a head of the wrong kind rejects the verdict too (what stream() waits on)', async () => {
    const guard = new BodyGuard(rules({ expect: 'image' }), null);
    const html = Buffer.from('<html>not an image at all, just some text here</html>');
    await expect(readBody(chunked(html, 8), guard, new AbortController().signal)).rejects.toThrow();
    await expect(guard.verdict).rejects.toMatchObject({ code: 'DETOUR_NOT_AN_IMAGE' });
  });

  it('a body that closes before its end fails as cut short; an abort fails with the reason', async () => {
    const cut = new PassThrough();
    const pending = readBody(cut, new BodyGuard(rules(), null), new AbortController().signal);
    cut.write(PNG);
    cut.destroy();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });

    const controller = new AbortController();
    const slow = new PassThrough();
    const aborted = readBody(slow, new BodyGuard(rules(), null), controller.signal);
    slow.write(PNG);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(slow.destroyed).toBe(true);
  });

  it("an attempt's signal: the reader adds no EventTarget listener, and its abort still stops the body", async () => {
    const caller = new AbortController();
    const attempt = new AttemptSignal(Date.now() + 60_000, caller.signal);
    const slow = new PassThrough();
    const aborted = readBody(slow, new BodyGuard(rules(), null), attempt.signal);
    expect(getEventListeners(attempt.signal, 'abort')).toHaveLength(0);
    slow.write(PNG);
    caller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(slow.destroyed).toBe(true);
    attempt.dispose();
  });

  it('a one-chunk body that is a view into a larger allocation is copied to its own memory', async () => {
    const big = Buffer.alloc(1000, 1);
    const view = big.subarray(100, 300);
    const body = await readBody(
      Readable.from([view]),
      new BodyGuard(rules(), null),
      new AbortController().signal,
    );
    expect(body.equals(view)).toBe(true);
    expect(body.buffer).not.toBe(big.buffer);
  });
});
