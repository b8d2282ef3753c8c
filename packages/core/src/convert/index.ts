/**
 * Conversion of a downloaded body into a format bots can use: SILK v3 (QQ voice, both the plain
 * `#!SILK_V3` and Tencent's `0x02` form) into WAV (PCM s16le, mono) or MP3 (64 kbit/s, mono). Decoding runs in worker
 * threads (worker.ts); the clip's container is walked first (silk.ts) so a body that is no SILK
 * stream, or is longer than allowed, is refused before any decoding.
 */
import { DetourError, DetourUsageError } from '../errors.js';
import type { MediaFormat } from '../magic.js';
import type { ConversionInfo, ConvertTarget } from './convert-types.js';
import { MP3_BITRATE, mp3Info } from './mp3.js';
import { silkLayout } from './silk.js';
import { wavHeader, wavInfo } from './wav.js';
import { DecodeFailure, DecoderPool, mp3Encoder } from './worker.js';

export type { ConversionInfo, ConvertTarget } from './convert-types.js';
export { MP3_BITRATE, type Mp3Info, mp3FrameHeader, mp3Info } from './mp3.js';
export { type SilkLayout, silkLayout } from './silk.js';
export { type WavInfo, wavHeader, wavInfo } from './wav.js';
export { DecoderPool, type DecoderPoolOptions } from './worker.js';

/** What `convert` takes: the single list every front end (CLI, serve, clients) reads. */
export const CONVERT_TARGETS: readonly ConvertTarget[] = ['wav', 'mp3'];
/** The Content-Type of each target's output. */
export const CONVERT_CONTENT_TYPES: Readonly<Record<ConvertTarget, string>> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
};
/** The output rates the SILK decoder produces. */
export const SAMPLE_RATES: readonly number[] = [8000, 12000, 16000, 24000, 32000, 44100, 48000];

export const CONVERT_DEFAULTS = {
  sampleRate: 24_000,
  /** Longest clip converted: 10 minutes. */
  maxDurationMs: 10 * 60_000,
} as const;

export interface ConvertSettings {
  to: ConvertTarget;
  sampleRate: number;
  maxDurationMs: number;
}

export interface ConvertedBody {
  body: Buffer;
  sha256: string;
  converted: ConversionInfo;
}

/** Check the conversion options of a fetch (before any network); bad ones are usage errors. */
export function checkConvertOptions(options: {
  convert?: unknown;
  sampleRate?: unknown;
  maxDurationMs?: unknown;
}): void {
  const { convert, sampleRate, maxDurationMs } = options;
  if (convert === undefined) {
    if (sampleRate !== undefined || maxDurationMs !== undefined) {
      throw new DetourUsageError('sampleRate and maxDurationMs need convert', 'DETOUR_BAD_OPTION');
    }
    return;
  }
  if (!CONVERT_TARGETS.includes(convert as ConvertTarget)) {
    throw new DetourUsageError(`convert must be one of ${CONVERT_TARGETS.join(', ')}`, 'DETOUR_BAD_OPTION');
  }
  if (sampleRate !== undefined && !SAMPLE_RATES.includes(sampleRate as number)) {
    throw new DetourUsageError(`sampleRate must be one of ${SAMPLE_RATES.join(', ')}`, 'DETOUR_BAD_OPTION');
  }
  if (maxDurationMs !== undefined && !(typeof maxDurationMs === 'number' && maxDurationMs > 0)) {
    throw new DetourUsageError('maxDurationMs must be a positive number', 'DETOUR_BAD_OPTION');
  }
}

let sharedPool: DecoderPool | undefined;
/** The process's decoder pool (created on the first conversion). */
export function decoderPool(): DecoderPool {
  sharedPool ??= new DecoderPool();
  return sharedPool;
}

/**
 * Convert `body` (whose sniffed format is `format`) as `settings` ask. A body already in the
 * target format is returned as undefined (nothing to do). Fails with `content-invalid`:
 * `DETOUR_CONVERT_UNSUPPORTED` for a format Detour cannot convert (AMR among them),
 * `DETOUR_DECODE_FAILED` for a clip that does not decode; `too-large` / `DETOUR_AUDIO_TOO_LONG`
 * past `maxDurationMs`; and with the signal's reason when it fires (the fetch's deadline, an abort).
 */
export async function convertBody(
  body: Buffer,
  format: MediaFormat | null,
  settings: ConvertSettings,
  signal: AbortSignal,
  pool: DecoderPool = decoderPool(),
): Promise<ConvertedBody | undefined> {
  if (format === settings.to) return undefined;
  if (format !== 'silk') {
    throw new DetourError(
      `cannot convert ${format ?? 'an unknown format'} to ${settings.to}: only SILK voice converts`,
      { failureClass: 'content-invalid', code: 'DETOUR_CONVERT_UNSUPPORTED' },
    );
  }
  const layout = silkLayout(body);
  if (typeof layout === 'string') throw decodeFailed(layout);
  tooLong(layout.minDurationMs, settings.maxDurationMs);
  // The decoder reads Tencent's form only: the plain form gets its 0x02 byte.
  const silk = body[0] === 0x02 ? body : Buffer.concat([Buffer.from([0x02]), body]);
  let decoded: Awaited<ReturnType<DecoderPool['decode']>>;
  try {
    decoded = await pool.decode(
      settings.to === 'mp3'
        ? { silk, sampleRate: settings.sampleRate, to: 'mp3', encoder: mp3Encoder(MP3_BITRATE) }
        : { silk, sampleRate: settings.sampleRate, header: wavHeader(0, settings.sampleRate) },
      signal,
    );
  } catch (error) {
    if (error instanceof DecodeFailure) throw decodeFailed(error.message);
    throw error;
  }
  if (decoded.samples === 0) throw decodeFailed('no samples decoded');
  tooLong(Math.round((decoded.samples / settings.sampleRate) * 1000), settings.maxDurationMs);
  // The length reported is read from the file delivered, as a cached copy will be.
  const converted = conversionOf(decoded.body, 'silk', settings.to);
  if (!converted) throw decodeFailed(`the ${settings.to} encoder produced no readable file`);
  return { body: decoded.body, sha256: decoded.sha256, converted };
}

/**
 * What a converted body (fresh, or in the cache) says about itself: a WAV's header, an MP3's frames
 * (its length is that of its frames, which also hold LAME's delay and padding: up to ~1700 samples
 * more than the speech, ~70 ms at 24000 Hz).
 */
export function conversionOf(body: Buffer, from: MediaFormat, to: ConvertTarget): ConversionInfo | undefined {
  const info = to === 'mp3' ? mp3Info(body) : wavInfo(body);
  if (!info) return undefined;
  return { from, to, durationMs: info.durationMs, sampleRate: info.sampleRate };
}

function decodeFailed(reason: string): DetourError {
  return new DetourError(`the SILK clip does not decode: ${reason}`, {
    failureClass: 'content-invalid',
    code: 'DETOUR_DECODE_FAILED',
  });
}

function tooLong(durationMs: number, maxDurationMs: number): void {
  if (durationMs <= maxDurationMs) return;
  throw new DetourError(
    `the clip lasts ${Math.round(durationMs / 1000)} s or more, longer than the ${Math.round(maxDurationMs / 1000)} s allowed (maxDurationMs)`,
    { failureClass: 'too-large', code: 'DETOUR_AUDIO_TOO_LONG' },
  );
}
