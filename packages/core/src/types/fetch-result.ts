import type { Readable } from 'node:stream';
import type { ConversionInfo } from '../convert/convert-types.js';
import type { MediaFormat } from '../magic.js';
import type { AttemptRecord } from './strategy.js';

/** Public contract: these fields are what `detour fetch --json` prints. */
export interface FetchResultInfo {
  ok: true;
  url: string;
  finalUrl: string;
  strategy: string;
  degraded: boolean;
  /** With `degraded`: the failures that led to the stand-in. */
  degradedReason?: string;
  fromCache: boolean;
  bytes: number;
  contentType: string | null;
  sha256: string;
  attempts: AttemptRecord[];
  /**
   * The strategy names this fetch planned, in order ([] when the cache answered: nothing was
   * planned). Every one of them is in `attempts`: those after the winner as `skipped`
   * ("not needed: direct succeeded"). A failure carries it too (`DetourError.plan`), with every
   * planned strategy in its `attempts`.
   */
  plan: string[];
  insecure: boolean;
  downgraded: boolean;
  status: number;
  /** The format the body's first bytes show (`png`, `jpeg`, `silk`, `mp4`, …), or null when unknown. */
  format: MediaFormat | null;
  /**
   * Images only (absent for other formats): a GIF with more than one frame, a WebP with `ANIM`, a
   * PNG with `acTL` (APNG). Set by `fetch` and `toFile`; not by `stream`, whose result comes
   * before the body (a GIF's second frame can be anywhere in it).
   */
  animated?: boolean;
  /** With `convert`: what the conversion did (the body, `bytes`, `sha256` and `format` are the converted file's). */
  converted?: ConversionInfo;
}

export interface FetchResult extends FetchResultInfo {
  body: Buffer;
}

export interface FileResult extends FetchResultInfo {
  path: string;
}

export interface StreamResult extends Omit<FetchResultInfo, 'bytes' | 'sha256'> {
  /** Body stream; errors with a DetourError (too-large, content-invalid, ...) mid-way. */
  body: Readable;
  /** Content-Length when known. */
  expectedBytes: number | null;
  /** The body's SHA-256 (hex) when known before it streams (answered from the cache or a shared download). */
  sha256?: string;
}
