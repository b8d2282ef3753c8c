/**
 * Real SILK voice clips for tests and the bench, made on the spot: a sine tone of a known length,
 * encoded with the same codec Detour decodes with (`silk-wasm`'s encoder, the SILK SDK in WASM).
 */
import { encode } from 'silk-wasm';

/** A mono PCM s16le sine tone of `ms` milliseconds at `sampleRate` Hz. */
export function sineTone(ms: number, sampleRate = 24_000, frequency = 440): Buffer {
  const samples = Math.round((ms / 1000) * sampleRate);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    pcm.writeInt16LE(Math.round(Math.sin((2 * Math.PI * frequency * i) / sampleRate) * 12_000), i * 2);
  }
  return pcm;
}

export interface SilkClipOptions {
  /** The tone's rate (default 24000; one of 8000, 12000, 16000, 24000, 32000, 44100, 48000). */
  sampleRate?: number;
  /** `tencent` (default): `0x02#!SILK_V3…` as QQ sends it; `plain`: `#!SILK_V3…`. */
  form?: 'tencent' | 'plain';
}

/** A SILK v3 clip of a `ms`-long tone, as QQ serves voice (Tencent's form) or in the plain form. */
export async function makeSilkClip(ms: number, options: SilkClipOptions = {}): Promise<Buffer> {
  const sampleRate = options.sampleRate ?? 24_000;
  const { data } = await encode(sineTone(ms, sampleRate), sampleRate);
  const clip = Buffer.from(data);
  if (clip[0] !== 0x02) throw new Error('the encoder no longer writes the Tencent form');
  return options.form === 'plain' ? clip.subarray(1) : clip;
}
