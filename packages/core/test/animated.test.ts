/**
 * `animated` on image results: GIF, animated WebP and APNG samples generated here (lab builders),
 * served by a real HTTP server on 127.0.0.1 (with lying names and types: a GIF as `x.webp`,
 * `image/webp`), fetched into memory and to files; their still counterparts are not animated, and
 * non-images carry no `animated` at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline, gifFrames, type Pipeline } from '@detour/core/internal';
import { makeApng, makeGif, makePng, makeWebp } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FILES: Record<string, { body: Buffer; type: string }> = {
  '/sticker.webp': { body: makeGif(3), type: 'image/webp' }, // a GIF under a WebP name
  '/still.gif': { body: makeGif(1), type: 'image/gif' },
  '/anim.webp': { body: makeWebp(2), type: 'image/webp' },
  '/still.webp': { body: makeWebp(1), type: 'image/webp' },
  '/anim.png': { body: makeApng(2), type: 'image/png' },
  '/still.png': { body: makePng(8), type: 'image/png' },
  '/photo.jpg': {
    body: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]),
    type: 'image/jpeg',
  },
  '/voice.amr': { body: Buffer.from('#!AMR\n\x3c\x00\x00\x00', 'latin1'), type: 'audio/amr' },
};

let server: Server;
let base: string;
let dir: string;
let pipeline: Pipeline;

beforeAll(async () => {
  server = createServer((req, res) => {
    const file = FILES[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'detour-animated-'));
  pipeline = createPipeline({ allowPrivateNetwork: true, strategies: ['direct'], cache: false });
});
afterAll(async () => {
  await pipeline?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cases: Array<[string, string, boolean | undefined]> = [
  ['/sticker.webp', 'gif', true],
  ['/still.gif', 'gif', false],
  ['/anim.webp', 'webp', true],
  ['/still.webp', 'webp', false],
  ['/anim.png', 'png', true],
  ['/still.png', 'png', false],
  ['/photo.jpg', 'jpeg', false],
  ['/voice.amr', 'amr', undefined],
];

describe('animated', () => {
  it('the samples are what they say: frames counted in the GIFs', () => {
    expect(gifFrames(makeGif(3))).toBe(3);
    expect(gifFrames(makeGif(1))).toBe(1);
    expect(makeApng(2).includes(Buffer.from('acTL'))).toBe(true);
    expect(makeWebp(2).includes(Buffer.from('ANIM'))).toBe(true);
  });

  it.each(cases)('fetch %s: format %s, animated %s', async (path, format, animated) => {
    const result = await pipeline.fetch(`${base}${path}`);
    expect(result.format).toBe(format);
    expect(result.animated).toBe(animated);
    if (animated === undefined) expect('animated' in result).toBe(false);
  });

  it.each(cases)('toFile %s: format %s, animated %s', async (path, format, animated) => {
    const result = await pipeline.toFile(`${base}${path}`, join(dir, path.slice(1)));
    expect(result).toMatchObject({ format });
    expect(result.animated).toBe(animated);
  });

  it('a GIF cut after its first frame counts one frame: not claimed animated', async () => {
    const gif = makeGif(2);
    const cut = gif.subarray(0, gif.indexOf(Buffer.from([0x21, 0xf9]), 40));
    expect(gifFrames(cut)).toBe(1);
  });
});
