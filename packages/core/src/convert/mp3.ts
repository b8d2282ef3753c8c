/**
 * The MP3 container, read without decoding: a run of MPEG audio frames, each a 4-byte header
 * (11 sync bits, version, layer, bitrate and rate indexes, padding) and a body whose length the
 * header gives. Used to describe a converted MP3 read back from the cache (its rate and length).
 */

/** The bitrate Detour encodes MP3 at: 64 kbit/s, mono (ample for speech at every SILK rate). */
export const MP3_BITRATE = 64_000;

export interface Mp3Info {
  /** 1, 2 or 2.5 (MPEG-2.5: the 8000, 11025 and 12000 Hz rates). */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  sampleRate: number;
  channels: 1 | 2;
  /** Audio frames (a leading Xing/Info frame, which holds no audio, is not counted). */
  frames: number;
  samplesPerFrame: number;
  /** frames × samplesPerFrame / sampleRate, in ms (rounded). */
  durationMs: number;
}

const RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};
// kbit/s by bitrate index: MPEG-1 layers 1, 2, 3; MPEG-2/2.5 layer 1; MPEG-2/2.5 layers 2 and 3.
const V1 = [
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
];
const V2L1 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
const V2L23 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

interface FrameHeader {
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  sampleRate: number;
  channels: 1 | 2;
  samplesPerFrame: number;
  length: number;
}

/** The frame header at `at`, or undefined when the bytes there are none (or a free-format one). */
export function mp3FrameHeader(body: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > body.length || body[at] !== 0xff || (body[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const versionBits = (body[at + 1]! >> 3) & 3;
  const layerBits = (body[at + 1]! >> 1) & 3;
  const bitrateIndex = body[at + 2]! >> 4;
  const rateIndex = (body[at + 2]! >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) {
    return undefined;
  }
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const sampleRate = RATES[versionBits]![rateIndex]!;
  const table = version === 1 ? V1[layer - 1]! : layer === 1 ? V2L1 : V2L23;
  const bitrate = table[bitrateIndex]! * 1000;
  const padding = (body[at + 2]! >> 1) & 1;
  const samplesPerFrame = layer === 1 ? 384 : layer === 3 && version !== 1 ? 576 : 1152;
  const length =
    layer === 1
      ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
      : Math.floor(((samplesPerFrame / 8) * bitrate) / sampleRate) + padding;
  const channels = body[at + 3]! >> 6 === 3 ? 1 : 2;
  return { version, layer, sampleRate, channels, samplesPerFrame, length };
}

/** Whether the frame at `at` is a Xing/Info frame (a table of contents, no audio). */
function isInfoFrame(body: Uint8Array, at: number, header: FrameHeader): boolean {
  const side = header.version === 1 ? (header.channels === 1 ? 17 : 32) : header.channels === 1 ? 9 : 17;
  const tag = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString(
    'latin1',
    at + 4 + side,
    at + 8 + side,
  );
  return tag === 'Xing' || tag === 'Info';
}

/**
 * The format and length of an MP3 body (an ID3v2 tag skipped, its frames walked until the bytes
 * stop being frames), or undefined when it holds no frame. All frames must share one rate.
 */
export function mp3Info(body: Uint8Array): Mp3Info | undefined {
  let at = 0;
  if (body.length >= 10 && body[0] === 0x49 && body[1] === 0x44 && body[2] === 0x33) {
    at =
      10 +
      (((body[6]! & 0x7f) << 21) | ((body[7]! & 0x7f) << 14) | ((body[8]! & 0x7f) << 7) | (body[9]! & 0x7f));
  }
  let first: FrameHeader | undefined;
  let frames = 0;
  for (let header = mp3FrameHeader(body, at); header; header = mp3FrameHeader(body, at)) {
    if (at + header.length > body.length) break; // a cut last frame
    if (!first) {
      first = header;
      if (!isInfoFrame(body, at, header)) frames++;
    } else if (header.sampleRate !== first.sampleRate) {
      break;
    } else {
      frames++;
    }
    at += header.length;
  }
  if (!first || frames === 0) return undefined;
  const { version, layer, sampleRate, channels, samplesPerFrame } = first;
  const durationMs = Math.round(((frames * samplesPerFrame) / sampleRate) * 1000);
  return { version, layer, sampleRate, channels, frames, samplesPerFrame, durationMs };
}
