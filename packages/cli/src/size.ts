import { parseSizeText } from 'detour/front-end';
import { UsageError } from './io.js';

/**
 * A size flag (`detour cache prune --max-size`): the front-end kit's size syntax (bytes, or a
 * number with K/KiB, M/MiB, G/GiB, T/TiB or KB, MB, GB, TB; `0` allowed: no bound).
 */
export function parseSize(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const size = parseSizeText(value);
  if (size === undefined) {
    throw new UsageError(`${flag} takes a size such as 500MiB, 2G or 1000000, got ${JSON.stringify(value)}`);
  }
  return size;
}
