/**
 * A small key-value store with a time to live per entry. The cache's shared tier and the route
 * memory both sit on it, so one Redis (or any Keyv backend) serves several Detour instances.
 * Values are strings: each user encodes its own (JSON, base64 bodies).
 */
export interface KeyValueStore {
  /**
   * Seen by other processes or machines (Redis). A shared store never receives responses marked
   * `Cache-Control: private`.
   */
  readonly shared: boolean;
  get(key: string): Promise<string | undefined>;
  /** `ttlMs` > 0: the entry disappears after that long. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Free connections. A store handed in by the caller is closed by the caller, not by Detour. */
  close?(): Promise<void>;
}

/**
 * The part of a Keyv instance Detour uses, typed structurally so that core does not depend on
 * `keyv` at run time: `new Keyv(new KeyvRedis('redis://…'))` fits, so does any Keyv backend.
 */
export interface KeyvLike {
  get(key: string): Promise<unknown>;
  set(key: string, value: string, ttl?: number): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

export function isKeyValueStore(value: unknown): value is KeyValueStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as KeyValueStore).shared === 'boolean' &&
    typeof (value as KeyValueStore).get === 'function' &&
    typeof (value as KeyValueStore).set === 'function' &&
    typeof (value as KeyValueStore).delete === 'function'
  );
}

export type Clock = () => number;
