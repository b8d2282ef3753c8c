import type { ConvertTarget } from '../convert/convert-types.js';
import type { ExpectKind } from '../magic.js';

export interface FetchOptions {
  expect?: ExpectKind;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Total deadline for the whole fetch, all strategies included. */
  timeoutMs?: number;
  maxBytes?: number;
  /** Strategy names, in order, overriding the pipeline's plan for this fetch. */
  strategies?: string[];
  /** Header profile for this fetch (see PipelineOptions.headersProfile). */
  headersProfile?: string;
  /** Skip the cache for this fetch (neither read nor written). */
  noCache?: boolean;
  /**
   * The size the body must have, when the caller knows it (QQ's `file_size`). A body of another
   * size fails with `content-invalid` / `DETOUR_SIZE_MISMATCH`: checked against Content-Length
   * before the body is read, and against the bytes received.
   */
  expectedBytes?: number;
  /**
   * Called once when the fetch fails with `url-expired` (a signed URL whose signature expired):
   * returns a fresh URL to fetch instead, or undefined to give up. Overrides the pipeline's.
   */
  refreshUrl?: RefreshUrl;
  /**
   * Told how the download goes: `received` bytes of `total` (the announced length, or the
   * expected size; null when unknown). Called at most every `progressIntervalMs` while the body
   * flows, and once at its end; a new attempt starts again from 0. Errors it throws are ignored.
   */
  onProgress?: (progress: DownloadProgress) => void;
  /** Least time between two `onProgress` calls (default 100 ms). */
  progressIntervalMs?: number;
  /**
   * Convert the body before it is delivered: `wav` turns a SILK voice clip into WAV (PCM s16le,
   * mono), `mp3` into MP3 (64 kbit/s, mono). A body already in that format is delivered as it is;
   * any other fails with
   * `content-invalid` / `DETOUR_CONVERT_UNSUPPORTED`. See docs/convert.md.
   */
  convert?: ConvertTarget;
  /** The output's sample rate with `convert` (default 24000; 8000, 12000, 16000, 24000, 32000, 44100 or 48000). */
  sampleRate?: number;
  /** Longest clip `convert` accepts, in ms (default 600000: 10 minutes); longer is `too-large`. */
  maxDurationMs?: number;
}

/** What `onProgress` is told. */
export interface DownloadProgress {
  received: number;
  total: number | null;
}

/** Gives a fresh URL for one that expired (e.g. a new `rkey`), or undefined when it cannot. */
export type RefreshUrl = (url: string, error: Error) => Promise<string | undefined>;
