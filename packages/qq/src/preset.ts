/**
 * `qqPreset()`: what Detour knows about Tencent's media CDN, as core's preset hooks. It acts only on
 * Tencent media hosts (hosts.ts) and fetches nothing itself.
 */
import { createHash } from 'node:crypto';
import { DetourError, dropQueryParams, type Preset, type RefreshUrl } from '@detour/core/internal';
import { hasDeadFallbackRkey } from './fallback-rkeys.js';
import { decodeFileId, type FileId, fileIdExpiry } from './fileid.js';
import { isQqReferer, isTencentMediaHost } from './hosts.js';
import { classifyTencentResponse } from './retcode.js';
import { canonicalPictureUrl, fileIdParam, normalizeTencentUrl } from './urls.js';

export interface QqPresetOptions {
  /** Clock for the retention check (default `Date.now`). */
  now?: () => number;
  /**
   * A fresh URL for an expired Tencent link, used for this preset's hosts only (the pipeline's
   * `refreshUrl` stays the catch-all for other hosts): `rkeyProvider(...)` or its `refreshUrl`.
   */
  refreshUrl?: RefreshUrl | { readonly refreshUrl: RefreshUrl } | undefined;
}

/** The decoded fileid of a URL, when it carries one that decodes. */
export function fileIdOf(url: URL): FileId | undefined {
  const fileid = fileIdParam(url);
  return fileid === undefined ? undefined : decodeFileId(fileid);
}

export const QQ_PRESET_NAME = 'qq';

/** The URL without `rkey` (an expiring signature that differs between links to one file) and fragment. */
const withoutRkey = dropQueryParams(['rkey']);

/**
 * The preset:
 * - `&amp;` in the query is decoded once and `//` in the path collapsed, before the first request;
 * - a fileid past its retention (upload time + field 10) is refused with `url-expired` /
 *   `DETOUR_URL_GONE`, without a request;
 * - the fileid's size becomes `expectedBytes`, and, for an https URL, its digest + size the cache
 *   key (the same picture from two messages is one entry; the rkey never reaches a key). Field 2
 *   is the SHA-1 of the file: a body is stored under that key only when its SHA-1 is that digest,
 *   so a link that pairs someone else's fileid with another picture cannot fill their entry; any
 *   other https URL of its hosts keys without its `rkey`;
 * - 400 + retcode -5503007 → `url-expired` / `DETOUR_URL_EXPIRED`, -5503010 → `DETOUR_URL_INVALID`;
 * - Referer: none, or a `qq.com` one; never a foreign one (qpic answers it with a stand-in picture);
 * - after a 404 on a legacy picture form, one try of `gchat.qpic.cn/gchatpic_new/0/0-0-<MD5>/0`;
 * - with `refreshUrl` (an `rkeyProvider`), expired links of its hosts are refreshed through it;
 * - a link carrying a known dead fallback rkey (fallback-rkeys.ts) is expired before any request.
 */
export function qqPreset(options: QqPresetOptions = {}): Preset {
  const now = options.now ?? Date.now;
  const refresh = options.refreshUrl;
  return {
    name: QQ_PRESET_NAME,
    handles: (url) => isTencentMediaHost(url.hostname),
    // `rkey` is in core's own list too (masked even where no qq preset is loaded); declared here as the owner.
    secretQueryParams: ['rkey'],
    ...(refresh ? { refreshUrl: typeof refresh === 'function' ? refresh : refresh.refreshUrl } : {}),
    rewriteUrl(url) {
      const normalized = normalizeTencentUrl(url);
      const file = fileIdOf(normalized);
      const expiry = file && fileIdExpiry(file);
      if (expiry && expiry.getTime() < now()) {
        throw new DetourError(
          `the file is past its retention (uploaded ${file.uploadTime!.toISOString()}, kept ${file.retentionSeconds} s until ${expiry.toISOString()}): a fresh rkey cannot bring it back`,
          { failureClass: 'url-expired', code: 'DETOUR_URL_GONE' },
        );
      }
      return normalized;
    },
    cacheKey(url) {
      // Plain http never shares the https entry: an http URL keys by itself.
      if (url.protocol !== 'https:') return undefined;
      const file = fileIdOf(url);
      return file ? `qq:file:${file.digest}:${file.size}` : withoutRkey(url);
    },
    checkCached(url, body) {
      const file = fileIdOf(url);
      if (!file) return undefined; // keyed by its own URL (less the rkey): no digest to check
      const sha1 = createHash('sha1').update(body).digest('hex');
      return sha1 === file.digest
        ? undefined
        : "the body's SHA-1 is not the digest its fileid names: not stored under that fileid";
    },
    expectedBytes: (url) => fileIdOf(url)?.size,
    // A hard-coded fallback rkey (NapCat's) never works: the link counts as expired before any request.
    expiresAt: (url) => (hasDeadFallbackRkey(url) ? 0 : undefined),
    classifyResponse: classifyTencentResponse,
    referer: (_url, proposed) => (proposed !== undefined && isQqReferer(proposed) ? proposed : undefined),
    alternateUrl: (url, error) =>
      error.failureClass === 'http-status' && error.status === 404 ? canonicalPictureUrl(url) : undefined,
  };
}
