/** Tencent's error JSON: `{"retcode":-5503007,"retmsg":"download url has expired","retryflag":0}`. */
import type { ResponseSample, ResponseVerdict } from '@detour/core';

/** The rkey expired: a fresh one (OneBot `nc_get_rkey` / `get_rkey`) fixes it. */
export const RETCODE_URL_EXPIRED = -5503007;
/** The rkey is wrong for this link (`&amp;` left in, rkey missing, group and private keys swapped). */
export const RETCODE_URL_INVALID = -5503010;

export interface TencentError {
  retcode: number;
  retmsg: string | undefined;
}

/** The retcode and retmsg in the first bytes of a body, when it is Tencent's error JSON. */
export function readTencentError(head: Buffer): TencentError | undefined {
  const text = head.toString('utf8');
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as { retcode?: unknown; retmsg?: unknown };
    if (typeof parsed.retcode === 'number') {
      return {
        retcode: parsed.retcode,
        retmsg: typeof parsed.retmsg === 'string' ? parsed.retmsg : undefined,
      };
    }
  } catch {
    // cut at PEEK_BYTES: read the fields by pattern
  }
  const retcode = /"retcode"\s*:\s*(-?\d+)/.exec(text)?.[1];
  if (retcode === undefined) return undefined;
  return { retcode: Number(retcode), retmsg: /"retmsg"\s*:\s*"([^"\\]*)"/.exec(text)?.[1] };
}

/** 400 (or any error status) + retcode -5503007 / -5503010 → `url-expired`. */
export function classifyTencentResponse(sample: ResponseSample): ResponseVerdict | undefined {
  if (sample.status < 400) return undefined;
  const error = readTencentError(sample.head);
  if (!error) return undefined;
  const { retcode, retmsg } = error;
  if (retcode === RETCODE_URL_EXPIRED) {
    return {
      failureClass: 'url-expired',
      code: 'DETOUR_URL_EXPIRED',
      message: `the download URL expired (retcode ${retcode}${retmsg ? `: ${retmsg}` : ''}); fetch a fresh rkey`,
      retcode,
      ...(retmsg !== undefined ? { retmsg } : {}),
    };
  }
  if (retcode === RETCODE_URL_INVALID) {
    return {
      failureClass: 'url-expired',
      code: 'DETOUR_URL_INVALID',
      message: `the rkey is not valid for this URL (retcode ${retcode}${retmsg ? `: ${retmsg}` : ''}); fetch a fresh rkey of the right type`,
      retcode,
      ...(retmsg !== undefined ? { retmsg } : {}),
    };
  }
  return undefined;
}
