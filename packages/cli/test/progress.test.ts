import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, progressText } from '../src/progress.js';

describe('progress text', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
    [300 * 1024 * 1024, '300 MiB'],
  ])('formatBytes(%d) = %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [61, '1m01s'],
    [3725, '1h02m'],
    [Number.POSITIVE_INFINITY, '?'],
  ])('formatDuration(%d) = %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it('known total: percent, bytes of total, rate, ETA', () => {
    expect(progressText({ received: 1024 * 1024, total: 4 * 1024 * 1024 }, 2000, 0)).toBe(
      ' 25%  1.0 MiB / 4.0 MiB  512 KiB/s  ETA 6s',
    );
  });

  it('unknown total: a spinner, bytes and rate', () => {
    expect(progressText({ received: 2048, total: null }, 1000, 1)).toBe('⠙ 2.0 KiB  2.0 KiB/s');
  });
});
