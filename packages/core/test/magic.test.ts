import { describe, expect, it } from 'vitest';
import { sniffImage } from '../src/internal.js';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('sniffImage', () => {
  it.each([
    ['png', bytes('\x89PNG\r\n\x1a\n', [0, 0, 0, 13])],
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16])],
    ['gif', bytes('GIF89a', [1, 0])],
    ['gif', bytes('GIF87a', [1, 0])],
    ['webp', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')],
    ['bmp', bytes('BM', [0, 0, 0, 0])],
    ['avif', bytes([0, 0, 0, 0x1c], 'ftypavif')],
    ['heic', bytes([0, 0, 0, 0x18], 'ftypheic')],
    ['ico', bytes([0, 0, 1, 0, 1, 0])],
    [null, bytes('<!DOCTYPE html><html>')],
    [null, bytes('{"error":"x"}')],
    [null, bytes('')],
    [null, bytes([0, 0, 0, 0x18], 'ftypmp42')],
  ])('%s', (format, head) => {
    expect(sniffImage(head)).toBe(format);
  });
});
