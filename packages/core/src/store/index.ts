export { defaultStateDir, FileStateStore, type FileStateStoreOptions } from './file-store.js';
export {
  KEYV_STORE_DEFAULTS,
  KeyvStore,
  type KeyvStoreOptions,
  StoreBackoffError,
  toKeyValueStore,
} from './keyv-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type { Clock, KeyValueStore, KeyvLike } from './store-types.js';
export { isKeyValueStore } from './store-types.js';
