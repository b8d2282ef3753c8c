/** What a public call returns, built from a run's outcome (see `Pipeline#fetch`, `toFile`, `stream`). */
import { readFile } from 'node:fs/promises';
import { ANIMATABLE, animatedOf, isImageFormat } from './animated.js';
import type { Outcome } from './layers/layer.js';
import type { FetchResultInfo } from './types/index.js';

/** `animated` on an image result (absent for other formats), from the body in memory. */
export function markAnimated(result: FetchResultInfo, body: Buffer): void {
  const animated = animatedOf(result.format, body);
  if (animated !== undefined) result.animated = animated;
}

/**
 * `animated` on an image written to `path`: only GIF, WebP and PNG can animate, and only those are
 * read back (from the page cache, once the download is whole), and only from a regular file Detour
 * put in place (`readable`): a device or a FIFO is never read (a FIFO would block), and leaves
 * `animated` out rather than guess.
 */
export async function markFileAnimated(
  result: FetchResultInfo,
  path: string,
  readable: boolean,
): Promise<void> {
  if (!isImageFormat(result.format)) return;
  if (!ANIMATABLE.has(result.format)) {
    result.animated = false;
    return;
  }
  if (!readable) return;
  const body = await readFile(path).catch(() => undefined);
  if (body?.length === result.bytes) markAnimated(result, body);
}

/**
 * A result's fields, written out: on Node 20, `{ ...info, bytes, sha256, body }` costs ~1 µs for
 * each key added after the spread (a slow path of V8's); a literal, then keys set on it, costs
 * ~50 ns. A key added to FetchResultInfo must be added here too (the type checks required ones).
 */
export function resultOf(info: Outcome<unknown>['info']): Omit<FetchResultInfo, 'bytes' | 'sha256'> {
  const result: Omit<FetchResultInfo, 'bytes' | 'sha256'> = {
    ok: info.ok,
    url: info.url,
    finalUrl: info.finalUrl,
    strategy: info.strategy,
    degraded: info.degraded,
    fromCache: info.fromCache,
    contentType: info.contentType,
    attempts: info.attempts,
    plan: info.plan,
    insecure: info.insecure,
    downgraded: info.downgraded,
    status: info.status,
    format: info.format,
  };
  if (info.degradedReason !== undefined) result.degradedReason = info.degradedReason;
  if (info.converted !== undefined) result.converted = info.converted;
  return result;
}
