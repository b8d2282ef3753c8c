/**
 * Rkeys some OneBot implementations hard-code as a fallback when their rkey services fail: every
 * link built with one is dead (Tencent answers -5503007). Values as published in NapCat's source
 * (`packages/napcat-core/apis/file.ts`, `getRkeyData`: the private and group fallback keys, used
 * when neither the native nor the remote rkey could be fetched; NapCat logs
 * "[Rkey] 所有服务均已禁用, 图片使用FallBack机制"). A link carrying one is refreshed before any request.
 */
export const DEAD_FALLBACK_RKEYS: ReadonlySet<string> = new Set([
  'CAQSKAB6JWENi5LM_xp9vumLbuThJSaYf-yzMrbZsuq7Uz2qEc3Rbib9LP4', // NapCat, private (appid 1406)
  'CAQSKAB6JWENi5LM_xp9vumLbuThJSaYf-yzMrbZsuq7Uz2qffcqm614gds', // NapCat, group (appid 1407)
]);

/** Whether the URL's rkey is a known dead fallback key. */
export function hasDeadFallbackRkey(url: URL): boolean {
  const rkey = url.searchParams.get('rkey');
  return rkey !== null && DEAD_FALLBACK_RKEYS.has(rkey);
}
