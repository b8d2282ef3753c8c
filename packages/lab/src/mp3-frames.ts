/**
 * A test-side reading of an MP3 file, written apart from core's so each checks the other: every
 * frame header from the first byte to the last (no byte skipped, no ID3 expected), their MPEG
 * version, layer and rate, and the audio they carry (frame count × samples per frame).
 */

export interface Mp3Frames {
  /** 'MPEG-1', 'MPEG-2' or 'MPEG-2.5'. */
  version: string;
  layer: number;
  sampleRate: number;
  mono: boolean;
  /** Frames holding audio (a first frame tagged Xing or Info is a table of contents, not counted). */
  audioFrames: number;
  samplesPerFrame: number;
  durationMs: number;
  /** Whether the first frame was a Xing/Info frame. */
  infoFrame: boolean;
}

// Layer III only (what LAME writes): kbit/s by bitrate index, MPEG-1 and MPEG-2/2.5.
const KBPS_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const KBPS_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES: Record<number, number[]> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
};
const VERSIONS: Record<number, string> = { 3: 'MPEG-1', 2: 'MPEG-2', 0: 'MPEG-2.5' };

/** Walk every frame of a Layer III file; throws on any byte that is not where a frame should start. */
export function readMp3Frames(file: Buffer): Mp3Frames {
  let at = 0;
  let first: Omit<Mp3Frames, 'audioFrames' | 'durationMs' | 'infoFrame'> | undefined;
  let frames = 0;
  let infoFrame = false;
  while (at < file.length) {
    const h = file.readUInt32BE(at);
    if (h >>> 21 !== 0x7ff) throw new Error(`no frame sync at byte ${at}`);
    const versionBits = (h >>> 19) & 3;
    const layer = 4 - ((h >>> 17) & 3);
    if (versionBits === 1 || layer !== 3) throw new Error(`not MPEG Layer III at byte ${at}`);
    const sampleRate = RATES[versionBits]![(h >>> 10) & 3]!;
    const kbps = (versionBits === 3 ? KBPS_V1 : KBPS_V2)[(h >>> 12) & 15]!;
    const samplesPerFrame = versionBits === 3 ? 1152 : 576;
    const size = Math.floor((samplesPerFrame / 8) * ((kbps * 1000) / sampleRate)) + ((h >>> 9) & 1);
    const mono = ((h >>> 6) & 3) === 3;
    const frame = { version: VERSIONS[versionBits]!, layer, sampleRate, mono, samplesPerFrame };
    if (!first) {
      first = frame;
      const side = versionBits === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
      const tag = file.toString('latin1', at + 4 + side, at + 8 + side);
      infoFrame = tag === 'Xing' || tag === 'Info';
      if (!infoFrame) frames++;
    } else {
      if (sampleRate !== first.sampleRate) throw new Error(`the rate changes at byte ${at}`);
      frames++;
    }
    if (size < 4 || at + size > file.length) throw new Error(`the frame at byte ${at} is cut short`);
    at += size;
  }
  if (!first) throw new Error('no frame');
  const durationMs = Math.round(((frames * first.samplesPerFrame) / first.sampleRate) * 1000);
  return { ...first, audioFrames: frames, durationMs, infoFrame };
}
