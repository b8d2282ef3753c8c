import { UsageError } from './io.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/**
 * A size flag: bytes, or a number with a unit: `K`/`KiB`, `M`/`MiB`, `G`/`GiB`, `T`/`TiB` (powers
 * of 1024) or `KB`, `MB`, `GB`, `TB` (powers of 1000); case-insensitive; `0` is allowed (no bound).
 */
export function parseSize(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`${flag} takes a size such as 500MiB, 2G or 1000000, got ${JSON.stringify(value)}`);
  }
  return Math.floor(Number(match[1]) * unit);
}
