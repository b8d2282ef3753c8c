import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';

/** A Keyv client on a Redis URL, as one bot instance would hold it. Call `disconnect()` when done. */
export function connectKeyv(url: string, namespace = 'detour-test'): Keyv {
  return new Keyv(new KeyvRedis(url), { namespace });
}
