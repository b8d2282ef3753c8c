export { DEAD_FALLBACK_RKEYS, hasDeadFallbackRkey } from './fallback-rkeys.js';
export { decodeFileId, type FileId, fileIdExpiry } from './fileid.js';
export { isQqReferer, isTencentMediaHost, QPIC_HOSTS, TENCENT_MEDIA_HOSTS } from './hosts.js';
export { fileIdOf, QQ_PRESET_NAME, type QqPresetOptions, qqPreset } from './preset.js';
export {
  classifyTencentResponse,
  RETCODE_URL_EXPIRED,
  RETCODE_URL_INVALID,
  readTencentError,
  type TencentError,
} from './retcode.js';
export {
  parseRkeyAnswer,
  type Rkey,
  type RkeyProvider,
  type RkeyProviderOptions,
  type RkeyType,
  rkeyProvider,
  rkeyTypeFor,
} from './rkey.js';
export { canonicalPictureUrl, fileIdParam, legacyPictureMd5, normalizeTencentUrl } from './urls.js';
