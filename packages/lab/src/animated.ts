/**
 * Animated (and still) images built from scratch for tests: a GIF89a of `frames` frames, an
 * animated WebP (VP8X with the animation flag, ANIM, one ANMF per frame) and an APNG (acTL, fcTL,
 * IDAT, fdAT), each next to its still counterpart, so a test needs no binary fixtures.
 */
import { deflateSync } from 'node:zlib';
import { crc32, PNG_MAGIC } from './png.js';

/** A 1×1 GIF89a with `frames` frames (a looping NETSCAPE2.0 extension when more than one). */
export function makeGif(frames = 2): Buffer {
  const parts: Buffer[] = [
    Buffer.from('GIF89a', 'latin1'),
    Buffer.from([1, 0, 1, 0, 0x80, 0, 0]), // 1×1, a global colour table of 2 entries
    Buffer.from([0, 0, 0, 0xff, 0xff, 0xff]),
  ];
  if (frames > 1) {
    parts.push(
      Buffer.from([0x21, 0xff, 0x0b]),
      Buffer.from('NETSCAPE2.0', 'latin1'),
      Buffer.from([3, 1, 0, 0, 0]),
    );
  }
  for (let i = 0; i < frames; i++) {
    parts.push(
      Buffer.from([0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00]), // graphic control: 100 ms
      Buffer.from([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]), // image descriptor, no local table
      Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00]), // LZW data: one pixel
    );
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

function riffChunk(id: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/**
 * A VP8L (lossless) frame header for 1×1 (signature 0x2f, 14-bit width-1 and height-1, version 0):
 * the container is what these samples exercise, not a WebP decoder.
 */
const VP8L_1X1 = Buffer.from([0x2f, 0x00, 0x00, 0x00, 0x00, 0x88, 0x88, 0x08, 0x00]);

function webp(chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...chunks]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** An animated 1×1 WebP of `frames` frames (VP8X animation flag, ANIM, ANMF), or a still one with `frames` 1. */
export function makeWebp(frames = 2): Buffer {
  if (frames <= 1) return webp([riffChunk('VP8L', VP8L_1X1)]);
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x02; // animation
  const anim = Buffer.from([0, 0, 0, 0, 0, 0]); // background colour, loop forever
  const chunks = [riffChunk('VP8X', vp8x), riffChunk('ANIM', anim)];
  for (let i = 0; i < frames; i++) {
    const header = Buffer.alloc(16); // x, y, width-1, height-1 (24 bits each), duration (24), flags
    header.writeUIntLE(100, 12, 3);
    chunks.push(riffChunk('ANMF', Buffer.concat([header, riffChunk('VP8L', VP8L_1X1)])));
  }
  return webp(chunks);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function frameControl(sequence: number): Buffer {
  const fc = Buffer.alloc(26);
  fc.writeUInt32BE(sequence, 0);
  fc.writeUInt32BE(1, 4); // width
  fc.writeUInt32BE(1, 8); // height
  fc.writeUInt16BE(1, 20); // delay 1/10 s
  fc.writeUInt16BE(10, 22);
  return pngChunk('fcTL', fc);
}

/** A 1×1 APNG of `frames` frames (acTL before IDAT; fcTL and fdAT for each later frame). */
export function makeApng(frames = 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8;
  ihdr[9] = 2; // RGB
  const pixels = (i: number) => deflateSync(Buffer.from([0, i % 2 ? 0xff : 0, 0x80, 0]));
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(frames, 0);
  const parts = [
    PNG_MAGIC,
    pngChunk('IHDR', ihdr),
    pngChunk('acTL', actl),
    frameControl(0),
    pngChunk('IDAT', pixels(0)),
  ];
  let sequence = 1;
  for (let i = 1; i < frames; i++) {
    parts.push(frameControl(sequence++));
    const seq = Buffer.alloc(4);
    seq.writeUInt32BE(sequence++, 0);
    parts.push(pngChunk('fdAT', Buffer.concat([seq, pixels(i)])));
  }
  parts.push(pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
