/**
 * Whether an image is animated, read from its structure (no decoding): a GIF with more than one
 * image descriptor, a WebP with an `ANIM` chunk (or the animation flag of `VP8X`), a PNG with an
 * `acTL` chunk before its first `IDAT` (APNG). The format is the one the first bytes show, so a
 * GIF named `.webp` is still a GIF here.
 */
import type { MediaFormat } from './magic.js';

const latin1 = (body: Uint8Array, start: number, length: number) =>
  String.fromCharCode(...body.subarray(start, start + length));
const u32be = (b: Uint8Array, at: number) =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const u32le = (b: Uint8Array, at: number) =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** Image formats that can be animated (the others are never). */
export const ANIMATABLE: ReadonlySet<MediaFormat> = new Set<MediaFormat>(['gif', 'webp', 'png']);
const IMAGES: ReadonlySet<MediaFormat> = new Set<MediaFormat>([
  'png',
  'jpeg',
  'gif',
  'webp',
  'bmp',
  'avif',
  'heic',
  'ico',
]);

/** Whether `format` is an image's (results of images carry `animated`). */
export function isImageFormat(format: MediaFormat | null): format is MediaFormat {
  return format !== null && IMAGES.has(format);
}

/**
 * `true` / `false` for an image body, `undefined` when `format` is not an image (audio, video,
 * unknown): what results report as `animated`.
 */
export function animatedOf(format: MediaFormat | null, body: Uint8Array): boolean | undefined {
  if (!isImageFormat(format)) return undefined;
  if (format === 'gif') return gifFrames(body, 2) > 1;
  if (format === 'webp') return webpAnimated(body);
  if (format === 'png') return apng(body);
  return false;
}

/** Image descriptors in a GIF, counted up to `stop` (a cut or malformed file counts what it holds). */
export function gifFrames(body: Uint8Array, stop = Number.POSITIVE_INFINITY): number {
  if (body.length < 13) return 0;
  let at = 13;
  const packed = body[10]!;
  if (packed & 0x80) at += 3 * 2 ** ((packed & 0x07) + 1); // global colour table
  let frames = 0;
  while (at < body.length && frames < stop) {
    const introducer = body[at]!;
    if (introducer === 0x3b) break; // trailer
    if (introducer === 0x21) {
      at = skipSubBlocks(body, at + 2); // extension: introducer, label, sub-blocks
    } else if (introducer === 0x2c) {
      frames++;
      if (at + 10 > body.length) break;
      const local = body[at + 9]!;
      at += 10;
      if (local & 0x80) at += 3 * 2 ** ((local & 0x07) + 1); // local colour table
      at = skipSubBlocks(body, at + 1); // LZW minimum code size, then the data sub-blocks
    } else {
      break; // not a GIF block: stop counting
    }
  }
  return frames;
}

/** The offset after a run of GIF sub-blocks (each a length byte and that many bytes, ended by 0). */
function skipSubBlocks(body: Uint8Array, at: number): number {
  let offset = at;
  while (offset < body.length) {
    const size = body[offset]!;
    offset += 1 + size;
    if (size === 0) return offset;
  }
  return body.length;
}

/** A WebP whose `VP8X` header sets the animation flag or that holds an `ANIM` / `ANMF` chunk. */
function webpAnimated(body: Uint8Array): boolean {
  let at = 12;
  while (at + 8 <= body.length) {
    const id = latin1(body, at, 4);
    if (id === 'VP8X' && at + 9 <= body.length && (body[at + 8]! & 0x02) !== 0) return true;
    if (id === 'ANIM' || id === 'ANMF') return true;
    const size = u32le(body, at + 4);
    at += 8 + size + (size % 2);
  }
  return false;
}

/** A PNG with an animation control chunk (`acTL`) before its first image data: an APNG. */
function apng(body: Uint8Array): boolean {
  let at = 8;
  while (at + 8 <= body.length) {
    const type = latin1(body, at + 4, 4);
    if (type === 'acTL') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    at += 12 + u32be(body, at);
  }
  return false;
}
