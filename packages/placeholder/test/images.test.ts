import { inflateSync } from 'node:zlib';
import { sniffImage } from '@detour/core/internal';
import { describe, expect, it } from 'vitest';
import { pickImage, TRANSPARENT_GIF, TRANSPARENT_PNG, TRANSPARENT_WEBP } from '../src/index.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (data: Buffer) => {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

describe('built-in images are valid files', () => {
  it('PNG: signature, CRCs, 1×1 RGBA, one fully transparent pixel', () => {
    const png = TRANSPARENT_PNG.body;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const chunks: Record<string, Buffer> = {};
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const type = png.subarray(at + 4, at + 8).toString('latin1');
      const data = png.subarray(at + 8, at + 8 + length);
      expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
      chunks[type] = data;
      at += 12 + length;
    }
    expect(Object.keys(chunks)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = chunks.IHDR!;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([1, 1, 8, 6]);
    expect(inflateSync(chunks.IDAT!)).toEqual(Buffer.from([0, 0, 0, 0, 0])); // filter 0, RGBA 0,0,0,0
  });

  it('GIF: 89a, 1×1, transparent colour index 0, trailer', () => {
    const gif = TRANSPARENT_GIF.body;
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect([gif.readUInt16LE(6), gif.readUInt16LE(8)]).toEqual([1, 1]);
    const gce = gif.indexOf(Buffer.from([0x21, 0xf9, 0x04]));
    expect(gce).toBeGreaterThan(0);
    expect(gif[gce + 3]! & 1).toBe(1); // transparency flag
    expect(gif[gce + 6]).toBe(0); // transparent index
    expect(gif.at(-1)).toBe(0x3b);
  });

  it('WebP: RIFF sizes agree, VP8L 1×1 with alpha', () => {
    const webp = TRANSPARENT_WEBP.body;
    expect(webp.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(webp.readUInt32LE(4)).toBe(webp.length - 8);
    expect(webp.subarray(8, 16).toString('latin1')).toBe('WEBPVP8L');
    const size = webp.readUInt32LE(16);
    expect(size + (size % 2)).toBe(webp.length - 20); // chunks are padded to even sizes
    expect(webp[20]).toBe(0x2f); // VP8L signature
    const bits = webp.readUInt32LE(21);
    expect([(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, (bits >>> 28) & 1]).toEqual([1, 1, 1]);
  });

  it.each([
    [TRANSPARENT_PNG, 'png'],
    [TRANSPARENT_GIF, 'gif'],
    [TRANSPARENT_WEBP, 'webp'],
  ])('core sniffs %#: %s, as the body guard will', (image, format) => {
    expect(sniffImage(image.body)).toBe(format);
    expect(image.contentType).toBe(`image/${format}`);
  });
});

describe('pickImage', () => {
  const CHROME = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';
  it.each([
    ['https://a.example/x.png', undefined, 'image/png'],
    ['https://a.example/x.GIF', undefined, 'image/gif'],
    ['https://a.example/sticker.webp?x=1', CHROME, 'image/webp'],
    ['https://a.example/x.jpg', undefined, 'image/png'],
    ['https://a.example/download?rkey=1', undefined, 'image/png'],
    ['https://a.example/download?rkey=1', CHROME, 'image/png'],
    ['https://a.example/download', 'image/webp', 'image/webp'],
    ['https://a.example/download', 'image/gif;q=0.5, image/webp;q=0.9', 'image/webp'],
    ['https://a.example/download', 'image/gif', 'image/gif'],
    ['https://a.example/download', 'image/png;q=0, image/gif', 'image/gif'],
    ['https://a.example/download', 'image/jpeg', 'image/png'],
    ['https://a.example/x.gif', 'image/png', 'image/gif'],
  ])('%s, Accept %s → %s', (url, accept, type) => {
    expect(pickImage(new URL(url), accept).contentType).toBe(type);
  });
});
