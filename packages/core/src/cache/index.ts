export {
  CACHE_DEFAULTS,
  Cache,
  type CacheCandidate,
  CachedFailureError,
  type CacheHit,
  type CacheOptions,
  cacheTiers,
  resultFromCache,
} from './cache.js';
export {
  DEFAULT_DISK_CACHE_MAX_SIZE,
  type DiskCacheEntryInfo,
  type DiskCacheOptions,
  type DiskCachePruneResult,
  DiskCacheStore,
  directorySize,
} from './disk-cache.js';
export { type CachePolicy, cachePolicy, type FreshnessMode } from './freshness.js';
export {
  type CacheKeyFn,
  type DropQueryParamsOptions,
  defaultCacheKey,
  dropQueryParams,
  hashKey,
} from './key.js';
export { MEMORY_CACHE_DEFAULTS, type MemoryCacheOptions, MemoryCacheStore } from './memory-cache.js';
export { KeyValueCacheStore } from './shared-cache.js';
export type { CacheEntry, CacheMeta, CacheStore, NegativeEntry } from './types.js';
export { isCacheStore } from './types.js';
