/** URL facts of Tencent's CDN: `&amp;` left in by CQ codes, legacy picture forms, the fileid parameter. */

/**
 * Decode `&amp;` in the query once (CQ-code escaping left in: `…&amp;rkey=…` otherwise sends a
 * parameter named `amp;rkey` and Tencent answers "invalid rkey"). Also collapses `//` in the path,
 * which Tencent answers with 400. Returns the same URL object when nothing changes.
 */
export function normalizeTencentUrl(url: URL): URL {
  const search = url.search.replaceAll(/&amp;/gi, '&');
  const pathname = url.pathname.replaceAll(/\/{2,}/g, '/');
  if (search === url.search && pathname === url.pathname) return url;
  const copy = new URL(url);
  copy.pathname = pathname;
  copy.search = search;
  return copy;
}

/** `gchatpic_new/<uin>/<x>-<y>-<MD5>/<spec>` or `offpic_new/<uin>/<…>-<MD5>/<spec>` (spec 0 original, 720 large, 198 thumb). */
const LEGACY_PATH = /^\/(gchatpic_new|offpic_new)\/([^/]+)\/([^/]*?)([0-9A-Fa-f]{32})\/(\d+)\/?$/;

/** The MD5 of a legacy picture URL, upper case, or undefined when the URL is not one. */
export function legacyPictureMd5(url: URL): string | undefined {
  return LEGACY_PATH.exec(url.pathname)?.[4]?.toUpperCase();
}

/**
 * The one canonical form people rewrite legacy picture URLs to (cq-picsearcher-bot, LLOneBot):
 * `gchat.qpic.cn/gchatpic_new/0/0-0-<MD5>/0`, no query. Undefined when `url` is not a legacy form,
 * or is that form already. Scheme and port are kept.
 */
export function canonicalPictureUrl(url: URL): URL | undefined {
  const md5 = legacyPictureMd5(url);
  if (!md5) return undefined;
  const canonical = new URL(url);
  canonical.hostname = 'gchat.qpic.cn';
  canonical.pathname = `/gchatpic_new/0/0-0-${md5}/0`;
  canonical.search = '';
  canonical.hash = '';
  return canonical.href === url.href ? undefined : canonical;
}

/** The `fileid` query parameter, when there is one. */
export function fileIdParam(url: URL): string | undefined {
  return url.searchParams.get('fileid') ?? undefined;
}
