/**
 * Tencent's media hosts, as bots meet them (sources in the package README). The preset acts on
 * these names only; every other host is left exactly as core treats it.
 */
import { hostMatches } from '@detour/core';

export const TENCENT_MEDIA_HOSTS: readonly string[] = [
  // QQ NT rich media: images, files, voice (download?appid=…&fileid=…&rkey=…)
  'multimedia.nt.qq.com.cn',
  '*.nt.qq.com.cn',
  // Group/private pictures (gchat.qpic.cn/download, gchatpic_new, c2cpicdw/offpic_new), QZone, avatars
  'qpic.cn',
  '*.qpic.cn',
  // QZone albums
  '*.photo.store.qq.com',
  // Voice messages (group talk)
  'grouptalk.c2c.qq.com',
  // Avatars
  'q.qlogo.cn',
  '*.qlogo.cn',
];

/** Hosts whose anti-hot-link check answers a foreign Referer with a stand-in picture (status 200). */
export const QPIC_HOSTS: readonly string[] = ['qpic.cn', '*.qpic.cn', '*.photo.store.qq.com'];

export function isTencentMediaHost(hostname: string): boolean {
  return hostMatches(hostname.toLowerCase(), TENCENT_MEDIA_HOSTS);
}

/** A Referer Tencent accepts: one on `qq.com` (or its subdomains) over http(s). */
export function isQqReferer(referer: string): boolean {
  try {
    const url = new URL(referer);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      hostMatches(url.hostname, ['qq.com', '*.qq.com'])
    );
  } catch {
    return false;
  }
}
