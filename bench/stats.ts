/** Summary figures of a sample of numbers (ms, bytes, ratios, ...). */
export interface Summary {
  n: number;
  median: number;
  p5: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank quantile of an ascending sample (`NaN` when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

/**
 * The median of an ascending sample: its middle value, or the mean of the two middle values when
 * the count is even (`NaN` when empty). Not `quantile(sorted, 0.5)`: the nearest rank is the lower
 * of the two middle values, which made the median of four runs their second worst (D36).
 */
export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    median: median(sorted),
    p5: quantile(sorted, 0.05),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** `a / b`, `NaN` when either is not a finite number or `b` is 0. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN;
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A number for JSON: finite numbers rounded, everything else `null`. */
export function num(value: number, digits = 3): number | null {
  return Number.isFinite(value) ? round(value, digits) : null;
}

/** Append `value` to `record[key]`, creating the list on first use. */
export function pushTo<T>(record: Record<string, T[]>, key: string, value: T): void {
  const list = record[key];
  if (list) list.push(value);
  else record[key] = [value];
}
