export { defaultStateDir, FileStateStore, type FileStateStoreOptions } from './file-store.js';
export { KeyvStore, type KeyvStoreOptions, toKeyValueStore } from './keyv-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type { Clock, KeyValueStore, KeyvLike } from './types.js';
export { isKeyValueStore } from './types.js';
