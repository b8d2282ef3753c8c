/**
 * The SILK v3 container, read without decoding: a header (`#!SILK_V3`, after one `0x02` byte in
 * Tencent's form), then packets, each a little-endian 16-bit length and that many bytes. A
 * negative length ends the stream, as in the reference decoder. Walking it first bounds the work
 * (20 ms a packet at least) and refuses garbage before it reaches the WASM decoder.
 */

const HEADER = '#!SILK_V3';
/** Largest packet the reference decoder reads (`MAX_BYTES_PER_FRAME` × 5 frames, rounded up). */
export const MAX_SILK_PACKET = 1280;
/** Time one packet covers at least (SILK frames are 20 ms). */
export const SILK_PACKET_MS = 20;

export interface SilkLayout {
  /** Where the first packet starts (9 plain, 10 in Tencent's form). */
  offset: number;
  packets: number;
  /** `packets × 20 ms`: a lower bound of the clip's length, known before decoding. */
  minDurationMs: number;
}

/** Why a body is not a SILK stream the decoder may be given, or its layout. */
export function silkLayout(body: Uint8Array): SilkLayout | string {
  const offset = body[0] === 0x02 ? 1 : 0;
  for (let i = 0; i < HEADER.length; i++) {
    if (body[offset + i] !== HEADER.charCodeAt(i)) return 'no #!SILK_V3 header';
  }
  let at = offset + HEADER.length;
  let packets = 0;
  while (at + 2 <= body.length) {
    const size = ((body[at]! | (body[at + 1]! << 8)) << 16) >> 16; // int16, little-endian
    if (size < 0) break; // the stream's end marker
    if (size === 0 || size > MAX_SILK_PACKET) return `packet ${packets + 1} declares ${size} bytes`;
    if (at + 2 + size > body.length) {
      // A cut last packet is dropped, as the reference decoder does; a cut first one is no clip.
      if (packets === 0) return 'the first packet is cut short';
      break;
    }
    at += 2 + size;
    packets++;
  }
  if (packets === 0) return 'no audio packet';
  return { offset: offset + HEADER.length, packets, minDurationMs: packets * SILK_PACKET_MS };
}
