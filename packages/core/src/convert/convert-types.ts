/** The conversion's public types (kept apart from the converter so types/ imports no code). */
import type { MediaFormat } from '../magic.js';

/** What a body may be converted to. */
export type ConvertTarget = 'wav' | 'mp3';

/** What a conversion did, as results report it (`converted`). */
export interface ConversionInfo {
  from: MediaFormat;
  to: ConvertTarget;
  /** Length of the audio delivered, in ms. */
  durationMs: number;
  sampleRate: number;
}
