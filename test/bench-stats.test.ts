import { describe, expect, it } from 'vitest';
import { median, quantile, summarize } from '../bench/stats.js';

describe('bench statistics', () => {
  it('takes the middle value of an odd sample', () => {
    expect(median([1, 2, 9])).toBe(2);
    expect(summarize([9, 1, 2]).median).toBe(2);
  });

  it('takes the mean of the two middle values of an even sample (not the lower one)', () => {
    // Figure 5's four paired ratios of one bench run: the nearest rank gave 0.868, the median is 0.934.
    const ratios = [0.824, 0.999, 0.868, 1.07];
    expect(summarize(ratios).median).toBeCloseTo((0.868 + 0.999) / 2, 10);
    expect(
      quantile(
        [...ratios].sort((a, b) => a - b),
        0.5,
      ),
    ).toBe(0.868);
    expect(median([1, 3])).toBe(2);
  });

  it('ignores values that are not finite, and is NaN for an empty sample', () => {
    expect(summarize([Number.NaN, 4, Number.POSITIVE_INFINITY, 2]).median).toBe(3);
    expect(summarize([]).median).toBeNaN();
    expect(median([])).toBeNaN();
  });

  it('keeps nearest-rank quantiles for the tails', () => {
    const sample = Array.from({ length: 20 }, (_, i) => i + 1);
    const summary = summarize(sample);
    expect(summary.p5).toBe(1);
    expect(summary.p95).toBe(19);
    expect(summary.median).toBe(10.5);
  });
});
