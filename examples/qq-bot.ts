/** A QQ bot's media download: the qq preset (on by default) plus the rkey refresh through OneBot. */
import { DetourError } from '@detour/core';
import { type RkeyProviderOptions, rkeyProvider } from '@detour/qq';
import { createDetour, type DetourOptions } from 'detour';

const WHY: Record<string, string> = {
  DETOUR_URL_GONE: 'past retention: ask the sender again',
  DETOUR_URL_EXPIRED: 'still expired after a fresh rkey',
  DETOUR_URL_INVALID: 'the rkey does not fit this link',
  DETOUR_SIZE_MISMATCH: 'not the file QQ announced',
};

export async function qqDownloader(onebot: RkeyProviderOptions, options: DetourOptions = {}) {
  const detour = await createDetour({ ...options, refreshUrl: rkeyProvider(onebot).refreshUrl });
  const download = (segment: { url: string; file_size?: number }, expect: 'image' | 'audio' = 'image') =>
    detour.fetch(segment.url, { expect, expectedBytes: segment.file_size }).then(
      (r) => ({ ok: true as const, body: r.body, format: r.format, attempts: r.attempts }),
      (e: unknown) => {
        if (!(e instanceof DetourError)) throw e;
        return { ok: false as const, why: WHY[e.code] ?? `${e.failureClass} ${e.code}` };
      },
    );
  return { download, close: () => detour.close() };
}
